"""Dask: tessera arrays as Dask arrays, computed by a distributed LocalCluster of two worker
processes, and dask.array.store writing into a tessera array."""

import dask.array as da
import numpy as np
import pytest

import tessera

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def test_from_array_sum_on_two_worker_processes(client, tmp_path):
    url = str(tmp_path / "d.zarr")
    data = np.arange(60 * 40, dtype="<f8").reshape(60, 40)
    a = tessera.create(url, shape=data.shape, chunks=(16, 10), dtype=data.dtype)
    a[...] = data
    x = da.from_array(a, chunks=a.chunks)
    assert x.sum().compute() == data.sum()
    y = tessera.to_dask(tessera.open(url))
    assert y.chunks[0] == (16, 16, 16, 12) and y.dtype == data.dtype
    np.testing.assert_array_equal(y[5:50:3, ::-2].compute(), data[5:50:3, ::-2])
    workers = client.run(lambda: 1)
    assert len(workers) == 2


def test_store_into_tessera_array(client, tmp_path):
    url = str(tmp_path / "out.zarr")
    x = da.arange(48 * 30, chunks=12 * 10, dtype="<i4").reshape(48, 30).rechunk((12, 10))
    target = tessera.create(url, shape=x.shape, chunks=(12, 10), dtype=x.dtype)
    da.store(x, target, lock=False)
    np.testing.assert_array_equal(tessera.open(url)[...], x.compute())
