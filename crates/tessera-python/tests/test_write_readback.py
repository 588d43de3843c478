"""What tessera writes, zarr-python 3.1.6 reads back value for value (and the reverse)."""

import numpy as np
import pytest
import zarr

import tessera

DTYPES = ["|b1", "|i1", "<i2", ">i4", "<u8", "<f2", ">f4", "<f8", "<c16", "<M8[ns]", "<m8[s]", "|S5", "<U3",
          [("x", "<i4"), ("y", ">f8")]]
CODECS = [
    None,
    "default",
    {"id": "zstd", "level": 3},
    {"id": "zlib", "level": 1},
    {"id": "gzip", "level": 5},
    {"id": "blosc", "cname": "zstd", "clevel": 3, "shuffle": 2, "blocksize": 0},
    {"id": "lz4", "acceleration": 1},
    {"id": "bz2", "level": 1},
]


def sample(dtype, shape, seed):
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype if isinstance(dtype, str) else [tuple(f) for f in dtype])
    raw = rng.integers(0, 256, size=int(np.prod(shape)) * dt.itemsize, dtype=np.uint8)
    data = raw.view(dt).reshape(shape).copy()
    if dt.kind == "b":
        data = rng.random(shape) < 0.5
    elif dt.kind in "fc":
        data = rng.standard_normal(shape).astype(dt)
    elif dt.kind == "U":
        data = np.array(["ab", "ñ€x", ""] * 100, dtype=dt)[: int(np.prod(shape))].reshape(shape)
    elif dt.kind in "Mm":
        data = rng.integers(-(10**12), 10**12, size=shape).astype(dt)
    return data.astype(dt)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("order", ["C", "F"])
def test_dtypes_read_back_by_zarr(tmp_path, dtype, order):
    data = sample(dtype, (11, 7), 3)
    url = tmp_path / "d.zarr"
    a = tessera.create(url, shape=data.shape, chunks=(4, 3), dtype=dtype, order=order,
                       compressor={"id": "zlib", "level": 1})
    a[...] = data
    ref = zarr.open_array(str(url), mode="r", zarr_format=2)
    assert ref.dtype == data.dtype
    assert ref[...].tobytes() == data.tobytes()


@pytest.mark.parametrize("compressor", CODECS, ids=str)
def test_codecs_read_back_by_zarr(tmp_path, compressor):
    data = np.arange(1000, dtype="<i8").reshape(25, 40) % 17
    url = tmp_path / "c.zarr"
    a = tessera.create(url, shape=data.shape, chunks=(10, 16), dtype=data.dtype, compressor=compressor,
                       filters=[{"id": "delta", "dtype": "<i8"}], dimension_separator="/")
    a[3:, :] = data[3:]
    ref = zarr.open_array(str(url), mode="r", zarr_format=2)
    want = data.copy()
    want[:3] = 0
    np.testing.assert_array_equal(ref[...], want)


def test_default_compressor_and_fill_value(tmp_path):
    a = tessera.create(tmp_path / "x.zarr", shape=(5,), chunks=(2,), dtype="<f4")
    assert a.compressor == {"id": "blosc", "cname": "lz4", "clevel": 5, "shuffle": 1, "blocksize": 0}
    assert a.fill_value == 0 and a.fill_value.dtype == np.dtype("<f4")
    b = tessera.create(tmp_path / "y.zarr", shape=(5,), chunks=(2,), dtype="<f8", fill_value=np.nan)
    assert np.isnan(b.fill_value)
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "y.zarr"), mode="r")[...], np.full(5, np.nan))
    s = tessera.create(tmp_path / "s.zarr", shape=(3,), chunks=(2,), dtype="S4")
    assert s.fill_value == b""


def test_zarr_writes_tessera_reads_partial_chunks(tmp_path):
    url = str(tmp_path / "z.zarr")
    ref = zarr.create_array(url, shape=(30, 20), chunks=(7, 6), dtype="<i4", fill_value=-1, zarr_format=2)
    ref[2:20, 3:9] = np.arange(18 * 6).reshape(18, 6)
    a = tessera.open_array(url, mode="r+")
    np.testing.assert_array_equal(a[...], ref[...])
    a[10:25, 0:15] = 5
    np.testing.assert_array_equal(zarr.open_array(url, mode="r")[...], a[...])


def test_resize_and_append_read_back_by_zarr(tmp_path):
    url = tmp_path / "r.zarr"
    a = tessera.create(url, shape=(4, 6), chunks=(3, 4), dtype="<u2", fill_value=9)
    a[...] = np.arange(24).reshape(4, 6)
    a.resize(3, 5)
    assert a.shape == (3, 5)
    a.resize((6, 5))
    assert a.append(np.ones((2, 5), dtype="<u2")) == (8, 5)
    assert a.append(np.full((8, 1), 7), axis=1) == (8, 6)
    want = np.full((8, 6), 9, dtype="<u2")
    want[:3, :5] = np.arange(24).reshape(4, 6)[:3, :5]
    want[6:, :5] = 1
    want[:, 5] = 7
    np.testing.assert_array_equal(a[...], want)
    np.testing.assert_array_equal(zarr.open_array(str(url), mode="r")[...], want)
    with pytest.raises(ValueError):
        a.append(np.ones((2, 3)))


def test_attrs_persist_and_zarr_sees_them(tmp_path):
    url = tmp_path / "t.zarr"
    a = tessera.create(url, "v", shape=(2,), chunks=(2,), dtype="i1", attributes={"units": "m"},
                       dimension_names=["x"])
    a.attrs["scale"] = np.float64(0.5)
    a.attrs.update({"list": [1, 2], "nested": {"k": None}})
    del a.attrs["units"]
    want = {"_ARRAY_DIMENSIONS": ["x"], "scale": 0.5, "list": [1, 2], "nested": {"k": None}}
    assert tessera.open(url, "v").attrs.asdict() == want
    assert zarr.open_array(str(url), path="v", mode="r").attrs.asdict() == want
    assert a.dimension_names == ("x",)


def test_info_repr_and_chunk_counts(tmp_path):
    a = tessera.create(tmp_path / "i.zarr", "v", shape=(10, 4), chunks=(4, 4), dtype="<i2",
                       compressor=None)
    a[0:5] = 1
    assert a.nchunks == 3 and a.nchunks_initialized == 2 and a.nbytes_stored == 2 * 32
    info = a.info
    assert "Chunks initialized : 2/3" in info and "Shape              : (10, 4)" in info
    assert repr(a).startswith("<tessera.Array ") and "shape=(10, 4)" in repr(a)
    assert a.name == "/v" and a.basename == "v" and a.shards is None and a.dimension_names is None
