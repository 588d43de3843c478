//! `tessera import`: a `.npy` or raw file into a Zarr array, in chunk-aligned blocks read straight
//! from the file, so memory stays bounded whatever the file's size.

use std::ops::Range;

use tessera_array::{ArrayBuilder, ArrayError, DataType, NodePath, Order};

use crate::cli::{ImportArgs, OrderArg};
use crate::error::{CliError, CliResult, Context};
use crate::input::RawInput;
use crate::memory::{memory_limit, plan_work, pool};
use crate::objects::ObjectImport;
use crate::options::{
    check_chain, node_path, open_or_create, parse_chunks, parse_compressor, parse_dimension_names,
    parse_fill_value, parse_filters, parse_separator, parse_zarr_format,
};
use crate::progress;

/// Runs `tessera import`.
pub fn run(args: &ImportArgs) -> CliResult<()> {
    // Validate every flag before touching the input or the store.
    let limit = memory_limit(args.memory_limit.as_deref())?;
    let target = node_path(args.array.as_deref())?;
    let chunks = parse_chunks("--chunks", &args.chunks)?;
    let compressor = parse_compressor(args.compressor.as_deref())?;
    let filters = parse_filters(args.filters.as_deref())?;
    let fill_value = args
        .fill_value
        .as_deref()
        .map(parse_fill_value)
        .transpose()?;
    let separator = args.separator.as_deref().map(parse_separator).transpose()?;
    let shards = args
        .shards
        .as_deref()
        .map(|s| parse_chunks("--shards", s))
        .transpose()?;
    let dimension_names = args.dimension_names.as_deref().map(parse_dimension_names);
    let zarr_format = match args.zarr_format {
        Some(f) => parse_zarr_format(f)?,
        // Shards and dimension names exist in v3 only.
        None if shards.is_some() || dimension_names.is_some() => 3,
        None => 2,
    };
    if zarr_format == 2 && (shards.is_some() || dimension_names.is_some()) {
        return Err(CliError::usage(
            "--shards and --dimension-names need --zarr-format 3",
        ));
    }
    let input = RawInput::open(&args.input)?;
    if chunks.len() != input.shape.len() {
        return Err(CliError::usage(format!(
            "--chunks has {} sizes but {} has {} dimensions (shape {:?})",
            chunks.len(),
            args.input.display(),
            input.shape.len(),
            input.shape
        )));
    }

    let objects = args
        .dtype
        .as_deref()
        .map(|d| ObjectImport::parse(d, &input.dtype))
        .transpose()?;
    let dtype = if objects.is_some() {
        DataType::Object
    } else {
        input.dtype.clone()
    };
    let mut builder = ArrayBuilder::new(input.shape.clone(), chunks.clone(), dtype)
        .overwrite(args.overwrite)
        .zarr_format(zarr_format);
    if let Some(s) = &shards {
        builder = builder.shards(s.clone());
    }
    if let Some(n) = dimension_names {
        builder = builder.dimension_names(n);
    }
    if let Some(kind) = objects {
        // As zarr-python 3 creates a str array: the object codec first, zstd, fill "".
        if filters.is_some() {
            return Err(CliError::usage("--filters cannot be combined with --dtype"));
        }
        builder = builder
            .filters(Some(vec![kind.filter()]))
            .compressor(Some(serde_json::json!({"id": "zstd", "level": 0})))
            .fill_value(serde_json::json!(""));
    }
    if let Some(c) = &compressor {
        builder = builder.compressor(c.clone());
    }
    if let Some(f) = &filters {
        builder = builder.filters(f.clone());
    }
    if let Some(v) = fill_value {
        builder = builder.fill_value(v);
    }
    if let Some(o) = args.order {
        builder = builder.order(if o == OrderArg::F { Order::F } else { Order::C });
    }
    if let Some(s) = separator {
        builder = builder.separator(s);
    }
    let meta = builder
        .metadata()
        .map_err(|e| CliError::usage("the array's options do not fit the input").with_source(e))?;
    if zarr_format == 2 {
        check_chain(meta.compressor.as_ref(), meta.filters.as_deref())?;
    }

    let store = open_or_create(&args.store)?;
    let array = builder
        .create(store, target.as_str())
        .map_err(|e| creation_error(e, &target, &args.store))?;

    let itemsize = input.dtype.itemsize() as u64;
    let plan = plan_work(limit, meta.chunk_bytes() as u64);
    // An F-order input needs a second buffer for the transposed block.
    let block_budget = if input.order == Order::F {
        plan.buffer / 2
    } else {
        plan.buffer
    };
    let blocks = Blocks::new(
        &input.shape,
        &meta.chunks,
        itemsize,
        input.order,
        block_budget,
    );
    let total = input.shape.iter().product::<u64>() * itemsize;
    let bar = progress::bar(total, "import", true);
    let mut buf = Vec::new();
    let mut transposed = Vec::new();
    pool(plan.threads)?.install(|| -> CliResult<()> {
        for block in blocks {
            read_block(&input, &block, &mut buf)?;
            let data = if input.order == Order::F {
                f_to_c(&buf, &block, itemsize as usize, &mut transposed);
                &transposed
            } else {
                &buf
            };
            match objects {
                Some(kind) => kind.write_block(&array, &input.dtype, &block, data)?,
                None => array
                    .write_raw(&block[..], data)
                    .with_context(|| format!("writing {target}"))?,
            }
            bar.inc(data.len() as u64);
        }
        Ok(())
    })?;
    bar.finish_and_clear();
    Ok(())
}

/// The error of creating the array at `target` in `store`; one already there names the path and the
/// flag that replaces it.
pub fn creation_error(err: ArrayError, target: &NodePath, store: &str) -> CliError {
    match err {
        ArrayError::AlreadyExists { kind, path } if path == target.as_str() => CliError::new(
            format!("{target} in {store} already holds {kind}; pass --overwrite to replace it"),
        ),
        ArrayError::AlreadyExists { kind, path } => CliError::new(format!(
            "cannot create {target} in {store}: /{path} holds {kind}, which cannot hold other nodes"
        )),
        other => CliError::new(format!("cannot create the array {target}")).with_source(other),
    }
}

/// Chunk-aligned blocks of an array, in the order of the file (so the file is read front to back):
/// axes outer in the file's order take one chunk at a time, one axis takes as many chunks as fit the
/// budget, and the axes inner to it are taken whole, which makes each block a few long contiguous runs
/// of the file.
struct Blocks {
    shape: Vec<u64>,
    block: Vec<u64>,
    /// Array axes from outermost to innermost in the file.
    file_axes: Vec<usize>,
    next: Vec<u64>,
    done: bool,
}

impl Blocks {
    fn new(shape: &[u64], chunks: &[u64], itemsize: u64, order: Order, budget: u64) -> Blocks {
        let n = shape.len();
        let file_axes: Vec<usize> = if order == Order::C {
            (0..n).collect()
        } else {
            (0..n).rev().collect()
        };
        let mut block = chunks.to_vec();
        // inner[j]: bytes of the axes after position j (in file order), taken whole.
        let mut inner = vec![itemsize as u128; n];
        for j in (0..n.saturating_sub(1)).rev() {
            inner[j] = inner[j + 1] * u128::from(shape[file_axes[j + 1]].max(1));
        }
        if let Some(j) =
            (0..n).find(|&j| u128::from(chunks[file_axes[j]]) * inner[j] <= u128::from(budget))
        {
            let axis = file_axes[j];
            let fit = u128::from(budget) / (u128::from(chunks[axis]) * inner[j]);
            let max_chunks = shape[axis].div_ceil(chunks[axis]).max(1);
            block[axis] =
                chunks[axis] * u64::try_from(fit).unwrap_or(u64::MAX).clamp(1, max_chunks);
            for &a in &file_axes[j + 1..] {
                block[a] = shape[a].max(1);
            }
        }
        Blocks {
            shape: shape.to_vec(),
            block,
            file_axes,
            next: vec![0; n],
            done: shape.contains(&0),
        }
    }
}

impl Iterator for Blocks {
    type Item = Vec<Range<u64>>;

    fn next(&mut self) -> Option<Vec<Range<u64>>> {
        if self.done {
            return None;
        }
        let ranges: Vec<Range<u64>> = (0..self.shape.len())
            .map(|a| {
                let start = self.next[a] * self.block[a];
                start..(start + self.block[a]).min(self.shape[a])
            })
            .collect();
        // Advance like an odometer whose fastest digit is the innermost axis of the file.
        let mut advanced = false;
        for &a in self.file_axes.iter().rev() {
            self.next[a] += 1;
            if self.next[a] * self.block[a] < self.shape[a] {
                advanced = true;
                break;
            }
            self.next[a] = 0;
        }
        self.done = !advanced;
        Some(ranges)
    }
}

/// Reads a block from the file into `buf`, in the file's element order (C order over the file's axes).
fn read_block(input: &RawInput, block: &[Range<u64>], buf: &mut Vec<u8>) -> CliResult<()> {
    let itemsize = input.dtype.itemsize() as u64;
    let order: Vec<usize> = if input.order == Order::C {
        (0..block.len()).collect()
    } else {
        (0..block.len()).rev().collect()
    };
    let shape: Vec<u64> = order.iter().map(|&a| input.shape[a]).collect();
    let ranges: Vec<Range<u64>> = order.iter().map(|&a| block[a].clone()).collect();
    let n = shape.len();
    let mut stride = vec![itemsize; n];
    for j in (0..n.saturating_sub(1)).rev() {
        stride[j] = stride[j + 1] * shape[j + 1];
    }
    // The run: the innermost axes taken whole, plus the first partial one.
    let mut r = n;
    while r > 0 && ranges[r - 1].start == 0 && ranges[r - 1].end == shape[r - 1] {
        r -= 1;
    }
    let r = r.saturating_sub(1);
    let run_bytes = if n == 0 {
        itemsize
    } else {
        (ranges[r].end - ranges[r].start) * stride[r]
    };
    let total: u64 = ranges.iter().map(|x| x.end - x.start).product::<u64>() * itemsize;
    buf.resize(
        usize::try_from(total).map_err(|_| CliError::new("a block does not fit in memory"))?,
        0,
    );
    let mut idx: Vec<u64> = ranges[..r.min(n)].iter().map(|x| x.start).collect();
    let mut at = 0usize;
    loop {
        let offset: u64 = idx
            .iter()
            .enumerate()
            .map(|(j, &i)| i * stride[j])
            .sum::<u64>()
            + if n == 0 {
                0
            } else {
                ranges[r].start * stride[r]
            };
        let len = run_bytes as usize;
        input.read_at(&mut buf[at..at + len], offset)?;
        at += len;
        // Odometer over the axes outside the run.
        let mut j = idx.len();
        loop {
            if j == 0 {
                return Ok(());
            }
            j -= 1;
            idx[j] += 1;
            if idx[j] < ranges[j].end {
                break;
            }
            idx[j] = ranges[j].start;
        }
    }
}

/// Transposes a block from F order (first axis fastest) to C order.
fn f_to_c(src: &[u8], block: &[Range<u64>], itemsize: usize, out: &mut Vec<u8>) {
    let dims: Vec<usize> = block.iter().map(|r| (r.end - r.start) as usize).collect();
    out.resize(src.len(), 0);
    let n = dims.len();
    if n <= 1 {
        out.copy_from_slice(src);
        return;
    }
    // F-order strides (in elements) of each axis.
    let mut fstride = vec![1usize; n];
    for a in 1..n {
        fstride[a] = fstride[a - 1] * dims[a - 1];
    }
    let inner = dims[n - 1];
    let mut idx = vec![0usize; n - 1];
    let mut dst = 0usize;
    loop {
        let base: usize = idx.iter().zip(&fstride).map(|(i, s)| i * s).sum();
        for k in 0..inner {
            let s = (base + k * fstride[n - 1]) * itemsize;
            out[dst..dst + itemsize].copy_from_slice(&src[s..s + itemsize]);
            dst += itemsize;
        }
        let mut a = n - 1;
        loop {
            if a == 0 {
                return;
            }
            a -= 1;
            idx[a] += 1;
            if idx[a] < dims[a] {
                break;
            }
            idx[a] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_follow_the_file_and_cover_the_array() {
        // Budget for two chunk rows of a 10 x 6 C-order array of bytes, chunks 3 x 4.
        let blocks: Vec<_> = Blocks::new(&[10, 6], &[3, 4], 1, Order::C, 36).collect();
        assert_eq!(blocks, vec![vec![0..6, 0..6], vec![6..10, 0..6]]);
        // A budget below one chunk row: one chunk at a time.
        let blocks: Vec<_> = Blocks::new(&[10, 6], &[3, 4], 1, Order::C, 5).collect();
        assert_eq!(blocks.len(), 8);
        assert_eq!(blocks[1], vec![0..3, 4..6]);
        // F order walks the last axis outermost.
        let blocks: Vec<_> = Blocks::new(&[10, 6], &[3, 4], 1, Order::F, 40).collect();
        assert_eq!(blocks, vec![vec![0..10, 0..4], vec![0..10, 4..6]]);
        assert_eq!(Blocks::new(&[], &[], 8, Order::C, 1).count(), 1);
        assert_eq!(Blocks::new(&[0, 3], &[1, 1], 8, Order::C, 100).count(), 0);
    }

    #[test]
    fn transposes_f_blocks() {
        // 2 x 3 in F order: columns first.
        let src = [0u8, 3, 1, 4, 2, 5];
        let mut out = Vec::new();
        f_to_c(&src, &[0..2, 0..3], 1, &mut out);
        assert_eq!(out, vec![0, 1, 2, 3, 4, 5]);
    }
}
