//! Keys, store traits and storage backends for tessera.
//!
//! A Zarr store maps keys (`.zarray`, `group/array/0.0.1`) to bytes. This crate gives:
//! - [`StoreKey`] and [`StorePrefix`]: checked key types that can never name anything above
//!   the store's root;
//! - three capability traits, [`ReadableStore`], [`WritableStore`] and [`ListableStore`]
//!   (together [`Store`]), each with a small required surface. A missing key reads as
//!   `Ok(None)`. Reads are batch-shaped: [`ReadableStore::get_many`] hands every result to a
//!   callback as it arrives, with many requests in flight;
//! - backends: [`FilesystemStore`] (atomic writes), [`MemoryStore`], and, with the default-on
//!   `cloud` cargo feature, `ObjectStoreBackend` over `object_store` for S3, GCS and HTTP(S)
//!   (without it, none of object_store, tokio, reqwest or rustls is compiled);
//! - [`open_store`] and [`create_store`], which open any of them from a path or URL;
//! - one error type, [`StoreError`], whose [`StoreErrorKind`] says what went wrong and whose
//!   source is the underlying error.
//!
//! ```
//! use tessera_store::{open_store, StoreKey, StorePrefix, ReadableStore, ListableStore};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let store = open_store(dir.path().to_str().unwrap()).unwrap();
//! let keys: Vec<StoreKey> = (0..4).map(|i| StoreKey::new(format!("a/{i}.0")).unwrap()).collect();
//! for key in &keys {
//!     store.set(key, format!("chunk {key}").into_bytes().into()).unwrap();
//! }
//! // Batch read: the callback runs in parallel, once per key, as each value arrives.
//! let total = std::sync::atomic::AtomicUsize::new(0);
//! store.get_many(&keys, &|index, result| {
//!     let value = result.unwrap().expect("stored");
//!     assert_eq!(value, format!("chunk {}", keys[index]));
//!     total.fetch_add(value.len(), std::sync::atomic::Ordering::Relaxed);
//! });
//! assert_eq!(total.into_inner(), 4 * "chunk a/0.0".len());
//! assert_eq!(store.get(&StoreKey::new("a/9.9").unwrap()).unwrap(), None);
//! assert_eq!(store.list_prefix(&StorePrefix::new("a/").unwrap()).unwrap(), keys);
//! ```

mod error;
mod filesystem;
mod key;
mod memory;
#[cfg(feature = "cloud")]
mod object;
mod open;
mod range;
mod traits;

pub use bytes::Bytes;
/// The `object_store` crate the [`ObjectStoreBackend`] wraps, for building stores by hand.
#[cfg(feature = "cloud")]
pub use object_store;

pub use error::{StoreError, StoreErrorKind, StoreResult};
pub use filesystem::{DEFAULT_LOCK_TIMEOUT, FilesystemStore, FilesystemStoreBuilder};
pub use key::{StoreKey, StorePrefix};
pub use memory::MemoryStore;
#[cfg(feature = "cloud")]
pub use object::{
    DEFAULT_REMOTE_CONCURRENCY, DEFAULT_UPDATE_ATTEMPTS, MULTIPART_THRESHOLD, ObjectStoreBackend,
    RemoteOptions, install_crypto_provider,
};
pub use open::{create_store, open_store};
pub use range::ByteRange;
pub use traits::{
    DependentParts, ListableStore, RangeRequest, ReadableStore, ReadableStoreExt, Store, Update,
    WritableStore,
};
