#!/usr/bin/env python3
"""numpy <-> tessera-mmap .npy interoperability, both directions.

    npy_interop.py write-cases DIR   numpy writes .npy files of many dtypes and DIR/manifest.json with
                                     what tessera must read from each (the Rust example checks them:
                                     `cargo run -p tessera-mmap --example npy_interop -- check DIR`)
    npy_interop.py check-rust DIR    numpy reads the .npy files the Rust example wrote
                                     (`... --example npy_interop -- write DIR`) and checks them against
                                     the manifest the example wrote beside them

Manifest format (both directions): {"cases": [{"name", "file", "dtype" (the .zarray JSON form),
"shape", "fortran_order", "expected" (file of the C-order bytes in the stored dtype), optional "values"
(C-order numbers: int, float or [re, im]; bools as 0/1; datetimes as int64), optional "selection" (text,
numpy slicing syntax) with "selection_expected" (file of its C-order bytes)}]}.
Exit status 0 when every case passes; each failure is printed.
"""
import ast
import json
import struct
import sys
from pathlib import Path

import numpy as np


def descr_to_json(dt):
    """A numpy dtype in the JSON form of .zarray's dtype: a type string or a list of fields."""
    if dt.fields is None:
        if dt.subdtype is not None:
            raise ValueError(f"bare sub-array dtype {dt}")
        return dt.str
    out = []
    for name in dt.names:
        field = dt.fields[name][0]
        if field.subdtype is not None:
            base, shape = field.subdtype
            out.append([name, descr_to_json(base), list(shape)])
        else:
            out.append([name, descr_to_json(field)])
    return out


def json_to_dtype(value):
    if isinstance(value, str):
        return np.dtype(value)
    fields = []
    for item in value:
        if len(item) == 3:
            fields.append((item[0], json_to_dtype(item[1]), tuple(item[2])))
        else:
            fields.append((item[0], json_to_dtype(item[1])))
    return np.dtype(fields)


def plain_values(arr):
    """C-order values of a numeric array as JSON-friendly numbers, or None for other kinds."""
    kind = arr.dtype.kind
    flat = np.ascontiguousarray(arr).reshape(-1)
    if kind == "b":
        return [int(v) for v in flat]
    if kind in "iu":
        return [int(v) for v in flat]
    if kind == "f":
        return [float(v) for v in flat]
    if kind == "c":
        return [[float(v.real), float(v.imag)] for v in flat]
    if kind in "mM":
        return [int(v) for v in flat.astype(flat.dtype.newbyteorder("=")).view(np.int64)]
    return None


def selection_for(arr):
    """A strided selection to read back, in the text form both sides parse."""
    if arr.ndim == 0 or arr.size == 0:
        return None
    if arr.ndim == 1:
        return "1::2", arr[1::2]
    return "::2, ..., 1:", arr[::2, ..., 1:]


def numpy_cases():
    rng = np.random.default_rng(20240601)
    cases = {}
    scalars = [
        "|b1", "|i1", "|u1", "<i2", ">i2", "<i4", ">i4", "<i8", ">i8", "<u2", ">u2", "<u4", ">u4", "<u8", ">u8",
        "<f2", ">f2", "<f4", ">f4", "<f8", ">f8", "<c8", ">c8", "<c16", ">c16", "<M8[ns]", ">M8[D]", "<m8[s]",
        ">m8[ms]", "|S5", "<U3", ">U2", "|V4",
    ]
    for ts in scalars:
        dt = np.dtype(ts)
        if dt.kind == "b":
            arr = rng.integers(0, 2, size=(3, 4)).astype(dt)
        elif dt.kind in "iu":
            info = np.iinfo(dt)
            arr = rng.integers(info.min, info.max, size=(3, 4), dtype=dt.newbyteorder("=")).astype(dt)
        elif dt.kind == "f":
            arr = (rng.standard_normal((3, 4)) * 100).astype(dt)
        elif dt.kind == "c":
            arr = (rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))).astype(dt)
        elif dt.kind in "mM":
            arr = rng.integers(-(10**12), 10**12, size=(3, 4)).astype(np.int64).view(dt.newbyteorder("=")).astype(dt)
        elif dt.kind == "S":
            arr = np.array([[b"ab", b"", b"hello", b"x\x00y"], [b"12345", b"z", b"q", b"w"], [b"a", b"b", b"c", b"d"]], dtype=dt)
        elif dt.kind == "U":
            arr = np.array([["a", "é", "日本"], ["", "xyz", "€"], ["q", "r", "s"], ["1", "2", "3"]], dtype=dt).T
        else:
            arr = rng.integers(0, 256, size=(3, 4, 4), dtype=np.uint8).view(dt).reshape(3, 4)
        name = ts.replace("<", "le_").replace(">", "be_").replace("|", "").replace("[", "_").replace("]", "")
        cases[name] = (arr, {})
    cases["f_order_f4"] = (np.asfortranarray(np.arange(60, dtype="<f4").reshape(3, 4, 5)), {})
    cases["f_order_be_i8"] = (np.asfortranarray(np.arange(-20, 22, dtype=">i8").reshape(6, 7)), {})
    cases["zero_d_f8"] = (np.array(3.25, dtype="<f8"), {})
    cases["zero_d_be_u2"] = (np.array(513, dtype=">u2"), {})
    cases["empty_f4"] = (np.zeros((0, 3), dtype="<f4"), {})
    cases["empty_be_i2"] = (np.zeros((2, 0, 4), dtype=">i2"), {})
    rec = np.dtype([("id", "<u2"), ("pos", ">f8", (3,)), ("name", "S3"), ("n", [("a", "i1"), ("b", "<U2", (2,))])])
    r = np.zeros(6, dtype=rec)
    r["id"] = np.arange(6) * 1000
    r["pos"] = rng.standard_normal((6, 3))
    r["name"] = [b"ab", b"cde", b"", b"x", b"yy", b"zzz"]
    r["n"]["a"] = np.arange(-3, 3)
    r["n"]["b"] = [["p", "q"], ["é", "r"], ["", "s"], ["t", "u"], ["v", "w"], ["x", "y"]]
    cases["structured"] = (r, {})
    cases["structured_f_order"] = (np.asfortranarray(np.tile(r, 4).reshape(4, 6)), {})
    cases["version_2"] = (np.arange(12, dtype="<i4").reshape(3, 4), {"version": (2, 0)})
    cases["version_3_utf8_names"] = (np.zeros(3, dtype=[("température", "<f4"), ("ü", "|u1")]), {"version": (3, 0)})
    return cases


def write_cases(out):
    out.mkdir(parents=True, exist_ok=True)
    manifest = []
    for name, (arr, opts) in numpy_cases().items():
        file = out / f"{name}.npy"
        if "version" in opts:
            with open(file, "wb") as f:
                np.lib.format.write_array(f, arr, version=opts["version"])
        else:
            np.save(file, arr)
        fortran = bool(arr.ndim > 1 and arr.flags.f_contiguous and not arr.flags.c_contiguous)
        (out / f"{name}.expected").write_bytes(arr.tobytes(order="C"))
        case = {
            "name": name,
            "file": file.name,
            "dtype": descr_to_json(arr.dtype),
            "shape": list(arr.shape),
            "fortran_order": fortran,
            "expected": f"{name}.expected",
        }
        values = plain_values(arr)
        if values is not None:
            case["values"] = values
        sel = selection_for(arr)
        if sel is not None:
            (out / f"{name}.sel").write_bytes(sel[1].tobytes(order="C"))
            case["selection"] = sel[0]
            case["selection_expected"] = f"{name}.sel"
        manifest.append(case)
    (out / "manifest.json").write_text(json.dumps({"writer": f"numpy {np.__version__}", "cases": manifest}, indent=1))
    print(f"numpy {np.__version__} wrote {len(manifest)} .npy files to {out}")


def read_header(path):
    """(shape, fortran_order, dtype) straight from the header, whatever the format version."""
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            return np.lib.format.read_array_header_1_0(f, max_header_size=1 << 20)
        if version == (2, 0):
            return np.lib.format.read_array_header_2_0(f, max_header_size=1 << 20)
        # numpy has no public reader for 3.0 (UTF-8) headers: the same dict, read by hand.
        (length,) = struct.unpack("<I", f.read(4))
        d = ast.literal_eval(f.read(length).decode("utf-8"))
        return d["shape"], d["fortran_order"], np.dtype(d["descr"])


def check_rust(root):
    manifest = json.loads((root / "manifest.json").read_text())
    failures = []
    for case in manifest["cases"]:
        name = case["name"]
        try:
            path = root / case["file"]
            dtype = json_to_dtype(case["dtype"])
            expected = (root / case["expected"]).read_bytes()
            shape, fortran, _ = read_header(path)
            if list(shape) != case["shape"] or fortran != case["fortran_order"]:
                raise AssertionError(f"header says shape {shape}, fortran_order {fortran}")
            for how in ("load", "mmap"):
                arr = np.load(path, mmap_mode="r" if how == "mmap" else None, max_header_size=1 << 20)
                problems = []
                if arr.dtype != dtype:
                    problems.append(f"dtype {arr.dtype.descr} != {dtype.descr}")
                if list(arr.shape) != case["shape"]:
                    problems.append(f"shape {arr.shape} != {case['shape']}")
                # Arrays with at most one axis longer than 1 are both C and F contiguous.
                either = sum(d > 1 for d in arr.shape) <= 1 or arr.size == 0
                if case["fortran_order"] and not (arr.flags.f_contiguous and (either or not arr.flags.c_contiguous)):
                    problems.append("expected a Fortran-order array")
                if not case["fortran_order"] and not arr.flags.c_contiguous:
                    problems.append("expected a C-order array")
                if arr.tobytes(order="C") != expected:
                    problems.append("bytes differ")
                if "values" in case and plain_values(np.asarray(arr)) != case["values"]:
                    problems.append(f"values differ: {plain_values(np.asarray(arr))[:6]}... != {case['values'][:6]}...")
                if problems:
                    raise AssertionError(f"{how}: " + "; ".join(problems))
            print(f"ok   {name}")
        except Exception as e:  # noqa: BLE001 - report every case
            print(f"FAIL {name}: {e}")
            failures.append(name)
    if not manifest["cases"]:
        failures.append("the manifest lists no cases")
    print(f"numpy {np.__version__} checked {len(manifest['cases'])} files written by {manifest.get('writer', '?')}: "
          f"{len(failures)} failed")
    return 1 if failures else 0


def main(argv):
    if len(argv) != 3 or argv[1] not in ("write-cases", "check-rust"):
        print(__doc__, file=sys.stderr)
        return 2
    if argv[1] == "write-cases":
        write_cases(Path(argv[2]))
        return 0
    return check_rust(Path(argv[2]))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
