//! Opening a store from a location string: a path or a URL.

use std::path::PathBuf;
use std::sync::Arc;

use url::Url;

use crate::error::{StoreError, StoreErrorKind, StoreResult};
use crate::filesystem::FilesystemStore;
use crate::memory::MemoryStore;
use crate::traits::Store;

/// Where a location string points.
pub(crate) enum Location {
    Local(PathBuf),
    Memory,
    Remote(Url),
}

pub(crate) fn parse(location: &str) -> StoreResult<Location> {
    let invalid = |message: &str| {
        StoreError::new(StoreErrorKind::InvalidUrl, message.to_owned()).with_key(location)
    };
    if location.is_empty() {
        return Err(invalid("the location is empty"));
    }
    let Some((scheme, _)) = location.split_once("://") else {
        return Ok(Location::Local(PathBuf::from(location)));
    };
    let url = Url::parse(location).map_err(|e| invalid("cannot parse the URL").with_source(e))?;
    match scheme.to_ascii_lowercase().as_str() {
        "file" => url
            .to_file_path()
            .map(Location::Local)
            .map_err(|()| invalid("a file:// URL must hold an absolute local path")),
        "memory" => Ok(Location::Memory),
        "s3" | "s3a" | "gs" | "http" | "https" => Ok(Location::Remote(url)),
        _ => Err(invalid(
            "unsupported scheme (expected a path, file://, memory://, s3://, gs://, http:// or https://)",
        )),
    }
}

/// Opens the store at `location`: a local path, `file://`, `memory://`, `s3://bucket/prefix`,
/// `gs://bucket/prefix`, `http://...` or `https://...`.
///
/// - A path or `file://` URL opens a [`FilesystemStore`] on an existing directory (see
///   [`create_store`] to create it).
/// - `memory://` opens a new, empty [`MemoryStore`] (each call a different one).
/// - `s3://` reads its configuration from the environment as `object_store` does:
///   `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION` (or
///   `AWS_DEFAULT_REGION`), `AWS_ENDPOINT` (for S3-compatible servers), `AWS_ALLOW_HTTP`, ...
/// - `gs://` likewise: `GOOGLE_SERVICE_ACCOUNT` (a key file path), `GOOGLE_SERVICE_ACCOUNT_KEY`
///   (the key JSON itself), `GOOGLE_APPLICATION_CREDENTIALS`, ... A key JSON holding
///   `"gcs_base_url"` and `"disable_oauth": true` points the client at an emulator.
/// - `http(s)://` reads objects below the URL (writes need a WebDAV server). Plain `http://`
///   is allowed because the URL asks for it.
///
/// Their timeouts and retries come from the `TESSERA_REMOTE_*` variables (see `RemoteOptions` for
/// them and the defaults). The remote stores are `ObjectStoreBackend`s keeping up to 64 requests in flight; they need the
/// default-on `cloud` cargo feature (without it their URLs are
/// [`NotSupported`](StoreErrorKind::NotSupported)).
///
/// ```
/// let store = tessera_store::open_store("memory://").unwrap();
/// let key = tessera_store::StoreKey::new(".zgroup").unwrap();
/// store.set(&key, r#"{"zarr_format": 2}"#.into()).unwrap();
/// assert!(store.get(&key).unwrap().is_some());
/// ```
///
/// # Errors
/// [`InvalidUrl`](StoreErrorKind::InvalidUrl) for a location that cannot be parsed or has an
/// unsupported scheme; [`NotFound`](StoreErrorKind::NotFound) for a local path below a file;
/// [`InvalidConfig`](StoreErrorKind::InvalidConfig) when a remote store's configuration is
/// incomplete (for instance a bucket without a region). A local directory that does not exist is
/// no error: the store reads as empty and creates the directory at its first write (as
/// [`FilesystemStoreBuilder::create_on_write`](crate::FilesystemStoreBuilder::create_on_write)).
pub fn open_store(location: &str) -> StoreResult<Arc<dyn Store>> {
    match parse(location)? {
        Location::Local(path) => Ok(Arc::new(
            FilesystemStore::builder(path)
                .create_on_write(true)
                .build()?,
        )),
        Location::Memory => Ok(Arc::new(MemoryStore::new())),
        Location::Remote(url) => remote_store(&url, location),
    }
}

/// As [`open_store`], but a local directory is created (with its parents) when missing.
///
/// # Errors
/// As [`open_store`], and the I/O error's kind when the directory cannot be created.
pub fn create_store(location: &str) -> StoreResult<Arc<dyn Store>> {
    match parse(location)? {
        Location::Local(path) => Ok(Arc::new(FilesystemStore::create(path)?)),
        Location::Memory => Ok(Arc::new(MemoryStore::new())),
        Location::Remote(url) => remote_store(&url, location),
    }
}

#[cfg(feature = "cloud")]
fn remote_store(url: &Url, location: &str) -> StoreResult<Arc<dyn Store>> {
    let options = crate::object::RemoteOptions::from_env()?;
    Ok(Arc::new(crate::object::remote(url, location, &options)?))
}

#[cfg(not(feature = "cloud"))]
fn remote_store(_url: &Url, location: &str) -> StoreResult<Arc<dyn Store>> {
    Err(StoreError::new(
        StoreErrorKind::NotSupported,
        "this build of tessera-store has no cloud stores: enable its `cloud` cargo feature (on by \
         default) to open s3://, gs:// and http(s):// locations",
    )
    .with_key(location))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_local_directory_is_created_at_the_first_write() {
        use crate::{StoreKey, StorePrefix};
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("new/data.zarr");
        let store = open_store(root.to_str().unwrap()).unwrap();
        assert!(!root.exists(), "opening creates nothing");
        let key = StoreKey::new("a/.zarray").unwrap();
        assert!(store.get(&key).unwrap().is_none());
        assert!(store.list_prefix(&StorePrefix::root()).unwrap().is_empty());
        store.set(&key, "{}".into()).unwrap();
        assert_eq!(std::fs::read(root.join("a/.zarray")).unwrap(), b"{}");
        // Below a file there is no directory to create.
        std::fs::write(dir.path().join("file"), b"x").unwrap();
        let below = dir.path().join("file/data.zarr");
        assert!(open_store(below.to_str().unwrap()).is_err());
    }

    #[test]
    fn refuses_unknown_schemes_and_empty_locations() {
        for bad in ["", "ftp://host/x", "nope://"] {
            let err = open_store(bad).expect_err(bad);
            assert_eq!(err.kind(), StoreErrorKind::InvalidUrl, "{bad}: {err}");
        }
    }

    #[cfg(not(feature = "cloud"))]
    #[test]
    fn cloud_urls_need_the_cloud_feature() {
        for url in [
            "s3://bucket/x",
            "gs://bucket/x",
            "https://example.invalid/x",
        ] {
            let err = open_store(url).expect_err(url);
            assert_eq!(err.kind(), StoreErrorKind::NotSupported, "{url}: {err}");
            assert!(err.to_string().contains("`cloud`"), "{err}");
        }
    }

    #[test]
    fn missing_local_directory_opens_and_create_store_makes_it() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        assert!(open_store(missing.to_str().unwrap()).is_ok());
        assert!(!missing.exists());
        // The strict constructor still says it is not there.
        let err = FilesystemStore::open(&missing).unwrap_err();
        assert_eq!(err.kind(), StoreErrorKind::NotFound);
        let url = format!("file://{}", missing.display());
        assert!(create_store(&url).is_ok());
        assert!(missing.is_dir());
        assert!(open_store(&url).is_ok());
    }
}
