//! An S3 server inside the test process (`s3s-fs` over a temporary directory), with
//! signature checks, so plain `cargo test` sends real, signed S3 requests.
//!
//! s3s-fs 0.14 checks `If-Match` and `If-None-Match` on PUT but not atomically (it checks, then
//! writes, with no lock, so two conditional PUTs read at the same version can both succeed), and it
//! stores an object's ETag after its content (a GET in between pairs the new content with the old
//! ETag). S3 itself does neither. So that tests of conditional writes and version-pinned reads test
//! tessera and not those gaps, this server runs requests that change objects one at a time and
//! never while a read is being answered (a GET's response body streams later, from the file it
//! opened, which a rename does not change).

use std::sync::Arc;

use hyper_util::rt::TokioIo;
use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use s3s::auth::SimpleAuth;
use s3s::service::{S3Service, S3ServiceBuilder};

pub const ACCESS_KEY: &str = "tessera-test-access";
pub const SECRET_KEY: &str = "tessera-test-secret-0123456789";
pub const BUCKET: &str = "tessera-test";

/// A running server; it stops when dropped.
pub struct S3Server {
    pub endpoint: String,
    runtime: Option<tokio::runtime::Runtime>,
    _root: tempfile::TempDir,
}

impl S3Server {
    /// Starts a server on a free loopback port, holding one empty bucket.
    pub fn start() -> S3Server {
        quiet_server_panics();
        let root = tempfile::tempdir().unwrap();
        // s3s-fs keeps each bucket as a directory under its root.
        std::fs::create_dir(root.path().join(BUCKET)).unwrap();
        let fs = s3s_fs::FileSystem::new(root.path()).unwrap();
        let mut builder = S3ServiceBuilder::new(fs);
        builder.set_auth(SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
        let service = builder.build();

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("s3-test-server")
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let exclusive = Arc::new(tokio::sync::RwLock::new(()));
        runtime.spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                // Without it every small response waits for the peer's delayed ACK (~40 ms).
                socket.set_nodelay(true).unwrap();
                let service = service.clone();
                let exclusive = Arc::clone(&exclusive);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        answer_in_turn(service.clone(), Arc::clone(&exclusive), request)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(socket), service)
                        .await;
                });
            }
        });
        S3Server {
            endpoint,
            runtime: Some(runtime),
            _root: root,
        }
    }

    /// An `object_store` client for the bucket, signing with `secret`.
    pub fn client_with_secret(&self, secret: &str) -> Arc<dyn ObjectStore> {
        tessera_store::install_crypto_provider();
        let store = AmazonS3Builder::new()
            .with_endpoint(&self.endpoint)
            .with_allow_http(true)
            .with_bucket_name(BUCKET)
            .with_region("us-east-1")
            .with_access_key_id(ACCESS_KEY)
            .with_secret_access_key(secret)
            .build()
            .unwrap();
        Arc::new(store)
    }

    /// An `object_store` client for the bucket with the right credentials.
    pub fn client(&self) -> Arc<dyn ObjectStore> {
        self.client_with_secret(SECRET_KEY)
    }
}

/// Answers `request` holding `exclusive`: shared for reads, exclusive for requests that change
/// objects (see the module documentation).
async fn answer_in_turn(
    service: S3Service,
    exclusive: Arc<tokio::sync::RwLock<()>>,
    request: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<s3s::Body>, s3s::HttpError> {
    let reads = matches!(*request.method(), hyper::Method::GET | hyper::Method::HEAD);
    if reads {
        let _shared = exclusive.read().await;
        answer_despite_panics(service, request).await
    } else {
        let _alone = exclusive.write().await;
        answer_despite_panics(service, request).await
    }
}

/// s3s-fs 0.14 panics on a ranged GET that selects no byte of an empty object (it computes
/// `end - 1` of an empty range). A real server answers 416 there; so does this one, instead of
/// dropping the connection (which the client would retry for a long while). Any other panic is
/// a 500.
async fn answer_despite_panics(
    service: S3Service,
    request: hyper::Request<hyper::body::Incoming>,
) -> Result<hyper::Response<s3s::Body>, s3s::HttpError> {
    use futures::FutureExt;
    use hyper::service::Service;
    let ranged = request.headers().contains_key(hyper::header::RANGE);
    let answer = Service::call(&service, request);
    match std::panic::AssertUnwindSafe(answer).catch_unwind().await {
        Ok(response) => response,
        Err(_) => {
            let status = if ranged {
                hyper::StatusCode::RANGE_NOT_SATISFIABLE
            } else {
                hyper::StatusCode::INTERNAL_SERVER_ERROR
            };
            let mut response = hyper::Response::new(s3s::Body::empty());
            *response.status_mut() = status;
            Ok(response)
        }
    }
}

/// Keeps the server's known panic (see `answer_despite_panics`) out of the test output; panics
/// on every other thread are reported as usual.
fn quiet_server_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().name() != Some("s3-test-server") {
                default(info);
            }
        }));
    });
}

impl Drop for S3Server {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
