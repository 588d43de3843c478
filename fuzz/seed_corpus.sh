#!/usr/bin/env bash
# Seeds fuzz/corpus/codec_* from the numcodecs golden blobs: each seed is the decoded size as a
# little-endian u32 followed by the blob (the format the decoder targets read), and the configs of
# the manifest for codec_config.
set -euo pipefail
cd "$(dirname "$0")"
python3 - <<'PY'
import json, struct
from pathlib import Path
fx = Path("../fixtures/codecs")
m = json.loads((fx / "manifest.json").read_text())
out = Path("corpus")
for case in m["cases"]:
    size = m["inputs"][case["input"]]["len"]
    blob = (fx / "blobs" / f"{case['name']}.bin").read_bytes()
    comp, filters = case["compressor"], case["filters"]
    (out / "codec_config").mkdir(parents=True, exist_ok=True)
    (out / "codec_config" / f"{case['name']}.json").write_text(json.dumps(comp if comp else filters))
    if comp and not filters:
        cid = comp["id"]
        target = out / f"codec_{cid}"
        target.mkdir(parents=True, exist_ok=True)
        prefix = b""
        if cid == "lzma":
            fmt = comp.get("format", 1)
            prefix = bytes([{1: 0, 2: 1, 0: 2, 3: 3}[fmt]])
            if fmt == 3 and comp.get("filters") != [{"id": 3, "dist": 4}, {"id": 33, "preset": 1}]:
                continue
        if cid == "zfpy":
            # Element size byte (bit 0: 8 bytes), the length taken from the stream's header.
            wide = m["inputs"][case["input"]]["itemsize"] == 8
            (target / f"{case['name']}.bin").write_bytes(bytes([int(wide)]) + blob)
            continue
        (target / f"{case['name']}.bin").write_bytes(prefix + struct.pack("<I", size) + blob)
    elif filters and not comp:
        target = out / "codec_filters"
        target.mkdir(parents=True, exist_ok=True)
        (target / f"{case['name']}.bin").write_bytes(bytes([len(filters)]) + struct.pack("<I", size) + blob)
print("seeded", sorted(p.name for p in out.iterdir()))
PY
