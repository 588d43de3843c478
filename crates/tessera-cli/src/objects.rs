//! Object (`|O`) arrays in the CLI: how `info` names them, their `.npy` export as fixed-width
//! `<U{n}`/`|S{n}` (n the longest value in the selection), and `import --dtype str|bytes`.

use std::io::Write;

use tessera_array::{Array, ByteOrder, DataType, Selection};
use tessera_codec::object::ObjectKind;
use tessera_mmap::npy::NpyHeader;

use crate::error::{CliError, CliResult, Context};

/// `|O (vlen-utf8)` for an object array, the type string otherwise.
pub fn dtype_text(array: &Array) -> String {
    match array.object_codec() {
        Some(c) => format!("{} ({})", array.dtype(), c.id()),
        None => array.dtype().to_string(),
    }
}

/// Rough memory of one decoded value before its text: the `String`/`Vec` itself and a few bytes.
const VALUE_OVERHEAD: u64 = 32;

fn over_limit(what: String, limit: u64) -> CliError {
    CliError::usage(format!(
        "{what} exceeds --memory-limit ({limit} B): object arrays export to .npy in one piece \
         (the width is the longest value); export a smaller --select, raise --memory-limit, or \
         write -o OUT.json"
    ))
}

/// Writes a selection of a text or bytes object array as a `.npy` of `<U{n}` / `|S{n}`, holding at
/// most about `limit` bytes (the values read, then the fixed-width copy): refused beyond that.
pub fn write_npy(array: &Array, sel: &Selection, limit: u64, out: &mut dyn Write) -> CliResult<()> {
    let count = sel
        .resolve(array.shape())
        .map_err(|e| CliError::usage("--select").with_source(e))?
        .num_elements();
    if count.saturating_mul(VALUE_OVERHEAD) > limit {
        return Err(over_limit(format!("reading {count} values"), limit));
    }
    let check = |width: usize, unit: u64| -> CliResult<()> {
        let bytes = count.saturating_mul(width as u64).saturating_mul(unit);
        if bytes.saturating_add(count * VALUE_OVERHEAD) > limit {
            return Err(over_limit(
                format!("a .npy of {count} values {width} wide ({bytes} B)"),
                limit,
            ));
        }
        Ok(())
    };
    let kind = array.object_codec().map(|c| c.kind().clone());
    let context = || format!("reading {}", array.path());
    let values_shape: Vec<u64>;
    let (dtype, data) = match kind {
        Some(ObjectKind::Text) => {
            let values = array.read_objects::<String>(sel).with_context(context)?;
            values_shape = values.shape().iter().map(|&d| d as u64).collect();
            // numpy's U0 is no type: at least one character.
            let chars = values
                .iter()
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
                .max(1);
            check(chars, 4)?;
            let mut data = Vec::with_capacity(values.len() * chars * 4);
            for s in &values {
                let n = s.chars().count();
                data.extend(s.chars().flat_map(|c| (c as u32).to_le_bytes()));
                data.resize(data.len() + (chars - n) * 4, 0);
            }
            (
                DataType::Unicode {
                    chars,
                    order: ByteOrder::Little,
                },
                data,
            )
        }
        Some(ObjectKind::Bytes) => {
            let values = array.read_objects::<Vec<u8>>(sel).with_context(context)?;
            values_shape = values.shape().iter().map(|&d| d as u64).collect();
            let width = values.iter().map(Vec::len).max().unwrap_or(0).max(1);
            check(width, 1)?;
            let mut data = Vec::with_capacity(values.len() * width);
            for b in &values {
                data.extend(b);
                data.resize(data.len() + width - b.len(), 0);
            }
            (DataType::Bytes(width), data)
        }
        _ => {
            return Err(CliError::usage(format!(
                "{} holds {} values, which have no .npy form; export them as JSON with -o OUT.json",
                array.path(),
                dtype_text(array)
            )));
        }
    };
    let shape = values_shape;
    out.write_all(&NpyHeader::new(dtype, shape, false).to_bytes())
        .context("writing the .npy header")?;
    out.write_all(&data).context("writing the .npy data")
}

/// What `import --dtype` stores: text from `<U`/`>U` input, bytes from `|S` input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectImport {
    /// `--dtype str`: vlen-utf8.
    Text,
    /// `--dtype bytes`: vlen-bytes.
    Bytes,
}

impl ObjectImport {
    /// Parses `--dtype` and checks it fits the input's type.
    pub fn parse(flag: &str, input: &DataType) -> CliResult<ObjectImport> {
        let kind = match flag {
            "str" => ObjectImport::Text,
            "bytes" => ObjectImport::Bytes,
            other => {
                return Err(CliError::usage(format!(
                    "--dtype {other:?}: expected str or bytes"
                )));
            }
        };
        let fits = matches!(
            (kind, input),
            (ObjectImport::Text, DataType::Unicode { .. })
                | (ObjectImport::Bytes, DataType::Bytes(_))
        );
        if !fits {
            return Err(CliError::usage(format!(
                "--dtype {flag} needs {} input, found {input}",
                if kind == ObjectImport::Text {
                    "a <U (numpy str)"
                } else {
                    "an |S (numpy bytes)"
                }
            )));
        }
        Ok(kind)
    }

    /// The object codec, as zarr-python 3 writes it for this kind.
    pub fn filter(self) -> serde_json::Value {
        match self {
            ObjectImport::Text => serde_json::json!({"id": "vlen-utf8"}),
            ObjectImport::Bytes => serde_json::json!({"id": "vlen-bytes"}),
        }
    }

    /// Writes a C-order block of fixed-width input elements into `block` of an object array.
    pub fn write_block(
        self,
        array: &Array,
        input: &DataType,
        block: &[std::ops::Range<u64>],
        data: &[u8],
    ) -> CliResult<()> {
        let size = input.itemsize().max(1);
        let shape: Vec<usize> = block.iter().map(|r| (r.end - r.start) as usize).collect();
        let context = || format!("writing {}", array.path());
        match self {
            ObjectImport::Text => {
                let big = input.byte_order() == Some(ByteOrder::Big);
                let values: Vec<String> = data
                    .chunks_exact(size)
                    .map(|e| {
                        e.chunks_exact(4)
                            .map(|c| {
                                let c = [c[0], c[1], c[2], c[3]];
                                if big {
                                    u32::from_be_bytes(c)
                                } else {
                                    u32::from_le_bytes(c)
                                }
                            })
                            .take_while(|&c| c != 0)
                            .map(|c| char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER))
                            .collect()
                    })
                    .collect();
                let values = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&shape), values)
                    .map_err(|e| CliError::new("shaping the block").with_source(e))?;
                array.write_objects(block, &values).with_context(context)
            }
            ObjectImport::Bytes => {
                // numpy drops an S value's trailing NULs, and so does zarr-python.
                let values: Vec<Vec<u8>> = data
                    .chunks_exact(size)
                    .map(|e| e[..e.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1)].to_vec())
                    .collect();
                let values = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&shape), values)
                    .map_err(|e| CliError::new("shaping the block").with_source(e))?;
                array.write_objects(block, &values).with_context(context)
            }
        }
    }
}

/// Copies an object array into `dst` (another chunk grid or other codecs, same kind of values):
/// blocks of whole destination chunk rows along the first axis, read and written as values.
pub fn copy(src: &Array, dst: &Array) -> CliResult<()> {
    use tessera_array::StoredObject;
    let shape = src.shape().to_vec();
    let step = dst.chunks().first().copied().unwrap_or(1).max(1);
    let rows = shape.first().copied().unwrap_or(1);
    let mut start = 0;
    loop {
        let mut block: Vec<std::ops::Range<u64>> = shape.iter().map(|&d| 0..d).collect();
        if let Some(first) = block.first_mut() {
            *first = start..(start + step).min(rows);
        }
        let values = src
            .read_objects::<StoredObject>(&block[..])
            .with_context(|| format!("reading {}", src.path()))?;
        dst.write_objects(&block[..], &values)
            .with_context(|| format!("writing {}", dst.path()))?;
        start += step;
        if shape.is_empty() || start >= rows {
            return Ok(());
        }
    }
}
