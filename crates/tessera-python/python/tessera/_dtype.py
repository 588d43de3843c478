"""numpy dtypes to and from the ``dtype`` field of ``.zarray``."""

import numpy as np

from .errors import UnsupportedError

VLEN = (
    "variable-length strings and objects (dtype {dtype!r}) are not supported yet: tessera-array has "
    "no vlen-utf8/vlen-bytes/object codecs (issue 14). Use a fixed-size 'U<n>' or 'S<n>' dtype"
)


def from_zarr(spec):
    """The numpy dtype of a ``.zarray`` ``dtype`` field (a type string or a list of fields)."""
    if isinstance(spec, str):
        return np.dtype(spec)
    fields = []
    for field in spec:
        name, inner = field[0], field[1]
        inner = inner if isinstance(inner, str) else from_zarr(inner)
        if len(field) == 3:
            fields.append((name, inner, tuple(field[2])))
        else:
            fields.append((name, inner))
    return np.dtype(fields)


def to_zarr(dtype):
    """The ``.zarray`` ``dtype`` field of a numpy dtype; :class:`UnsupportedError` for str/object."""
    if dtype in (str, object, "str", "object", "O", "|O"):
        raise UnsupportedError(VLEN.format(dtype=str(dtype)))
    dt = np.dtype(dtype)
    if dt.kind == "O" or dt.hasobject:
        raise UnsupportedError(VLEN.format(dtype=str(dt)))
    if dt.kind in "SUV" and dt.itemsize == 0 and dt.fields is None:
        raise UnsupportedError(VLEN.format(dtype=str(dt)))
    if dt.fields is None:
        if dt.subdtype is not None:
            raise UnsupportedError(
                f"a sub-array dtype ({dt}) is not a Zarr v2 array dtype; add the sub-array's axes "
                "to the shape instead"
            )
        return dt.str
    return _descr(dt.descr)


def _descr(descr):
    out = []
    for item in descr:
        name, inner = item[0], item[1]
        inner = inner if isinstance(inner, str) else _descr(inner)
        out.append([name, inner, list(item[2])] if len(item) == 3 else [name, inner])
    return out
