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


def random_axis_item(rng, n, orthogonal=True):
    r = rng.random()
    if r < 0.3:
        return rng.integers(-n, n, size=int(rng.integers(0, 6)))  # repeats, any order
    if r < 0.5:
        return rng.random(n) < 0.4
    if r < 0.65 and orthogonal:
        return int(rng.integers(-n, n))
    return random_slice(rng, n)


def test_random_orthogonal_selections_equal_zarr_python(reference):
    zarr = pytest.importorskip("zarr")
    a, data = reference
    z = zarr.open_array(a.store_url, mode="r")
    rng = np.random.default_rng(16)
    for _ in range(150):
        key = tuple(random_axis_item(rng, n) for n in data.shape)
        # zarr-python refuses negative steps: there, numpy's own orthogonal result is the reference.
        if any(isinstance(k, slice) and (k.step or 1) < 0 for k in key):
            want = data[np.ix_(*[np.arange(n)[k] if not isinstance(k, int) else [k]
                                 for k, n in zip(key, data.shape)])]
            want = want.reshape([w for w, k in zip(want.shape, key) if not isinstance(k, int)])
        else:
            want = z.oindex[key]
        got = a.oindex[key]
        assert got.shape == want.shape, key
        np.testing.assert_array_equal(got, want, err_msg=str(key))


def test_random_coordinate_selections_equal_zarr_python(reference):
    zarr = pytest.importorskip("zarr")
    a, data = reference
    z = zarr.open_array(a.store_url, mode="r")
    rng = np.random.default_rng(17)
    for _ in range(60):
        shape = tuple(int(x) for x in rng.integers(1, 4, size=int(rng.integers(1, 3))))
        key = tuple(rng.integers(-n, n, size=shape) for n in data.shape)
        want = z.vindex[key]
        got = a.vindex[key]
        assert got.shape == want.shape == shape
        np.testing.assert_array_equal(got, want)
    mask = rng.random(data.shape) < 0.1
    np.testing.assert_array_equal(a.vindex[mask], z.vindex[mask])
    np.testing.assert_array_equal(a[mask], data[mask])
    np.testing.assert_array_equal(a.get_mask_selection(mask), data[mask])


@pytest.mark.parametrize(
    "key",
    [
        np.array([1, 2]),
        [0, 3, 3, -1],
        [],
        (slice(None), [16, 0]),
        (slice(2, None, -1), np.arange(17) % 3 == 0),
        (0, slice(None), [1, 2]),  # numpy puts the array's axis first here
        (slice(None), 0, [1, 2]),
        ([4, 1], slice(None), 0),
        (Ellipsis, [5, 0]),
        np.zeros((23, 17, 6), dtype=bool),
        ([1, 2], [3, 4], [5, 0]),
        (np.array([[1], [2]]), np.array([3, 4]), 0),
    ],
    ids=["int-array", "list", "empty", "second-axis", "mask-reversed", "moved-axis", "adjacent",
         "first-axis", "ellipsis", "whole-mask", "points", "broadcast-points"],
)
def test_numpy_fancy_indexing_reads_as_numpy(reference, key):
    a, data = reference
    want = data[key]
    got = a[key]
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_fancy_writes_equal_numpy(tmp_path):
    data = np.arange(8 * 9 * 4, dtype="<i4").reshape(8, 9, 4)
    a = tessera.create(tmp_path / "w.zarr", shape=data.shape, chunks=(3, 4, 3), dtype="<i4")
    a[...] = data
    rng = np.random.default_rng(5)
    a.oindex[[7, 0, 3], :, rng.random(4) < 0.5] = -1
    a.vindex[[1, 1, 2], [8, 8, 0], [0, 0, 3]] = [10, 11, 12]  # the later of a repeated point wins
    a[data > 250] = 0
    a[0, :, [1, 2]] = np.arange(18).reshape(2, 9)
    a[::-2, [4, 2]] = 99
    expected = tessera.open_array(tmp_path / "w.zarr")[...]
    zarr = pytest.importorskip("zarr")
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "w.zarr"), mode="r")[...], expected)
    ref = data.copy()
    m = ref[:, :, :]
    cols = np.flatnonzero(np.random.default_rng(5).random(4) < 0.5)
    m[np.ix_([7, 0, 3], np.arange(9), cols)] = -1
    ref[[1, 1, 2], [8, 8, 0], [0, 0, 3]] = [10, 11, 12]
    ref[data > 250] = 0
    ref[0, :, [1, 2]] = np.arange(18).reshape(2, 9)
    ref[::-2, [4, 2]] = 99
    np.testing.assert_array_equal(expected, ref)


def test_fancy_errors(reference):
    a, data = reference
    with pytest.raises(IndexError):
        a[[23]]  # out of bounds, as numpy
    with pytest.raises(IndexError):
        a[np.zeros(5, dtype=bool)]  # a mask of the wrong length
    with pytest.raises(IndexError):
        a[np.array([1.5])]
    with pytest.raises(IndexError):
        a.vindex[1:3, [1], [2]]
    with pytest.raises(tessera.UnsupportedError, match="oindex"):
        a[[1, 2], :, [3, 4]]  # numpy's broadcast of two arrays around a slice
    with pytest.raises(tessera.UnsupportedError):
        a[True]
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
    assert a[3, 1, "id"] == data[3, 1]["id"] and isinstance(a[3, 1, "id"], np.integer)
    # Fields of fancy selections: only the fields' bytes leave the chunks (tessera-array's read_fields).
    np.testing.assert_array_equal(a[[7, 0, 7], ::-2, "mass"], data[[7, 0, 7], ::-2]["mass"])
    np.testing.assert_array_equal(
        a.get_orthogonal_selection(([1, 5], np.array([True, False, True, True])), fields=["tag", "id"]),
        data[np.ix_([1, 5], [0, 2, 3])][["tag", "id"]],
    )
    np.testing.assert_array_equal(
        a.get_coordinate_selection(([0, 9], [3, 1]), fields="id"), data[[0, 9], [3, 1]]["id"]
    )
    assert a["id"].dtype == np.dtype(">i4")


def test_structured_field_writes(tmp_path):
    # Field writes keep every other field of each record, over every kind of selection, as numpy.
    dt = np.dtype([("mass", "<f8"), ("id", ">i4"), ("pos", "<f4", (2,)), ("tag", "S3")])
    data = np.zeros((9, 5), dtype=dt)
    data["mass"] = np.arange(45).reshape(9, 5) * 0.5
    data["id"] = np.arange(45).reshape(9, 5)
    data["pos"] = np.arange(90).reshape(9, 5, 2)
    data["tag"] = b"ab"
    a = tessera.create(tmp_path / "w.zarr", shape=data.shape, chunks=(2, 3), dtype=dt)
    a[...] = data
    model = data.copy()

    a["mass"] = 1.0
    model["mass"] = 1.0
    a[2:7, "id"] = np.arange(25).reshape(5, 5)
    model["id"][2:7] = np.arange(25).reshape(5, 5)
    a[[8, 0], ::-2, "pos"] = [9.5, -9.5]  # broadcast over the sub-array too
    model["pos"][np.ix_([8, 0], [4, 2, 0])] = [9.5, -9.5]
    a.set_coordinate_selection(([1, 4], [3, 0]), b"zz", fields="tag")
    model["tag"][[1, 4], [3, 0]] = b"zz"
    a.set_orthogonal_selection(([3], [1, 2]), 7, fields="id")
    model["id"][np.ix_([3], [1, 2])] = 7
    # Two fields at once take a structured value with those fields, matched by position.
    two = np.array([(5, 2.25)], dtype=[("id", "<i4"), ("mass", "<f8")])
    a[6, 1:3, ["id", "mass"]] = two
    model[6, 1:3][["id", "mass"]] = two
    np.testing.assert_array_equal(a[...], model)
    with pytest.raises(IndexError, match="no field 'charge'"):
        a["charge"] = 1.0
    np.testing.assert_array_equal(a[...], model)
