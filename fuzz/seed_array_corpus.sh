#!/usr/bin/env bash
# Seeds the array_* fuzz targets from the zarr-python fixtures: .zarray and .zmetadata documents,
# their dtypes and fill values, .npy headers, selections, and (.zarray, first chunk) pairs for
# array_read_raw. Usage: ./seed_array_corpus.sh [OUT_DIR] (default: corpus).
set -euo pipefail
cd "$(dirname "$0")"
OUT="${1:-corpus}" python3 - <<'PY'
import hashlib, json, os, struct
from pathlib import Path

out = Path(os.environ["OUT"])
fx = Path("../fixtures")

def put(target, data):
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)

# The dtypes of fuzz_targets/array_fill_value.rs, in order.
DTYPES = ["|b1", "|i1", "|u1", "<i2", ">i2", "<u2", "<i4", ">u4", "<i8", ">u8", "<f2", ">f2", "<f4",
          ">f4", "<f8", ">f8", "<c8", ">c16", "<M8[ns]", ">m8[s]", "<M8[D]", "|S0", "|S1", "|S7",
          "<U1", ">U3", "|V4", "|V0"]

for zarray in sorted(fx.rglob(".zarray")):
    raw = zarray.read_bytes()
    put("array_zarray", raw)
    meta = json.loads(raw)
    put("array_dtype", json.dumps(meta["dtype"]))
    if isinstance(meta["dtype"], str) and meta["dtype"] in DTYPES:
        put("array_fill_value", bytes([DTYPES.index(meta["dtype"])]) + json.dumps(meta["fill_value"]).encode())
    elif isinstance(meta["dtype"], list):
        put("array_fill_value", bytes([255]) + json.dumps(meta["fill_value"]).encode())
    sep = meta.get("dimension_separator") or "."
    first = sep.join("0" for _ in meta["chunks"]) or "0"
    chunk = zarray.parent / first
    if chunk.is_file() and chunk.stat().st_size <= 1 << 20 and len(raw) < 1 << 16:
        put("array_read_raw", struct.pack("<H", len(raw)) + raw + chunk.read_bytes())
for zjson in sorted(fx.rglob("zarr.json")):
    if zjson.stat().st_size < 1 << 16:
        put("array_zarr_json", zjson.read_bytes())
# array_shard: valid shards of its fixed array (mode 0: index at the end; 1: at the start), one
# inner chunk missing.
for mode in (0, 1):
    chunks = [struct.pack("<4H", *range(4 * i, 4 * i + 4)) for i in range(3)]
    start = 64 if mode == 1 else 0
    index, offset = b"", start
    for c in chunks:
        index += struct.pack("<QQ", offset, len(c))
        offset += len(c)
    index += struct.pack("<QQ", 2**64 - 1, 2**64 - 1)
    body = b"".join(chunks)
    put("array_shard", bytes([mode]) + (index + body if mode == 1 else body + index))
for zmeta in sorted(fx.rglob(".zmetadata")):
    put("array_zmetadata", zmeta.read_bytes())
for npy in sorted(fx.rglob("*.npy"))[:200]:
    put("array_npy_header", npy.read_bytes()[:512])

def small(n):
    return struct.pack("<Q", n << 1)
for shape, text in [((10,), "2:8:2"), ((10, 20), "::3, 5"), ((4, 5, 6), "..., -1"), ((7,), "-3:"),
                    ((100, 100), "10:20, :"), ((), ""), ((3, 3), ":, ..., 1"), ((9,), "8:0:-1")]:
    put("array_selection", bytes([len(shape)]) + b"".join(small(n) for n in shape) + text.encode())
PY
