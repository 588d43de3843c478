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
)

MODES = ("r", "r+", "a", "w", "w-")


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
        return _create_group(st, url, path, mode, kwargs.get("zarr_format", 2))
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


def open_group(store, path=None, mode="r", zarr_format=2):
    """Opens (or, with ``mode`` ``"w"``, ``"w-"`` or ``"a"``, creates) the group at ``path``. In mode
    ``"r"`` the group's consolidated metadata (``.zmetadata``, or Zarr v3's inline
    ``consolidated_metadata``) is used when present. ``zarr_format`` (2 or 3) is the format of a
    group this creates; an existing group is opened in its own format."""
    _check_mode(mode)
    url = _location(store)
    path = _path(path)
    st = _open_store(url, mode)
    kind = st.node_kind(path)
    if mode in ("w", "w-") or (mode == "a" and kind is None):
        return _create_group(st, url, path, mode, zarr_format)
    if kind != "group":
        raise _missing(st, url, path, "group")
    return Group(st.open_group(path, mode == "r"), st, url, mode)


def _create_group(st, url, path, mode, zarr_format=2):
    if mode == "w-" and st.node_kind(path) is not None:
        raise NodeExistsError(f"{url} /{path} already holds {st.node_kind(path)}")
    core = st.create_group(path, mode == "w", int(zarr_format))
    return Group(core, st, url, "r+" if mode in ("w", "w-") else mode)


def reopen(url, path, mode, kind, chunk_cache=0):
    """Reopens a pickled array or group in the receiving process (an array with a decoded-chunk
    cache of ``chunk_cache`` bytes, when it had one)."""
    if kind == "array":
        array = open_array(url, path, mode=mode)
        if chunk_cache:
            array.set_chunk_cache(chunk_cache)
        return array
    return open_group(url, path, mode=mode)


def consolidate_metadata(store, path=None):
    """Writes the consolidated metadata of the group at ``path`` and returns the group opened
    through it: ``.zmetadata`` (every ``.zgroup``, ``.zarray`` and ``.zattrs`` below it) for Zarr
    v2, the inline ``consolidated_metadata`` of its ``zarr.json`` for Zarr v3 (as zarr-python 3)."""
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


def _fill_json(fill_value, object_codec):
    """The JSON fill value of an object array: the default ``0`` is ``""`` for strings and ``null``
    (read as empty) for bytes and rows, as zarr-python 3 writes them (it cannot read a ``0`` fill
    of a bytes array); JSON codecs store the value itself."""
    kind = object_codec["id"]
    if fill_value is None:
        return "null"
    if isinstance(fill_value, (int, np.integer)) and not isinstance(fill_value, bool):
        if fill_value == 0 and kind == "vlen-utf8":
            return json.dumps("")
        if fill_value == 0 and kind in ("vlen-bytes", "vlen-array"):
            return "null"
    if isinstance(fill_value, bytes) and kind == "vlen-bytes":
        try:
            return json.dumps(fill_value.decode("ascii"))
        except UnicodeDecodeError:
            raise InvalidArgumentError(
                f"fill_value {fill_value!r}: a vlen-bytes fill value must be ASCII"
            ) from None
    if kind == "vlen-utf8" and not isinstance(fill_value, str):
        raise InvalidArgumentError(f"fill_value {fill_value!r} of a str array must be a str")
    try:
        return json.dumps(fill_value)
    except TypeError as e:
        raise InvalidArgumentError(f"fill_value {fill_value!r} is not JSON: {e}") from e


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
    dimension_separator=None,
    zarr_format=2,
    shards=None,
    dimension_names=None,
    attributes=None,
    overwrite=False,
):
    """Creates an array and returns it opened read-write.

    ``dtype``: anything ``numpy.dtype()`` accepts, or ``str``/``bytes``/``object`` for
    variable-length strings, byte strings or objects (stored as ``|O`` with a ``vlen-utf8`` or
    ``vlen-bytes`` filter as zarr-python 2 does; give ``filters=[{"id": "json2"}]`` or
    ``vlen-array``/``msgpack2`` for other objects). ``compressor``: ``"default"`` (blosc lz4 level 5
    with byte shuffle for Zarr v2, zstd level 0 for v3, as zarr-python 2 and 3 choose), a
    numcodecs-style dict (``{"id": "zstd", "level": 3}``) or ``None``; ``filters`` a list of such
    dicts. ``zarr_format=3`` writes ``zarr.json``; there ``shards`` (a multiple of ``chunks``) stores
    each shard's chunks in one object. ``dimension_names`` go into ``zarr.json`` for v3 and into the
    ``_ARRAY_DIMENSIONS`` attribute (xarray's convention) for v2. ``dimension_separator``: ``"."``
    (v2's default) or ``"/"``; for v3 the default is ``c/0/1`` chunk keys.
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
    dimension_separator=None,
    zarr_format=2,
    shards=None,
    dimension_names=None,
    attributes=None,
    overwrite=False,
):
    if zarr_format not in (2, 3):
        raise InvalidArgumentError(f"zarr_format must be 2 or 3, not {zarr_format!r}")
    if shards is not None and zarr_format != 3:
        raise InvalidArgumentError("shards need zarr_format=3 (sharding is a Zarr v3 codec)")
    if isinstance(shape, int):
        shape = (shape,)
    shape = [int(s) for s in shape]
    object_codec = _dtype.object_codec_for(dtype)
    dtype_json = _dtype.to_zarr(dtype)
    dt = _dtype.from_zarr(dtype_json)
    if compressor != "default":
        compressor = _codec_config(compressor, "compressor")
    if filters is not None:
        filters = [_codec_config(f, "a filter") for f in filters]
    if object_codec is not None:
        given = [f for f in filters or [] if f.get("id") in _dtype.OBJECT_CODECS]
        if given:
            object_codec = given[0]
        else:
            filters = [object_codec] + list(filters or [])
    attrs = dict(attributes or {})
    names = None
    if dimension_names is not None:
        names = [None if n is None else str(n) for n in dimension_names]
        if len(names) != len(shape):
            raise InvalidArgumentError(
                f"dimension_names has {len(names)} names for an array of {len(shape)} dimensions"
            )
        if zarr_format == 2:
            attrs["_ARRAY_DIMENSIONS"] = names
            names = None
    if isinstance(shards, int):
        shards = (shards,) * len(shape)
    core = st.create_array(
        path,
        shape,
        _chunk_shape(chunks, shape),
        json.dumps(dtype_json),
        "default" if compressor == "default" else (
            None if compressor is None else json.dumps(compressor)
        ),
        None if filters is None else json.dumps(filters),
        None if object_codec is not None else _fill_bytes(fill_value, dt),
        order,
        dimension_separator,
        encode(attrs) if attrs else None,
        bool(overwrite),
        int(zarr_format),
        None if shards is None else [int(s) for s in shards],
        names,
        _fill_json(fill_value, object_codec) if object_codec is not None else None,
    )
    return Array(core, st, url, "r+" if mode in ("w", "w-") else mode)
