//! Opening an [`ObjectStoreBackend`] from an `s3://`, `gs://` or `http(s)://` URL.

use std::sync::Arc;

use object_store::ClientConfigKey;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey};
use object_store::gcp::{GoogleCloudStorageBuilder, GoogleConfigKey};
use object_store::http::HttpBuilder;
use object_store::path::Path;
use url::Url;

use super::credentials::build_s3;
use super::{ObjectStoreBackend, RemoteOptions, install_crypto_provider};
use crate::error::{StoreError, StoreErrorKind, StoreResult};
use crate::open::{Location, parse};

impl ObjectStoreBackend {
    /// Opens an `s3://`, `gs://` or `http(s)://` URL, configured from the environment as
    /// [`open_store`] describes.
    ///
    /// # Errors
    /// As [`open_store`].
    pub fn from_url(location: &str) -> StoreResult<Self> {
        ObjectStoreBackend::from_url_with(location, &RemoteOptions::from_env()?)
    }

    /// As [`from_url`](Self::from_url), with the timeouts and retries of `options` instead of
    /// those of the `TESSERA_REMOTE_*` environment variables.
    ///
    /// # Errors
    /// As [`open_store`].
    pub fn from_url_with(location: &str, options: &RemoteOptions) -> StoreResult<Self> {
        match parse(location)? {
            Location::Remote(url) => remote(&url, location, options),
            _ => Err(StoreError::new(
                StoreErrorKind::InvalidUrl,
                "expected an s3://, gs://, http:// or https:// URL",
            )
            .with_key(location)),
        }
    }
}

pub(crate) fn remote(
    url: &Url,
    location: &str,
    options: &RemoteOptions,
) -> StoreResult<ObjectStoreBackend> {
    // Set key by key, so client settings from the environment (AWS_ALLOW_HTTP, ...) stay.
    let timeouts = [
        (ClientConfigKey::Timeout, options.client_timeout()),
        (
            ClientConfigKey::ConnectTimeout,
            options.client_connect_timeout(),
        ),
    ];
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
            let mut builder = AmazonS3Builder::from_env()
                .with_url(url.as_str())
                .with_retry(options.retry_config());
            for (key, value) in &timeouts {
                builder = builder.with_config(AmazonS3ConfigKey::Client(*key), value);
            }
            let store = build_s3(builder).map_err(config_error)?;
            ObjectStoreBackend::new(Arc::new(store), bucket_path()?)
        }
        "gs" => {
            let mut builder = GoogleCloudStorageBuilder::from_env()
                .with_url(url.as_str())
                .with_retry(options.retry_config());
            for (key, value) in &timeouts {
                builder = builder.with_config(GoogleConfigKey::Client(*key), value);
            }
            let store = builder.build().map_err(config_error)?;
            ObjectStoreBackend::new(Arc::new(store), bucket_path()?)
        }
        _ => {
            // The base URL carries the path; keys are appended to it.
            let store = HttpBuilder::new()
                .with_url(url.as_str())
                .with_client_options(options.client_options(url.scheme() == "http"))
                .with_retry(options.retry_config())
                .build()
                .map_err(config_error)?;
            ObjectStoreBackend::new(Arc::new(store), Path::default())
        }
    };
    Ok(backend.with_update_attempts(options.attempts()))
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

    /// A server that accepts connections and never answers: the request fails after the configured
    /// timeout and retries, not after the defaults (30 s per attempt, 10 retries).
    #[test]
    fn timeouts_and_retries_come_from_the_options() {
        use std::time::{Duration, Instant};

        use crate::{ReadableStore, StoreKey};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/data/", listener.local_addr().unwrap());
        let silent = std::thread::spawn(move || {
            // Holds the accepted connections open without a word, until the test is done.
            let mut held = Vec::new();
            listener.set_nonblocking(true).unwrap();
            let until = Instant::now() + Duration::from_secs(10);
            while Instant::now() < until {
                if let Ok((socket, _)) = listener.accept() {
                    held.push(socket);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        let options = RemoteOptions::new()
            .timeout(Duration::from_millis(300))
            .max_retries(1);
        let store = ObjectStoreBackend::from_url_with(&url, &options).unwrap();
        let started = Instant::now();
        let err = store.get(&StoreKey::new("0.0").unwrap()).unwrap_err();
        let took = started.elapsed();
        assert_eq!(err.kind(), StoreErrorKind::Remote, "{err}");
        assert!(
            took >= Duration::from_millis(300) && took < Duration::from_secs(5),
            "{took:?}: {err}"
        );
        drop(silent);
    }
}
