//! The shared suite against real protocol servers started by `.ci/suites/10-store-servers.sh`:
//! moto (S3, the full suite), fake-gcs-server (GCS, reads) and an HTTP range server (reads).
//!
//! These tests are ignored by a plain `cargo test` (they need servers); the script runs them
//! with `--ignored`. Each reads where its server is from an environment variable; when the
//! variable is unset the test prints that it was skipped, and fails if `CI=true`. The stores
//! are opened from URLs with `open_store`, configured by the standard variables the script
//! exports (`AWS_ENDPOINT`, `GOOGLE_SERVICE_ACCOUNT`, ...), so URL parsing and environment
//! configuration are tested too.

use tessera_store::{FilesystemStore, open_store};

use crate::{suite, wire};

/// The value of `var`, or `None` (with a printed line) when the test must be skipped.
///
/// # Panics
/// When `var` is unset and `CI=true`: in CI a missing server is a failure, never a pass.
fn server(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(value) if !value.is_empty() => Some(value),
        _ if std::env::var("CI").is_ok_and(|ci| ci == "true") => {
            panic!("{var} is not set but CI=true: this server test must run in CI")
        }
        _ => {
            println!(
                "skipped: {var} is not set (start the server with .ci/suites/10-store-servers.sh)"
            );
            None
        }
    }
}

fn required(var: &str, why: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| panic!("{var} must be set: {why}"))
}

#[test]
#[ignore = "needs a server: run by .ci/suites/10-store-servers.sh"]
fn moto_s3_passes_the_shared_suite() {
    let Some(endpoint) = server("TESSERA_TEST_MOTO_ENDPOINT") else {
        return;
    };
    required("AWS_ENDPOINT", "open_store reads the S3 endpoint from it");
    let bucket = "tessera-ci";
    // Moto takes unsigned bucket creation; 409 means an earlier run made it.
    let (status, body) = wire::request(
        &endpoint,
        "PUT",
        &format!("/{bucket}"),
        "application/xml",
        b"",
    );
    assert!(
        status == 200 || status == 409,
        "creating the bucket: {status} {body}"
    );

    let store = open_store(&format!("s3://{bucket}/suite")).unwrap();
    suite::check_store(&*store, &suite::run_prefix("moto"));
}

#[test]
#[ignore = "needs a server: run by .ci/suites/10-store-servers.sh"]
fn gcs_reads_pass_the_shared_suite() {
    let Some(endpoint) = server("TESSERA_TEST_GCS_ENDPOINT") else {
        return;
    };
    required(
        "GOOGLE_SERVICE_ACCOUNT",
        "a key file with \"gcs_base_url\" and \"disable_oauth\": true points open_store at the emulator",
    );
    let bucket = "tessera-ci";
    let (status, body) = wire::request(
        &endpoint,
        "POST",
        "/storage/v1/b",
        "application/json",
        format!(r#"{{"name": "{bucket}"}}"#).as_bytes(),
    );
    assert!(
        status == 200 || status == 409,
        "creating the bucket: {status} {body}"
    );

    // object_store writes GCS objects with the XML API, which the emulator lacks: seed through
    // the JSON upload API instead.
    let prefix = suite::run_prefix("gcs");
    for (name, value) in suite::seed_values() {
        let object = format!("{}{name}", prefix.as_str());
        let path = format!(
            "/upload/storage/v1/b/{bucket}/o?uploadType=media&name={}",
            wire::encode(&object)
        );
        let (status, body) =
            wire::request(&endpoint, "POST", &path, "application/octet-stream", &value);
        assert_eq!(status, 200, "uploading {object}: {body}");
    }

    let store = open_store(&format!("gs://{bucket}")).unwrap();
    suite::check_reads(&*store, &prefix);
}

#[test]
#[ignore = "needs a server: run by .ci/suites/10-store-servers.sh"]
fn http_reads_pass_the_shared_suite() {
    let Some(url) = server("TESSERA_TEST_HTTP_URL") else {
        return;
    };
    let dir = required(
        "TESSERA_TEST_HTTP_DIR",
        "the test seeds the directory the server serves",
    );
    let prefix = suite::run_prefix("http");
    suite::seed(&FilesystemStore::open(&dir).unwrap(), &prefix);

    let store = open_store(&url).unwrap();
    suite::check_reads(&*store, &prefix);
}
