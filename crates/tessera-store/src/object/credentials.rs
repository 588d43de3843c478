//! S3 without credentials: when the environment names none, `object_store` asks the EC2 instance
//! metadata service, and off EC2 that fails with an error about that address (a 403, a timeout). The
//! provider here wraps that last resort so the failure says what the user can act on: no
//! credentials were found, and which variables are read.

use std::fmt;
use std::sync::Arc;

use object_store::CredentialProvider;
use object_store::aws::{AmazonS3Builder, AmazonS3ConfigKey, AwsCredential};

/// What a failed S3 request reports when no credentials were configured.
pub(super) const NO_CREDENTIALS: &str = "no AWS credentials were found. tessera reads \
    AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN for temporary credentials), \
    or AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN, or AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / \
    AWS_CONTAINER_CREDENTIALS_FULL_URI; with none of them set, the EC2 instance metadata service was \
    asked and failed (see the source). For a public bucket set AWS_SKIP_SIGNATURE=true";

/// The error a request fails with when no credential could be had; its message is
/// [`NO_CREDENTIALS`], its source what the metadata service answered.
#[derive(Debug)]
pub(super) struct NoCredentials {
    source: object_store::Error,
}

impl fmt::Display for NoCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(NO_CREDENTIALS)
    }
}

impl std::error::Error for NoCredentials {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Whether `builder` has no credentials of its own, so the instance metadata service would be asked.
fn falls_back_to_instance_metadata(builder: &AmazonS3Builder) -> bool {
    let set = |key| {
        builder
            .get_config_value(&key)
            .is_some_and(|v| !v.is_empty())
    };
    let skip_signature = builder
        .get_config_value(&AmazonS3ConfigKey::SkipSignature)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    !(skip_signature
        || set(AmazonS3ConfigKey::AccessKeyId)
        || set(AmazonS3ConfigKey::WebIdentityTokenFile)
        || set(AmazonS3ConfigKey::ContainerCredentialsRelativeUri)
        || set(AmazonS3ConfigKey::ContainerCredentialsFullUri))
}

/// The instance-metadata provider `object_store` built, with its failures explained.
#[derive(Debug)]
struct ExplainedInstanceMetadata {
    inner: Arc<dyn CredentialProvider<Credential = AwsCredential>>,
}

#[async_trait::async_trait]
impl CredentialProvider for ExplainedInstanceMetadata {
    type Credential = AwsCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<AwsCredential>> {
        self.inner
            .get_credential()
            .await
            .map_err(|source| object_store::Error::Unauthenticated {
                path: String::new(),
                source: Box::new(NoCredentials { source }),
            })
    }
}

/// Builds the S3 store; when it would fall back to the instance metadata service, its failures
/// become [`NoCredentials`].
pub(super) fn build_s3(
    builder: AmazonS3Builder,
) -> object_store::Result<object_store::aws::AmazonS3> {
    if !falls_back_to_instance_metadata(&builder) {
        return builder.build();
    }
    let inner = Arc::clone(builder.clone().build()?.credentials());
    builder
        .with_credentials(Arc::new(ExplainedInstanceMetadata { inner }))
        .build()
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::time::{Duration, Instant};

    use object_store::RetryConfig;
    use object_store::path::Path;

    use super::*;
    use crate::{ObjectStoreBackend, ReadableStore, StoreErrorKind, StoreKey};

    /// A stand-in for the instance metadata service off EC2: it refuses every request with a 403.
    fn refusing_server() -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        listener.set_nonblocking(true).unwrap();
        std::thread::spawn(move || {
            let until = Instant::now() + Duration::from_secs(10);
            while Instant::now() < until {
                let Ok((mut socket, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                socket.set_nonblocking(false).unwrap();
                socket
                    .set_read_timeout(Some(Duration::from_millis(200)))
                    .unwrap();
                let _ = socket.read(&mut [0; 4096]);
                let _ = socket.write_all(
                    b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        address
    }

    #[test]
    fn without_credentials_the_error_names_the_variables_read() {
        crate::install_crypto_provider();
        let builder = AmazonS3Builder::new()
            .with_bucket_name("bucket")
            .with_region("us-east-1")
            .with_endpoint("http://127.0.0.1:9")
            .with_allow_http(true)
            .with_config(AmazonS3ConfigKey::MetadataEndpoint, refusing_server())
            .with_retry(RetryConfig {
                max_retries: 0,
                ..RetryConfig::default()
            });
        assert!(falls_back_to_instance_metadata(&builder));
        let store = ObjectStoreBackend::new(Arc::new(build_s3(builder).unwrap()), Path::default());
        let err = store.get(&StoreKey::new("x/.zarray").unwrap()).unwrap_err();
        assert_eq!(err.kind(), StoreErrorKind::PermissionDenied, "{err}");
        let message = err.to_string();
        for variable in [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SKIP_SIGNATURE",
        ] {
            assert!(message.contains(variable), "{message}");
        }
        assert!(
            message.contains("no AWS credentials were found"),
            "{message}"
        );
    }

    #[test]
    fn configured_credentials_are_used_as_they_are() {
        let keys = AmazonS3Builder::new()
            .with_access_key_id("id")
            .with_secret_access_key("secret");
        assert!(!falls_back_to_instance_metadata(&keys));
        let public = AmazonS3Builder::new().with_skip_signature(true);
        assert!(!falls_back_to_instance_metadata(&public));
    }
}
