"""Object (``|O``) arrays: variable-length strings, byte strings, ragged rows and JSON values, read
as zarr-python reads them and written so that zarr-python (and numcodecs, for the codecs zarr-python
3 cannot open) reads them back exactly."""

import base64
import json

import numcodecs
import numpy as np
import pytest
import zarr

import tessera
from conftest import FIXTURES

OBJECTS = FIXTURES / "objects"
CASES = [
    (tree, entry)
    for tree in ("v2.18", "v3")
    for entry in json.loads((OBJECTS / tree / "manifest.json").read_text())["arrays"]
]


def expected_values(entry):
    kind = entry["kind"]
    values = []
    for v in entry["values"]:
        if kind == "text":
            # zarr-python 2.18 returns None for a missing chunk of a null-fill array; zarr-python 3
            # and tessera return "" (numcodecs writes None back as "").
            values.append("" if v is None else v)
        elif kind == "bytes":
            values.append(b"" if v is None else base64.b64decode(v))
        elif kind == "rows":
            values.append(np.array([] if v is None else v, dtype=entry["zarray"]["filters"][0]["dtype"]))
        else:
            values.append(v)
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        out[i] = v
    return out.reshape(entry["zarray"]["shape"])


def assert_objects_equal(got, want):
    assert isinstance(got, np.ndarray) and got.dtype == object
    assert got.shape == want.shape
    for g, w in zip(got.reshape(-1), want.reshape(-1)):
        if isinstance(w, np.ndarray):
            assert isinstance(g, np.ndarray) and g.dtype == w.dtype.newbyteorder("=")
            np.testing.assert_array_equal(g, w)
        else:
            assert type(g) is type(w) and g == w, (g, w)


@pytest.mark.parametrize(("tree", "entry"), CASES, ids=[f"{t}:{e['path']}" for t, e in CASES])
def test_object_fixtures_read_as_zarr_python_wrote_them(tree, entry):
    a = tessera.open_array(OBJECTS / tree, entry["path"])
    assert a.dtype == np.dtype(object)
    assert a.filters == entry["zarray"]["filters"]
    assert a.fill_value == entry["zarray"]["fill_value"]
    want = expected_values(entry)
    assert_objects_equal(a[...], want)
    # Selections: a strided slice, a reversed one, one element (a Python object, as numpy gives).
    key = (slice(1, None, 2),) + (slice(None),) * (a.ndim - 1)
    assert_objects_equal(a[key], want[key])
    key = (slice(None, None, -1),) * a.ndim
    assert_objects_equal(a[key], want[key])
    last = (-1,) * a.ndim
    got, w = a[last], want[last]
    if isinstance(w, np.ndarray):
        np.testing.assert_array_equal(got, w)
    else:
        assert got == w and type(got) is type(w)


def test_zarr_python_3_text_arrays_equal_tessera(tmp_path):
    url = str(tmp_path / "z.zarr")
    z = zarr.create_array(url, shape=(7, 3), chunks=(3, 2), dtype=str, zarr_format=2)
    values = np.array([[f"{i}·{j}" * (i % 4) for j in range(3)] for i in range(7)], dtype=object)
    z[:5, :] = values[:5, :]
    z[6, 1] = "last"
    ref = z[...]
    a = tessera.open(url)
    assert a.fill_value == ""
    assert_objects_equal(a[...], ref)
    assert_objects_equal(a[1:6:2, ::-1], ref[1:6:2, ::-1])


def test_tessera_text_arrays_read_by_zarr_python(tmp_path):
    url = str(tmp_path / "t.zarr")
    a = tessera.create(url, shape=(6, 4), chunks=(4, 3), dtype=str)
    assert a.filters == [{"id": "vlen-utf8"}]
    assert a.fill_value == ""
    a[...] = "·"
    a[1:3, 1:] = [["Zürich", "", "日本"], ["a\tb", "😀", "x" * 300]]
    a[5, :] = np.array(["p", "q", "r", "s"])  # a fixed-width <U array converts
    a[4, ::-1] = ["w", "z", "y", "x"]
    expected = np.full((6, 4), "·", dtype=object)
    expected[1:3, 1:] = [["Zürich", "", "日本"], ["a\tb", "😀", "x" * 300]]
    expected[5, :] = ["p", "q", "r", "s"]
    expected[4, :] = ["x", "y", "z", "w"]
    ref = zarr.open_array(url, mode="r")
    # zarr-python 3 returns numpy 2's StringDType; tessera numpy object arrays of str, as zarr 2.
    assert_objects_equal(ref[...].astype(object), expected)
    assert_objects_equal(a[...], expected)
    assert a[2, 2] == "😀"


def test_bytes_arrays_both_ways(tmp_path):
    url = str(tmp_path / "b.zarr")
    a = tessera.create(url, shape=(5,), chunks=(2,), dtype=bytes)
    assert a.filters == [{"id": "vlen-bytes"}]
    a[:4] = [b"", b"\x00\xff", b"abc", b"x" * 70]
    z = zarr.open_array(url, mode="r")
    expected = [b"", b"\x00\xff", b"abc", b"x" * 70, b""]
    assert list(z[...]) == expected
    assert list(a[...]) == expected
    assert a[-1] == b"" and a.fill_value is None


def raw_chunk(path, key):
    return (path / key).read_bytes()


def test_ragged_rows_decode_with_numcodecs(tmp_path):
    # zarr-python 3 writes no vlen-array arrays: numcodecs decodes the (uncompressed) chunks.
    url = tmp_path / "r.zarr"
    a = tessera.create(url, shape=(5,), chunks=(3,), dtype=object, compressor=None,
                       filters=[{"id": "vlen-array", "dtype": "<i4"}])
    rows = [[1, 2, 3], [], [-7], list(range(12)), [5, 5]]
    a[...] = rows
    codec = numcodecs.VLenArray("<i4")
    decoded = list(codec.decode(raw_chunk(url, "0"))) + list(codec.decode(raw_chunk(url, "1")))
    for got, want in zip(decoded, rows):
        np.testing.assert_array_equal(got, want)
    back = a[...]
    assert back.shape == (5,)
    for got, want in zip(back, rows):
        assert got.dtype == np.dtype("int32")
        np.testing.assert_array_equal(got, want)
    # Equal-length rows stay rows (numpy alone would make a 2-d array of them).
    a[1:3] = [[4, 4], [6, 6]]
    np.testing.assert_array_equal(a[2], [6, 6])


def test_json_values_decode_with_numcodecs(tmp_path):
    url = tmp_path / "j.zarr"
    a = tessera.create(url, shape=(6,), chunks=(6,), dtype=object, compressor=None,
                       filters=[{"id": "json2"}], fill_value=None)
    values = [None, 1, 2.5, "text", [1, [2]], {"a": None, "b": True}]
    a[...] = values
    a[0] = np.int64(-3)  # numpy scalars are stored as their Python values
    expected = [-3] + values[1:]
    decoded = numcodecs.JSON().decode(raw_chunk(url, "0"))
    assert list(decoded) == expected
    assert list(a[...]) == expected
    with pytest.raises(TypeError, match="JSON"):
        a[1] = {1, 2}


def test_object_append_resize_and_errors(memory_url):
    a = tessera.create(memory_url, "s", shape=(2,), chunks=(2,), dtype=str)
    a[...] = ["a", "b"]
    assert a.append(["c", "dd", "e"]) == (5,)
    assert list(a[...]) == ["a", "b", "c", "dd", "e"]
    a.resize(3)
    assert list(a[...]) == ["a", "b", "c"]
    with pytest.raises(TypeError, match="vlen-utf8"):
        a[0] = 5
    with pytest.raises(IndexError):
        a[0, "field"]
    n = tessera.create(memory_url, "n", shape=(2,), chunks=(2,), dtype="f4")
    n[...] = 1.5
    np.testing.assert_array_equal(n[...], [1.5, 1.5])


V3 = FIXTURES / "v3-format"
V3_VLEN = json.loads((V3 / "manifest-v3.json").read_text())["vlen"]


def v3_expected(entry):
    flat = np.array(entry["values"], dtype=object).reshape(-1)
    if entry["kind"] == "bytes":
        flat = np.array([base64.b64decode(v) for v in flat] + [None], dtype=object)[:-1]
    return flat.reshape(entry["shape"])


@pytest.mark.parametrize("entry", V3_VLEN, ids=[e["path"] for e in V3_VLEN])
def test_v3_string_and_bytes_fixtures(entry):
    a = tessera.open_array(V3, entry["path"])
    ref = zarr.open_array(str(V3), path=entry["path"], mode="r")
    want = v3_expected(entry)
    assert a.zarr_format == 3 and a.dtype == np.dtype(object)
    assert a.shards == ref.shards and a.chunks == ref.chunks
    assert_objects_equal(a[...], want)
    assert_objects_equal(a[...], ref[...].astype(object))
    assert_objects_equal(a[1::2, ::-1] if a.ndim == 2 else a[::-3], want[1::2, ::-1] if a.ndim == 2
                         else want[::-3])


@pytest.mark.parametrize("shards", [None, (4, 6)], ids=["plain", "sharded"])
def test_tessera_v3_strings_and_bytes_read_by_zarr_python(tmp_path, shards):
    url = str(tmp_path / "s3.zarr")
    s = tessera.create(url, "s", shape=(5, 6), chunks=(2, 3), shards=shards, dtype=str,
                       zarr_format=3, fill_value="-")
    s[1:4, 2:] = [["Zürich", "", "日本", "😀"], ["a", "bb", "ccc", "dddd"], ["x", "y", "z", "w"]]
    expected = np.full((5, 6), "-", dtype=object)
    expected[1:4, 2:] = [["Zürich", "", "日本", "😀"], ["a", "bb", "ccc", "dddd"], ["x", "y", "z", "w"]]
    ref = zarr.open_array(url, path="s", mode="r")
    assert ref.metadata.data_type.to_json(zarr_format=3) == "string"
    assert_objects_equal(ref[...].astype(object), expected)
    assert_objects_equal(s[...], expected)
    b = tessera.create(url, "b", shape=(7,), chunks=(2,), shards=None if shards is None else (4,),
                       dtype=bytes, zarr_format=3)
    b[2:5] = [b"\x00\xff", b"", b"abc"]
    want = [b"", b"", b"\x00\xff", b"", b"abc", b"", b""]
    assert list(zarr.open_array(url, path="b", mode="r")[...]) == want
    assert list(b[...]) == want
