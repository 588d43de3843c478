#!/usr/bin/env python3
"""Compares a Zarr v2 hierarchy with its `tessera copy --zarr-format 3 --shards ...` copy, both read by
zarr-python 3: every array of the source is in the copy, as a sharded v3 array with the same values
(strings included), and the groups keep their attributes.

Usage: check_copy_v3.py SRC DST SHARDS   (SHARDS like 4,4). Exits 1 on any difference.
"""
import sys

import numpy as np
import zarr


def arrays(group, prefix=""):
    for name, node in group.members():
        path = f"{prefix}{name}"
        if isinstance(node, zarr.Array):
            yield path, node
        else:
            yield from arrays(node, path + "/")


def main(src, dst, shards):
    shards = tuple(int(s) for s in shards.split(","))
    a = zarr.open_group(src, mode="r", zarr_format=2)
    b = zarr.open_group(dst, mode="r", zarr_format=3)
    problems, checked = [], 0
    for path, arr in arrays(a):
        try:
            copy = b[path]
        except KeyError:
            problems.append(f"{path}: missing in the copy")
            continue
        if copy.metadata.zarr_format != 3 or tuple(copy.shards or ()) != shards:
            problems.append(f"{path}: format {copy.metadata.zarr_format}, shards {copy.shards}")
        want, got = arr[...], copy[...]
        if want.dtype == object or got.dtype.kind in "OT":
            same = [str(x) for x in np.asarray(want, dtype=object).ravel()] == \
                   [str(x) for x in np.asarray(got, dtype=object).ravel()]
        else:
            same = want.dtype == got.dtype and np.array_equal(want, got, equal_nan=want.dtype.kind in "fc")
        if not same or want.shape != got.shape:
            problems.append(f"{path}: values differ")
        if dict(arr.attrs) != dict(copy.attrs):
            problems.append(f"{path}: attributes differ")
        checked += 1
    for p in problems:
        print("MISMATCH", p)
    print(f"copy --zarr-format 3 --shards {shards}: {checked} arrays compared, {len(problems)} problems")
    return 1 if problems or checked == 0 else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
