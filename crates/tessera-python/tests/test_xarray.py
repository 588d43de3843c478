"""xarray: engine="tessera" equals engine="zarr" on stores xarray wrote, and is lazy."""

import numpy as np
import pandas as pd
import pytest

xr = pytest.importorskip("xarray")


@pytest.fixture(scope="module", params=[2, 3], ids=["v2", "v3"])
def store(tmp_path_factory, request):
    path = str(tmp_path_factory.mktemp("xr") / "ds.zarr")
    rng = np.random.default_rng(5)
    temp = rng.standard_normal((6, 4, 5)).astype("f4")
    temp[0, 0, 0] = np.nan
    ds = xr.Dataset(
        {
            "temperature": (("time", "y", "x"), temp, {"units": "K", "long_name": "air"}),
            "counts": (("y", "x"), rng.integers(0, 100, (4, 5)).astype("i2")),
            "scaled": (("time",), np.linspace(0, 1, 6)),
        },
        coords={
            "time": pd.date_range("2020-01-01", periods=6, freq="D"),
            "y": np.arange(4) * 10.0,
            "x": np.arange(5),
        },
        attrs={"title": "xarray-written"},
    )
    ds["scaled"].encoding = {"scale_factor": 0.01, "add_offset": 1.0, "dtype": "i2", "_FillValue": -1}
    ds["temperature"].encoding = {"chunks": (2, 4, 5)}
    if request.param == 3:
        # A sharded variable: xarray passes `shards` through its encoding to zarr-python 3.
        ds["temperature"].encoding = {"chunks": (1, 2, 5), "shards": (2, 4, 5)}
    ds.to_zarr(path, zarr_format=request.param, consolidated=True)
    ds.to_zarr(path, group="sub", zarr_format=request.param, consolidated=True)
    return path


@pytest.mark.parametrize("group", [None, "sub"])
def test_equal_to_engine_zarr(store, group):
    ours = xr.open_dataset(store, engine="tessera", group=group, chunks={})
    ref = xr.open_dataset(store, engine="zarr", group=group, chunks={})
    assert ours.temperature.chunks == ref.temperature.chunks
    xr.testing.assert_identical(ours.load(), ref.load())
    assert ours.time.dtype == np.dtype("datetime64[ns]")
    assert np.isnan(ours.temperature.values[0, 0, 0])


def test_lazy_until_loaded(store):
    ds = xr.open_dataset(store, engine="tessera")
    var = ds["temperature"].variable
    assert not isinstance(var._data, np.ndarray)
    assert ds.temperature[1:3, 2, ::2].values.shape == (2, 3)


def test_outer_and_vectorised_selections_equal_engine_zarr(store):
    ours = xr.open_dataset(store, engine="tessera")
    ref = xr.open_dataset(store, engine="zarr")
    for sel in [
        {"time": [4, 0, 2], "x": slice(None, None, -2)},
        {"y": [3, 3, 1], "x": 2},
        {"time": xr.DataArray([0, 5, 1], dims="p"), "x": xr.DataArray([4, 0, 2], dims="p")},
    ]:
        xr.testing.assert_identical(ours.temperature.isel(sel).load(), ref.temperature.isel(sel).load())


def test_string_coordinates_equal_engine_zarr():
    # fixtures/zarr/objects/v3/xarray: a dataset with vlen-utf8 string coordinates, consolidated.
    from conftest import FIXTURES

    path = str(FIXTURES / "objects" / "v3" / "xarray")
    ours = xr.open_dataset(path, engine="tessera")
    ref = xr.open_dataset(path, engine="zarr")
    xr.testing.assert_identical(ours.load(), ref.load())
    assert any(ours[name].dtype.kind in "OUT" for name in ours.coords)
