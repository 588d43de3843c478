#!/usr/bin/env python3
"""Read the object (`|O`) arrays of a tree with zarr-python and compare them with its manifest.

Usage: check_object_readback.py TREE

TREE holds manifest.json in the format of fixtures/zarr/objects/ (written by that generate.py, or by
tessera's `write_object_readback` example): per array its path, kind and values (flat, C order;
text as str, bytes as base64, ragged rows as lists, JSON values as they are). `null` expected for
text or bytes also accepts "" / b"" (zarr-python 2.18 returns None where zarr-python 3 returns "").
Arrays this zarr-python cannot open (zarr 3 has no data type for json2, msgpack2 and vlen-array
object arrays) are reported as skips, as are msgpack2 arrays without the msgpack package.
Prints `N passed, N failed, N skipped`; exits 1 on any failure.
"""

import base64
import json
import sys
from pathlib import Path

import numpy as np
import zarr

ZARR_MAJOR = int(zarr.__version__.split(".")[0])


def comparable(values, kind):
    out = []
    for v in np.asarray(values, dtype=object).reshape(-1):
        if v is None:
            out.append(None)
        elif kind == "text":
            out.append(str(v))
        elif kind == "bytes":
            out.append(base64.b64encode(v).decode() if isinstance(v, bytes) else v)
        elif kind == "rows":
            out.append(np.asarray(v).tolist())
        else:
            out.append(v.tolist() if hasattr(v, "tolist") else v)
    return out


def same(got, want, kind):
    if len(got) != len(want):
        return False
    empty = {"text": "", "bytes": ""}.get(kind)
    return all(g == w or (w is None and g == empty) or (g is None and w == empty) for g, w in zip(got, want))


def main():
    tree = Path(sys.argv[1])
    manifest = json.loads((tree / "manifest.json").read_text())
    passed, failed, skipped = 0, [], []
    for entry in manifest["arrays"]:
        path, kind = entry["path"], entry["kind"]
        filters = entry["zarray"].get("filters") or [{}]
        codec = filters[0].get("id")
        if ZARR_MAJOR >= 3 and codec in ("json2", "msgpack2", "vlen-array"):
            skipped.append(f"{path} (zarr {zarr.__version__} has no data type for {codec} arrays)")
            continue
        if codec == "msgpack2":
            try:
                import msgpack  # noqa: F401
            except ImportError:
                skipped.append(f"{path} (msgpack is not installed)")
                continue
        try:
            got = comparable(zarr.open_array(str(tree / path), mode="r")[...], kind)
        except Exception as e:  # report every failing array, not only the first
            failed.append(f"{path}: {type(e).__name__}: {e}")
            continue
        if same(got, entry["values"], kind):
            passed += 1
        else:
            failed.append(f"{path}: read {got!r:.300}, expected {entry['values']!r:.300}")
    for f in failed:
        print("FAIL", f)
    for s in skipped:
        print("skip", s)
    print(f"object readback (zarr {zarr.__version__}): {passed} passed, {len(failed)} failed, {len(skipped)} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
