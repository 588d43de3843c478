//! The I/O runtime every object store backend's requests run on, and the TLS provider its
//! HTTP clients need.

use std::future::Future;
use std::sync::{Once, OnceLock};

use tokio::runtime::Runtime;

use crate::error::{StoreError, StoreErrorKind, StoreResult};

/// Installs `ring` as the process's default rustls crypto provider, unless one is installed
/// already; the HTTP client of every cloud store needs one when it is built.
///
/// [`open_store`](crate::open_store) and [`ObjectStoreBackend::from_url`](super::ObjectStoreBackend::from_url) call this themselves;
/// call it before building an `object_store` client by hand.
pub fn install_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // An error means another provider was installed first: that one is used.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The runtime every backend's requests run on. It lives as long as the process, so connection
/// pools never outlive it and no runtime is ever dropped inside an async context.
pub(super) fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4));
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("tessera-store-io")
            .enable_all()
            .build()
            // Creating threads and an epoll instance fails only when the process is out of
            // resources; nothing sensible can continue then.
            .expect("cannot start the I/O runtime of tessera-store")
    })
}

/// Runs `fut` on the I/O runtime and blocks the calling thread until it finishes.
pub(super) fn block_on<F>(fut: F) -> StoreResult<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handle = runtime().spawn(fut);
    futures::executor::block_on(handle).map_err(|e| {
        StoreError::new(
            StoreErrorKind::Remote,
            "a request task of the I/O runtime failed",
        )
        .with_source(e)
    })
}
