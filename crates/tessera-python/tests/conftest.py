"""Shared fixtures of the tessera Python test suite.

The reference is zarr-python 3.1.6 (writing and reading Zarr format 2) and the stores in
fixtures/zarr/ that zarr-python 2.18 and 3.1.6 wrote (see fixtures/zarr/README.md).
"""

import json
import pathlib
import uuid

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
FIXTURES = REPO / "fixtures" / "zarr"
TREES = ["v3", "v2.18"]


def manifest(tree):
    """The manifest.json of a fixture tree."""
    return json.loads((FIXTURES / tree / "manifest.json").read_text())


def parse_selection(text):
    """A manifest selection string ("1:7:3,-1") as a numpy key."""
    key = []
    for item in text.split(","):
        item = item.strip()
        if ":" in item:
            parts = [int(p) if p else None for p in item.split(":")]
            key.append(slice(*parts))
        else:
            key.append(int(item))
    return tuple(key)


@pytest.fixture
def memory_url():
    """A fresh memory:// store name."""
    return f"memory://test-{uuid.uuid4().hex}"
