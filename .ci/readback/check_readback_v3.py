#!/usr/bin/env python3
"""Reads a Zarr v3 tree described by manifest-v3.json with zarr-python 3 or tensorstore and checks
every array value for value (and, with zarr-python, attributes, dimension names, shards and the
consolidated metadata).

Usage: check_readback_v3.py --reader zarr|tensorstore TREE
The manifest is written by `cargo run --example write_readback_v3 -- TREE` (tessera) or by
fixtures/zarr/generate_v3.py (zarr-python, the self-check). Prints one line per array and a
closing 'N passed, N failed, N skipped' line; exits non-zero when anything failed.
"""
import argparse
import base64
import json
import os
import sys
import warnings

import numpy as np

warnings.simplefilter("ignore")

# tensorstore's zarr3 driver reads the core numeric types only.
TENSORSTORE_KINDS = "biufc"


def same(got, want):
    got = np.asarray(got)
    if got.shape != want.shape:
        return f"shape {got.shape} != {want.shape}"
    if want.dtype.names is None and got.dtype != want.dtype:
        try:
            got = got.astype(want.dtype)
        except (TypeError, ValueError) as e:
            return f"dtype {got.dtype} != {want.dtype}: {e}"
    if want.dtype.kind in "fc":
        if np.array_equal(got, want, equal_nan=True):
            return None
    elif got.tobytes() == np.ascontiguousarray(want).tobytes():
        return None
    return "values differ"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reader", choices=["zarr", "tensorstore"], required=True)
    ap.add_argument("tree")
    args = ap.parse_args()
    tree = os.path.abspath(args.tree)
    manifest = json.load(open(os.path.join(tree, "manifest-v3.json")))
    passed = failed = skipped = 0

    def report(ok, what, why=""):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"FAIL {args.reader}: {what}: {why}")

    if args.reader == "zarr":
        import zarr
        root = zarr.open_consolidated(tree, mode="r", zarr_format=3)
        for g in manifest["groups"]:
            node = root if g["path"] == "" else root[g["path"]]
            report(dict(node.attrs) == g["attrs"], f"group {g['path']!r} attributes", dict(node.attrs))
        names = {p for p, _ in root.members(max_depth=None)}
        for a in manifest["arrays"] + manifest.get("vlen", []):
            report(a["path"] in names, f"{a['path']} listed in consolidated metadata")
    else:
        import tensorstore as ts

    for a in manifest["arrays"]:
        path = a["path"]
        want = np.load(os.path.join(tree, a["expected"]), allow_pickle=False)
        if args.reader == "zarr":
            try:
                arr = zarr.open_array(os.path.join(tree, path), mode="r", zarr_format=3)
                got = arr[...]
                if a.get("shards") is not None and list(arr.shards or ()) != a["shards"]:
                    report(False, path, f"shards {arr.shards} != {a['shards']}")
                    continue
            except Exception as e:  # noqa: BLE001 - report and go on
                report(False, path, f"{type(e).__name__}: {e}")
                continue
        else:
            if want.dtype.kind not in TENSORSTORE_KINDS or want.dtype.names is not None:
                skipped += 1
                print(f"skip tensorstore: {path} ({want.dtype} is not a zarr3 core type)")
                continue
            codecs = json.dumps(json.load(open(os.path.join(tree, path, "zarr.json")))["codecs"])
            if '"numcodecs.' in codecs:
                skipped += 1
                print(f"skip tensorstore: {path} (numcodecs.* codecs are zarr-python's own)")
                continue
            try:
                t = ts.open({"driver": "zarr3", "kvstore": {"driver": "file", "path": os.path.join(tree, path)}},
                            read=True).result()
                got = t.read().result()
            except Exception as e:  # noqa: BLE001
                report(False, path, f"{type(e).__name__}: {e}")
                continue
        why = same(got, want)
        report(why is None, path, why)
    # Variable-length `string` and `bytes` arrays: values as nested lists, bytes as base64.
    for a in manifest.get("vlen", []):
        path = a["path"]
        if args.reader != "zarr":
            skipped += 1
            print(f"skip tensorstore: {path} (its zarr3 driver has no variable-length types)")
            continue
        try:
            arr = zarr.open_array(os.path.join(tree, path), mode="r", zarr_format=3)
            got = arr[...]
        except Exception as e:  # noqa: BLE001
            report(False, path, f"{type(e).__name__}: {e}")
            continue
        if list(got.shape) != a["shape"]:
            report(False, path, f"shape {got.shape} != {a['shape']}")
            continue
        flat = []
        for v in np.asarray(got, dtype=object).reshape(-1):
            flat.append(base64.b64encode(v).decode() if isinstance(v, bytes) else str(v))
        want = np.asarray(a["values"], dtype=object).reshape(-1).tolist()
        report(flat == want, path, f"values differ: {flat[:6]} != {want[:6]}")
    print(f"{args.reader} v3 readback of {tree}")
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
