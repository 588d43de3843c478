#!/usr/bin/env python3
"""The Python peers of tessera's benchmark harness: tensorstore, zarr-python and the tessera Python package
(crates/tessera-python) on the same Zarr v2 arrays, and h5py on HDF5 copies of them (same chunks; gzip and
lzf, blosc and zstd through hdf5plugin).

`tessera bench` starts this script as `python peers.py serve` and talks JSON lines with it: the script
first prints what it could import,

    {"ready": true, "python": "3.11.2", "numpy": "2.4.6", "zarr": "3.1.6", "tensorstore": "0.1.86",
     "h5py": "3.16.0", "hdf5plugin": "7.1.0", "tessera_python": "0.1.0"}

(null for a missing library), then answers each run spec line (the harness's RunSpec: backend, typestr,
shape, workload, source, chunks, regions, dest, raw) with

    {"ok": true, "seconds": 0.41, "bytes": 268435456, "checksum": 123456789, "peak_rss_bytes": 301989888}

or {"ok": false, "error": "..."}. For h5py's write and copy the checksum is of the destination read
back after the timing (the harness cannot read HDF5 itself).

A line {"op": "hdf5-prepare", "raw": ..., "typestr": ..., "shape": [...], "arrays": [{"path": "x.h5",
"chunks": [...], "filter": "zstd"}, ...]} writes the raw file's data as HDF5 files (dataset "data"),
one per entry, filter one of none, gzip, lzf, zstd, blosc-lz4, and answers
{"ok": true, "stored_bytes": [...]} (each file's size).

The harness handles the page cache between runs (it evicts or warms
the files before sending a spec), so the script only times the workload.

Run by hand: `python peers.py run SPECS.json` runs a JSON list of specs and prints a JSON list of results
(the cache is left as it is).

Measurement rules, the same as the Rust backends':
- seconds: wall time from opening the array to the end of the workload, excluding checksumming between
  pieces (crops, chunks);
- checksum: CRC-32 (zlib.crc32) of the delivered bytes in native byte order, C order, pieces in order;
  none for write and copy (the harness reads the destination back);
- memory: twice the largest piece's bytes are touched and freed before timing (as the Rust backends do);
- peak_rss_bytes: the process's VmHWM after the workload, reset (/proc/self/clear_refs) just before it,
  so it covers the workload plus the interpreter's baseline (numpy, zarr and tensorstore imported).

Setup (from the repository root):
    python3 -m venv .venv-zarr3
    .venv-zarr3/bin/pip install -r fixtures/zarr/requirements-zarr3.txt \\
        -r .ci/readback/requirements-tensorstore.txt
and, for the tessera-python backend, `pip install crates/tessera-python` into that interpreter.
"""

import json
import os
import platform
import re
import sys
import time
import zlib

try:
    import numpy as np
except ImportError:  # the ready line says so; every run then fails
    np = None

try:
    import zarr
except ImportError:
    zarr = None

try:
    import tensorstore as ts
except ImportError:
    ts = None

try:
    import h5py
except ImportError:
    h5py = None

try:
    import hdf5plugin
except ImportError:  # h5py then runs the none, gzip and lzf arrays only
    hdf5plugin = None

try:
    import tessera
except ImportError:
    tessera = None


def versions():
    from importlib.metadata import version, PackageNotFoundError

    def v(name, module):
        if module is None:
            return None
        try:
            return version(name)
        except PackageNotFoundError:
            return "unknown"

    return {
        "ready": True,
        "python": platform.python_version(),
        "numpy": v("numpy", np),
        "zarr": v("zarr", zarr if np is not None else None),
        "tensorstore": v("tensorstore", ts if np is not None else None),
        "h5py": v("h5py", h5py if np is not None else None),
        "hdf5plugin": v("hdf5plugin", hdf5plugin if h5py is not None else None),
        "tessera_python": v("tessera", tessera if np is not None else None),
    }


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss():
    try:
        with open("/proc/self/status") as f:
            m = re.search(r"VmHWM:\s+(\d+)\s+kB", f.read())
        return int(m.group(1)) * 1024 if m else None
    except OSError:
        return None


def largest_piece_bytes(spec):
    """Bytes of the largest piece the workload delivers at once (the whole array when it has no regions)."""
    itemsize = np.dtype(spec["typestr"]).itemsize
    regions = spec.get("regions") or []
    if not regions:
        return int(np.prod(spec["shape"])) * itemsize
    return max(int(np.prod(r["shape"])) for r in regions) * itemsize


def pre_touch(nbytes):
    """Touches and frees `nbytes` of memory before timing, as the Rust backends do: a virtual machine's
    first touch of never-used memory can cost 10x a later one, and that is not the library's time."""
    buf = np.ones(max(1, nbytes), dtype=np.uint8)
    del buf


def region_slices(region):
    return tuple(slice(s, s + n) for s, n in zip(region["start"], region["shape"]))


def slab_key(region, axis):
    key = list(region_slices(region))
    key[axis] = region["start"][axis]
    return tuple(key)


class Crc:
    def __init__(self):
        self.value = 0
        self.bytes = 0

    def add(self, arr):
        arr = np.ascontiguousarray(arr)
        if arr.dtype.byteorder == ">":
            arr = arr.astype(arr.dtype.newbyteorder("="))
        self.value = zlib.crc32(arr.reshape(-1).view(np.uint8), self.value)
        self.bytes += arr.nbytes


def zarr_format(path):
    """3 for a Zarr v3 array (its directory holds zarr.json), else 2."""
    return 3 if os.path.exists(os.path.join(path, "zarr.json")) else 2


class ZarrPython:
    """zarr-python 3 on zarr_format=2 and 3 arrays, with its default configuration."""

    @staticmethod
    def open(path, write=False):
        return zarr.open_array(store=path, mode="r+" if write else "r", zarr_format=zarr_format(path))

    @staticmethod
    def get(a, key):
        return a[key]

    @staticmethod
    def put(a, key, data):
        a[key] = data

    @staticmethod
    def points(a, coords):
        return a.vindex[coords]

    @staticmethod
    def rows(a, rows):
        return a.oindex[(rows,) + (slice(None),) * (a.ndim - 1)]


class Tensorstore:
    """tensorstore's zarr (v2) and zarr3 drivers on a file kvstore, with its default context (no chunk
    cache)."""

    @staticmethod
    def open(path, write=False):
        driver = "zarr3" if zarr_format(path) == 3 else "zarr"
        spec = {"driver": driver, "kvstore": {"driver": "file", "path": path.rstrip("/") + "/"}}
        return ts.open(spec, read=True, write=write, open=True).result()

    @staticmethod
    def get(a, key):
        return a[key].read().result()

    @staticmethod
    def put(a, key, data):
        a[key].write(data).result()

    @staticmethod
    def points(a, coords):
        return a.vindex[coords].read().result()

    @staticmethod
    def rows(a, rows):
        return a.oindex[rows].read().result()


def hdf5_filter(name):
    """h5py create_dataset keywords for a filter name: the Zarr arrays' codecs with the same settings
    (zstd level 3; blosc lz4 level 5 with byte shuffle), and HDF5's own gzip (level 4) and lzf."""
    if name == "none":
        return {}
    if name == "gzip":
        return {"compression": "gzip", "compression_opts": 4}
    if name == "lzf":
        return {"compression": "lzf"}
    if hdf5plugin is None:
        raise ValueError(f"the {name} filter needs hdf5plugin (pip install -r benches/requirements-peers.txt)")
    if name == "zstd":
        return dict(hdf5plugin.Zstd(clevel=3))
    if name == "blosc-lz4":
        return dict(hdf5plugin.Blosc(cname="lz4", clevel=5, shuffle=hdf5plugin.Blosc.SHUFFLE))
    raise ValueError(f"unknown HDF5 filter {name!r}")


def hdf5_prepare(msg):
    """Writes the raw file as one HDF5 file per entry of msg["arrays"]; returns their sizes."""
    shape = tuple(msg["shape"])
    data = np.fromfile(msg["raw"], dtype=msg["typestr"]).reshape(shape)
    sizes = []
    for entry in msg["arrays"]:
        with h5py.File(entry["path"], "w") as f:
            f.create_dataset("data", data=data, chunks=tuple(entry["chunks"]), **hdf5_filter(entry["filter"]))
        sizes.append(os.path.getsize(entry["path"]))
    return {"ok": True, "stored_bytes": sizes}


class H5py:
    """h5py on an HDF5 file holding the array as dataset "data", with HDF5's default chunk cache. A write
    into a destination that does not exist yet creates it with the source's creation properties (chunks,
    filters), so the destination is laid out as the source."""

    source = None

    @staticmethod
    def open(path, write=False):
        if write and not os.path.exists(path):
            with h5py.File(H5py.source, "r") as src:
                d = src["data"]
                with h5py.File(path, "w") as f:
                    space = h5py.h5s.create_simple(d.shape)
                    h5py.h5d.create(f.id, b"data", d.id.get_type(), space, dcpl=d.id.get_create_plist())
        f = h5py.File(path, "r+" if write else "r")
        return f["data"]

    @staticmethod
    def get(a, key):
        return a[key]

    @staticmethod
    def put(a, key, data):
        a[key] = data

    @staticmethod
    def read_into(a, out):
        a.read_direct(out)

    @staticmethod
    def rows(a, rows):
        # h5py takes one increasing list per selection.
        return a[list(rows)]


class TesseraPython:
    """The tessera Python package: tessera-array through PyO3, numpy results decoded in place."""

    @staticmethod
    def open(path, write=False):
        return tessera.open_array(path, mode="r+" if write else "r")

    @staticmethod
    def get(a, key):
        return a[key]

    @staticmethod
    def put(a, key, data):
        a[key] = data

    @staticmethod
    def points(a, coords):
        return a.vindex[coords]

    @staticmethod
    def rows(a, rows):
        return a.oindex[(rows,) + (slice(None),) * (a.ndim - 1)]


BACKENDS = {"zarr-python": ZarrPython, "tensorstore": Tensorstore, "h5py": H5py, "tessera-python": TesseraPython}


def run(spec):
    """Runs the workload `repeat` times (warm reads: 3) and reports the run with the median time."""
    runs = [run_once(spec) for _ in range(max(1, int(spec.get("repeat", 1))))]
    if len({(r["checksum"], r["bytes"]) for r in runs}) != 1:
        raise ValueError("repetitions delivered different data")
    best = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
    best["peak_rss_bytes"] = peak_rss()
    return best


def run_once(spec):
    lib = BACKENDS[spec["backend"]]
    workload = spec["workload"]
    shape = tuple(spec["shape"])
    everything = tuple(slice(0, n) for n in shape)
    data = None
    H5py.source = spec["source"]
    if workload == "write":
        data = np.fromfile(spec["raw"], dtype=spec["typestr"]).reshape(shape)
    reused = None
    if workload == "whole-reused":
        if not hasattr(lib, "read_into"):
            raise ValueError(f"{spec['backend']} does not read into a caller's buffer")
        reused = np.empty(shape, dtype=spec["typestr"])
        reused.fill(1)
    else:
        pre_touch(2 * largest_piece_bytes(spec))
    reset_peak()
    crc = Crc()
    timed = 0.0
    checksum = True
    nbytes = 0
    if workload == "points":
        # One coordinate selection (vindex) of every region's first element, built before the clock.
        n = len(spec["regions"])
        coords = tuple(
            np.fromiter((r["start"][axis] for r in spec["regions"]), dtype=np.int64, count=n)
            for axis in range(len(shape))
        )
    if workload == "rows":
        rows = np.array([r["start"][0] for r in spec["regions"]], dtype=np.int64)
    t0 = time.perf_counter()
    if workload in ("whole",) or workload.startswith("slab-axis"):
        a = lib.open(spec["source"])
        if workload == "whole":
            out = lib.get(a, everything)
        else:
            out = lib.get(a, slab_key(spec["regions"][0], int(workload[len("slab-axis"):])))
        timed = time.perf_counter() - t0
        crc.add(out)
        del out
    elif workload == "whole-reused":
        a = lib.open(spec["source"])
        lib.read_into(a, reused)
        timed = time.perf_counter() - t0
        crc.add(reused)
    elif workload in ("crops", "chunks", "epochs"):
        a = lib.open(spec["source"])
        timed = time.perf_counter() - t0
        for region in spec["regions"]:
            t = time.perf_counter()
            out = lib.get(a, region_slices(region))
            timed += time.perf_counter() - t
            crc.add(out)
        del out
    elif workload == "points":
        a = lib.open(spec["source"])
        out = lib.points(a, coords)
        timed = time.perf_counter() - t0
        crc.add(out)
        del out
    elif workload == "rows":
        a = lib.open(spec["source"])
        out = lib.rows(a, rows)
        timed = time.perf_counter() - t0
        crc.add(out)
        del out
    elif workload == "write":
        a = lib.open(spec["dest"], write=True)
        lib.put(a, everything, data)
        close(a)
        timed = time.perf_counter() - t0
        checksum = False
        nbytes = data.nbytes
    elif workload == "copy":
        src = lib.open(spec["source"])
        dst = lib.open(spec["dest"], write=True)
        for region in spec["regions"]:
            key = region_slices(region)
            lib.put(dst, key, lib.get(src, key))
        close(dst)
        timed = time.perf_counter() - t0
        checksum = False
        nbytes = int(np.prod(shape)) * np.dtype(spec["typestr"]).itemsize
    else:
        raise ValueError(f"unknown workload {workload!r}")
    peak = peak_rss()
    written = None
    if not checksum and lib is H5py:
        # The harness reads Zarr and raw destinations back itself, but not HDF5: read it back here.
        back = Crc()
        with h5py.File(spec["dest"], "r") as f:
            back.add(f["data"][...])
        written = back.value
    return {
        "ok": True,
        "seconds": timed,
        "bytes": crc.bytes if checksum else nbytes,
        "checksum": crc.value if checksum else written,
        "peak_rss_bytes": peak,
    }


def close(a):
    """Ends a write: an HDF5 file is flushed and closed (the other libraries are done when put returns)."""
    if h5py is not None and isinstance(a, h5py.Dataset):
        a.file.close()


def answer(spec):
    try:
        if spec.get("op") == "hdf5-prepare":
            return hdf5_prepare(spec)
        return run(spec)
    except Exception as e:  # reported to the harness, which fails the run with this message
        return {"ok": False, "error": f"{type(e).__name__}: {e}"}


def serve():
    print(json.dumps(versions()), flush=True)
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(answer(json.loads(line))), flush=True)


def main(argv):
    if len(argv) >= 2 and argv[1] == "serve":
        serve()
    elif len(argv) == 3 and argv[1] == "run":
        with open(argv[2]) as f:
            specs = json.load(f)
        print(json.dumps([answer(s) for s in specs], indent=1))
    elif len(argv) == 2 and argv[1] == "versions":
        print(json.dumps(versions()))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
