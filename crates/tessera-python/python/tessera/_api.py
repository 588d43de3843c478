"""The top-level functions: ``open``, ``open_array``, ``open_group``, ``create``,
``consolidate_metadata``."""

import json
import os

import numpy as np

from . import _dtype, _tessera
from ._array import Array
from ._attrs import encode
from ._group import Group
from .errors import (
    InvalidArgumentError,
    NodeExistsError,
    NodeNotFound,
    StoreNotFoundError,
    UnsupportedError,
)

MODES = ("r", "r+", "a", "w", "w-")

V3 = (
    "{url} /{path} is a Zarr v3 node (zarr.json): Zarr v3 is not supported yet (issue 13). "
    "Write it with zarr_format=2"
)


def _v3_unsupported(url, path):
    return UnsupportedError(V3.format(url=url, path=path))


def _location(store):
    if isinstance(store, (Array, Group)):
        return store.store_url
    try:
        return os.fspath(store)
    except TypeError:
        raise TypeError(
            f"store must be a path or a URL string, not {type(store).__name__}"
        ) from None


def _path(path):
    return "" if path is None else str(path).strip("/")


def _check_mode(mode):
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(map(repr, MODES))}, not {mode!r}")


def _open_store(url, mode):
    try:
        return _tessera.open_store(url, create=mode in ("a", "w", "w-"))
    except StoreNotFoundError as e:
        raise NodeNotFound(f"no store at {url}: {e}") from e


def _missing(store, url, path, kind):
    if store.node_kind(path) == "v3":
        return _v3_unsupported(url, path)
    found = store.node_kind(path)
    there = f" (there is {'an' if found == 'array' else 'a'} {found})" if found else ""
    return NodeNotFound(f"no {kind} at {url} /{path}{there}")


def open(store, path=None, mode="r", **kwargs):  # noqa: A001 - zarr's name
    """Opens the array or group at ``path`` in ``store`` (a path or URL: ``file://``,
    ``memory://NAME``, ``s3://``, ``gs://``, ``http(s)://``).

    ``mode``: ``"r"`` read-only, ``"r+"`` read-write (must exist), ``"a"`` read-write (a group is
    created when nothing is there, an array when ``shape`` is given), ``"w"`` create (replacing what is
    there), ``"w-"`` create (fail if something is there). With ``"w"``/``"w-"``/``"a"`` and ``shape``
    in the keywords an array is created (keywords as :func:`create`), otherwise a group.
    """
    _check_mode(mode)
    url = _location(store)
    path = _path(path)
    st = _open_store(url, mode)
    if mode in ("w", "w-") or (mode == "a" and st.node_kind(path) is None):
        if "shape" in kwargs:
            return _create(st, url, path, mode, overwrite=mode == "w", **kwargs)
        return _create_group(st, url, path, mode)
    kind = st.node_kind(path)
    if kind == "array":
        return Array(st.open_array(path), st, url, mode)
    if kind == "group":
        return Group(st.open_group(path, mode == "r"), st, url, mode)
    raise _missing(st, url, path, "array or group")


def open_array(store, path=None, mode="r", **kwargs):
    """Opens (or, with ``mode`` ``"w"``, ``"w-"`` or ``"a"`` and a ``shape``, creates) the array at
    ``path``. Raises :class:`NodeNotFound` when there is none."""
    _check_mode(mode)
    url = _location(store)
    path = _path(path)
    st = _open_store(url, mode)
    kind = st.node_kind(path)
    if mode in ("w", "w-") or (mode == "a" and kind is None):
        if "shape" not in kwargs:
            raise TypeError("creating an array needs shape= (and chunks=, dtype=)")
        return _create(st, url, path, mode, overwrite=mode == "w", **kwargs)
    if kind != "array":
        raise _missing(st, url, path, "array")
    return Array(st.open_array(path), st, url, mode)


def open_group(store, path=None, mode="r"):
    """Opens (or, with ``mode`` ``"w"``, ``"w-"`` or ``"a"``, creates) the group at ``path``. In mode
    ``"r"`` the group's consolidated metadata (``.zmetadata``) is used when present."""
    _check_mode(mode)
    url = _location(store)
    path = _path(path)
    st = _open_store(url, mode)
    kind = st.node_kind(path)
    if mode in ("w", "w-") or (mode == "a" and kind is None):
        return _create_group(st, url, path, mode)
    if kind != "group":
        raise _missing(st, url, path, "group")
    return Group(st.open_group(path, mode == "r"), st, url, mode)


def _create_group(st, url, path, mode):
    if mode == "w-" and st.node_kind(path) is not None:
        raise NodeExistsError(f"{url} /{path} already holds {st.node_kind(path)}")
    core = st.create_group(path, mode == "w")
    return Group(core, st, url, "r+" if mode in ("w", "w-") else mode)


def reopen(url, path, mode, kind):
    """Reopens a pickled array or group in the receiving process."""
    if kind == "array":
        return open_array(url, path, mode=mode)
    return open_group(url, path, mode=mode)


def consolidate_metadata(store, path=None):
    """Writes ``.zmetadata`` for the group at ``path`` (every ``.zgroup``, ``.zarray`` and
    ``.zattrs`` below it) and returns the group opened through it."""
    url = _location(store)
    path = _path(path)
    st = _open_store(url, "r+")
    if st.node_kind(path) != "group":
        raise _missing(st, url, path, "group")
    st.open_group(path, False).consolidate()
    return Group(st.open_group(path, True), st, url, "r")


def _codec_config(codec, what):
    if codec is None or isinstance(codec, dict):
        return codec
    get_config = getattr(codec, "get_config", None)
    if get_config is not None:  # a numcodecs codec object
        return get_config()
    raise InvalidArgumentError(
        f"{what} must be a numcodecs-style dict such as {{'id': 'zstd', 'level': 3}}, "
        f"not {type(codec).__name__}"
    )


def _chunk_shape(chunks, shape):
    if chunks is None or chunks is True:
        return [max(1, s) for s in shape]
    if isinstance(chunks, int):
        chunks = (chunks,) * len(shape)
    chunks = list(chunks)
    if len(chunks) != len(shape):
        raise InvalidArgumentError(
            f"chunks {tuple(chunks)} has {len(chunks)} dimensions, the shape {tuple(shape)} has "
            f"{len(shape)}"
        )
    return [max(1, s) if c in (None, -1) else int(c) for c, s in zip(chunks, shape)]


def _fill_bytes(fill_value, dt):
    if fill_value is None:
        return None
    if isinstance(fill_value, (int, np.integer)) and fill_value == 0:
        # The default 0 means "all bytes zero" for every dtype (b"" for strings, zeroed records).
        return np.zeros((), dtype=dt).tobytes()
    try:
        return np.array(fill_value, dtype=dt).tobytes()
    except (TypeError, ValueError) as e:
        raise InvalidArgumentError(f"fill_value {fill_value!r} does not fit dtype {dt}: {e}") from e


def create(
    store,
    path=None,
    *,
    shape,
    chunks=None,
    dtype="f8",
    compressor="default",
    filters=None,
    fill_value=0,
    order="C",
    dimension_separator=".",
    zarr_format=2,
    shards=None,
    dimension_names=None,
    attributes=None,
    overwrite=False,
):
    """Creates an array and returns it opened read-write.

    ``compressor``: ``"default"`` (blosc lz4 level 5 with byte shuffle, zarr-python 2's choice), a
    numcodecs-style dict (``{"id": "zstd", "level": 3}``) or ``None``; ``filters`` a list of such dicts.
    ``dimension_names`` are stored as the ``_ARRAY_DIMENSIONS`` attribute (xarray's convention).
    Raises :class:`NodeExistsError` when a node is at ``path`` and ``overwrite`` is false.
    """
    url = _location(store)
    st = _open_store(url, "a")
    return _create(
        st,
        url,
        _path(path),
        "r+",
        shape=shape,
        chunks=chunks,
        dtype=dtype,
        compressor=compressor,
        filters=filters,
        fill_value=fill_value,
        order=order,
        dimension_separator=dimension_separator,
        zarr_format=zarr_format,
        shards=shards,
        dimension_names=dimension_names,
        attributes=attributes,
        overwrite=overwrite,
    )


def _create(
    st,
    url,
    path,
    mode,
    *,
    shape,
    chunks=None,
    dtype="f8",
    compressor="default",
    filters=None,
    fill_value=0,
    order="C",
    dimension_separator=".",
    zarr_format=2,
    shards=None,
    dimension_names=None,
    attributes=None,
    overwrite=False,
):
    if zarr_format != 2:
        raise UnsupportedError(
            f"zarr_format={zarr_format!r}: only Zarr v2 is supported yet (Zarr v3 is issue 13)"
        )
    if shards is not None:
        raise UnsupportedError("shards: sharding is a Zarr v3 feature, not supported yet (issue 13)")
    if isinstance(shape, int):
        shape = (shape,)
    shape = [int(s) for s in shape]
    dtype_json = _dtype.to_zarr(dtype)
    dt = _dtype.from_zarr(dtype_json)
    if compressor == "default":
        compressor = json.loads(_tessera.default_compressor())
    compressor = _codec_config(compressor, "compressor")
    if filters is not None:
        filters = [_codec_config(f, "a filter") for f in filters]
    attrs = dict(attributes or {})
    if dimension_names is not None:
        names = list(dimension_names)
        if len(names) != len(shape):
            raise InvalidArgumentError(
                f"dimension_names has {len(names)} names for an array of {len(shape)} dimensions"
            )
        attrs["_ARRAY_DIMENSIONS"] = names
    core = st.create_array(
        path,
        shape,
        _chunk_shape(chunks, shape),
        json.dumps(dtype_json),
        None if compressor is None else json.dumps(compressor),
        None if filters is None else json.dumps(filters),
        _fill_bytes(fill_value, dt),
        order,
        dimension_separator,
        encode(attrs) if attrs else None,
        bool(overwrite),
    )
    return Array(core, st, url, "r+" if mode in ("w", "w-") else mode)
