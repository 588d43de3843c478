//! Opening an [`ObjectStoreBackend`] from an `s3://`, `gs://` or `http(s)://` URL.

use std::sync::Arc;

use object_store::ClientOptions;
use object_store::aws::AmazonS3Builder;
use object_store::gcp::GoogleCloudStorageBuilder;
use object_store::http::HttpBuilder;
use object_store::path::Path;
use url::Url;

use super::{ObjectStoreBackend, install_crypto_provider};
use crate::error::{StoreError, StoreErrorKind, StoreResult};
use crate::open::{Location, parse};

impl ObjectStoreBackend {
    /// Opens an `s3://`, `gs://` or `http(s)://` URL, configured from the environment as
    /// [`open_store`] describes.
    ///
    /// # Errors
    /// As [`open_store`].
    pub fn from_url(location: &str) -> StoreResult<Self> {
        match parse(location)? {
            Location::Remote(url) => remote(&url, location),
            _ => Err(StoreError::new(
                StoreErrorKind::InvalidUrl,
                "expected an s3://, gs://, http:// or https:// URL",
            )
            .with_key(location)),
        }
    }
}

pub(crate) fn remote(url: &Url, location: &str) -> StoreResult<ObjectStoreBackend> {
    install_crypto_provider();
    let config_error = |e: object_store::Error| {
        StoreError::new(
            StoreErrorKind::InvalidConfig,
            "cannot configure the remote store",
        )
        .with_key(location)
        .with_source(e)
    };
    let bucket_path = || {
        Path::from_url_path(url.path()).map_err(|e| {
            StoreError::new(
                StoreErrorKind::InvalidUrl,
                "the URL's path is not a valid object path",
            )
            .with_key(location)
            .with_source(e)
        })
    };
    let backend = match url.scheme() {
        "s3" | "s3a" => {
            let store = AmazonS3Builder::from_env()
                .with_url(url.as_str())
                .build()
                .map_err(config_error)?;
            ObjectStoreBackend::new(Arc::new(store), bucket_path()?)
        }
        "gs" => {
            let store = GoogleCloudStorageBuilder::from_env()
                .with_url(url.as_str())
                .build()
                .map_err(config_error)?;
            ObjectStoreBackend::new(Arc::new(store), bucket_path()?)
        }
        _ => {
            // The base URL carries the path; keys are appended to it.
            let store = HttpBuilder::new()
                .with_url(url.as_str())
                .with_client_options(ClientOptions::new().with_allow_http(url.scheme() == "http"))
                .build()
                .map_err(config_error)?;
            ObjectStoreBackend::new(Arc::new(store), Path::default())
        }
    };
    Ok(backend)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_urls_build_backends() {
        // Building a client sends no request.
        let http = ObjectStoreBackend::from_url("http://127.0.0.1:9/data/").unwrap();
        assert_eq!(http.root().as_ref(), "");
        assert!(ObjectStoreBackend::from_url("memory://").is_err());
    }
}
