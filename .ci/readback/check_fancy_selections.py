"""zarr-python's fancy selections on the committed fixtures equal `tessera export`'s.

Usage: python check_fancy_selections.py TESSERA_BIN ROOT MANIFEST [MANIFEST...]

For every fixed-size array of each manifest (paths relative to ROOT), with a seeded generator:
  - oindex: an integer list per axis (any order, repeats, negative) and a boolean mask of axis 0,
    against `tessera export --select '[..],[..]'` and `--select '[True,...],...'`;
  - vindex: points, against `--points FILE.npy`; an N-d mask, against `--mask FILE.npy`;
  - structured arrays: get_basic_selection(fields=...) for each field and for all fields in reverse
    order, against `--field` (with zarr-python 3, whose fields= is broken: z[...][fields]).
Results are compared by shape, dtype and bytes (so NaN payloads and byte order count). Prints one
line per array and exits non-zero if any comparison failed.
"""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import zarr


def export(tessera, store, path, out, flags):
    cmd = [tessera, "export", store, "--array", path, "-o", out, *flags]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {run.stderr.strip()}")
    return np.load(out)


def same(got, want):
    want = np.asarray(want)
    if got.shape != want.shape:
        return f"shape {got.shape} != {want.shape}"
    if got.dtype != want.dtype:
        # zarr-python may return native byte order; compare values in tessera's stored dtype.
        try:
            want = want.astype(got.dtype)
        except (TypeError, ValueError) as e:
            return f"dtype {got.dtype} vs {want.dtype}: {e}"
    if got.tobytes() != want.tobytes():
        return "values differ"
    return None


def spec(items):
    return "[" + ",".join(str(bool(i)) if isinstance(i, (bool, np.bool_)) else str(int(i)) for i in items) + "]"


def check_array(tessera, root, path, rng, tmp):
    z = zarr.open_array(os.path.join(root, path), mode="r")
    if z.dtype.kind == "O" or z.ndim == 0 or 0 in z.shape:
        return None, 0
    out = os.path.join(tmp, "out.npy")
    problems, checks = [], 0

    def compare(label, want, flags):
        nonlocal checks
        checks += 1
        try:
            got = export(tessera, root, path, out, flags)
        except RuntimeError as e:
            problems.append(f"{label}: {e}")
            return
        bad = same(got, want)
        if bad:
            problems.append(f"{label} ({' '.join(flags)}): {bad}")

    # oindex: integer lists per axis.
    lists = [rng.integers(-n, n, size=rng.integers(1, 5)) for n in z.shape]
    compare("oindex lists", z.oindex[tuple(lists)], ["--select", ",".join(spec(l) for l in lists)])
    # oindex: a mask of axis 0 and a list of the last axis.
    mask0 = rng.random(z.shape[0]) < 0.5
    sel = [mask0] + [slice(None)] * (z.ndim - 1)
    text = [spec(mask0)] + [":"] * (z.ndim - 1)
    if z.ndim > 1:
        sel[-1] = lists[-1]
        text[-1] = spec(lists[-1])
    compare("oindex mask", z.oindex[tuple(sel)], ["--select", ",".join(text)])
    # vindex: points, given as an (n, ndim) int64 array.
    n = 7
    pts = np.stack([rng.integers(-d, d, size=n) for d in z.shape], axis=1).astype("<i8")
    pfile = os.path.join(tmp, "points.npy")
    np.save(pfile, pts)
    compare("vindex points", z.vindex[tuple(pts.T)], ["--points", pfile])
    # vindex: an N-d mask of the array's shape.
    mask = rng.random(z.shape) < 0.3
    mfile = os.path.join(tmp, "mask.npy")
    np.save(mfile, mask)
    compare("vindex mask", z.vindex[mask], ["--mask", mfile])
    # Structured: fields alone, then several in another order.
    names = list(z.dtype.names or [])

    def fields(f):
        # zarr-python 3.1's fields= is broken (one field: TypeError casting the records into the
        # field's dtype; several: wrong bytes), so with zarr 3 the fields of its records are used.
        if zarr.__version__.startswith("2."):
            return z.get_basic_selection(..., fields=f)
        return z[...][f]

    for name in names:
        compare(f"field {name}", fields(name), ["--field", name])
    if len(names) > 1:
        rev = names[::-1]
        want = fields(rev)
        # numpy keeps the fields' offsets in a multi-field view; tessera packs them.
        packed = np.empty(want.shape, dtype=[(f, want.dtype.fields[f][0]) for f in rev])
        for f in rev:
            packed[f] = want[f]
        compare("fields " + ",".join(rev), packed, ["--field", ",".join(rev)])
    return problems, checks


def main():
    tessera, root, manifests = sys.argv[1], sys.argv[2], sys.argv[3:]
    rng = np.random.default_rng(16)
    failed = total = 0
    with tempfile.TemporaryDirectory() as tmp:
        for manifest in manifests:
            with open(manifest) as f:
                arrays = json.load(f)["arrays"]
            base = os.path.dirname(manifest) if root == "-" else root
            for entry in arrays:
                problems, checks = check_array(tessera, base, entry["path"], rng, tmp)
                if problems is None:
                    continue
                total += checks
                status = "ok" if not problems else "FAIL"
                print(f"{status} {entry['path']} ({checks} selections)")
                for p in problems:
                    print(f"    {p}")
                failed += bool(problems)
    print(f"fancy selections: {total} comparisons, {failed} arrays failed, zarr {zarr.__version__}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
