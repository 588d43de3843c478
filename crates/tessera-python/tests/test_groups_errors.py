"""Groups, consolidated metadata, modes, memory:// stores and the error classes."""

import json

import numpy as np
import pytest
import zarr

import tessera


def test_group_api_against_zarr(tmp_path):
    url = tmp_path / "g.zarr"
    root = tessera.open_group(url, mode="w")
    root.attrs["title"] = "t"
    sub = root.create_group("a/b")
    sub.create_array("x", shape=(4,), chunks=(2,), dtype="<i2")[...] = [1, 2, 3, 4]
    root.create_array("y", shape=(2, 2), chunks=(1, 2), dtype="<f4")
    assert "a" in root and "a/b/x" in root and "zz" not in root
    assert root.group_keys() == ["a"] and root.array_keys() == ["y"]
    assert [n for n, _ in root.groups()] == ["a"]
    assert isinstance(root["a/b"], tessera.Group)
    np.testing.assert_array_equal(root["a"]["b/x"][...], [1, 2, 3, 4])
    assert sorted(root) == ["a", "y"] and len(root) == 2
    assert root.tree().splitlines() == ["/", "  a", "    b", "      x (4,) int16", "  y (2, 2) float32"]
    ref = zarr.open_group(str(url), mode="r")
    assert ref.attrs["title"] == "t"
    np.testing.assert_array_equal(ref["a/b/x"][...], [1, 2, 3, 4])
    with pytest.raises(tessera.NodeNotFound):
        root["missing"]
    with pytest.raises(KeyError):
        root["a/missing"]


def test_consolidated_metadata_is_read_by_zarr(tmp_path):
    url = tmp_path / "c.zarr"
    root = tessera.open_group(url, mode="w")
    root.create_array("v", shape=(3,), chunks=(3,), dtype="<i8", attributes={"k": 1})
    g = tessera.consolidate_metadata(url)
    assert g.consolidated
    doc = json.loads((url / ".zmetadata").read_text())
    assert doc["metadata"]["v/.zattrs"] == {"k": 1}
    ref = zarr.open_consolidated(str(url), mode="r", zarr_format=2)
    assert list(ref.array_keys()) == ["v"]
    assert tessera.open_group(url).consolidated


def test_modes(tmp_path):
    url = tmp_path / "m.zarr"
    with pytest.raises(tessera.NodeNotFound):
        tessera.open(url)
    a = tessera.open_array(url, "x", mode="w", shape=(4,), chunks=(2,), dtype="<i4")
    a[...] = 3
    with pytest.raises(tessera.NodeExistsError):
        tessera.open_array(url, "x", mode="w-", shape=(4,), chunks=(2,), dtype="<i4")
    with pytest.raises(FileExistsError):
        tessera.create(url, "x", shape=(4,), chunks=(2,))
    r = tessera.open(url, "x")
    assert isinstance(r, tessera.Array) and r.read_only
    with pytest.raises(tessera.ReadOnlyError):
        r[0] = 1
    with pytest.raises(PermissionError):
        r.attrs["a"] = 1
    with pytest.raises(PermissionError):
        r.resize(8)
    tessera.open(url, "x", mode="r+")[0] = 1
    assert tessera.open(url, "x", mode="a")[0] == 1
    b = tessera.open_array(url, "x", mode="w", shape=(2,), chunks=(2,), dtype="<i4")
    np.testing.assert_array_equal(b[...], [0, 0])
    g = tessera.open_group(url, "new", mode="a")
    assert isinstance(tessera.open(url, "new"), tessera.Group) and not g.read_only
    with pytest.raises(ValueError):
        tessera.open(url, mode="x")
    with pytest.raises(tessera.NodeNotFound, match="there is an array"):
        tessera.open_group(url, "x")


def test_memory_stores_are_named_per_process(memory_url):
    a = tessera.create(memory_url, "a", shape=(3,), chunks=(2,), dtype="<i4")
    a[...] = [1, 2, 3]
    np.testing.assert_array_equal(tessera.open(memory_url, "a")[...], [1, 2, 3])
    with pytest.raises(tessera.NodeNotFound):
        tessera.open(memory_url + "-other", "a")


def test_error_classes(tmp_path, memory_url):
    for cls, base in [
        (tessera.NodeNotFound, KeyError),
        (tessera.ReadOnlyError, PermissionError),
        (tessera.NodeExistsError, FileExistsError),
        (tessera.UnsupportedError, ValueError),
        (tessera.CorruptDataError, OSError),
    ]:
        assert issubclass(cls, base) and issubclass(cls, tessera.TesseraError)
    with pytest.raises(tessera.errors.InvalidArgumentError, match="zarr_format=3"):
        tessera.create(memory_url, "sh", shape=(2,), chunks=(2,), shards=(4,))
    with pytest.raises(tessera.errors.InvalidArgumentError, match="zarr_format"):
        tessera.create(memory_url, "v4", shape=(2,), chunks=(2,), zarr_format=4)
    with pytest.raises(tessera.errors.InvalidArgumentError, match="chunk"):
        tessera.create(memory_url, "sh3", shape=(8,), chunks=(3,), shards=(4,), zarr_format=3)
    with pytest.raises(tessera.UnsupportedError, match="object fields"):
        tessera.create(memory_url, "rec", shape=(2,), dtype=[("a", "i4"), ("b", "O")])
    with pytest.raises(tessera.UnsupportedError, match="snappy"):
        tessera.create(memory_url, "c", shape=(2,), chunks=(2,),
                       compressor={"id": "blosc", "cname": "snappy", "clevel": 1, "shuffle": 1})
    with pytest.raises(tessera.UnsupportedError, match="nosuchcodec"):
        tessera.create(memory_url, "c2", shape=(2,), chunks=(2,), compressor={"id": "nosuchcodec"})
    with pytest.raises(ValueError):
        tessera.create(memory_url, "bad", shape=(2, 2), chunks=(0, 1))
    # A v3 codec tessera does not implement is refused by name.
    v3 = tmp_path / "v3.zarr"
    zarr.create_array(str(v3), shape=(2,), chunks=(2,), dtype="<i4")
    doc = json.loads((v3 / "zarr.json").read_text())
    doc["codecs"].append({"name": "nosuchv3codec", "configuration": {}})
    (v3 / "zarr.json").write_text(json.dumps(doc))
    with pytest.raises(tessera.UnsupportedError, match="nosuchv3codec"):
        tessera.open(str(v3))[...]
    # Corrupt data: a chunk replaced by garbage, metadata that is not JSON.
    url = tmp_path / "bad.zarr"
    a = tessera.create(url, shape=(4,), chunks=(4,), dtype="<i4", compressor={"id": "zlib", "level": 1})
    a[...] = 1
    (url / "0").write_bytes(b"garbage")
    with pytest.raises(tessera.CorruptDataError, match="0"):
        a[...]
    (url / ".zarray").write_text("{not json")
    with pytest.raises(OSError):
        tessera.open(url)
    with pytest.raises(tessera.TesseraError):
        tessera.open("unknown-scheme://x")
