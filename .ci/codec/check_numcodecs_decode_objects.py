#!/usr/bin/env python3
"""Decode tessera-encoded object-codec blobs with numcodecs and compare them with the values.

Usage: check_numcodecs_decode_objects.py TESSERA_DIR

TESSERA_DIR holds blobs/<case>.bin and manifest.json written by tessera-codec's
`export_object_blobs` example from fixtures/codecs/objects. Each blob is decoded as zarr-python 2
decodes an object chunk (the compressor, then the object codec) and compared with the case's
values (text as str, bytes as base64, vlen-array rows as lists, JSON values as they are).
Prints `N passed, N failed` and exits 1 on any failure.
"""

import base64
import json
import sys
from pathlib import Path

import numcodecs
import numpy as np


def comparable(decoded, kind, shape):
    flat = np.asarray(decoded, dtype=object).reshape(shape).reshape(-1)
    if kind == "text":
        return [str(v) for v in flat]
    if kind == "bytes":
        return [base64.b64encode(v).decode() for v in flat]
    if kind == "rows":
        return [np.asarray(v).tolist() for v in flat]
    return flat.tolist()


def main():
    tessera = Path(sys.argv[1])
    manifest = json.loads((tessera / "manifest.json").read_text())
    passed, failed = 0, []
    for case in manifest["cases"]:
        name = case["name"]
        try:
            chunk = (tessera / "blobs" / f"{name}.bin").read_bytes()
            if case["compressor"] is not None:
                chunk = numcodecs.get_codec(dict(case["compressor"])).decode(chunk)
            codec = numcodecs.get_codec(dict(case["filters"][0]))
            got = comparable(codec.decode(chunk), case["kind"], case["shape"])
        except Exception as e:  # report every failing case, not only the first
            failed.append(f"{name}: {type(e).__name__}: {e}")
            continue
        if got == case["values"]:
            passed += 1
        else:
            failed.append(f"{name}: decoded {got!r:.200}, expected {case['values']!r:.200}")
    for f in failed:
        print("FAIL", f)
    print(f"object codecs: {passed} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
