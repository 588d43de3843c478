"""Reads OUTDIR/store.zarr (Zarr v2, or v3 with inline consolidated metadata) with zarr-python's open_consolidated and compares it with
OUTDIR/expected.json (both written by `cargo run --example write_consolidated_updates -- OUTDIR`).

open_consolidated takes every node's metadata from the root's .zmetadata, so this checks that
tessera's resizes, appends, attribute writes and creates after consolidation updated it.
Works with zarr-python 2.18 and 3.x. Exits 1 on the first mismatch.
"""
import json
import os
import sys

import numpy as np
import zarr


def main(outdir):
    with open(os.path.join(outdir, "expected.json")) as f:
        expected = json.load(f)
    store = os.path.join(outdir, "store.zarr")
    v3 = os.path.exists(os.path.join(store, "zarr.json"))
    if zarr.__version__.startswith("2."):
        if v3:
            print("consolidated readback: zarr-python 2 does not read Zarr v3; skipped")
            return 0
        root = zarr.open_consolidated(store, mode="r")
    else:
        root = zarr.open_consolidated(store, mode="r", zarr_format=3 if v3 else 2)
    problems = []
    for path, want in expected["arrays"].items():
        try:
            arr = root[path]
        except KeyError:
            problems.append(f"{path}: not in the consolidated metadata")
            continue
        if list(arr.shape) != want["shape"]:
            problems.append(f"{path}: shape {list(arr.shape)}, expected {want['shape']}")
            continue
        data = np.asarray(arr[...])
        if not np.array_equal(data, np.array(want["data"], dtype=want["dtype"])):
            problems.append(f"{path}: values differ: {data.tolist()} != {want['data']}")
    for path, want in expected["attributes"].items():
        got = dict(root[path].attrs)
        if got != want:
            problems.append(f"{path}: attributes {got}, expected {want}")
    for p in problems:
        print("MISMATCH", p)
    if problems:
        return 1
    fmt = "v3" if v3 else "v2"
    print(f"consolidated {fmt} readback ({zarr.__version__}): {len(expected['arrays'])} arrays match")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
