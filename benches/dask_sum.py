"""Issue 15's Dask target: a whole-array sum on a distributed LocalCluster (2 worker processes),
``tessera.to_dask(a).sum()`` against ``dask.array.from_zarr`` over zarr-python, same data, same run.

    python benches/dask_sum.py [--size-mib 64] [--repeat 3] [--dir DIR]

Needs numpy, zarr (3.x), dask[array], distributed and the tessera package (the venv of CI suite 50,
`crates/tessera-python/requirements-test.txt`, plus `pip install crates/tessera-python`). The array
is a smooth ``<u2`` field plus noise (as `tessera bench` writes), stored by zarr-python as Zarr v2 with
its default compressor (blosc lz4, shuffle) in 64x256x256 chunks. Each library's sum runs ``repeat``
times, alternating, after one untimed warm-up each; the median and the best run are reported as
JSON on stdout (on a busy machine the best run is the steadier figure).
"""

import argparse
import json
import os
import statistics
import tempfile
import time

import dask
import dask.array as da
import distributed
import numpy as np
import zarr
from distributed import Client, LocalCluster

import tessera


def field(shape, seed=17):
    rng = np.random.default_rng(seed)
    z, y, x = np.meshgrid(*(np.linspace(0, 4 * np.pi, n, dtype=np.float32) for n in shape),
                          indexing="ij", sparse=True)
    smooth = (np.sin(z) + np.cos(y) * np.sin(x) + 3) * 8000
    return (smooth + rng.integers(0, 64, size=shape)).astype("<u2")


def timed(compute):
    t0 = time.perf_counter()
    value = compute()
    return time.perf_counter() - t0, value


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()
    side = round((args.size_mib * 2**20 / 2) ** (1 / 3))
    shape = (side // 64 * 64 or 64, side, side)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = os.path.join(tmp, "field.zarr")
        data = field(shape)
        z = zarr.create_array(path, shape=shape, chunks=(64, 256, 256), dtype="<u2",
                              zarr_format=2)
        z[...] = data
        expected = int(data.sum(dtype=np.uint64))
        del data
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster):
            runs = {
                "tessera": lambda: tessera.to_dask(tessera.open_array(path))
                .sum(dtype=np.uint64).compute(),
                "zarr-python": lambda: da.from_zarr(path).sum(dtype=np.uint64).compute(),
            }
            times = {name: [] for name in runs}
            for name, run in runs.items():
                _, value = timed(run)
                if int(value) != expected:
                    raise SystemExit(f"{name} summed {value}, expected {expected}")
            for _ in range(args.repeat):
                for name, run in runs.items():
                    seconds, value = timed(run)
                    if int(value) != expected:
                        raise SystemExit(f"{name} summed {value}, expected {expected}")
                    times[name].append(seconds)
    median = {name: statistics.median(t) for name, t in times.items()}
    best = {name: min(t) for name, t in times.items()}
    print(json.dumps({
        "shape": shape,
        "bytes": int(np.prod(shape)) * 2,
        "seconds": median,
        "runs": times,
        "best_seconds": best,
        "ratio_tessera_over_zarr_python": median["tessera"] / median["zarr-python"],
        "best_ratio_tessera_over_zarr_python": best["tessera"] / best["zarr-python"],
        "versions": {"zarr": zarr.__version__, "dask": dask.__version__,
                     "distributed": distributed.__version__, "numpy": np.__version__},
    }, indent=1))


if __name__ == "__main__":
    main()
