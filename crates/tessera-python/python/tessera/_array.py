"""``tessera.Array``: a Zarr array with numpy's basic indexing."""

import json
import os

import numpy as np

from . import _dtype, _indexing
from ._attrs import Attributes
from .errors import InvalidArgumentError, NotPicklableError, ReadOnlyError

def _field_dtype(dtype, path):
    """The dtype of field ``path`` (dotted for nested fields) of a structured ``dtype``."""
    for part in path.split("."):
        if dtype.names is None or part not in dtype.names:
            known = ", ".join(dtype.names or ())
            raise IndexError(f"no field {path!r} (fields: {known})")
        dtype = dtype.fields[part][0]
    return dtype


def _flat_bytes(buffer):
    """A flat uint8 view of a C-contiguous buffer (any dtype, 0-d included)."""
    return buffer.reshape(-1).view(np.uint8)


class Array:
    """A Zarr array (v2 or v3, sharded or not). Create one with :func:`tessera.create` or open one
    with :func:`tessera.open`.

    Reads (``a[...]``) return ``numpy.ndarray`` s in the stored dtype; chunks are fetched in one batch
    and decoded in parallel, without the GIL, straight into the result. Writes (``a[...] = v``)
    broadcast ``v`` as numpy does and encode chunks in parallel. Object (``|O``) arrays read as
    numpy object arrays: ``str`` (vlen-utf8), ``bytes`` (vlen-bytes), 1-d arrays (vlen-array) or JSON
    values (json2, msgpack2).
    """

    def __init__(self, core, store, url, mode):
        self._core = core
        self._store = store
        self._url = url
        # Where another process reopens it, fixed now: the working directory may change later.
        self._portable_url = portable_url(url)
        self._mode = mode
        self._load_metadata()

    def _load_metadata(self):
        meta = json.loads(self._core.summary_json())
        self._meta = meta
        # `_stored` is what the chunks hold; Zarr v3 types have no byte order (the `bytes` codec has
        # one), so a v3 array reads in native order, as zarr-python 3 returns it.
        self._stored = _dtype.from_zarr(meta["dtype"])
        self._dtype = self._stored
        if meta["zarr_format"] == 3 and self._stored.byteorder == ">":
            self._dtype = self._stored.newbyteorder("=")
        self._object = meta["object_codec"]
        if self._object is not None:
            # An object array's fill value is its JSON (None, "", "x", ...), as zarr-python reports.
            self._fill = json.loads(self._core.fill_value_json())
            rows = self._object["dtype"]
            self._row_dtype = None if rows is None else np.dtype(rows)
            return
        fill = self._core.fill_value_bytes()
        self._fill = None if fill is None else np.frombuffer(fill, dtype=self._stored)[0]
        if self._fill is not None and self._dtype != self._stored:
            self._fill = self._fill.astype(self._dtype)

    # ---- metadata -------------------------------------------------------------------------------
    @property
    def shape(self):
        """The shape, a tuple of ints."""
        return tuple(self._meta["shape"])

    @property
    def chunks(self):
        """The chunk shape: the shape of the chunks encoded one by one (inside a shard for a sharded
        array, as zarr-python 3 reports it)."""
        return tuple(self._meta["chunks"])

    @property
    def shards(self):
        """The shard shape of a sharded Zarr v3 array, else ``None``."""
        shards = self._meta["shards"]
        return None if shards is None else tuple(shards)

    @property
    def dtype(self):
        """The stored data type, byte order included (a ``numpy.dtype``)."""
        return self._dtype

    @property
    def ndim(self):
        """The number of dimensions."""
        return len(self._meta["shape"])

    @property
    def size(self):
        """The number of elements."""
        return int(np.prod(self.shape, dtype=np.int64)) if self.ndim else 1

    @property
    def itemsize(self):
        """Bytes per element."""
        return self._dtype.itemsize

    @property
    def nbytes(self):
        """Bytes of the whole array, decoded."""
        return self.size * self.itemsize

    @property
    def nchunks(self):
        """The number of stored objects in the grid: chunks, or shards of a sharded array."""
        n = 1
        for s, c in zip(self.shape, self.shards or self.chunks):
            n *= -(-s // c)
        return n

    @property
    def nchunks_initialized(self):
        """The number of chunks (shards of a sharded array) stored."""
        return self._core.stored_chunks()[0]

    @property
    def nbytes_stored(self):
        """Bytes of the stored chunks (metadata not counted)."""
        return self._core.stored_chunks()[1]

    @property
    def fill_value(self):
        """The fill value as a numpy scalar of the dtype, or ``None``; for an object array its JSON
        value (``""``, ``None``, ...)."""
        return self._fill

    @property
    def order(self):
        """``"C"`` or ``"F"``: the element order inside chunks."""
        return self._meta["order"]

    @property
    def compressor(self):
        """The compressor's numcodecs config (a dict), or ``None`` (always ``None`` for Zarr v3: see
        :attr:`codecs`)."""
        return self._meta.get("compressor")

    @property
    def filters(self):
        """The filters' numcodecs configs (a list of dicts), or ``None`` (always ``None`` for Zarr
        v3: see :attr:`codecs`)."""
        return self._meta.get("filters")

    @property
    def codecs(self):
        """Zarr v3: the ``codecs`` list of ``zarr.json`` (dicts with ``name`` and
        ``configuration``); ``None`` for Zarr v2."""
        return self._meta.get("codecs")

    @property
    def dimension_separator(self):
        """``"."`` or ``"/"``: the separator in Zarr v2 chunk keys; ``None`` for Zarr v3 (its chunk
        key encoding is in ``zarr.json``)."""
        return self._meta.get("dimension_separator")

    @property
    def zarr_format(self):
        """The Zarr format version: 2 or 3."""
        return self._meta["zarr_format"]

    @property
    def path(self):
        """The array's path in its store (``""`` for the root)."""
        return self._core.path

    @property
    def name(self):
        """The array's path with a leading ``/``, as zarr-python names it."""
        return "/" + self.path

    @property
    def basename(self):
        """The last segment of the path."""
        return self.path.rsplit("/", 1)[-1]

    @property
    def store_url(self):
        """The URL or path the store was opened from."""
        return self._url

    @property
    def mode(self):
        """The mode the array was opened with."""
        return self._mode

    @property
    def read_only(self):
        """True when the array was opened with ``mode="r"``."""
        return self._mode == "r"

    @property
    def attrs(self):
        """The attributes (``.zattrs``, or ``attributes`` in ``zarr.json``), a mutable mapping
        persisted on every change."""
        return Attributes(self._core, self.read_only)

    @property
    def dimension_names(self):
        """Names of the axes: ``dimension_names`` of a Zarr v3 array (``None`` for an unnamed
        axis), the ``_ARRAY_DIMENSIONS`` attribute of a v2 array (xarray's convention), or
        ``None``."""
        if self.zarr_format == 3:
            names = self._meta["dimension_names"]
        else:
            names = self.attrs.get("_ARRAY_DIMENSIONS")
        return tuple(names) if names is not None else None

    @property
    def info(self):
        """A text summary: type, shape, chunks, codecs, stored size."""
        count, stored = self._core.stored_chunks()
        ratio = f"{self.nbytes / stored:.1f}" if stored else "-"
        rows = [
            ("Type", "tessera.Array"),
            ("Zarr format", str(self.zarr_format)),
            ("Store", self._url),
            ("Path", self.path or "/"),
            ("Data type", str(self.dtype)),
            ("Shape", str(self.shape)),
            ("Chunk shape", str(self.chunks)),
        ]
        if self.shards is not None:
            rows.append(("Shard shape", str(self.shards)))
        rows += [
            ("Order", self.order),
            ("Read-only", str(self.read_only)),
        ]
        if self.zarr_format == 3:
            rows.append(("Codecs", json.dumps(self.codecs)))
        else:
            rows += [("Compressor", json.dumps(self.compressor)), ("Filters", json.dumps(self.filters))]
        rows += [
            ("No. bytes", f"{self.nbytes}"),
            ("No. bytes stored", f"{stored}"),
            ("Storage ratio", ratio),
            ("Chunks initialized", f"{count}/{self.nchunks}"),
        ]
        width = max(len(k) for k, _ in rows)
        return "\n".join(f"{k:<{width}} : {v}" for k, v in rows)

    def __len__(self):
        if not self.ndim:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __repr__(self):
        return (
            f"<tessera.Array {self._url!s} /{self.path} shape={self.shape} dtype={self.dtype} "
            f"chunks={self.chunks}{'' if self.shards is None else f' shards={self.shards}'} "
            f"mode={self._mode!r}>"
        )

    def __array__(self, dtype=None, copy=None):
        data = self[...]
        if dtype is not None and np.dtype(dtype) != data.dtype:
            if copy is False:
                raise ValueError("converting the array's dtype needs a copy")
            return data.astype(dtype)
        return data

    # ---- reads ----------------------------------------------------------------------------------
    def _read(self, sel):
        shape = self._core.selection_shape(sel.axes)
        if self._object is not None:
            out = self._read_objects(sel, shape)
        elif sel.fields is not None:
            return self._read_fields(sel, shape)
        else:
            out = np.empty(shape, dtype=self._stored)
            self._core.read_into(sel.axes, _flat_bytes(out))
            if self._stored != self._dtype:
                out = out.byteswap(inplace=True).view(self._dtype)
        out = sel.finish(out)
        if sel.scalar and out.ndim == 0:
            return out[()]
        return out

    def _read_fields(self, sel, shape):
        # tessera-array copies only the named fields out of each chunk, packed in the order given.
        names = list(dict.fromkeys(sel.fields))
        spec, flat = self._core.read_fields(sel.axes, names)
        packed = _dtype.from_zarr(json.loads(spec))
        out = sel.finish(flat.view(packed).reshape(shape))
        if len(sel.fields) == 1:
            out = out[sel.fields[0]]
        if sel.scalar and out.ndim == 0:
            return out[()]
        return out

    def _read_objects(self, sel, shape):
        if sel.fields is not None:
            raise IndexError("an object array has no fields")
        flat = self._core.read_objects(sel.axes)
        if self._row_dtype is not None:
            # vlen-array rows arrive as raw bytes in the codec's dtype: view them as numpy rows.
            native = self._row_dtype.newbyteorder("=")
            for i, row in enumerate(flat):
                flat[i] = np.frombuffer(row, dtype=self._row_dtype).astype(native)
        return flat.reshape(shape)

    def __getitem__(self, key):
        return self._read(_indexing.parse(key, self.shape))

    def get_basic_selection(self, selection=Ellipsis, fields=None):
        """Reads a basic selection (integers, slices, ``...``, ``None``), optionally only ``fields``
        of a structured dtype."""
        sel = _indexing.parse(selection, self.shape)
        if fields is not None:
            sel.fields = [fields] if isinstance(fields, str) else list(fields)
        return self._read(sel)

    def get_orthogonal_selection(self, selection, fields=None):
        """Orthogonal selection (zarr's ``oindex``): per axis an integer, a slice, an integer
        list/array or a boolean mask, each applied to its own axis."""
        sel = _indexing.parse(selection, self.shape, orthogonal=True)
        if fields is not None:
            sel.fields = [fields] if isinstance(fields, str) else list(fields)
        return self._read(sel)

    def get_coordinate_selection(self, selection, fields=None):
        """Coordinate selection (zarr's ``vindex``): one integer array per axis, broadcast together
        (the result has their shape), or one boolean mask of the array's shape (1-d result)."""
        sel = _indexing.coordinate(selection, self.shape)
        if fields is not None:
            sel.fields = [fields] if isinstance(fields, str) else list(fields)
        return self._read(sel)

    def get_mask_selection(self, mask, fields=None):
        """The elements where ``mask`` (a boolean array of the array's shape) is true, C order."""
        return self.get_coordinate_selection(np.asarray(mask, dtype=bool), fields=fields)

    @property
    def oindex(self):
        """Orthogonal indexing: ``a.oindex[...]``."""
        return _OIndex(self)

    @property
    def vindex(self):
        """Vectorised (coordinate) indexing: ``a.vindex[...]``."""
        return _VIndex(self)

    # ---- writes ---------------------------------------------------------------------------------
    def _check_writable(self):
        if self.read_only:
            raise ReadOnlyError(
                f"{self._url} /{self.path} was opened read-only (mode='r'); open it with mode='r+' "
                "or 'a' to write"
            )

    def _write(self, sel, value):
        self._check_writable()
        shape = tuple(self._core.selection_shape(sel.axes))
        final = sel.final_shape(shape)
        if sel.fields is not None:
            return self._write_fields(sel, shape, final, value)
        if self._object is not None:
            value = _object_values(value, final)
        else:
            value = np.asarray(value)
            if value.dtype != self._stored:
                value = value.astype(self._stored)
        value = sel.unfinish(np.broadcast_to(value, final), shape)
        data = np.ascontiguousarray(value)
        if self._object is not None:
            self._core.write_objects(sel.axes, self._stored_objects(data.reshape(-1)))
        else:
            self._core.write_from(sel.axes, _flat_bytes(data))

    def _write_fields(self, sel, shape, final, value):
        # numpy assigns the value into records of just those fields (broadcast, converted to the
        # stored byte order); tessera-array writes their bytes into each record, keeping the rest.
        if self._object is not None or self._stored.names is None:
            raise IndexError("only a structured array has fields")
        names = list(dict.fromkeys(sel.fields))
        packed = np.dtype([(name, _field_dtype(self._stored, name)) for name in names])
        records = np.empty(final, dtype=packed)
        if len(sel.fields) == 1:
            records[names[0]] = value
        else:
            records[...] = value
        data = np.ascontiguousarray(sel.unfinish(records, shape))
        self._core.write_fields(sel.axes, names, _flat_bytes(data))

    def _stored_objects(self, flat):
        if self._row_dtype is None:
            return flat
        # vlen-array rows cross as bytes in the codec's dtype; numpy converts each row.
        return [
            None if row is None else np.ascontiguousarray(row, dtype=self._row_dtype).tobytes()
            for row in flat
        ]

    def __setitem__(self, key, value):
        self._write(_indexing.parse(key, self.shape), value)

    def set_basic_selection(self, selection, value, fields=None):
        """Writes ``value`` (broadcast as numpy does) into a basic selection."""
        sel = _indexing.parse(selection, self.shape)
        if fields is not None:
            sel.fields = [fields]
        self._write(sel, value)

    def set_orthogonal_selection(self, selection, value, fields=None):
        """Orthogonal write (zarr's ``oindex``), ``value`` broadcast to the selection."""
        sel = _indexing.parse(selection, self.shape, orthogonal=True)
        if fields is not None:
            sel.fields = [fields]
        self._write(sel, value)

    def set_coordinate_selection(self, selection, value, fields=None):
        """Coordinate write (zarr's ``vindex``); a point listed twice gets the later value."""
        sel = _indexing.coordinate(selection, self.shape)
        if fields is not None:
            sel.fields = [fields]
        self._write(sel, value)

    def set_mask_selection(self, mask, value, fields=None):
        """Writes ``value`` where ``mask`` (a boolean array of the array's shape) is true."""
        self.set_coordinate_selection(np.asarray(mask, dtype=bool), value, fields=fields)

    def resize(self, *shape):
        """Changes the shape; chunks outside the new shape are removed. ``resize(10, 20)`` or
        ``resize((10, 20))``."""
        self._check_writable()
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        self._core.resize([int(s) for s in shape])
        self._load_metadata()

    def append(self, data, axis=0):
        """Appends ``data`` along ``axis`` (the other axes must match); returns the new shape."""
        self._check_writable()
        if axis < 0:
            axis += self.ndim
        if self._object is not None:
            return self._append_objects(data, axis)
        data = np.ascontiguousarray(np.asarray(data), dtype=self._stored)
        if data.ndim != self.ndim:
            from .errors import ShapeError

            raise ShapeError(
                f"cannot append data of shape {data.shape} to an array of shape {self.shape}"
            )
        self._core.append(_flat_bytes(data), list(data.shape), int(axis))
        self._load_metadata()
        return self.shape

    def _append_objects(self, data, axis):
        # Object values cannot cross as one byte buffer: grow the array, then write the new region.
        listed = isinstance(data, (list, tuple)) and self.ndim == 1
        data = _object_values(data, (len(data),) if listed else None)
        if data.ndim != self.ndim or any(
            d != s for i, (d, s) in enumerate(zip(data.shape, self.shape)) if i != axis
        ):
            from .errors import ShapeError

            raise ShapeError(
                f"cannot append data of shape {data.shape} to an array of shape {self.shape}"
            )
        old = self.shape
        new = list(old)
        new[axis] += data.shape[axis]
        self.resize(new)
        region = tuple(slice(old[axis], None) if i == axis else slice(None) for i in range(self.ndim))
        self[region] = data
        return self.shape

    def reload(self):
        """Re-reads the metadata (after another handle resized the array); empties the chunk cache."""
        self._core.reload()
        self._load_metadata()

    # ---- decoded-chunk cache --------------------------------------------------------------------
    def set_chunk_cache(self, nbytes):
        """Keeps up to ``nbytes`` of decoded chunks in memory (least recently used out first), so
        that reads which come back to the same chunks (random crops, training epochs) skip the fetch
        and the decode; ``0`` turns it off. Off by default.

        Writes through this handle forget the chunks they touch, and ``resize``, ``append`` and
        ``reload`` empty the cache; writes by other handles or processes are not seen while a chunk
        stays cached. A pickled handle (a Dask task's) reopens with a cache of the same size, its
        own."""
        nbytes = int(nbytes)
        if nbytes < 0:
            raise InvalidArgumentError(f"a cache of {nbytes} bytes")
        self._core.set_chunk_cache(nbytes)
        return self

    @property
    def chunk_cache_info(self):
        """The cache's ``budget``, ``bytes`` and ``chunks`` held, ``hits`` and ``misses`` as a dict;
        ``None`` without a cache."""
        stats = self._core.chunk_cache_stats()
        if stats is None:
            return None
        return dict(zip(("budget", "bytes", "chunks", "hits", "misses"), stats))

    # ---- pickling -------------------------------------------------------------------------------
    def __dask_tokenize__(self):
        # Dask names graphs after this: the node and its metadata, never the data (as for zarr arrays).
        return ("tessera.Array", self._portable_url, self.path, self.shape, str(self.dtype), self.chunks)

    def __reduce__(self):
        from ._api import reopen

        if self._url.startswith("memory://"):
            raise NotPicklableError(
                f"an array in {self._url} cannot be pickled: memory stores live in one process. "
                "Use a directory or an object store URL to share arrays with other processes"
            )
        info = self.chunk_cache_info
        cache = 0 if info is None else info["budget"]
        return (reopen, (self._portable_url, self.path, _reopen_mode(self._mode), "array", cache))


def _object_values(value, shape):
    """``value`` as a numpy object array: strings of a ``<U``/``|S`` array become ``str``/``bytes``
    objects; a list as long as a 1-d ``shape`` is one element per item (ragged rows, JSON lists),
    which ``numpy.asarray`` would refuse or turn into a 2-d array; anything else not a list is one
    element."""
    if isinstance(value, np.ndarray):
        return value if value.dtype == object else value.astype(object)
    if isinstance(value, (list, tuple)):
        if shape is not None and len(shape) == 1 and len(value) == shape[0]:
            out = np.empty(len(value), dtype=object)
            for i, item in enumerate(value):
                out[i] = item
            return out
        return np.asarray(value, dtype=object)
    out = np.empty((), dtype=object)
    out[()] = value
    return out


def portable_url(url):
    """The URL another process reopens: a relative local path made absolute (a Dask worker or a
    spawned process may run in another directory)."""
    return url if "://" in url else os.path.abspath(url)


def _reopen_mode(mode):
    # A receiving process reopens what exists: never "w" (that would erase the array).
    return "r" if mode == "r" else "r+"


class _OIndex:
    def __init__(self, array):
        self._array = array

    def __getitem__(self, key):
        return self._array.get_orthogonal_selection(key)

    def __setitem__(self, key, value):
        self._array.set_orthogonal_selection(key, value)


class _VIndex:
    def __init__(self, array):
        self._array = array

    def __getitem__(self, key):
        return self._array.get_coordinate_selection(key)

    def __setitem__(self, key, value):
        self._array.set_coordinate_selection(key, value)
