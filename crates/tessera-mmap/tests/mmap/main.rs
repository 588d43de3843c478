//! Integration tests of tessera-mmap: one binary, one module per concern.
//!
//! `processes` re-executes this binary as child processes (the `child_role` test, selected by an
//! environment variable), so it must stay in this binary.

mod common;
mod errors;
mod modes;
mod processes;
mod roundtrip;
mod transfer;
