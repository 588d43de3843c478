//! Zarr v3 `codecs` lists and what tessera makes of them.
//!
//! A list is: array→array codecs, one array→bytes codec, bytes→bytes codecs. tessera reads
//! - `transpose` as the element order inside a chunk (any permutation of the axes), first only;
//! - `bytes` as the stored byte order of the data type;
//! - `vlen-utf8` and `vlen-bytes` (the `string` and `bytes` types) as numcodecs' object codecs of
//!   that id, followed by at most one compressor and checksums;
//! - `sharding_indexed` as a [`ShardCodec`] holding the inner chunks' own list (nested shards included);
//! - `zstd`, `gzip`, `blosc`, `crc32c` and zarr-python 3's `numcodecs.<id>` as the numcodecs codec of that
//!   id, run through [`ChunkCodecs`].
//!
//! Anything else is an error naming the codec: [`ArrayError::Unsupported`] for a codec tessera does not
//! implement, [`ArrayError::Metadata`] for a malformed list.

use std::sync::Arc;

use serde_json::{Map, Value, json};
use tessera_codec::codec_from_json;

use crate::dtype::ByteOrder;
use crate::error::{ArrayError, ArrayResult};
use crate::pipeline::ChunkCodecs;

/// Most inner chunks one shard may hold (its index is 16 bytes per inner chunk).
pub const MAX_CHUNKS_PER_SHARD: u64 = 1 << 24;

/// How the chunks of a v3 array (or the inner chunks of a shard) are encoded.
#[derive(Clone, Debug)]
// One per array (or per shard codec): its size does not matter, and boxing the codecs would only add
// an indirection on every chunk.
#[allow(clippy::large_enum_variant)]
pub enum ChunkEncoding {
    /// Filters, compressor and checksums over the chunk's bytes, elements in `order`.
    Plain {
        /// Element order inside the chunk: its axes, slowest varying first (the `transpose` codec's
        /// permutation; the identity without one).
        order: Vec<usize>,
        /// The codecs over the chunk's bytes.
        codecs: ChunkCodecs,
    },
    /// The chunk is a shard of inner chunks.
    Sharded(Arc<ShardCodec>),
}

impl ChunkEncoding {
    /// The codecs of the innermost chunks (through any number of shard levels).
    pub fn innermost_codecs(&self) -> &ChunkCodecs {
        match self {
            ChunkEncoding::Plain { codecs, .. } => codecs,
            ChunkEncoding::Sharded(shard) => shard.inner.innermost_codecs(),
        }
    }
}

/// The `sharding_indexed` codec: a shard holds a grid of inner chunks, each encoded on its own, and an
/// index of `(offset, nbytes)` pairs (`u64`, 2^64-1 twice for a missing inner chunk).
#[derive(Clone, Debug)]
pub struct ShardCodec {
    /// The inner chunk shape.
    pub chunk_shape: Vec<u64>,
    /// Inner chunks per shard along each axis.
    pub chunks_per_shard: Vec<u64>,
    /// How inner chunks are encoded.
    pub inner: ChunkEncoding,
    /// The codecs over the index's bytes.
    pub index_codecs: ChunkCodecs,
    /// Byte order of the index's integers.
    pub index_order: ByteOrder,
    /// Encoded size of the index in bytes.
    pub index_len: u64,
    /// True when the index is stored after the inner chunks, false when before.
    pub index_at_end: bool,
}

impl ShardCodec {
    /// Number of inner chunks in one shard.
    pub fn num_chunks(&self) -> u64 {
        self.chunks_per_shard.iter().product()
    }
}

fn bad(msg: impl Into<String>) -> ArrayError {
    ArrayError::metadata("codecs", msg)
}

fn unsupported(name: &str, msg: impl Into<String>) -> ArrayError {
    ArrayError::unsupported(format!("codec {name}"), msg)
}

/// The numcodecs ids of codecs that add a fixed number of bytes and may follow a compressor.
const CHECKSUMS: [&str; 4] = ["crc32c", "crc32", "adler32", "fletcher32"];

/// The numcodecs config of a v3 bytes→bytes codec (or a `numcodecs.*` one).
fn numcodecs_config(name: &str, config: &Map<String, Value>) -> ArrayResult<Option<Value>> {
    let int = |field: &str, default: i64| -> ArrayResult<i64> {
        match config.get(field) {
            None => Ok(default),
            Some(v) => v
                .as_i64()
                .ok_or_else(|| bad(format!("{name}: {field} must be an integer, found {v}"))),
        }
    };
    Ok(Some(match name {
        "zstd" => {
            let checksum = match config.get("checksum") {
                None => false,
                Some(v) => v
                    .as_bool()
                    .ok_or_else(|| bad(format!("zstd: checksum must be a boolean, found {v}")))?,
            };
            json!({"id": "zstd", "level": int("level", 0)?, "checksum": checksum})
        }
        "gzip" => json!({"id": "gzip", "level": int("level", 5)?}),
        "crc32c" => json!({"id": "crc32c", "location": "end"}),
        "blosc" => {
            let shuffle = match config.get("shuffle").and_then(Value::as_str) {
                None | Some("noshuffle") => 0,
                Some("shuffle") => 1,
                Some("bitshuffle") => 2,
                Some(other) => return Err(bad(format!("blosc: unknown shuffle {other:?}"))),
            };
            let cname = config
                .get("cname")
                .and_then(Value::as_str)
                .unwrap_or("zstd");
            json!({"id": "blosc", "cname": cname, "clevel": int("clevel", 5)?,
                   "shuffle": shuffle, "blocksize": int("blocksize", 0)?})
        }
        _ => match name.strip_prefix("numcodecs.") {
            Some(id) => {
                let mut c = Map::new();
                c.insert("id".into(), Value::from(id));
                for (k, v) in config {
                    c.insert(k.clone(), v.clone());
                }
                Value::Object(c)
            }
            None => return Ok(None),
        },
    }))
}

/// Parses the `codecs` list of an array (or of a shard's inner chunks) whose chunks have `chunk_shape`;
/// returns the encoding and the byte order of the `bytes` codec that serialises the elements (`None`
/// when it names none, as for one-byte types).
///
/// # Errors
/// As the module says.
pub fn parse_codecs(
    list: &Value,
    chunk_shape: &[u64],
) -> ArrayResult<(ChunkEncoding, Option<ByteOrder>)> {
    let list = list
        .as_array()
        .ok_or_else(|| bad(format!("expected a list of codecs, found {list}")))?;
    let identity: Vec<usize> = (0..chunk_shape.len()).collect();
    let mut order = identity.clone();
    let mut array_filters: Vec<Value> = Vec::new();
    let mut bytes_stages: Vec<Value> = Vec::new();
    let mut array_to_bytes: Option<(ChunkEncoding, Option<ByteOrder>)> = None;
    let mut saw_array_codec = false;
    // The numcodecs config of a `vlen-utf8`/`vlen-bytes` array→bytes codec.
    let mut object: Option<Value> = None;
    for codec in list {
        let (name, config) = match codec {
            Value::String(s) => (s.as_str(), Map::new()),
            Value::Object(o) => {
                let name = o
                    .get("name")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad(format!("a codec needs a string name: {codec}")))?;
                let config = match o.get("configuration") {
                    None => Map::new(),
                    Some(Value::Object(c)) => c.clone(),
                    Some(other) => {
                        return Err(bad(format!(
                            "{name}: configuration must be an object, found {other}"
                        )));
                    }
                };
                (name, config)
            }
            other => {
                return Err(bad(format!(
                    "a codec must be a name or an object, found {other}"
                )));
            }
        };
        let may_skip = codec.get("must_understand") == Some(&Value::Bool(false));
        match name {
            "transpose" => {
                if array_to_bytes.is_some() || saw_array_codec {
                    return Err(unsupported(
                        name,
                        "transpose is supported only as the first codec",
                    ));
                }
                order = transpose_order(&config, chunk_shape.len())?;
                saw_array_codec = true;
            }
            "bytes" | "sharding_indexed" => {
                if array_to_bytes.is_some() {
                    return Err(bad(format!("{name}: a second array→bytes codec")));
                }
                array_to_bytes = Some(if name == "bytes" {
                    let endian = match config.get("endian") {
                        None => None,
                        Some(Value::String(s)) if s == "little" => Some(ByteOrder::Little),
                        Some(Value::String(s)) if s == "big" => Some(ByteOrder::Big),
                        Some(other) => {
                            return Err(bad(format!(
                                "bytes: endian must be \"little\" or \"big\", found {other}"
                            )));
                        }
                    };
                    (
                        ChunkEncoding::Plain {
                            order: order.clone(),
                            codecs: ChunkCodecs::identity(),
                        },
                        endian,
                    )
                } else {
                    if order != identity || !array_filters.is_empty() {
                        return Err(unsupported(
                            name,
                            "array→array codecs before sharding_indexed",
                        ));
                    }
                    let (shard, endian) = parse_sharding(&config, chunk_shape)?;
                    (ChunkEncoding::Sharded(Arc::new(shard)), endian)
                });
            }
            "vlen-utf8" | "vlen-bytes" => {
                if array_to_bytes.is_some() {
                    return Err(bad(format!("{name}: a second array→bytes codec")));
                }
                if !array_filters.is_empty() {
                    return Err(unsupported(name, "array→array codecs before a vlen codec"));
                }
                if let Some(field) = config.keys().next() {
                    return Err(bad(format!(
                        "{name}: unknown configuration field {field:?} (it has none)"
                    )));
                }
                object = Some(json!({"id": name}));
                array_to_bytes = Some((
                    ChunkEncoding::Plain {
                        order: order.clone(),
                        codecs: ChunkCodecs::identity(),
                    },
                    None,
                ));
            }
            _ => match numcodecs_config(name, &config)? {
                Some(c) if array_to_bytes.is_none() => {
                    saw_array_codec = true;
                    array_filters.push(c);
                }
                Some(c) => bytes_stages.push(c),
                None if may_skip => {}
                None => {
                    return Err(unsupported(name, "tessera does not implement this codec"));
                }
            },
        }
    }
    let (encoding, endian) =
        array_to_bytes.ok_or_else(|| bad("no array→bytes codec (bytes or sharding_indexed)"))?;
    match encoding {
        ChunkEncoding::Sharded(shard) => {
            if !bytes_stages.is_empty() {
                return Err(unsupported(
                    "sharding_indexed",
                    "bytes→bytes codecs after sharding_indexed (whole-shard compression)",
                ));
            }
            Ok((ChunkEncoding::Sharded(shard), endian))
        }
        ChunkEncoding::Plain { order, .. } => {
            // Trailing checksums may follow a compressor; ChunkCodecs keeps them apart.
            let split = bytes_stages
                .iter()
                .rposition(|c| !CHECKSUMS.contains(&c["id"].as_str().unwrap_or("")))
                .map_or(0, |i| i + 1);
            let checksums = bytes_stages.split_off(split);
            if let Some(object) = object {
                // numcodecs runs a vlen codec as an object array's first filter, with at most a
                // compressor after it.
                if bytes_stages.len() > 1 {
                    return Err(unsupported(
                        object["id"].as_str().unwrap_or("vlen"),
                        "more than one bytes→bytes codec after a variable-length codec",
                    ));
                }
                let codecs = ChunkCodecs::for_objects(&object, bytes_stages.first(), &checksums)
                    .map_err(ArrayError::CodecConfig)?;
                return Ok((ChunkEncoding::Plain { order, codecs }, endian));
            }
            array_filters.extend(bytes_stages);
            let codecs =
                ChunkCodecs::new(&array_filters, &checksums).map_err(ArrayError::CodecConfig)?;
            Ok((ChunkEncoding::Plain { order, codecs }, endian))
        }
    }
}

fn transpose_order(config: &Map<String, Value>, rank: usize) -> ArrayResult<Vec<usize>> {
    let perm = config
        .get("order")
        .ok_or_else(|| bad("transpose: configuration.order is missing"))?;
    let perm: Vec<u64> = match perm {
        Value::String(s) if s == "C" => (0..rank as u64).collect(),
        Value::String(s) if s == "F" => (0..rank as u64).rev().collect(),
        Value::Array(items) => items
            .iter()
            .map(|v| {
                v.as_u64()
                    .ok_or_else(|| bad(format!("transpose: {v} is not an axis")))
            })
            .collect::<ArrayResult<_>>()?,
        other => {
            return Err(bad(format!(
                "transpose: order must be a permutation, found {other}"
            )));
        }
    };
    let mut sorted = perm.clone();
    sorted.sort_unstable();
    if sorted != (0..rank as u64).collect::<Vec<_>>() {
        return Err(bad(format!(
            "transpose: {perm:?} is not a permutation of {rank} axes"
        )));
    }
    Ok(perm.into_iter().map(|a| a as usize).collect())
}

fn parse_sharding(
    config: &Map<String, Value>,
    shard_shape: &[u64],
) -> ArrayResult<(ShardCodec, Option<ByteOrder>)> {
    let field = |k: &str| {
        config
            .get(k)
            .ok_or_else(|| bad(format!("sharding_indexed: configuration.{k} is missing")))
    };
    let chunk_shape: Vec<u64> = field("chunk_shape")?
        .as_array()
        .and_then(|l| l.iter().map(Value::as_u64).collect::<Option<Vec<_>>>())
        .ok_or_else(|| bad("sharding_indexed: chunk_shape must be a list of integers"))?;
    if chunk_shape.len() != shard_shape.len() {
        return Err(bad(format!(
            "sharding_indexed: chunk_shape has {} dimensions, the shard {}",
            chunk_shape.len(),
            shard_shape.len()
        )));
    }
    if chunk_shape
        .iter()
        .zip(shard_shape)
        .any(|(&c, &s)| c == 0 || s % c != 0)
    {
        return Err(bad(format!(
            "sharding_indexed: chunk_shape {chunk_shape:?} does not divide the shard shape {shard_shape:?}"
        )));
    }
    let chunks_per_shard: Vec<u64> = shard_shape
        .iter()
        .zip(&chunk_shape)
        .map(|(s, c)| s / c)
        .collect();
    let n = chunks_per_shard
        .iter()
        .try_fold(1u64, |a, &c| a.checked_mul(c))
        .filter(|&n| n <= MAX_CHUNKS_PER_SHARD)
        .ok_or_else(|| {
            ArrayError::unsupported(
                "sharding_indexed",
                format!("more than {MAX_CHUNKS_PER_SHARD} inner chunks per shard"),
            )
        })?;
    let (inner, endian) = parse_codecs(field("codecs")?, &chunk_shape)?;
    let (index, index_endian) = parse_codecs(field("index_codecs")?, &[n, 2])?;
    let ChunkEncoding::Plain {
        codecs: index_codecs,
        ..
    } = index
    else {
        return Err(unsupported("sharding_indexed", "a sharded shard index"));
    };
    // The index must have a size known in advance: it is read with one ranged request.
    let mut index_len = n * 16;
    for stage in index_codecs
        .chain()
        .filters_json()
        .unwrap_or_default()
        .iter()
        .chain(index_codecs.checksums_json())
    {
        let codec = codec_from_json(stage).map_err(ArrayError::CodecConfig)?;
        let len = codec
            .encoded_len(index_len as usize, 8)
            .map_err(ArrayError::CodecConfig)?
            .ok_or_else(|| {
                unsupported(
                    codec.id(),
                    "index_codecs whose output size depends on the data",
                )
            })?;
        index_len = len as u64;
    }
    let index_at_end = match config.get("index_location") {
        None => true,
        Some(Value::String(s)) if s == "end" => true,
        Some(Value::String(s)) if s == "start" => false,
        Some(other) => {
            return Err(bad(format!(
                "sharding_indexed: index_location must be \"start\" or \"end\", found {other}"
            )));
        }
    };
    Ok((
        ShardCodec {
            chunk_shape,
            chunks_per_shard,
            inner,
            index_codecs,
            index_order: index_endian.unwrap_or(ByteOrder::Little),
            index_len,
            index_at_end,
        },
        endian,
    ))
}

/// The numcodecs config of a v3 bytes→bytes codec or zarr-python 3 `numcodecs.*` codec
/// (`{"name": "zstd", "configuration": {"level": 3, "checksum": false}}` → `{"id": "zstd", ...}`): what
/// a v2 array or a [`ChunkCodecs`] is built from.
///
/// # Errors
/// [`ArrayError::Metadata`] naming `codecs` for a malformed codec; [`ArrayError::Unsupported`] for one
/// with no numcodecs equivalent (`bytes`, `transpose`, `sharding_indexed`, unknown names).
pub fn numcodecs_of(v3: &Value) -> ArrayResult<Value> {
    let name = v3
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| bad(format!("a codec needs a string name: {v3}")))?;
    let config = match v3.get("configuration") {
        None => Map::new(),
        Some(Value::Object(c)) => c.clone(),
        Some(other) => {
            return Err(bad(format!(
                "{name}: configuration must be an object, found {other}"
            )));
        }
    };
    numcodecs_config(name, &config)?
        .ok_or_else(|| unsupported(name, "no numcodecs codec corresponds to it"))
}

/// The v3 codec of a numcodecs config (`{"id": "zstd", "level": 3}`): `zstd`, `gzip`, `blosc` and
/// `crc32c` become the v3 codecs of that name, every other id `numcodecs.<id>`.
///
/// # Errors
/// [`ArrayError::Metadata`] naming `codecs` when the config has no string `id`.
pub fn v3_codec_of(numcodecs: &Value) -> ArrayResult<Value> {
    let obj = numcodecs
        .as_object()
        .ok_or_else(|| bad(format!("expected a codec config object, found {numcodecs}")))?;
    let id = obj
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| bad(format!("codec config without an id: {numcodecs}")))?;
    let mut config: Map<String, Value> = obj
        .iter()
        .filter(|(k, _)| *k != "id")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(match id {
        "zstd" => json!({"name": "zstd", "configuration": {
            "level": config.get("level").cloned().unwrap_or(json!(0)),
            "checksum": config.get("checksum").cloned().unwrap_or(json!(false))}}),
        "gzip" => json!({"name": "gzip", "configuration": {
            "level": config.get("level").cloned().unwrap_or(json!(1))}}),
        "crc32c" if config.get("location").is_none_or(|l| l == "end") => json!({"name": "crc32c"}),
        "blosc" => {
            let shuffle = match config.get("shuffle").and_then(Value::as_i64).unwrap_or(1) {
                0 => "noshuffle",
                2 => "bitshuffle",
                _ => "shuffle",
            };
            config.insert("shuffle".into(), json!(shuffle));
            config.entry("cname").or_insert(json!("lz4"));
            config.entry("clevel").or_insert(json!(5));
            config.entry("blocksize").or_insert(json!(0));
            json!({"name": "blosc", "configuration": config})
        }
        other => json!({"name": format!("numcodecs.{other}"), "configuration": config}),
    })
}
