//! Integration tests of tessera-store: one binary, one shared suite, every backend.
//!
//! - `local`: the filesystem and memory stores, plus what only the filesystem has (symlinks,
//!   permissions, temporary files, key layouts on disk);
//! - `s3`: an S3 server inside this process, the suite through `ObjectStoreBackend`, signature
//!   checks, and the batch-read latency ratio;
//! - `external`: moto (S3), fake-gcs-server (GCS reads) and an HTTP range server, started by
//!   `.ci/suites/10-store-servers.sh`; ignored by a plain `cargo test`.
//!
//! The `s3` and `external` modules need the `cloud` feature (on by default).

#[cfg(feature = "cloud")]
#[path = "backends/external.rs"]
mod external;
#[path = "backends/local.rs"]
mod local;
#[cfg(feature = "cloud")]
#[path = "backends/s3.rs"]
mod s3;
#[cfg(feature = "cloud")]
#[path = "backends/s3_server.rs"]
mod s3_server;
#[path = "backends/suite.rs"]
mod suite;
#[cfg(feature = "cloud")]
#[path = "backends/wire.rs"]
mod wire;
