"""Every array zarr-python wrote in fixtures/zarr reads back through tessera exactly, with the
attributes zarr-python reports."""

import numcodecs
import numpy as np
import pytest
import zarr

import tessera
from conftest import FIXTURES, TREES, manifest, parse_selection

CASES = [(tree, entry) for tree in TREES for entry in manifest(tree)["arrays"]]


def same(got, expected):
    # An integer index on every axis gives a numpy scalar, as numpy does; the .npy holds it 0-d.
    if expected.ndim == 0 and not isinstance(got, np.ndarray):
        assert isinstance(got, np.generic)
        got = np.asarray(got, dtype=expected.dtype)
    assert isinstance(got, np.ndarray)
    assert got.dtype == expected.dtype
    assert got.shape == expected.shape
    assert np.ascontiguousarray(got).tobytes() == np.ascontiguousarray(expected).tobytes()


@pytest.mark.parametrize(("tree", "entry"), CASES, ids=[f"{t}:{e['path']}" for t, e in CASES])
def test_fixture_array_reads_as_written(tree, entry):
    a = tessera.open_array(FIXTURES / tree, entry["path"])
    expected = np.load(FIXTURES / tree / entry["expected"])
    assert a.shape == tuple(entry["shape"])
    assert a.chunks == tuple(entry["chunks"])
    assert a.order == entry["order"]
    assert a.compressor == entry["compressor"]
    assert a.filters == entry["filters"]
    assert a.dimension_separator == entry["separator"]
    assert dict(a.attrs) == entry["attrs"]
    assert a.dtype == expected.dtype
    assert a.ndim == expected.ndim and a.size == expected.size
    assert a.nbytes == expected.nbytes
    whole = a[...]
    same(whole, expected)
    same(np.asarray(a), expected)
    stem = entry["expected"][: -len(".npy")]
    for i, text in enumerate(entry["selections"]):
        same(a[parse_selection(text)], np.load(FIXTURES / tree / f"{stem}__sel{i}.npy"))


ZARR3_CASES = [entry for entry in manifest("v3")["arrays"]]


@pytest.mark.parametrize("entry", ZARR3_CASES, ids=[e["path"] for e in ZARR3_CASES])
def test_attributes_match_zarr_python(entry):
    ours = tessera.open_array(FIXTURES / "v3", entry["path"])
    ref = zarr.open_array(str(FIXTURES / "v3"), path=entry["path"], mode="r", zarr_format=2)
    assert ours.shape == ref.shape
    assert ours.chunks == ref.chunks
    assert ours.dtype == ref.dtype
    assert ours.ndim == ref.ndim and ours.size == ref.size and ours.nbytes == ref.nbytes
    assert ours.order == ref.order
    assert ours.zarr_format == 2
    assert ours.path == ref.path
    if ref.ndim:
        assert len(ours) == ref.shape[0]
    if ref.fill_value is None:
        assert ours.fill_value is None
    else:
        want = np.array(ref.fill_value, dtype=ref.dtype).tobytes()
        assert np.array(ours.fill_value, dtype=ours.dtype).tobytes() == want
    assert dict(ours.attrs) == ref.attrs.asdict()
    # numcodecs objects report their defaults too: compare configs normalised by numcodecs.
    ours_filters = [numcodecs.get_codec(f).get_config() for f in ours.filters or []]
    assert ours_filters == [f.get_config() for f in ref.filters]
    if ref.compressors:
        assert numcodecs.get_codec(ours.compressor).get_config() == ref.compressors[0].get_config()
    else:
        assert ours.compressor is None


def test_groups_of_the_fixture_tree_match_the_manifest():
    m = manifest("v3")
    root = tessera.open_group(FIXTURES / "v3")
    assert root.consolidated
    for g in m["groups"]:
        node = root[g["path"]] if g["path"] else root
        assert isinstance(node, tessera.Group)
        assert dict(node.attrs) == g["attrs"]
    ref = zarr.open_group(str(FIXTURES / "v3"), mode="r", zarr_format=2)
    assert sorted(root.group_keys()) == sorted(ref.group_keys())
    assert sorted(root["a/b"].array_keys()) == sorted(ref["a/b"].array_keys())
    assert "a/b/c/data" in root and "a/b/nope" not in root
