#!/usr/bin/env bash
# The `tessera` Python package (crates/tessera-python): README's install line, then its pytest suite
# against zarr-python 3.1.6 (format 2) and the fixtures in fixtures/zarr, with Dask (a distributed
# LocalCluster of two worker processes) and xarray.
#
# 1. venv .venv-python-package from crates/tessera-python/requirements-test.txt (numpy/zarr pins as
#    fixtures/zarr/requirements-zarr3.txt; dask, distributed, xarray, pytest, maturin pinned).
# 2. `python -m pip install crates/tessera-python`: maturin builds the abi3 wheel. CI builds with the
#    `python-ci` cargo profile (no LTO, more codegen units; see the root Cargo.toml) to keep the build
#    short; a user's install builds the release profile.
# 3. pytest crates/tessera-python/tests, run from outside the source tree so the installed package
#    (not python/tessera without its native module) is imported.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT="$(pwd)"

echo "-- venv"
# shellcheck disable=SC1091
source .ci/venv.sh python-package crates/tessera-python/requirements-test.txt
python -c 'import numpy, zarr, dask, distributed, xarray; print("python-package venv:", "numpy", numpy.__version__, "zarr", zarr.__version__, "dask", dask.__version__, "xarray", xarray.__version__)'

echo "-- pip install crates/tessera-python"
start=$(date +%s)
CARGO_TARGET_DIR="$ROOT/target" python -m pip install --quiet --disable-pip-version-check \
  --no-build-isolation --force-reinstall --no-deps \
  --config-settings=build-args="--profile python-ci" \
  crates/tessera-python
echo "wheel built and installed in $(( $(date +%s) - start )) s"

echo "-- pytest"
cd "$ROOT/crates/tessera-python/tests"
python -m pytest -q -p no:cacheprovider --import-mode=prepend .
