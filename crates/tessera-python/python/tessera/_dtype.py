"""numpy dtypes to and from the ``dtype`` field of ``.zarray``."""

import numpy as np

from .errors import UnsupportedError

#: The numcodecs ids of the codecs that store object (``|O``) arrays.
OBJECT_CODECS = ("vlen-utf8", "vlen-bytes", "vlen-array", "json2", "msgpack2", "pickle")


def object_codec_for(dtype):
    """The object codec config a variable-length dtype gets by default (as zarr-python 2 chooses),
    or ``None`` for a fixed-size dtype: ``str`` → vlen-utf8, ``bytes`` → vlen-bytes, ``object`` →
    vlen-utf8 (zarr-python 2 asks for an ``object_codec``; strings are the common case)."""
    if dtype in (str, "str"):
        return {"id": "vlen-utf8"}
    if dtype in (bytes, "bytes"):
        return {"id": "vlen-bytes"}
    if dtype in (object, "object", "O", "|O"):
        return {"id": "vlen-utf8"}
    dt = np.dtype(dtype)
    if dt.kind == "O":
        return {"id": "vlen-utf8"}
    if dt.kind in "SU" and dt.itemsize == 0 and dt.fields is None:
        return {"id": "vlen-utf8"} if dt.kind == "U" else {"id": "vlen-bytes"}
    return None


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
    """The ``.zarray`` ``dtype`` field of a numpy dtype: ``"|O"`` for the variable-length ones
    (``str``, ``bytes``, ``object``); :class:`UnsupportedError` for records holding objects."""
    if object_codec_for(dtype) is not None:
        return "|O"
    dt = np.dtype(dtype)
    if dt.hasobject:
        raise UnsupportedError(
            f"a structured dtype with object fields ({dt}) is not a Zarr dtype; store the "
            "variable-length field as its own array"
        )
    if dt.kind == "V" and dt.itemsize == 0 and dt.fields is None:
        raise UnsupportedError("a zero-size void dtype ('V0') cannot be stored")
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
