//! The command line as clap parses it: plain strings and flags, validated later by each command.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const STORES: &str = "\
STORE arguments accept a local path or a URL: file:///abs/path, memory://, s3://bucket/prefix,
gs://bucket/prefix, http(s)://host/path. Credentials and endpoints come from the usual environment
variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT, AWS_ALLOW_HTTP,
GOOGLE_SERVICE_ACCOUNT, GOOGLE_SERVICE_ACCOUNT_KEY, ...).

Exit codes: 0 success, 1 the work failed, 2 invalid arguments, 101 internal error.";

/// tessera: inspect, export, import and copy Zarr v2 and v3 arrays in local and cloud stores.
#[derive(Debug, Parser)]
#[command(name = "tessera", version, about, after_help = STORES)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show the hierarchy: groups, arrays, dtypes, chunking, codecs, stored chunks and sizes.
    Info(InfoArgs),
    /// Write an array, or a selection of it, to a .npy file.
    Export(ExportArgs),
    /// Import a .npy file, or a raw file with a JSON sidecar, into a Zarr array.
    Import(ImportArgs),
    /// Copy an array or a whole hierarchy between stores, optionally rechunking and recompressing.
    Copy(CopyArgs),
    /// Benchmark tessera against raw mmap, zarrs, tensorstore and zarr-python on the same data.
    Bench(tessera_bench::BenchArgs),
}

/// `tessera info`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  tessera info data.zarr
  tessera info s3://bucket/data.zarr --array temperature/2024
  tessera info data.zarr --json | jq '.nodes[] | select(.kind == \"array\") | .path'

The tree lists, for every array: shape, chunks, dtype, order, compressor, filters, fill value,
attributes, chunks stored out of the chunk grid's total, stored bytes and the compression ratio
(decoded size of the stored chunks / their stored size). Stored chunks are counted by listing the
store, never by visiting the chunk grid, so huge sparse arrays are fast. Nodes are found by listing
the store and through consolidated metadata (.zmetadata); each is read from its own metadata.

A node tessera cannot open is listed with the reason: unsupported by tessera (the feature is named)
or invalid data (the key is named); --json gives each node an \"error\" (null when it opened). The
command then exits with 1, after printing every node.")]
pub struct InfoArgs {
    /// The store (path or URL).
    pub store: String,
    /// Describe only this array or group (a path inside the store).
    #[arg(long, value_name = "PATH")]
    pub array: Option<String>,
    /// Print a machine-readable JSON document instead of the tree.
    #[arg(long)]
    pub json: bool,
}

/// `tessera export`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  tessera export data.zarr --array temperature -o temperature.npy
  tessera export s3://bucket/data.zarr --array t --select '0:100, :, 5' -o slab.npy
  tessera export data.zarr --array t --select '::10,-1' -o - | python3 -c 'import io,sys,numpy; print(numpy.load(io.BytesIO(sys.stdin.buffer.read())))'
  tessera export data.zarr --array t --select '[3,17,40],::-1,5' -o rows.npy
  tessera export data.zarr --array t --points points.npy -o values.npy
  tessera export data.zarr --array t --mask mask.npy -o values.npy
  tessera export data.zarr --array particles --field mass,charge --select '::-1' -o mc.npy

SPEC is comma-separated per axis: start:stop:step (any non-zero step; negative walks backwards), a
single index, a list of indices in brackets ([3,17,-1], any order, repeats allowed) or a boolean
mask of the axis ([True,False,...]), with numpy semantics (negative positions count from the end,
slice bounds are clamped, an index drops the axis); missing trailing axes are taken whole. Lists
and masks of several axes combine orthogonally, like zarr's oindex. --points FILE.npy takes an
(n, ndim) integer array, one row per point, and exports the n values (zarr's vindex). --mask
FILE.npy takes a bool array: of the array's shape, it exports the marked elements in C order (1-D,
numpy's a[mask]); 1-D and as long as the first axis, it selects along that axis. Selections with
lists, masks, negative steps or points, and --field exports, are read whole, so they must fit in
--memory-limit. --field mass,charge writes only those fields of a structured array (.npy only). The .npy keeps the stored dtype exactly: byte order,
strings, datetimes and structured types with their full descr. The data is streamed in slabs of at
most 64 MiB (or one row of chunks, when that is larger), so memory stays bounded whatever the size
of the selection; --memory-limit lowers that further. Standard output (-o -) may be a pipe: the .npy
is written front to back, never seeked (numpy.load needs a seekable file: wrap a pipe in io.BytesIO
as above).")]
pub struct ExportArgs {
    /// The store (path or URL).
    pub store: String,
    /// The array inside the store (default: the store root).
    #[arg(long, value_name = "PATH")]
    pub array: Option<String>,
    /// The selection to export (default: everything).
    #[arg(long, value_name = "SPEC", allow_hyphen_values = true)]
    pub select: Option<String>,
    /// Export the points listed in an (n, ndim) integer .npy file.
    #[arg(long, value_name = "FILE.npy", conflicts_with_all = ["select", "mask"])]
    pub points: Option<PathBuf>,
    /// Export the elements marked in a bool .npy file (the array's shape, or its first axis).
    #[arg(long, value_name = "FILE.npy", conflicts_with = "select")]
    pub mask: Option<PathBuf>,
    /// Export only these fields of a structured array (comma-separated, dotted paths for nested
    /// fields): one field as its own dtype, several as a structured dtype of just those fields.
    #[arg(long, value_name = "NAME[,NAME...]")]
    pub field: Option<String>,
    /// The .npy file to write (`-` for standard output); a name ending in `.json` writes nested
    /// JSON lists instead (any array; NaN as "NaN", bytes as base64). Object arrays of text or
    /// bytes export as `<U{n}` / `|S{n}` .npy, n the longest value.
    #[arg(short = 'o', long = "output", value_name = "OUT.npy|OUT.json")]
    pub output: PathBuf,
    /// Memory to use at most, e.g. 512M, 4G (default: a quarter of RAM).
    #[arg(long, value_name = "BYTES")]
    pub memory_limit: Option<String>,
}

/// Element order inside chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OrderArg {
    /// Row-major.
    C,
    /// Column-major.
    F,
}

/// `tessera import`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  tessera import field.npy data.zarr --array fields/t --chunks 100,100
  tessera import field.npy s3://bucket/data.zarr --array t --chunks 256,256 \\
      --compressor '{\"id\":\"zstd\",\"level\":3}' --filters '[{\"id\":\"delta\",\"dtype\":\"<f8\"}]' \\
      --fill-value '\"NaN\"' --order F --separator /
  tessera import volume.raw data.zarr --array v --chunks 64,64,64 --compressor none

IN is a .npy file (C or Fortran order, any numpy dtype Zarr v2 allows) or a raw file described by
a JSON sidecar next to it (IN.json, or IN with its extension replaced by .json) holding
{\"dtype\": \"<f4\", \"shape\": [...], \"order\": \"C\"}. The compressor defaults to zarr-python's
blosc-lz4; --fill-value is a value in .zarray's JSON encoding (null, 0, \"NaN\", base64 for bytes).
Missing parent groups are created. The data is streamed in chunk-aligned slabs within
--memory-limit.")]
pub struct ImportArgs {
    /// The .npy or raw input file.
    #[arg(value_name = "IN")]
    pub input: PathBuf,
    /// The store to write into (path or URL; a local directory is created when missing).
    pub store: String,
    /// Where to put the array inside the store (default: the store root).
    #[arg(long, value_name = "PATH")]
    pub array: Option<String>,
    /// The chunk shape, one size per axis: C0,C1,...
    #[arg(long, value_name = "C0,C1,...")]
    pub chunks: String,
    /// The compressor as a numcodecs JSON config (or a v3 codec `{"name": .., "configuration": ..}`),
    /// or `none`.
    #[arg(long, value_name = "JSON|none")]
    pub compressor: Option<String>,
    /// The filters as a JSON list of numcodecs configs (or v3 codecs).
    #[arg(long, value_name = "JSON")]
    pub filters: Option<String>,
    /// Element order inside the chunks.
    #[arg(long, value_enum, ignore_case = true)]
    pub order: Option<OrderArg>,
    /// Store a `<U` (`str`) or `|S` (`bytes`) input as variable-length text or bytes: dtype `|O`
    /// with the vlen-utf8 / vlen-bytes filter, as zarr-python 3 stores `str` (compressor default
    /// zstd, fill value "").
    #[arg(long, value_name = "str|bytes")]
    pub dtype: Option<String>,
    /// The fill value in .zarray's JSON encoding.
    #[arg(long, value_name = "JSON", allow_hyphen_values = true)]
    pub fill_value: Option<String>,
    /// The chunk key separator: `.` (flat keys) or `/` (nested).
    #[arg(long, value_name = ".|/")]
    pub separator: Option<String>,
    /// Replace an array or group already at the destination path.
    #[arg(long)]
    pub overwrite: bool,
    /// Memory to use at most, e.g. 512M, 4G (default: a quarter of RAM).
    #[arg(long, value_name = "BYTES")]
    pub memory_limit: Option<String>,
    /// The Zarr format to write: 2 (`.zarray`, the default) or 3 (`zarr.json`).
    #[arg(long, value_name = "2|3")]
    pub zarr_format: Option<u8>,
    /// Zarr v3 shards: each stored object holds a grid of --chunks chunks: S0,S1,... (implies
    /// --zarr-format 3).
    #[arg(long, value_name = "S0,S1,...")]
    pub shards: Option<String>,
    /// Zarr v3 dimension names: a,b,c (`-` for an unnamed axis; implies --zarr-format 3).
    #[arg(long, value_name = "A,B,...")]
    pub dimension_names: Option<String>,
}

/// `tessera copy`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  tessera copy data.zarr s3://bucket/data.zarr
  tessera copy data.zarr rechunked.zarr --array t --chunks 1000,1 --memory-limit 2G
  tessera copy s3://bucket/raw.zarr small.zarr --compressor '{\"id\":\"zstd\",\"level\":9}'

Without --array the whole hierarchy is copied: groups, arrays and their attributes (and
consolidated metadata, rewritten for the copy). Every node is checked before anything is written;
when some cannot be copied (unsupported by tessera, or broken), the copy names them all and writes
nothing: leave them out with --exclude PATH. Each array's shape and codecs come from its own
.zarray, never from a stale .zmetadata. Chunks are copied as stored when neither chunks nor
codecs change; otherwise they are decoded and re-encoded in parallel. Rechunking plans its work as
blocks of the destination chunk grid that fit --memory-limit, so arrays far larger than memory can
be rechunked in any direction.")]
pub struct CopyArgs {
    /// The source store (path or URL).
    pub src: String,
    /// The destination store (path or URL; a local directory is created when missing).
    pub dst: String,
    /// Copy only this array or group (a path inside the store; kept at the same path).
    #[arg(long, value_name = "PATH")]
    pub array: Option<String>,
    /// New chunk shape for every array copied: C0,C1,...
    #[arg(long, value_name = "C0,C1,...")]
    pub chunks: Option<String>,
    /// New compressor for every array copied, as a numcodecs JSON config, or `none`.
    #[arg(long, value_name = "JSON|none")]
    pub compressor: Option<String>,
    /// New filters for every array copied, as a JSON list of numcodecs configs (`[]` for none).
    #[arg(long, value_name = "JSON")]
    pub filters: Option<String>,
    /// Memory to use at most, e.g. 512M, 4G (default: a quarter of RAM).
    #[arg(long, value_name = "BYTES")]
    pub memory_limit: Option<String>,
    /// Replace arrays or groups already at the destination.
    #[arg(long)]
    pub overwrite: bool,
    /// Leave out this array or group (and everything below it); may be given several times.
    #[arg(long, value_name = "PATH")]
    pub exclude: Vec<String>,
    /// The Zarr format of the copy: 2 or 3 (default: each node's own).
    #[arg(long, value_name = "2|3")]
    pub zarr_format: Option<u8>,
    /// Zarr v3 shards for every array copied: S0,S1,... (implies --zarr-format 3).
    #[arg(long, value_name = "S0,S1,...")]
    pub shards: Option<String>,
}
