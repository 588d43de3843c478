//! `tessera copy`: arrays and hierarchies between stores, optionally rechunked and recompressed.

use std::collections::BTreeSet;
use std::ops::Range;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tessera_array::v3::ChunkEncoding;
use tessera_array::{
    Array, ArrayAccess, ArrayBuilder, ArrayMetadata, FillValue, Group, NodeKind, NodePath,
    ResolvedSelection, Selection, ZarrFormat, metadata::pretty_json,
};
use tessera_store::{Bytes, Store, StoreKey};

use crate::bounded_store::BoundedStore;
use crate::cli::CopyArgs;
use crate::error::{CliError, CliResult, Context};
use crate::hierarchy::Hierarchy;
use crate::memory::{memory_limit, plan_work, pool};
use crate::options::{
    check_chain, node_path, open_existing, open_or_create, parse_chunks, parse_compressor,
    parse_filters, parse_zarr_format,
};
use crate::progress;
use crate::rechunk;

/// The changes asked for on every array copied.
struct Changes {
    chunks: Option<Vec<u64>>,
    compressor: Option<Option<Value>>,
    filters: Option<Option<Vec<Value>>>,
    /// `--zarr-format`, or 3 when `--shards` is given.
    zarr_format: Option<u8>,
    shards: Option<Vec<u64>>,
}

impl Changes {
    /// The format a node of `format` is copied as.
    fn format_of(&self, format: ZarrFormat) -> ZarrFormat {
        match self.zarr_format {
            Some(3) => ZarrFormat::V3,
            Some(_) => ZarrFormat::V2,
            None => format,
        }
    }
}

/// What an array is copied as.
enum Destination {
    /// A v2 array copied as v2: the source `.zarray` with the changes, unknown fields kept.
    V2Doc(Value),
    /// Any copy involving Zarr v3.
    Builder(Box<ArrayBuilder>),
}

/// One array to copy: its source and its destination.
struct ArrayJob {
    path: NodePath,
    src: Array,
    dst: Destination,
    attributes: serde_json::Map<String, Value>,
}

/// Runs `tessera copy`.
pub fn run(args: &CopyArgs) -> CliResult<()> {
    let limit = memory_limit(args.memory_limit.as_deref())?;
    let target = node_path(args.array.as_deref())?;
    let changes = Changes {
        chunks: args
            .chunks
            .as_deref()
            .map(|c| parse_chunks("--chunks", c))
            .transpose()?,
        compressor: parse_compressor(args.compressor.as_deref())?,
        filters: parse_filters(args.filters.as_deref())?,
        zarr_format: match (args.zarr_format, &args.shards) {
            (Some(f), _) => Some(parse_zarr_format(f)?),
            (None, Some(_)) => Some(3),
            (None, None) => None,
        },
        shards: args
            .shards
            .as_deref()
            .map(|s| parse_chunks("--shards", s))
            .transpose()?,
    };
    if changes.zarr_format == Some(2) && changes.shards.is_some() {
        return Err(CliError::usage("--shards needs --zarr-format 3"));
    }
    let src_store = open_existing(&args.src)?;
    let hierarchy = Hierarchy::open(src_store.clone(), &args.src, &target)?;
    let excluded = args
        .exclude
        .iter()
        .map(|p| {
            NodePath::new(p).map_err(|e| CliError::usage(format!("--exclude {p}")).with_source(e))
        })
        .collect::<CliResult<Vec<_>>>()?;
    let mut nodes = hierarchy.nodes(&target)?;
    for ex in &excluded {
        if !nodes.iter().any(|n| is_within(&n.path, ex)) {
            return Err(CliError::usage(format!(
                "--exclude {ex}: no array or group there below {target}"
            )));
        }
    }
    nodes.retain(|n| !excluded.iter().any(|ex| is_within(&n.path, ex)));

    // Check every node before writing anything: a hierarchy is copied whole or not at all.
    let failed: Vec<String> = nodes
        .iter()
        .filter_map(|n| n.state.as_ref().err().map(|p| format!("{} ({p})", n.path)))
        .collect();
    if !failed.is_empty() {
        return Err(CliError::new(format!(
            "nothing was copied: {} of {} nodes cannot be copied: {}; leave them out with --exclude PATH",
            failed.len(),
            nodes.len(),
            failed.join("; ")
        )));
    }
    let mut jobs = Vec::new();
    let mut groups = Vec::new();
    for node in nodes {
        let Ok(opened) = node.state else { continue };
        match opened.array {
            Some(src) => {
                let dst = destination(&src, &changes)
                    .with_context(|| format!("copying {}", node.path))?;
                jobs.push(ArrayJob {
                    path: node.path,
                    src,
                    dst,
                    attributes: opened.attributes,
                });
            }
            None => groups.push((node.path, opened.attributes)),
        }
    }

    let dst_store = open_or_create(&args.dst)?;
    for (path, attributes) in &groups {
        let src_format = Group::open(src_store.clone(), path.as_str())
            .map(|g| g.zarr_format())
            .unwrap_or(ZarrFormat::V2);
        copy_group(
            &dst_store,
            path,
            attributes,
            args.overwrite,
            changes.format_of(src_format),
        )?;
    }
    for job in &jobs {
        let dst = create_array(&dst_store, job, args.overwrite)?;
        copy_array(&job.src, &dst, limit).with_context(|| format!("copying {}", job.path))?;
    }
    if hierarchy.is_consolidated()
        && let Ok(root) = Group::open(dst_store.clone(), "")
    {
        root.consolidate()
            .context("writing consolidated metadata")?;
    }
    Ok(())
}

/// True when `path` is `ancestor` or lies below it.
fn is_within(path: &NodePath, ancestor: &NodePath) -> bool {
    ancestor.is_root()
        || path == ancestor
        || path
            .as_str()
            .strip_prefix(ancestor.as_str())
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The destination of `src`: its `.zarray` with the changes when v2 stays v2, else a builder.
fn destination(src: &Array, changes: &Changes) -> CliResult<Destination> {
    let meta = src.metadata();
    if meta.format == ZarrFormat::V2 && changes.format_of(ZarrFormat::V2) == ZarrFormat::V2 {
        return destination_metadata(src, changes).map(Destination::V2Doc);
    }
    let format = changes.format_of(meta.format);
    let chunks = changes
        .chunks
        .clone()
        .unwrap_or_else(|| meta.inner_chunk_shape().to_vec());
    for (flag, shape) in [
        ("--chunks", Some(&chunks)),
        ("--shards", changes.shards.as_ref()),
    ] {
        if let Some(shape) = shape
            && shape.len() != meta.rank()
        {
            return Err(CliError::usage(format!(
                "{flag} has {} sizes but the array has {} dimensions (shape {:?})",
                shape.len(),
                meta.rank(),
                meta.shape
            )));
        }
    }
    // The source's codecs in numcodecs form: v2 as they are, v3 from the (inner) chunks' pipeline.
    let (mut compressor, mut filters) = match meta.format {
        ZarrFormat::V2 => (meta.compressor.clone(), meta.filters.clone()),
        ZarrFormat::V3 => {
            let codecs = match src.shard_codec().map(|s| &s.inner) {
                Some(ChunkEncoding::Plain { codecs, .. }) => Some(codecs.clone()),
                Some(ChunkEncoding::Sharded(_)) => None,
                None => Some(src.chunk_codecs().clone()),
            };
            let mut stages: Vec<Value> = Vec::new();
            if let Some(c) = &codecs {
                stages.extend(c.chain().filters_json().unwrap_or_default());
                stages.extend(c.chain().compressor_json());
                stages.extend(c.checksums_json().iter().cloned());
            }
            let compressor = stages.pop();
            (compressor, (!stages.is_empty()).then_some(stages))
        }
    };
    if let Some(c) = &changes.compressor {
        compressor = c.clone();
    }
    if let Some(f) = &changes.filters {
        filters = f.clone();
    }
    let fill = if meta.fill_value.is_null() {
        Value::Null
    } else if meta.dtype.is_object() {
        // An object array's fill is a value, kept as its JSON.
        meta.fill_value.to_json()
    } else {
        FillValue::from_bytes(meta.fill_value.bytes(), &meta.dtype)?.to_json()
    };
    let mut builder = ArrayBuilder::new(meta.shape.clone(), chunks.clone(), meta.dtype.clone())
        .zarr_format(format.number())
        .compressor(compressor)
        .filters(filters)
        .fill_value(fill)
        .order(meta.order);
    if format == ZarrFormat::V3 {
        let shards = changes.shards.clone().or_else(|| {
            // Keep the source's shards unless the chunks change.
            (changes.chunks.is_none())
                .then(|| meta.shard_shape().map(<[u64]>::to_vec))
                .flatten()
        });
        if let Some(s) = shards {
            builder = builder.shards(s);
        }
        if let Some(n) = &meta.dimension_names {
            builder = builder.dimension_names(n.clone());
        }
        if meta.format == ZarrFormat::V3 {
            builder = builder.separator(meta.separator);
        }
    } else {
        builder = builder.separator(meta.separator);
    }
    let checked = builder.metadata().map_err(|e| {
        CliError::usage("the new chunks, shards or codecs do not fit").with_source(e)
    })?;
    if format == ZarrFormat::V2 {
        check_chain(checked.compressor.as_ref(), checked.filters.as_deref())?;
    }
    Ok(Destination::Builder(Box::new(builder)))
}

fn destination_metadata(src: &Array, changes: &Changes) -> CliResult<Value> {
    let meta = src.metadata();
    let mut doc = meta.to_json();
    let obj = doc.as_object_mut().expect("array metadata is an object");
    if let Some(chunks) = &changes.chunks {
        if chunks.len() != meta.rank() {
            return Err(CliError::usage(format!(
                "--chunks has {} sizes but the array has {} dimensions (shape {:?})",
                chunks.len(),
                meta.rank(),
                meta.shape
            )));
        }
        obj.insert("chunks".into(), Value::from(chunks.clone()));
    }
    if let Some(c) = &changes.compressor {
        obj.insert("compressor".into(), c.clone().unwrap_or(Value::Null));
    }
    if let Some(f) = &changes.filters {
        obj.insert("filters".into(), f.clone().map_or(Value::Null, Value::from));
    }
    let checked = ArrayMetadata::from_json(&doc)
        .map_err(|e| CliError::usage("the new chunks or codecs do not fit").with_source(e))?;
    check_chain(checked.compressor.as_ref(), checked.filters.as_deref())?;
    Ok(doc)
}

fn copy_group(
    dst: &Arc<dyn Store>,
    path: &NodePath,
    attrs: &serde_json::Map<String, Value>,
    overwrite: bool,
    format: ZarrFormat,
) -> CliResult<()> {
    let existing =
        tessera_array::node_kind(dst.as_ref(), path).context("reading the destination")?;
    if existing == Some(NodeKind::Array) {
        if !overwrite {
            return Err(CliError::new(format!(
                "the destination already holds an array at {path} (use --overwrite to replace it)"
            )));
        }
        dst.erase_prefix(&path.prefix())
            .context("removing the array at the destination")?;
        dst.erase(&path.key(".zarray").context("destination key")?)
            .context("removing the array at the destination")?;
    }
    let group = match (format, existing) {
        (ZarrFormat::V3, None | Some(NodeKind::Array)) => {
            Group::create_v3(dst.clone(), path.as_str())
        }
        _ => Group::require(dst.clone(), path.as_str()),
    }
    .with_context(|| format!("creating group {path}"))?;
    if !attrs.is_empty() {
        group
            .set_attributes(attrs)
            .with_context(|| format!("writing the attributes of {path}"))?;
    }
    Ok(())
}

fn create_array(dst: &Arc<dyn Store>, job: &ArrayJob, overwrite: bool) -> CliResult<Array> {
    let doc = match &job.dst {
        Destination::V2Doc(doc) => doc,
        Destination::Builder(builder) => {
            let mut builder = (**builder).clone().overwrite(overwrite);
            if !job.attributes.is_empty() {
                builder = builder.attributes(job.attributes.clone());
            }
            return builder
                .create(dst.clone(), job.path.as_str())
                .map_err(|e| crate::import::creation_error(e, &job.path, "the destination"));
        }
    };
    let meta = ArrayMetadata::from_json(doc).context("destination metadata")?;
    let mut builder =
        ArrayBuilder::new(meta.shape.clone(), meta.chunks.clone(), meta.dtype.clone())
            .compressor(meta.compressor.clone())
            .filters(meta.filters.clone())
            .fill_value(meta.fill_value.to_json())
            .order(meta.order)
            .separator(meta.separator)
            .overwrite(overwrite);
    if !job.attributes.is_empty() {
        builder = builder.attributes(job.attributes.clone());
    }
    builder
        .create(dst.clone(), job.path.as_str())
        .map_err(|e| crate::import::creation_error(e, &job.path, "the destination"))?;
    // Rewrite .zarray from the source document so fields this version does not know survive the copy.
    dst.set(&job.path.key(".zarray")?, Bytes::from(pretty_json(doc)))
        .context("writing .zarray")?;
    Array::from_metadata(dst.clone(), job.path.clone(), meta).map_err(Into::into)
}

/// The stored chunks of `array`: keys, grid coordinates and stored sizes (one listing of its prefix).
fn stored_chunks(array: &Array) -> CliResult<Vec<(StoreKey, Vec<u64>, u64)>> {
    let prefix = array.path().prefix();
    let grid = array.metadata().grid_shape();
    let listing = array
        .store()
        .list_prefix_sizes(&prefix)
        .context("listing the source chunks")?;
    Ok(listing
        .into_iter()
        .filter_map(|(key, size)| {
            let coords = array.parse_chunk_name(&key.as_str()[prefix.as_str().len()..])?;
            coords
                .iter()
                .zip(&grid)
                .all(|(c, g)| c < g)
                .then_some((key, coords, size))
        })
        .collect())
}

fn copy_array(src: &Array, dst: &Array, limit: u64) -> CliResult<()> {
    let (s, d) = (src.metadata(), dst.metadata());
    if s.format == ZarrFormat::V3 || d.format == ZarrFormat::V3 {
        // Stored objects are copied as they are only when the whole encoding is the same.
        let same = s.format == d.format
            && s.chunks == d.chunks
            && s.codecs_json() == d.codecs_json()
            && s.key_encoding == d.key_encoding
            && s.separator == d.separator
            && s.dtype == d.dtype;
        return if same {
            copy_stored(src, dst, limit)
        } else if s.dtype.is_object() {
            crate::objects::copy(src, dst)
        } else {
            rechunk_array(src, dst, limit)
        };
    }
    let same_grid = s.chunks == d.chunks && s.order == d.order && s.separator == d.separator;
    let same_codecs = s.compressor == d.compressor && s.filters == d.filters;
    if s.dtype.is_object() && !(same_grid && same_codecs) {
        // Object chunks decode to values, not bytes: copied value by value.
        return crate::objects::copy(src, dst);
    }
    if same_grid {
        if same_codecs {
            copy_stored(src, dst, limit)
        } else {
            recode(src, dst, limit)
        }
    } else {
        rechunk_array(src, dst, limit)
    }
}

/// Splits stored chunks into batches of at most `budget` stored bytes.
fn batches(
    chunks: Vec<(StoreKey, Vec<u64>, u64)>,
    budget: u64,
    max_len: usize,
) -> Vec<Vec<(StoreKey, Vec<u64>, u64)>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 0;
    for c in chunks {
        if !current.is_empty() && (bytes + c.2 > budget || current.len() >= max_len) {
            out.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += c.2;
        current.push(c);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn first_error(slot: &Mutex<Option<CliError>>, err: CliError) {
    slot.lock()
        .unwrap_or_else(|p| p.into_inner())
        .get_or_insert(err);
}

/// Copies the stored chunks byte for byte (same chunks, same codecs).
fn copy_stored(src: &Array, dst: &Array, limit: u64) -> CliResult<()> {
    let chunks = stored_chunks(src)?;
    let bar = progress::bar(chunks.len() as u64, "copy", false);
    let plan = plan_work(limit, src.metadata().chunk_bytes() as u64);
    let src_store = BoundedStore::wrap(src.store().clone(), plan.in_flight);
    pool(plan.threads)?.install(|| {
        for batch in batches(chunks, limit / 2, 1024) {
            let keys: Vec<StoreKey> = batch.iter().map(|c| c.0.clone()).collect();
            let error = Mutex::new(None);
            src_store.get_many(&keys, &|i, result| {
                let outcome = (|| -> CliResult<()> {
                    let dst_key = dst.chunk_key(&batch[i].1)?;
                    match result.with_context(|| format!("reading {}", keys[i]))? {
                        Some(bytes) => dst
                            .store()
                            .set(&dst_key, bytes)
                            .with_context(|| format!("writing {dst_key}")),
                        None => Ok(()),
                    }
                })();
                if let Err(e) = outcome {
                    first_error(&error, e);
                }
            });
            if let Some(e) = error.into_inner().unwrap_or_else(|p| p.into_inner()) {
                return Err(e);
            }
            bar.inc(keys.len() as u64);
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    Ok(())
}

/// Decodes every stored chunk and encodes it with the destination's codecs (same chunk grid).
fn recode(src: &Array, dst: &Array, limit: u64) -> CliResult<()> {
    let chunks = stored_chunks(src)?;
    let bar = progress::bar(chunks.len() as u64, "recompress", false);
    let chunk_bytes = src.metadata().chunk_bytes();
    let itemsize = src.dtype().itemsize();
    let plan = plan_work(limit, chunk_bytes as u64);
    let src_store = BoundedStore::wrap(src.store().clone(), plan.in_flight);
    let fill = dst.fill_value().clone();
    pool(plan.threads)?.install(|| {
        for batch in batches(chunks, plan.buffer, 1024) {
            let keys: Vec<StoreKey> = batch.iter().map(|c| c.0.clone()).collect();
            let error = Mutex::new(None);
            src_store.get_many(&keys, &|i, result| {
                let outcome = (|| -> CliResult<()> {
                    let Some(encoded) = result.with_context(|| format!("reading {}", keys[i]))?
                    else {
                        return Ok(());
                    };
                    let decoded = src
                        .codecs()
                        .decode(&encoded, chunk_bytes, itemsize)
                        .with_context(|| format!("decoding {}", keys[i]))?;
                    drop(encoded);
                    let dst_key = dst.chunk_key(&batch[i].1)?;
                    // A chunk equal to the fill is left out, as the array layer does; never with a
                    // `null` fill, where a missing chunk has no defined content.
                    if !fill.is_null() && fill.matches_chunk(&decoded) {
                        return Ok(());
                    }
                    let recoded = dst
                        .codecs()
                        .encode(&decoded, itemsize)
                        .with_context(|| format!("encoding {dst_key}"))?;
                    drop(decoded);
                    dst.store()
                        .set(&dst_key, Bytes::from(recoded))
                        .with_context(|| format!("writing {dst_key}"))
                })();
                if let Err(e) = outcome {
                    first_error(&error, e);
                }
            });
            if let Some(e) = error.into_inner().unwrap_or_else(|p| p.into_inner()) {
                return Err(e);
            }
            bar.inc(keys.len() as u64);
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    Ok(())
}

/// Rechunks block by block (see [`rechunk`]), visiting only the blocks that hold stored source chunks.
fn rechunk_array(src: &Array, dst: &Array, limit: u64) -> CliResult<()> {
    let shape = src.shape().to_vec();
    let itemsize = src.dtype().itemsize() as u64;
    let plan = rechunk::plan(&shape, src.chunks(), dst.chunks(), itemsize, limit)?;
    let stored = stored_chunks(src)?;
    if stored.is_empty() || shape.contains(&0) {
        return Ok(());
    }
    let grid: Vec<u64> = shape
        .iter()
        .zip(&plan.block)
        .map(|(&s, &b)| s.div_ceil(b))
        .collect();
    let total: u128 = grid.iter().map(|&g| u128::from(g)).product();
    // Dense arrays: every block in order. Sparse ones: only the blocks a stored chunk touches.
    let blocks: Vec<Vec<u64>> = if total <= 4 * stored.len() as u128 {
        let mut all = Vec::with_capacity(total as usize);
        let mut idx = vec![0u64; grid.len()];
        loop {
            all.push(idx.clone());
            let mut a = grid.len();
            let done = loop {
                if a == 0 {
                    break true;
                }
                a -= 1;
                idx[a] += 1;
                if idx[a] < grid[a] {
                    break false;
                }
                idx[a] = 0;
            };
            if done {
                break;
            }
        }
        all
    } else {
        let mut set = BTreeSet::new();
        let chunks = src.chunks();
        for (_, coords, _) in &stored {
            let ranges: Vec<Range<u64>> = coords
                .iter()
                .enumerate()
                .map(|(a, &c)| {
                    let lo = c * chunks[a];
                    let hi = ((c + 1) * chunks[a]).min(shape[a]);
                    lo / plan.block[a]..(hi - 1) / plan.block[a] + 1
                })
                .collect();
            let mut idx: Vec<u64> = ranges.iter().map(|r| r.start).collect();
            loop {
                set.insert(idx.clone());
                let mut a = ranges.len();
                let done = loop {
                    if a == 0 {
                        break true;
                    }
                    a -= 1;
                    idx[a] += 1;
                    if idx[a] < ranges[a].end {
                        break false;
                    }
                    idx[a] = ranges[a].start;
                };
                if done {
                    break;
                }
            }
        }
        set.into_iter().collect()
    };
    drop(stored);

    let src = Array::from_metadata(
        BoundedStore::wrap(src.store().clone(), plan.in_flight),
        src.path().clone(),
        src.metadata().clone(),
    )?;
    let bar = progress::bar(blocks.len() as u64, "rechunk", false);
    let mut buffer = Vec::new();
    pool(plan.threads)?.install(|| -> CliResult<()> {
        for b in &blocks {
            let ranges: Vec<Range<u64>> = b
                .iter()
                .enumerate()
                .map(|(a, &i)| i * plan.block[a]..((i + 1) * plan.block[a]).min(shape[a]))
                .collect();
            let sel: ResolvedSelection = Selection::from_ranges(&ranges).resolve(&shape)?;
            let len = (sel.num_elements() * itemsize) as usize;
            buffer.resize(len, 0);
            src.read_into(&sel, &mut buffer)
                .context("reading the source")?;
            dst.write_raw(&ranges[..], &buffer)
                .context("writing the destination")?;
            bar.inc(1);
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    Ok(())
}
