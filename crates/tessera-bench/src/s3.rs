//! The `s3` scenario's server: the S3 API (through `s3s`, as the store tests use it) on loopback, over
//! the dataset's Zarr directory, behind a link that adds a fixed latency to every request and delivers
//! responses no faster than a bandwidth cap shared by all connections.
//!
//! The bucket is read-only: `GetObject` (whole or ranged) and `HeadObject` from the files under the
//! directory, each read in one blocking call, so the server costs little CPU next to the clients it
//! serves (it shares the machine's cores with them). A response is held until the link has carried it:
//! the link is one queue of `bytes ÷ bandwidth` slots, so concurrent responses share the cap.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use hyper_util::rt::TokioIo;
use s3s::dto::{
    ETag, GetObjectInput, GetObjectOutput, HeadObjectInput, HeadObjectOutput, StreamingBlob,
    Timestamp,
};
use s3s::service::S3ServiceBuilder;
use s3s::{S3, S3Request, S3Response, S3Result, s3_error};
use tokio::time::Instant;

use crate::error::{BenchError, BenchResult};

/// The bucket name clients use (any name reaches the same directory).
pub const BUCKET: &str = "tessera-bench";

/// The link's shape: latency per request and bandwidth.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LinkShape {
    /// Added before every request is answered.
    pub latency: Duration,
    /// Bytes per second of response bodies, shared by all connections.
    pub bytes_per_second: f64,
}

/// The shared link: when it is next free.
#[derive(Debug)]
struct Link {
    shape: LinkShape,
    free_at: Mutex<Option<Instant>>,
}

impl Link {
    /// Reserves the link for `bytes` and returns when their transfer ends.
    fn reserve(&self, bytes: usize) -> Instant {
        let now = Instant::now();
        let mut free_at = self.free_at.lock().unwrap_or_else(|e| e.into_inner());
        let start = free_at.map_or(now, |f| f.max(now));
        let end = start + Duration::from_secs_f64(bytes as f64 / self.shape.bytes_per_second);
        *free_at = Some(end);
        end
    }
}

/// A running server; it stops when dropped.
#[derive(Debug)]
pub struct S3Server {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    runtime: Option<tokio::runtime::Runtime>,
}

impl S3Server {
    /// Serves the files under `dir` as bucket [`BUCKET`] on a free loopback port, through a link of
    /// `shape`.
    ///
    /// # Errors
    /// I/O errors starting the runtime or binding the port.
    pub fn start(dir: &Path, shape: LinkShape) -> BenchResult<S3Server> {
        let builder = S3ServiceBuilder::new(DirectoryBucket {
            root: dir.to_path_buf(),
        });
        let service = builder.build();
        let link = Arc::new(Link {
            shape,
            free_at: Mutex::new(None),
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("bench-s3-server")
            .enable_all()
            .build()
            .map_err(|e| BenchError::io("starting", "the S3 server's runtime", e))?;
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .map_err(|e| BenchError::io("binding", "127.0.0.1:0", e))?;
        let endpoint = format!(
            "http://{}",
            listener
                .local_addr()
                .map_err(|e| BenchError::io("binding", "127.0.0.1:0", e))?
        );
        runtime.spawn(async move {
            loop {
                let Ok((socket, _)) = listener.accept().await else {
                    continue;
                };
                // Without it every small response waits for the peer's delayed ACK (~40 ms).
                let _ = socket.set_nodelay(true);
                let service = service.clone();
                let link = link.clone();
                tokio::spawn(async move {
                    let answer = hyper::service::service_fn(move |request| {
                        let service = service.clone();
                        let link = link.clone();
                        async move {
                            tokio::time::sleep(link.shape.latency).await;
                            let response = hyper::service::Service::call(&service, request).await?;
                            let (parts, mut body) = response.into_parts();
                            let bytes = body.store_all_limited(usize::MAX).await.map_err(|e| {
                                s3s::HttpError::new(Box::new(std::io::Error::other(e.to_string())))
                            })?;
                            tokio::time::sleep_until(link.reserve(bytes.len())).await;
                            Ok::<_, s3s::HttpError>(hyper::Response::from_parts(
                                parts,
                                s3s::Body::from(bytes),
                            ))
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(socket), answer)
                        .await;
                });
            }
        });
        Ok(S3Server {
            endpoint,
            runtime: Some(runtime),
        })
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// A read-only bucket over a directory.
#[derive(Debug)]
struct DirectoryBucket {
    root: PathBuf,
}

/// A file of the bucket: its bytes (or the requested range) and what the headers say about it.
struct Object {
    bytes: Bytes,
    len: u64,
    range: Option<std::ops::Range<u64>>,
    modified: SystemTime,
}

impl DirectoryBucket {
    /// Reads `key` (whole, or `range`, or only its metadata) in one blocking call.
    async fn read(
        &self,
        key: &str,
        range: Option<s3s::dto::Range>,
        body: bool,
    ) -> S3Result<Object> {
        if key
            .split('/')
            .any(|s| s.is_empty() || s == "." || s == "..")
        {
            return Err(s3_error!(NoSuchKey));
        }
        let path = self.root.join(key);
        tokio::task::spawn_blocking(move || -> S3Result<Object> {
            use std::io::{Read, Seek};
            let mut file = std::fs::File::open(&path).map_err(|_| s3_error!(NoSuchKey))?;
            let meta = file.metadata().map_err(|e| s3_error!(e, InternalError))?;
            if !meta.is_file() {
                return Err(s3_error!(NoSuchKey));
            }
            let len = meta.len();
            let span = match range {
                Some(r) => Some(r.check(len).map_err(|_| s3_error!(InvalidRange))?),
                None => None,
            };
            let mut bytes = Vec::new();
            if body {
                let want = span.clone().unwrap_or(0..len);
                file.seek(std::io::SeekFrom::Start(want.start))
                    .map_err(|e| s3_error!(e, InternalError))?;
                bytes.resize((want.end - want.start) as usize, 0);
                file.read_exact(&mut bytes)
                    .map_err(|e| s3_error!(e, InternalError))?;
            }
            Ok(Object {
                bytes: Bytes::from(bytes),
                len,
                range: span,
                modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            })
        })
        .await
        .map_err(|e| s3_error!(e, InternalError))?
    }
}

impl Object {
    /// A strong ETag from the size and modification time: the files do not change while served.
    fn e_tag(&self) -> ETag {
        let nanos = self
            .modified
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        ETag::Strong(format!("{:x}-{nanos:x}", self.len))
    }

    fn content_range(&self) -> Option<String> {
        self.range
            .as_ref()
            .map(|r| format!("bytes {}-{}/{}", r.start, r.end - 1, self.len))
    }
}

#[async_trait::async_trait]
impl S3 for DirectoryBucket {
    async fn get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let object = self.read(&req.input.key, req.input.range, true).await?;
        let output = GetObjectOutput {
            content_length: Some(object.bytes.len() as i64),
            content_range: object.content_range(),
            e_tag: Some(object.e_tag()),
            last_modified: Some(Timestamp::from(object.modified)),
            body: Some(StreamingBlob::from(s3s::Body::from(object.bytes))),
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }

    async fn head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        let object = self.read(&req.input.key, req.input.range, false).await?;
        let output = HeadObjectOutput {
            content_length: Some(
                object
                    .range
                    .as_ref()
                    .map_or(object.len, |r| r.end - r.start) as i64,
            ),
            content_range: object.content_range(),
            e_tag: Some(object.e_tag()),
            last_modified: Some(Timestamp::from(object.modified)),
            ..Default::default()
        };
        Ok(S3Response::new(output))
    }
}

/// A tessera store for the array under `prefix` of the server at `endpoint` (unsigned requests, as to a
/// public bucket).
///
/// # Errors
/// [`BenchError::Store`] when the client cannot be built.
pub fn tessera_store(endpoint: &str, prefix: &str) -> BenchResult<Arc<dyn tessera_store::Store>> {
    Ok(Arc::new(tessera_store::ObjectStoreBackend::new(
        Arc::new(object_store_client(endpoint)?),
        tessera_store::object_store::path::Path::from(prefix),
    )))
}

/// An object_store S3 client for bucket [`BUCKET`] at `endpoint`, unsigned.
///
/// # Errors
/// [`BenchError::S3`] when the client cannot be built.
pub fn object_store_client(
    endpoint: &str,
) -> BenchResult<tessera_store::object_store::aws::AmazonS3> {
    tessera_store::install_crypto_provider();
    tessera_store::object_store::aws::AmazonS3Builder::new()
        .with_endpoint(endpoint)
        .with_allow_http(true)
        .with_bucket_name(BUCKET)
        .with_region("us-east-1")
        .with_skip_signature(true)
        .build()
        .map_err(|e| BenchError::S3(format!("building an S3 client for {endpoint}: {e}")))
}
