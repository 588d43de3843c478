#!/usr/bin/env bash
# numcodecs reads what tessera-codec writes: tessera encodes every case of the golden fixture
# manifest (fixtures/codecs), then numcodecs (pinned in fixtures/codecs/requirements.txt)
# decodes each blob and compares it with the expected chunk. With CI=true a missing Python
# fails the suite; elsewhere it is skipped with a message.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v python3 >/dev/null 2>&1; then
  if [ "${CI:-}" = "true" ]; then
    echo "codec suite: python3 is required in CI" >&2
    exit 1
  fi
  echo "codec suite: python3 not found, skipped"
  exit 0
fi

# shellcheck disable=SC1091
source .ci/venv.sh codec fixtures/codecs/requirements.txt

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

# zfpy needs tessera-codec's `zfp` feature, whose build generates bindings with libclang.
if ! ldconfig -p 2>/dev/null | grep -q 'libclang[-.0-9]*\.so'; then
  if [ "${CI:-}" = "true" ]; then
    echo "-- installing libclang-dev for the zfp feature"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libclang-dev >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libclang-dev >/dev/null; }
  else
    echo "codec suite: libclang not found, zfpy cases are not encoded (install libclang-dev)"
  fi
fi
features=()
if ldconfig -p 2>/dev/null | grep -q 'libclang[-.0-9]*\.so'; then
  features=(--features tessera-codec/zfp)
  # zfpy's tests run only with the feature: its header checks, the read bound against zfp's own
  # read position, and the golden blobs decoded exactly and re-encoded byte for byte.
  cargo test --quiet -p tessera-codec --features zfp --lib zfpy
  cargo test --quiet -p tessera-codec --features zfp --test golden --test malformed
fi
cargo run --quiet -p tessera-codec "${features[@]}" --example export_blobs -- fixtures/codecs "$out"
python .ci/codec/check_numcodecs_decode.py fixtures/codecs "$out"

# The object codecs (vlen-utf8, vlen-bytes, vlen-array, json2, msgpack2): fixtures/codecs/objects.
cargo run --quiet -p tessera-codec --example export_object_blobs -- fixtures/codecs/objects "$out/objects"
python .ci/codec/check_numcodecs_decode_objects.py "$out/objects"
