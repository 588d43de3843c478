//! Zarr arrays and groups, v2 and v3 (sharding included): metadata, data types, fill values, selections,
//! parallel chunked reads and writes.
//!
//! Open an array written by zarr-python, or create one it can read, and read any selection as an
//! [`ndarray::ArrayD`]:
//!
//! ```
//! use std::sync::Arc;
//! use tessera_array::{Array, ArrayBuilder, DataType};
//! use tessera_store::MemoryStore;
//! use ndarray::{Array2, s};
//!
//! let store = Arc::new(MemoryStore::new());
//! let a = ArrayBuilder::new(vec![1000, 1000], vec![100, 100], DataType::parse_typestr("<f4")?)
//!     .create(store.clone(), "field")?;
//! a.write((), &Array2::<f32>::from_shape_fn((1000, 1000), |(i, j)| (i * j) as f32))?;
//!
//! let b = Array::open(store, "field")?;
//! let column = b.read::<f32>(s![.., 7])?;          // one column, across 10 chunks
//! assert_eq!(column[[999]], 999.0 * 7.0);
//! let crop = b.read::<f32>("10:20:2, -3:")?;       // numpy-style text
//! assert_eq!(crop.shape(), &[5, 3]);
//! # Ok::<(), tessera_array::ArrayError>(())
//! ```
//!
//! One array model, two metadata formats: [`Array::open`] reads `zarr.json` (Zarr v3) when there is one,
//! else `.zarray` (Zarr v2); [`ArrayBuilder::zarr_format`] chooses what a new array is written as.
//!
//! Modules: [`dtype`] (numpy type strings and structured types), [`fill_value`], [`metadata`]
//! (`.zarray`/`.zgroup`/`.zattrs`), [`v3`] (`zarr.json`, v3 data types, codecs and sharding),
//! [`pipeline`] (the codecs of one chunk), [`selection`] (slices, indices, lists, masks and points, numpy semantics), [`plan`] (the chunks a
//! selection touches), [`array`](mod@array) (reads and writes), [`group`] (hierarchies and consolidated metadata),
//! [`iter`] (block-by-block iteration), [`copy`] (strided region copies, shared with the memory-mapped
//! backend).

pub mod access;
pub mod array;
mod cache;
mod consolidated;
pub mod copy;
pub mod dtype;
pub mod element;
pub mod error;
mod fancy;
pub mod fill_value;
pub mod group;
pub mod iter;
pub mod metadata;
pub mod node;
pub mod object;
mod par;
pub mod pipeline;
pub mod plan;
pub mod selection;
pub mod v3;

pub use access::{ArrayAccess, RawArray};
pub use array::{Array, ArrayBuilder, default_compressor};
pub use cache::ChunkCacheStats;
pub use dtype::{ByteOrder, DataType, Field, TimeUnit};
pub use element::{DateTime64, Element, TimeDelta64};
pub use error::{ArrayError, ArrayResult};
pub use fill_value::FillValue;
pub use group::{Group, Node, NodeKind, node_kind, open_node};
pub use iter::Blocks;
pub use metadata::{ArrayMetadata, KeyEncoding, Order, Separator, ZarrFormat};
pub use node::NodePath;
pub use object::{ObjectElement, StoredObject};
pub use plan::{ChunkRegion, ReadPlan};
pub use selection::{AxisRange, AxisSelector, IntoSelection, ResolvedSelection, Selection};
