//! Integration tests of the `tessera` binary: each test runs the real executable.

mod cli {
    pub mod common;
    mod copy;
    mod errors;
    mod fixtures;
    mod info;
    mod listing;
    mod objects;
    mod rechunk_memory;
    mod roundtrip;
    mod selections;
    mod shapes;
    mod v3;
}

#[allow(dead_code, unused_imports)]
#[path = "../../tessera-store/tests/backends/s3_server.rs"]
mod s3_server;
