"""Handles pickle as (store URL, path, mode) and reopen in other processes."""

import multiprocessing
import pickle

import numpy as np
import pytest

import tessera


def test_pickle_round_trip(tmp_path):
    url = str(tmp_path / "p.zarr")
    a = tessera.create(url, "x", shape=(6,), chunks=(2,), dtype="<i4")
    a[...] = np.arange(6)
    b = pickle.loads(pickle.dumps(a))
    assert b.store_url == url and b.path == "x" and b.mode == "r+"
    np.testing.assert_array_equal(b[...], np.arange(6))
    r = pickle.loads(pickle.dumps(tessera.open(url, "x")))
    assert r.read_only
    g = pickle.loads(pickle.dumps(tessera.open_group(url)))
    assert isinstance(g, tessera.Group) and "x" in g


def test_relative_paths_pickle_as_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tessera.create("rel.zarr", shape=(2,), chunks=(2,), dtype="<i2")[...] = 7
    a = tessera.open("rel.zarr")
    monkeypatch.chdir("/")
    b = pickle.loads(pickle.dumps(a))
    assert b.store_url == str(tmp_path / "rel.zarr")
    np.testing.assert_array_equal(b[...], [7, 7])


def test_memory_store_refuses_to_pickle(memory_url):
    a = tessera.create(memory_url, "x", shape=(2,), chunks=(2,))
    with pytest.raises(pickle.PicklingError, match="memory"):
        pickle.dumps(a)
    with pytest.raises(tessera.TesseraError):
        pickle.dumps(tessera.open_group(memory_url))


def write_block(args):
    array, i = args
    array[i * 4 : (i + 1) * 4, :] = i + 1
    return i


def test_spawn_pool_writes_disjoint_chunks(tmp_path):
    url = str(tmp_path / "pool.zarr")
    a = tessera.create(url, shape=(32, 5), chunks=(4, 5), dtype="<i8")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        assert sorted(pool.map(write_block, [(a, i) for i in range(8)])) == list(range(8))
    want = np.repeat(np.arange(1, 9), 4)[:, None] * np.ones((1, 5), dtype="<i8")
    np.testing.assert_array_equal(tessera.open(url)[...], want)


def test_chunk_cache_serves_repeated_reads_and_survives_pickling(tmp_path):
    url = str(tmp_path / "c.zarr")
    a = tessera.create(url, "x", shape=(40, 30), chunks=(10, 10), dtype="<f8")
    data = np.arange(1200, dtype="<f8").reshape(40, 30)
    a[...] = data
    assert a.chunk_cache_info is None
    assert a.set_chunk_cache(1 << 20) is a
    for _ in range(3):
        np.testing.assert_array_equal(a[5:25, 3:17], data[5:25, 3:17])
        np.testing.assert_array_equal(a.vindex[[0, 39], [0, 29]], data[[0, 39], [0, 29]])
    info = a.chunk_cache_info
    # Six chunks under the crop, one more under the points: each decoded once.
    assert info["budget"] == 1 << 20 and info["chunks"] == 7
    assert info["misses"] == 7 and info["hits"] == 17
    # A write through the handle is seen; the chunks it touched are decoded again.
    a[0, 0] = -1.0
    data[0, 0] = -1.0
    np.testing.assert_array_equal(a[...], data)
    # reload keeps the cache, emptied.
    a.reload()
    assert a.chunk_cache_info["chunks"] == 0
    b = pickle.loads(pickle.dumps(a))
    assert b.chunk_cache_info["budget"] == 1 << 20
    np.testing.assert_array_equal(b[...], data)
    a.set_chunk_cache(0)
    assert a.chunk_cache_info is None
    with pytest.raises(tessera.errors.InvalidArgumentError, match="cache"):
        a.set_chunk_cache(-1)
