"""numpy basic indexing on tessera arrays, against numpy itself on seeded random selections."""

import numpy as np
import pytest

import tessera


def random_slice(rng, n):
    start = rng.choice([None, int(rng.integers(-n - 2, n + 2))])
    stop = rng.choice([None, int(rng.integers(-n - 2, n + 2))])
    step = rng.choice([None, 1, 2, 3, -1, -2, -5, 7])
    return slice(start, stop, step)


def random_key(rng, shape):
    key = []
    for n in shape:
        r = rng.random()
        if r < 0.25 and n > 0:
            key.append(int(rng.integers(-n, n)))
        else:
            key.append(random_slice(rng, n))
    if rng.random() < 0.2:
        key.insert(int(rng.integers(0, len(key) + 1)), None)
    if rng.random() < 0.2 and key:
        cut = int(rng.integers(0, len(key)))
        key = key[:cut] + [Ellipsis]
    return tuple(key)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    rng = np.random.default_rng(1234)
    data = rng.standard_normal((23, 17, 6)).astype(">f8")
    url = str(tmp_path_factory.mktemp("indexing") / "a.zarr")
    a = tessera.create(url, shape=data.shape, chunks=(5, 4, 3), dtype=data.dtype, fill_value=None)
    a[...] = data
    return tessera.open(url), data


def test_random_basic_selections_read_as_numpy(reference):
    a, data = reference
    rng = np.random.default_rng(99)
    for _ in range(300):
        key = random_key(rng, data.shape)
        want = data[key]
        got = a[key]
        assert type(got) is type(want), key
        assert np.shape(got) == np.shape(want), key
        np.testing.assert_array_equal(got, want, err_msg=str(key))


def test_scalars_and_zero_d(reference):
    a, data = reference
    assert isinstance(a[1, 2, 3], np.floating) and a[1, 2, 3] == data[1, 2, 3]
    assert a[-1, -1, -1] == data[-1, -1, -1]
    assert a[1, 2, 3, ...].shape == () and isinstance(a[1, 2, 3, ...], np.ndarray)
    assert a[1, 2, 3, None].shape == (1,)


def test_random_basic_writes_broadcast_as_numpy(tmp_path):
    rng = np.random.default_rng(7)
    shape = (13, 9)
    mirror = np.zeros(shape, dtype="<i4")
    a = tessera.create(tmp_path / "w.zarr", shape=shape, chunks=(4, 4), dtype="<i4")
    for i in range(120):
        key = random_key(rng, shape)
        target = mirror[key]
        kind = rng.integers(0, 3)
        if kind == 0:
            value = i
        elif kind == 1 and np.ndim(target) >= 1:
            value = np.arange(np.shape(target)[-1], dtype="<i4") + i
        else:
            value = np.full(np.shape(target), i, dtype="<i8")
        mirror[key] = value
        a[key] = value
    np.testing.assert_array_equal(a[...], mirror)
    np.testing.assert_array_equal(tessera.open(tmp_path / "w.zarr")[...], mirror)


def test_numpy_errors(reference):
    a, _ = reference
    with pytest.raises(IndexError):
        a[23]
    with pytest.raises(IndexError):
        a[0, 0, 0, 0]
    with pytest.raises(IndexError):
        a[..., 0, ...]
    with pytest.raises(IndexError):
        a[1.5]
    with pytest.raises(TypeError):
        a[1.5:3]
    with pytest.raises(ValueError):
        a[::0]
    w = tessera.open(a.store_url, mode="r+")
    with pytest.raises(ValueError):
        w[0:2, 0:2, 0:2] = np.ones((3, 2, 2))


@pytest.mark.parametrize(
    "key",
    [
        np.array([1, 2]),
        [0, 3],
        np.zeros((23, 17, 6), dtype=bool),
        True,
    ],
    ids=["int-array", "list", "bool-mask", "bool-scalar"],
)
def test_fancy_indexing_is_refused_with_its_issue(reference, key):
    a, _ = reference
    with pytest.raises(tessera.UnsupportedError, match="issue 16"):
        a[key]


def test_oindex_and_vindex(reference):
    a, data = reference
    np.testing.assert_array_equal(a.oindex[1:5, 3], data[1:5, 3])
    with pytest.raises(tessera.UnsupportedError, match="orthogonal"):
        a.oindex[[1, 2], :]
    with pytest.raises(tessera.UnsupportedError, match="coordinate"):
        a.vindex[[1, 2], [3, 4]]
    assert isinstance(tessera.UnsupportedError("x"), ValueError)


def test_structured_fields(tmp_path):
    dt = np.dtype([("mass", "<f8"), ("id", ">i4"), ("tag", "S3")])
    data = np.zeros((10, 4), dtype=dt)
    data["mass"] = np.arange(40).reshape(10, 4) * 0.5
    data["id"] = np.arange(40).reshape(10, 4)
    data["tag"] = b"ab"
    a = tessera.create(tmp_path / "s.zarr", shape=data.shape, chunks=(3, 3), dtype=dt)
    a[...] = data
    np.testing.assert_array_equal(a["mass"], data["mass"])
    np.testing.assert_array_equal(a[2:7, "id"], data[2:7]["id"])
    np.testing.assert_array_equal(a[2:7, ["id", "tag"]], data[2:7][["id", "tag"]])
    np.testing.assert_array_equal(a.get_basic_selection((slice(1, 3), 2), fields="mass"), data[1:3, 2]["mass"])
    assert a[3, 1]["id"] == data[3, 1]["id"]
    with pytest.raises(tessera.UnsupportedError, match="field"):
        a["mass"] = 1.0
