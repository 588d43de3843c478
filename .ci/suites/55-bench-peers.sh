#!/usr/bin/env bash
# Benchmark harness against its Python peers: the tiny end-to-end runs of tessera-bench with
# tensorstore, zarr-python and h5py (benches/peers.py) must deliver the same bytes as tessera.
# The zarr3 venv (as 40-python-readback.sh builds it) gets benches/requirements-peers.txt on top
# (h5py, hdf5plugin; the same numpy pin). `cargo test --workspace` skips these two tests when the
# venv is not there yet; here it is.
set -euo pipefail
cd "$(dirname "$0")/../.."
( source .ci/venv.sh zarr3 fixtures/zarr/requirements-zarr3.txt \
    .ci/readback/requirements-tensorstore.txt benches/requirements-peers.txt )
TESSERA_BENCH_PYTHON="$(pwd)/.venv-zarr3/bin/python" \
  cargo test -p tessera-bench --test end_to_end -- python_peers hdf5_peer
