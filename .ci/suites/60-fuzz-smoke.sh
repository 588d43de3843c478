#!/usr/bin/env bash
# Fuzz smoke run: builds every cargo-fuzz target in fuzz/ (the codec_* and array_* targets, and any
# added later: the list comes from `cargo fuzz list`) and runs each for a few seconds, seeded from
# the repository's fixtures. The long runs are manual (fuzz/README.md).
#
# cargo-fuzz is installed when missing. It needs nightly compiler flags (-Zsanitizer); the stable
# toolchain accepts them with RUSTC_BOOTSTRAP=1, so no nightly toolchain is required.
# A crash, a leak, an OOM or a timeout in any target FAILS under CI=true and only warns on a
# developer's machine, as does a missing tool.
#   FUZZ_SMOKE_SECONDS  seconds per target (default 5)
set -euo pipefail
cd "$(dirname "$0")/../.."
SECONDS_PER_TARGET="${FUZZ_SMOKE_SECONDS:-5}"
export RUSTC_BOOTSTRAP=1

problem() {
  if [ "${CI:-}" = "true" ]; then
    echo "FAIL fuzz-smoke: $1"
    exit 1
  fi
  echo "WARNING: $1 (this fails under CI=true)"
  exit 0
}

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "-- installing cargo-fuzz"
  cargo install cargo-fuzz --locked || problem "cargo install cargo-fuzz failed"
fi

# codec_zfpy builds tessera-codec's zfp feature, whose bindings need libclang.
if ! ldconfig -p 2>/dev/null | grep -q 'libclang[-.0-9]*\.so'; then
  if [ "${CI:-}" = "true" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libclang-dev >/dev/null \
      || problem "apt-get install libclang-dev failed"
  else
    problem "libclang not found (install libclang-dev): the fuzz targets cannot be built"
  fi
fi

# Under .ci/run the fuzz smoke is the last suite and nothing after it uses the workspace's own
# build: removing it first leaves room for the sanitizer build (about 3.5 GB) on a small disk.
if [ "${TESSERA_CI_FREE_BUILD:-}" = "1" ]; then
  rm -rf target/debug target/python-ci
fi

cd fuzz
SEEDS="$(mktemp -d)"
trap 'rm -rf "$SEEDS"' EXIT
if command -v python3 >/dev/null; then
  # Seeds: fixtures for the array targets (in a scratch directory), numcodecs blobs for the codec
  # targets (seed_corpus.sh adds them to corpus/, which git ignores).
  ./seed_array_corpus.sh "$SEEDS" >/dev/null
  ./seed_corpus.sh >/dev/null 2>&1 || echo "(codec seeds unavailable; starting from empty corpora)"
fi

targets="$(cargo fuzz list)"
echo "-- building $(echo "$targets" | wc -w) targets"
cargo fuzz build || problem "cargo fuzz build failed"

failed=()
for target in $targets; do
  mkdir -p "corpus/$target"
  dirs=("corpus/$target")
  [ -d "$SEEDS/$target" ] && dirs+=("$SEEDS/$target")
  echo "-- $target: ${SECONDS_PER_TARGET}s"
  if ! cargo fuzz run "$target" "${dirs[@]}" -- \
      -max_total_time="$SECONDS_PER_TARGET" -seed=1 -rss_limit_mb=2048 -timeout=20 \
      -print_final_stats=1 2>"$SEEDS/$target.log"; then
    failed+=("$target")
    tail -n 40 "$SEEDS/$target.log"
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$SEEDS/$target.log" | tr '\n' ' '
    echo
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  problem "fuzz targets failed: ${failed[*]} (reproducers in fuzz/artifacts/)"
fi
echo "-- fuzz smoke: all $(echo "$targets" | wc -w) targets ran clean"
