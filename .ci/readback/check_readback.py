#!/usr/bin/env python3
"""Check that a Zarr v2 hierarchy reads back as its manifest says, with one reader.

Usage:
    check_readback.py --reader zarr|tensorstore TREE [--manifest MANIFEST]

TREE is the root of the hierarchy (the directory holding the root .zgroup);
MANIFEST defaults to TREE/manifest.json, and the "expected" paths inside it are
relative to the manifest's directory. The manifest format is described in
fixtures/zarr/README.md.

--reader zarr        zarr-python, whichever major version is installed (2.18 or 3.x,
                     the latter opening with zarr_format=2)
--reader tensorstore tensorstore's "zarr" driver on a "file" kvstore

One line per item (array, group, consolidated metadata, manifest-level skip):
    ok <path> | FAIL <path>: why | skip <path>: why
and last a line "N passed, M failed, K skipped". Exit status 1 on any failure,
2 on a usage or manifest error.
"""
import argparse
import base64
import json
import os
import sys
import traceback

import numpy as np

# --------------------------------------------------------------------------- manifest helpers


def dtype_from_json(d):
    """numpy dtype from a .zarray "dtype" value (string, or list of [name, type(, shape)])."""
    def conv(x):
        if isinstance(x, str):
            return x
        out = []
        for field in x:
            if len(field) == 3:
                out.append((field[0], conv(field[1]), tuple(field[2])))
            else:
                out.append((field[0], conv(field[1])))
        return out
    return np.dtype(conv(d))


_SPECIAL = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


def fill_from_json(v, dt):
    """The .zarray fill_value decoded to a 0-d array of dtype dt, or None for null."""
    if v is None:
        return None
    if dt.kind == "f":
        if isinstance(v, str):
            if v not in _SPECIAL:
                raise ValueError(f"bad float fill_value {v!r}")
            v = _SPECIAL[v]
        return np.array(v, dtype=dt)
    if dt.kind == "c":
        if not (isinstance(v, list) and len(v) == 2):
            raise ValueError(f"complex fill_value must be [re, im], got {v!r}")
        out = np.zeros((), dtype=dt)
        out.real = _SPECIAL.get(v[0], v[0]) if isinstance(v[0], str) else v[0]
        out.imag = _SPECIAL.get(v[1], v[1]) if isinstance(v[1], str) else v[1]
        return out
    if dt.kind == "S":
        return np.array(base64.standard_b64decode(v), dtype=dt)
    if dt.kind == "V":
        raw = base64.standard_b64decode(v)
        if len(raw) != dt.itemsize:
            raise ValueError(f"void fill_value has {len(raw)} bytes, dtype needs {dt.itemsize}")
        return np.frombuffer(raw, dtype=dt).reshape(()).copy()
    if dt.kind == "U":
        return np.array(v, dtype=dt)
    if dt.kind in "mM":
        return np.array(int(v), dtype=np.int64).view(dt).copy()
    if dt.kind == "b":
        if not isinstance(v, bool):
            raise ValueError(f"bool fill_value must be true/false, got {v!r}")
        return np.array(v, dtype=dt)
    if dt.kind in "iu":
        if not isinstance(v, int) or isinstance(v, bool):
            raise ValueError(f"integer fill_value must be an integer, got {v!r}")
        return np.array(v, dtype=dt)
    raise ValueError(f"no fill_value rule for dtype {dt}")


def parse_selection(text, shape):
    """numpy text selection -> tuple of slice/int, one item per axis."""
    items = [] if text.strip() == "" else text.split(",")
    if len(items) != len(shape):
        raise ValueError(f"selection {text!r} has {len(items)} items for rank {len(shape)}")
    out = []
    for it, n in zip(items, shape):
        it = it.strip()
        if ":" in it:
            parts = it.split(":")
            if len(parts) > 3:
                raise ValueError(f"bad range {it!r}")
            start = int(parts[0]) if parts[0].strip() else None
            stop = int(parts[1]) if parts[1].strip() else None
            step = int(parts[2]) if len(parts) == 3 and parts[2].strip() else None
            if step is not None and step <= 0:
                raise ValueError(f"step must be positive in {it!r}")
            out.append(slice(start, stop, step))
        else:
            i = int(it)
            if not -n <= i < n:
                raise ValueError(f"index {i} out of range for length {n}")
            out.append(i)
    return tuple(out)


def normalized(key, shape):
    """Selection with non-negative bounds (tensorstore indexes absolutely, -1 is not 'last')."""
    out = []
    for k, n in zip(key, shape):
        if isinstance(k, slice):
            start, stop, step = k.indices(n)
            out.append(slice(start, max(start, stop), step))
        else:
            out.append(k + n if k < 0 else k)
    return tuple(out)


def structured_has_nested(dt):
    return dt.names is not None and any(dt.fields[n][0].names is not None for n in dt.names)


def structured_has_subarray(dt):
    return dt.names is not None and any(dt.fields[n][0].subdtype is not None for n in dt.names)


def kinds_in(dt):
    """All leaf dtype kinds in dt (through fields and sub-arrays)."""
    if dt.subdtype is not None:
        return kinds_in(dt.subdtype[0])
    if dt.names is not None:
        out = set()
        for n in dt.names:
            out |= kinds_in(dt.fields[n][0])
        return out
    return {dt.kind}


# --------------------------------------------------------------------------- comparison


def contiguous(a):
    """C-contiguous array, keeping 0-d arrays 0-d (np.ascontiguousarray makes them 1-d)."""
    return np.asarray(a, order="C")


def as_dtype(got, dt):
    """got converted to dt when they differ only in byte order; else None."""
    got = np.asarray(got)
    if got.dtype == dt:
        return got
    if got.dtype.newbyteorder("=") == dt.newbyteorder("=") or _same_but_order(got.dtype, dt):
        return got.astype(dt)
    return None


def _same_but_order(a, b):
    if a.names is None or b.names is None:
        if a.subdtype is not None and b.subdtype is not None:
            return a.subdtype[1] == b.subdtype[1] and _same_but_order(a.subdtype[0], b.subdtype[0])
        return a.names is None and b.names is None and a.subdtype is None and b.subdtype is None and \
            a.kind == b.kind and a.itemsize == b.itemsize and \
            (a.kind not in "mM" or np.datetime_data(a) == np.datetime_data(b))
    return a.names == b.names and all(_same_but_order(a.fields[n][0], b.fields[n][0]) for n in a.names)


def compare(got, exp, what="values"):
    """None if got equals exp exactly (bitwise for floats), else a reason."""
    got = np.asarray(got)
    if got.shape != exp.shape:
        return f"{what}: shape {got.shape} != expected {exp.shape}"
    conv = as_dtype(got, exp.dtype)
    if conv is None:
        return f"{what}: dtype {got.dtype.descr if got.dtype.names else got.dtype.str} != expected " \
               f"{exp.dtype.descr if exp.dtype.names else exp.dtype.str}"
    got = contiguous(conv)
    exp = contiguous(exp)
    if exp.dtype.names is not None:
        for name in exp.dtype.names:
            r = compare(got[name], exp[name], f"{what}[{name!r}]")
            if r:
                return r
        return None
    if got.tobytes() == exp.tobytes():
        return None
    if exp.dtype.kind in "fc":
        if np.array_equal(got, exp, equal_nan=True):
            bad = np.argwhere(got.view(f"u{exp.dtype.itemsize // (2 if exp.dtype.kind == 'c' else 1)}") !=
                              exp.view(f"u{exp.dtype.itemsize // (2 if exp.dtype.kind == 'c' else 1)}"))
            return (f"{what}: equal as numbers but not bitwise (NaN payload or signed zero), "
                    f"first at {tuple(int(i) for i in bad[0])}")
        diff = ~((got == exp) | (np.isnan(got) & np.isnan(exp)))
    elif exp.dtype.kind in "SUV" or exp.dtype.kind in "mM":
        diff = got.view(np.uint8).reshape(got.shape + (-1,)) != exp.view(np.uint8).reshape(exp.shape + (-1,)) \
            if exp.dtype.kind == "V" else got != exp
        if exp.dtype.kind == "V":
            diff = diff.any(axis=-1)
        if exp.dtype.kind in "mM":
            diff = got.view(np.int64) != exp.view(np.int64)
    else:
        diff = got != exp
    idx = np.argwhere(diff)
    if idx.size == 0:
        return f"{what}: bytes differ"
    first = tuple(int(i) for i in idx[0])
    return f"{what}: {len(idx)} of {exp.size} elements differ, first at {first}: got {got[first]!r}, expected {exp[first]!r}"


def same_fill(got, want, dt):
    """Compare a reader's fill value with the manifest's; None if equal."""
    if want is None:
        if got is None:
            return None
        return f"fill_value {got!r}, expected null"
    if got is None:
        return f"fill_value null, expected {want[()]!r}"
    g = np.asarray(got)
    if g.dtype != dt:
        try:
            g = np.array(got, dtype=dt)
        except Exception:
            c = as_dtype(g, dt)
            if c is None:
                return f"fill_value {got!r} not convertible to {dt}"
            g = c
    if g.tobytes() != want.tobytes():
        return f"fill_value {got!r}, expected {want[()]!r}"
    return None


# --------------------------------------------------------------------------- raw metadata (every reader)


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def check_raw(tree, e):
    """The .zarray/.zattrs on disk say what the manifest says."""
    p = os.path.join(tree, e["path"], ".zarray")
    if not os.path.exists(p):
        return f"no .zarray at {e['path']}"
    z = read_json(p)
    if z.get("zarr_format") != 2:
        return f".zarray zarr_format {z.get('zarr_format')!r}"
    for k in ("dtype", "shape", "chunks", "order", "compressor", "filters"):
        if z.get(k) != e[k]:
            return f".zarray {k} {z.get(k)!r} != manifest {e[k]!r}"
    sep = z.get("dimension_separator", ".")
    if sep != e.get("separator", "."):
        return f".zarray dimension_separator {sep!r} != manifest {e.get('separator')!r}"
    dt = dtype_from_json(e["dtype"])
    a, b = fill_from_json(z.get("fill_value"), dt), fill_from_json(e["fill_value"], dt)
    if (a is None) != (b is None) or (a is not None and a.tobytes() != b.tobytes()):
        return f".zarray fill_value {z.get('fill_value')!r} != manifest {e['fill_value']!r}"
    zattrs = os.path.join(tree, e["path"], ".zattrs")
    attrs = read_json(zattrs) if os.path.exists(zattrs) else {}
    if attrs != e.get("attrs", {}):
        return f".zattrs {attrs!r} != manifest {e.get('attrs')!r}"
    return None


def check_consolidated(tree, manifest):
    p = os.path.join(tree, ".zmetadata")
    if not os.path.exists(p):
        return "no .zmetadata at the root"
    zm = read_json(p)
    if zm.get("zarr_consolidated_format") != 1:
        return f"zarr_consolidated_format {zm.get('zarr_consolidated_format')!r}"
    meta = zm.get("metadata", {})
    for key, val in meta.items():
        f = os.path.join(tree, key)
        if not os.path.exists(f):
            return f".zmetadata lists {key} which is not on disk"
        ondisk = read_json(f)
        # zarr-python 3 adds members of its own to consolidated .zgroup entries; tolerate extras
        if not (ondisk == val or (isinstance(val, dict) and isinstance(ondisk, dict) and
                                  all(k in val and val[k] == v for k, v in ondisk.items()))):
            return f".zmetadata entry {key} differs from the file"
    for e in manifest["arrays"]:
        k = f"{e['path']}/.zarray"
        if k not in meta:
            return f".zmetadata misses {k}"
    for g in manifest.get("groups", []):
        k = f"{g['path']}/.zgroup" if g["path"] else ".zgroup"
        if k not in meta:
            return f".zmetadata misses {k}"
    return None


# --------------------------------------------------------------------------- readers


class ZarrReader:
    name = "zarr"

    def __init__(self, tree):
        import zarr
        self.zarr = zarr
        self.v3 = int(zarr.__version__.split(".")[0]) >= 3
        self.tree = tree
        self.label = f"zarr-python {zarr.__version__}"
        if not self.v3:
            self.store = zarr.DirectoryStore(tree)

    def skip_reason(self, e, dt):
        if self.v3 and structured_has_nested(dt):
            return f"{self.label} has no nested structured dtypes"
        if self.v3 and structured_has_subarray(dt):
            return f"{self.label} cannot open structured dtypes with sub-array fields"
        return None

    def open_array(self, path):
        if self.v3:
            return self.zarr.open_array(os.path.join(self.tree, path), mode="r", zarr_format=2)
        return self.zarr.open_array(self.store, path=path, mode="r")

    def open_group(self, path):
        if self.v3:
            return self.zarr.open_group(os.path.join(self.tree, path) if path else self.tree, mode="r",
                                        zarr_format=2, use_consolidated=False)
        return self.zarr.open_group(self.store, path=path, mode="r")

    def check_array(self, e, dt, expected, sels):
        import numcodecs
        a = self.open_array(e["path"])
        if self.v3:
            md = a.metadata
            got_dt = md.dtype.to_native_dtype()
            order, comp, filt, sep = md.order, md.compressor, md.filters, md.dimension_separator
        else:
            got_dt, order, comp, filt = a.dtype, a.order, a.compressor, a.filters
            sep = getattr(a, "_dimension_separator", None) or "."
        if got_dt != dt and as_dtype(np.zeros((), got_dt), dt) is None:
            return f"dtype {got_dt} != {dt}"
        if tuple(a.shape) != tuple(e["shape"]):
            return f"shape {a.shape} != {tuple(e['shape'])}"
        if tuple(a.chunks) != tuple(e["chunks"]):
            return f"chunks {a.chunks} != {tuple(e['chunks'])}"
        if order != e["order"]:
            return f"order {order} != {e['order']}"
        if sep != e.get("separator", "."):
            return f"dimension_separator {sep!r} != {e.get('separator')!r}"
        want_comp = numcodecs.get_codec(dict(e["compressor"])) if e["compressor"] else None
        if (comp is None) != (want_comp is None) or (comp is not None and comp != want_comp):
            return f"compressor {comp!r} != {want_comp!r}"
        want_filt = [numcodecs.get_codec(dict(f)) for f in e["filters"]] if e["filters"] else []
        if list(filt or []) != want_filt:
            return f"filters {filt!r} != {want_filt!r}"
        r = same_fill(a.fill_value, fill_from_json(e["fill_value"], dt), dt)
        if r:
            return r
        attrs = dict(a.attrs)
        if attrs != e.get("attrs", {}):
            return f"attrs {attrs!r} != {e.get('attrs')!r}"
        r = compare(a[...], expected)
        if r:
            return r
        for text, key, want in sels:
            r = compare(a[key], want, f"selection {text!r}")
            if r:
                return r
        return None

    def check_group(self, g):
        grp = self.open_group(g["path"])
        attrs = dict(grp.attrs)
        if attrs != g["attrs"]:
            return f"attrs {attrs!r} != {g['attrs']!r}"
        return None

    def consolidated_skip(self, manifest):
        for e in manifest["arrays"]:
            r = self.skip_reason(e, dtype_from_json(e["dtype"]))
            if r:
                return f"{r} ({e['path']}), and so cannot open this consolidated hierarchy"
        return None

    def check_consolidated(self, manifest):
        if self.v3:
            cg = self.zarr.open_consolidated(self.tree, zarr_format=2)
        else:
            cg = self.zarr.open_consolidated(self.store)
        for e in manifest["arrays"]:
            dt = dtype_from_json(e["dtype"])
            if self.skip_reason(e, dt):
                continue
            a = cg[e["path"]]
            if tuple(a.shape) != tuple(e["shape"]) or tuple(a.chunks) != tuple(e["chunks"]):
                return f"consolidated view of {e['path']}: shape/chunks {a.shape}/{a.chunks}"
        for g in manifest.get("groups", []):
            if g["path"]:
                if dict(cg[g["path"]].attrs) != g["attrs"]:
                    return f"consolidated view of group {g['path']}: attrs differ"
            elif dict(cg.attrs) != g["attrs"]:
                return "consolidated view of the root: attrs differ"
        return None


TS_COMPRESSORS = {"blosc", "zlib", "gzip", "bz2", "zstd"}


class TensorstoreReader:
    name = "tensorstore"

    def __init__(self, tree):
        import tensorstore as ts
        self.ts = ts
        self.tree = os.path.abspath(tree)
        from importlib.metadata import version
        self.label = f"tensorstore {version('tensorstore')}"
        self.kv = ts.KvStore.open({"driver": "file", "path": self.tree + "/"}).result()

    def skip_reason(self, e, dt):
        kinds = kinds_in(dt)
        if kinds & {"M", "m"}:
            return f"{self.label}: no datetime64/timedelta64 dtypes"
        if "U" in kinds:
            return f"{self.label}: no fixed-width unicode (U) dtypes"
        if structured_has_nested(dt):
            return f"{self.label}: no nested structured dtypes"
        if kinds & {"S", "V"}:
            # the driver opens them (as "char"/"byte" with an extra axis), but the Python binding
            # hands such data to numpy as zero-width |S0/|V0 arrays and refuses every cast
            return f"{self.label}: its Python binding returns |S/|V data as zero-width numpy arrays"
        if e["filters"]:
            return f"{self.label}: the zarr driver supports no filters"
        c = e["compressor"]
        if c is not None:
            if c.get("id") not in TS_COMPRESSORS:
                return f"{self.label}: no {c.get('id')!r} compressor"
            if c["id"] == "zstd" and set(c) - {"id", "level"}:
                return f"{self.label}: rejects zstd config members {sorted(set(c) - {'id', 'level'})}"
        return None

    def _open(self, path, field=None):
        spec = {"driver": "zarr", "kvstore": {"driver": "file", "path": self.tree + "/"}, "path": path}
        if field is not None:
            spec["field"] = field
        return self.ts.open(spec, read=True, open=True).result()

    @staticmethod
    def _ts_view(arr, dt):
        """How tensorstore presents values of numpy dtype dt: S/V as an extra bytes axis, native order."""
        arr = contiguous(arr)
        if dt.kind in "SV" and dt.names is None:
            return np.frombuffer(arr.tobytes(), dtype=np.uint8).reshape(arr.shape + (dt.itemsize,))
        return arr.astype(dt.newbyteorder("="))

    def _got_view(self, got, dt):
        got = contiguous(got)
        if dt.kind in "SV" and dt.names is None:
            if got.dtype.itemsize != 1:
                raise ValueError(f"tensorstore returned {got.dtype} for {dt}, expected single bytes")
            return np.frombuffer(got.tobytes(), dtype=np.uint8).reshape(got.shape)
        return got

    def check_array(self, e, dt, expected, sels):
        fields = [(None, dt)] if dt.names is None else [(n, dt.fields[n][0]) for n in dt.names]
        rank = len(e["shape"])
        fill = fill_from_json(e["fill_value"], dt)
        r = self._check_attrs(e["path"], e.get("attrs", {}))
        if r:
            return r
        for fname, fdt in fields:
            where = f"field {fname!r}: " if fname is not None else ""
            t = self._open(e["path"], fname)
            base = fdt.subdtype[0] if fdt.subdtype is not None else fdt
            sub = fdt.subdtype[1] if fdt.subdtype is not None else ()
            inner = sub + ((base.itemsize,) if base.kind in "SV" else ())
            want_shape = tuple(e["shape"]) + inner
            if tuple(t.shape) != want_shape:
                return f"{where}shape {tuple(t.shape)} != {want_shape}"
            rc = tuple(t.chunk_layout.read_chunk.shape or ())
            want_chunks = tuple(e["chunks"]) + inner
            if rc != want_chunks:
                return f"{where}chunks {rc} != {want_chunks}"
            io = [d for d in (t.chunk_layout.inner_order or ()) if d < rank]
            want_io = list(range(rank)) if e["order"] == "C" else list(reversed(range(rank)))
            if io != want_io:
                return f"{where}chunk inner_order {list(t.chunk_layout.inner_order)} for order {e['order']}"
            if base.kind not in "SV":
                got_dt = t.dtype.numpy_dtype
                if got_dt != base.newbyteorder("="):
                    return f"{where}dtype {got_dt} != {base.newbyteorder('=')}"
            fexp = fill if fname is None or fill is None else contiguous(fill[fname])
            tf = t.fill_value
            if fexp is None:
                if tf is not None:
                    return f"{where}fill_value {tf!r}, expected null"
            else:
                if tf is None:
                    return f"{where}fill_value null, expected {fexp!r}"
                want = self._ts_view(np.broadcast_to(fexp, sub) if sub else fexp, base)
                gotf = contiguous(self._got_view(np.asarray(tf), base)).reshape(want.shape)
                if gotf.tobytes() != contiguous(want).tobytes():
                    return f"{where}fill_value {tf!r}, expected {fexp!r}"
            exp_f = expected if fname is None else expected[fname]
            r = compare(self._got_view(t.read().result(), base), self._ts_view(exp_f, base), f"{where}values")
            if r:
                return r
            for text, key, want in sels:
                nk = normalized(key, e["shape"])
                want_f = want if fname is None else want[fname]
                r = compare(self._got_view(t[nk].read().result(), base), self._ts_view(want_f, base),
                            f"{where}selection {text!r}")
                if r:
                    return r
        return None

    def _read_json_key(self, key):
        res = self.kv.read(key).result()
        if res.state != "value":
            return None
        return json.loads(bytes(res.value).decode("utf-8"))

    def _check_attrs(self, path, want):
        attrs = self._read_json_key(f"{path}/.zattrs" if path else ".zattrs")
        attrs = {} if attrs is None else attrs
        if attrs != want:
            return f"attrs (read through tensorstore's kvstore) {attrs!r} != {want!r}"
        return None

    def check_group(self, g):
        zg = self._read_json_key(f"{g['path']}/.zgroup" if g["path"] else ".zgroup")
        if zg != {"zarr_format": 2}:
            return f".zgroup {zg!r}"
        return self._check_attrs(g["path"], g["attrs"])

    def consolidated_skip(self, manifest):
        return None

    def check_consolidated(self, manifest):
        return None  # tensorstore does not read consolidated metadata; the JSON check still runs


# --------------------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reader", required=True, choices=["zarr", "tensorstore"])
    ap.add_argument("--manifest")
    ap.add_argument("--verbose", action="store_true", help="print tracebacks of reader errors")
    ap.add_argument("tree")
    args = ap.parse_args()

    tree = os.path.abspath(args.tree)
    mpath = os.path.abspath(args.manifest or os.path.join(tree, "manifest.json"))
    try:
        manifest = read_json(mpath)
        arrays = manifest["arrays"]
    except Exception as ex:
        print(f"cannot read manifest {mpath}: {ex}")
        print("0 passed, 1 failed")
        return 2
    base = os.path.dirname(mpath)
    reader = ZarrReader(tree) if args.reader == "zarr" else TensorstoreReader(tree)
    print(f"# reader: {reader.label}; tree: {tree}; manifest: {mpath}")

    passed = failed = skipped = 0

    def report(status, path, why=None):
        nonlocal passed, failed, skipped
        if status == "ok":
            passed += 1
            print(f"ok {path}")
        elif status == "skip":
            skipped += 1
            print(f"skip {path}: {why}")
        else:
            failed += 1
            print(f"FAIL {path}: {why}")
        sys.stdout.flush()

    if not arrays:
        report("FAIL", "manifest", "lists no arrays")

    for e in arrays:
        path = e.get("path", "?")
        try:
            dt = dtype_from_json(e["dtype"])
            expected = np.load(os.path.join(base, e["expected"]), allow_pickle=False)
            if expected.dtype != dt or expected.shape != tuple(e["shape"]):
                report("FAIL", path, f"expected file has {expected.dtype}{expected.shape}, manifest says "
                                     f"{dt}{tuple(e['shape'])}")
                continue
            sels = []
            stem = os.path.splitext(e["expected"])[0]
            for i, text in enumerate(e.get("selections") or []):
                key = parse_selection(text, tuple(e["shape"]))
                want = np.load(os.path.join(base, f"{stem}__sel{i}.npy"), allow_pickle=False)
                r = compare(want, expected[key + (Ellipsis,)], f"manifest selection {text!r} vs expected")
                if r:
                    raise ValueError(f"inconsistent manifest: {r}")
                sels.append((text, key, want))
            r = check_raw(tree, e)
            if r:
                report("FAIL", path, r)
                continue
            why = reader.skip_reason(e, dt)
            if why:
                report("skip", path, why)
                continue
            r = reader.check_array(e, dt, expected, sels)
            report("FAIL" if r else "ok", path, r)
        except Exception as ex:
            if args.verbose:
                traceback.print_exc()
            report("FAIL", path, f"{type(ex).__name__}: {str(ex).splitlines()[0] if str(ex) else ''}"[:400])

    for g in manifest.get("groups", []):
        label = (g["path"] or "") + "/"
        try:
            r = reader.check_group(g)
            report("FAIL" if r else "ok", label, r)
        except Exception as ex:
            if args.verbose:
                traceback.print_exc()
            report("FAIL", label, f"{type(ex).__name__}: {str(ex).splitlines()[0] if str(ex) else ''}"[:400])

    if manifest.get("consolidated"):
        try:
            r = check_consolidated(tree, manifest)
            why = None if r else reader.consolidated_skip(manifest)
            if why:
                report("skip", ".zmetadata", why)
            else:
                r = r or reader.check_consolidated(manifest)
                report("FAIL" if r else "ok", ".zmetadata", r)
        except Exception as ex:
            if args.verbose:
                traceback.print_exc()
            report("FAIL", ".zmetadata", f"{type(ex).__name__}: {ex}"[:400])

    for s in manifest.get("skipped", []):
        report("skip", s.get("path", "?"), f"not written: {s.get('reason', '')}")

    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
