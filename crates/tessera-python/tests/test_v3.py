"""Zarr v3 through the package: the fixtures zarr-python 3.1.6 wrote (fixtures/zarr/v3-format,
sharded ones included) read exactly, and what tessera writes (plain, sharded, named dimensions,
groups, consolidated metadata) reads back through zarr-python 3 exactly."""

import json

import numpy as np
import pytest
import zarr

import tessera
from conftest import FIXTURES, parse_selection

TREE = FIXTURES / "v3-format"
MANIFEST = json.loads((TREE / "manifest-v3.json").read_text())
CASES = MANIFEST["arrays"]


def same(got, expected):
    if expected.ndim == 0 and not isinstance(got, np.ndarray):
        got = np.asarray(got, dtype=expected.dtype)
    assert got.dtype == expected.dtype
    assert got.shape == expected.shape
    assert np.ascontiguousarray(got).tobytes() == np.ascontiguousarray(expected).tobytes()


@pytest.mark.parametrize("entry", CASES, ids=[e["path"] for e in CASES])
def test_v3_fixture_reads_as_zarr_python_wrote_it(entry):
    a = tessera.open_array(TREE, entry["path"])
    ref = zarr.open_array(str(TREE), path=entry["path"], mode="r")
    expected = np.load(TREE / entry["expected"])
    assert a.zarr_format == 3
    assert a.shape == ref.shape == tuple(entry["shape"])
    assert a.chunks == ref.chunks
    assert a.shards == ref.shards
    assert a.dtype == expected.dtype
    assert a.dimension_names == ref.metadata.dimension_names
    assert dict(a.attrs) == ref.attrs.asdict()
    assert a.codecs == json.loads((TREE / entry["path"] / "zarr.json").read_text())["codecs"]
    assert a.compressor is None and a.filters is None and a.dimension_separator is None
    if a.dtype.kind not in "V":
        want = np.array(ref.fill_value, dtype=ref.dtype).tobytes()
        assert np.array(a.fill_value, dtype=a.dtype).tobytes() == want
    same(a[...], expected)
    stem = entry["expected"][: -len(".npy")]
    for i, text in enumerate(entry["selections"]):
        same(a[parse_selection(text)], np.load(TREE / f"{stem}__sel{i}.npy"))


def test_v3_fixture_groups_and_consolidated_metadata():
    root = tessera.open_group(TREE)
    ref = zarr.open_group(str(TREE), mode="r")
    assert root.zarr_format == 3
    for g in MANIFEST["groups"]:
        node = root[g["path"]] if g["path"] else root
        assert isinstance(node, tessera.Group) and node.zarr_format == 3
        assert dict(node.attrs) == g["attrs"]
    assert sorted(root.group_keys()) == sorted(ref.group_keys())
    assert sorted(root["shard"].array_keys()) == sorted(ref["shard"].array_keys())
    assert isinstance(root["shard/end"], tessera.Array)
    assert "shard/end" in root and "shard/nope" not in root


@pytest.fixture(scope="module")
def seeded():
    rng = np.random.default_rng(15)
    return rng.integers(-1000, 1000, size=(37, 23), dtype=np.int32)


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"shards": (16, 12)},
        {"shards": (36, 24), "compressor": None},
        {"order": "F", "compressor": {"id": "gzip", "level": 1}},
        {"dimension_separator": ".", "filters": [{"id": "delta", "dtype": "<i4"}]},
        {"shards": (8, 12), "order": "F", "compressor": {"id": "blosc", "cname": "zstd", "clevel": 3,
                                                          "shuffle": 2}},
    ],
    ids=["default", "sharded", "sharded-uncompressed", "F-gzip", "dot-keys-delta", "sharded-F-blosc"],
)
def test_tessera_writes_v3_that_zarr_python_reads(tmp_path, seeded, options):
    url = str(tmp_path / "w.zarr")
    a = tessera.create(url, "x", shape=seeded.shape, chunks=(4, 6), dtype="<i4", fill_value=-5,
                       zarr_format=3, dimension_names=["y", None], attributes={"units": "m"},
                       **options)
    a[...] = seeded
    a[3:9, 2] = 7
    expected = seeded.copy()
    expected[3:9, 2] = 7
    ref = zarr.open_array(url, path="x", mode="r")
    assert ref.metadata.zarr_format == 3
    np.testing.assert_array_equal(ref[...], expected)
    assert ref.metadata.dimension_names == ("y", None)
    assert ref.attrs.asdict() == {"units": "m"}
    assert ref.fill_value == -5
    assert ref.shards == options.get("shards")
    assert ref.chunks == (4, 6)
    b = tessera.open_array(url, "x")
    assert b.dimension_names == ("y", None)
    assert b.shards == options.get("shards")
    np.testing.assert_array_equal(b[...], expected)


def test_v3_default_codecs_are_zarr_python_3s(tmp_path):
    url = str(tmp_path / "d.zarr")
    tessera.create(url, shape=(10,), chunks=(5,), dtype="<f8", zarr_format=3)
    ref = zarr.create_array(str(tmp_path / "r.zarr"), shape=(10,), chunks=(5,), dtype="<f8")
    ours = json.loads((tmp_path / "d.zarr" / "zarr.json").read_text())
    theirs = json.loads((tmp_path / "r.zarr" / "zarr.json").read_text())
    assert ours["codecs"] == theirs["codecs"]
    assert ours["chunk_key_encoding"] == theirs["chunk_key_encoding"]
    assert ref.metadata.zarr_format == 3


def test_zarr_python_sharded_writes_read_by_tessera_selections(tmp_path):
    url = str(tmp_path / "z.zarr")
    rng = np.random.default_rng(3)
    data = rng.standard_normal((40, 30)).astype("<f4")
    z = zarr.create_array(url, shape=data.shape, chunks=(5, 5), shards=(10, 15), dtype="<f4",
                          fill_value=np.nan, dimension_names=["t", "x"])
    z[:33, :] = data[:33, :]
    expected = data.copy()
    expected[33:, :] = np.nan
    a = tessera.open(url)
    assert a.shards == (10, 15) and a.chunks == (5, 5) and a.dimension_names == ("t", "x")
    np.testing.assert_array_equal(a[...], expected)
    for _ in range(40):
        key = tuple(
            slice(int(rng.integers(-n, n)), int(rng.integers(-n, n + 1)),
                  int(rng.choice([1, 2, 3, -1, -2])))
            for n in data.shape
        )
        np.testing.assert_array_equal(a[key], expected[key], err_msg=str(key))
    np.testing.assert_array_equal(a[7, -3], expected[7, -3])


def test_partial_writes_into_shards_read_back_by_zarr_python(tmp_path):
    url = str(tmp_path / "p.zarr")
    a = tessera.create(url, shape=(20, 20), chunks=(2, 2), shards=(10, 10), dtype="<u2",
                       zarr_format=3)
    expected = np.zeros((20, 20), dtype="<u2")
    for i, (r, c) in enumerate([(slice(1, 4), slice(3, 17)), (slice(9, 11), slice(None)),
                                (5, slice(None, None, 3)), (slice(None, None, -7), 19)]):
        a[r, c] = i + 1
        expected[r, c] = i + 1
    np.testing.assert_array_equal(zarr.open_array(url, mode="r")[...], expected)
    np.testing.assert_array_equal(a[...], expected)
    # An all-fill shard is not stored (a shard of the fill value reads the same either way).
    a[10:, 10:] = 0
    assert not (tmp_path / "p.zarr" / "c" / "1" / "1").exists()


def test_v3_groups_attributes_consolidated_and_resize(tmp_path):
    url = str(tmp_path / "g.zarr")
    g = tessera.open_group(url, mode="w", zarr_format=3)
    g.attrs["title"] = "v3"
    sub = g.create_group("sub")
    assert sub.zarr_format == 3
    a = sub.create_array("a", shape=(4, 3), chunks=(2, 3), dtype="<f8")
    assert a.zarr_format == 3
    a[...] = np.arange(12.0).reshape(4, 3)
    a.attrs.update({"long_name": "counts", "scale": [1, 2]})
    a.append(np.full((2, 3), 9.0))
    assert a.shape == (6, 3)
    zg = zarr.open_group(url, mode="r")
    assert zg.metadata.zarr_format == 3
    assert zg.attrs.asdict() == {"title": "v3"}
    za = zg["sub/a"]
    assert za.shape == (6, 3)
    assert za.attrs.asdict() == {"long_name": "counts", "scale": [1, 2]}
    np.testing.assert_array_equal(za[...], np.concatenate([np.arange(12.0).reshape(4, 3),
                                                           np.full((2, 3), 9.0)]))
    c = tessera.consolidate_metadata(url)
    assert c.consolidated and c.zarr_format == 3
    assert c["sub/a"].shape == (6, 3)
    zc = zarr.open_consolidated(url, mode="r")
    assert sorted(zc["sub"].array_keys()) == ["a"]
    # Opening read-only goes through the inline consolidated metadata zarr-python 3 reads too.
    assert tessera.open_group(url).consolidated


def test_zarr_python_v3_groups_read_by_tessera(tmp_path):
    url = str(tmp_path / "zg.zarr")
    zg = zarr.open_group(url, mode="w")
    zg.attrs["k"] = [1, 2]
    x = zg.create_array("inner/x", shape=(6,), chunks=(4,), dtype="<i8")
    x[...] = np.arange(6)
    zarr.consolidate_metadata(url)
    g = tessera.open_group(url)
    assert g.zarr_format == 3 and g.consolidated
    assert dict(g.attrs) == {"k": [1, 2]}
    assert g.group_keys() == ["inner"]
    np.testing.assert_array_equal(g["inner/x"][...], np.arange(6))
    assert "inner\n    x (6,) int64" in g.tree()


def test_to_dask_blocks_are_shards():
    a = tessera.open_array(TREE, "shard/end")
    dask = pytest.importorskip("dask.array")
    d = tessera.to_dask(a)
    assert d.chunksize == a.shards
    np.testing.assert_array_equal(d.compute(), a[...])
    assert isinstance(dask.Array, type)


def test_v3_pickle_round_trip(tmp_path):
    import pickle

    url = str(tmp_path / "pk.zarr")
    a = tessera.create(url, shape=(5,), chunks=(2,), shards=(4,), dtype="<i2", zarr_format=3)
    a[...] = [1, 2, 3, 4, 5]
    b = pickle.loads(pickle.dumps(a))
    assert b.zarr_format == 3 and b.shards == (4,)
    np.testing.assert_array_equal(b[...], [1, 2, 3, 4, 5])
