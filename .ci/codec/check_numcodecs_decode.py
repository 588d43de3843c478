#!/usr/bin/env python3
"""Decode tessera-encoded blobs with numcodecs and compare them with the expected chunks.

Usage: check_numcodecs_decode.py FIXTURES_DIR TESSERA_DIR

FIXTURES_DIR is fixtures/codecs (inputs/, decoded/, manifest.json written by generate.py);
TESSERA_DIR holds blobs/<case>.bin and manifest.json written by tessera-codec's `export_blobs`
example. A chunk is decoded as zarr-python 2 decodes it: the compressor, then the filters in
reverse order. Cases that numcodecs cannot decode even when numcodecs encoded them (empty chunks
with zstd, lz4 or blosc) are skipped and listed; lzma with a filter chain outside the raw
format, which numcodecs refuses to decode, is decoded with Python's lzma module.
Prints `N passed, N failed, N skipped` and exits 1 on any failure.
"""

import lzma
import os
import sys
from pathlib import Path

import numcodecs
import numpy as np


def as_bytes(chunk):
    if isinstance(chunk, bytes):
        return chunk
    return np.ascontiguousarray(chunk).tobytes()


def main():
    fixtures, tessera = Path(sys.argv[1]), Path(sys.argv[2])
    import json

    golden = json.loads((fixtures / "manifest.json").read_text())
    written = json.loads((tessera / "manifest.json").read_text())
    not_built = written.get("not_built", [])
    if len(written["cases"]) + len(not_built) != len(golden["cases"]):
        print(f"tessera wrote {len(written['cases'])} cases, the fixtures have {len(golden['cases'])}")
        return 1
    if not_built and os.environ.get("CI") == "true":
        print(f"FAIL: {len(not_built)} cases not encoded (built without a codec feature): {not_built[:3]}...")
        return 1
    for name in not_built:
        print(f"  not built: {name} (tessera-codec without the zfp feature)")
    passed, failed, skipped = 0, [], []
    for case in written["cases"]:
        name = case["name"]
        comp = case["compressor"] or {}
        if not case["numcodecs_decodes"] and comp.get("id") == "lzma" and comp.get("format") in (1, 2):
            # numcodecs refuses `filters` outside the raw format; the stream describes its own
            # filters, so Python's lzma module decodes it.
            case = dict(case, compressor=None, numcodecs_decodes=True, stdlib_lzma=comp["format"])
        if not case["numcodecs_decodes"]:
            skipped.append(f"{name} ({case['numcodecs_error']})")
            continue
        expected_path = fixtures / case.get("decoded", f"inputs/{case['input']}.bin")
        expected = expected_path.read_bytes()
        try:
            chunk = (tessera / "blobs" / f"{name}.bin").read_bytes()
            if "stdlib_lzma" in case:
                chunk = lzma.decompress(chunk, format=case["stdlib_lzma"])
            if case["compressor"] is not None:
                chunk = numcodecs.get_codec(dict(case["compressor"])).decode(chunk)
            for config in reversed(case["filters"] or []):
                chunk = numcodecs.get_codec(dict(config)).decode(chunk)
            got = as_bytes(chunk)
        except Exception as e:  # report every failing case, not only the first
            failed.append(f"{name}: numcodecs raised {type(e).__name__}: {e}")
            continue
        if got != expected:
            failed.append(f"{name}: decoded {len(got)} bytes that differ from the expected {len(expected)}")
        else:
            passed += 1
    for line in failed:
        print("FAIL", line)
    print(f"skipped (numcodecs cannot decode its own blob either): {len(skipped)}")
    for line in skipped:
        print("  skip", line)
    print(f"numcodecs {numcodecs.__version__} decoding tessera blobs:")
    print(f"{passed} passed, {len(failed)} failed, {len(skipped)} skipped")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
