"""tessera: Zarr arrays for numpy, Dask and xarray, read and written by Rust.

>>> import numpy as np, tessera
>>> a = tessera.create("memory://doc", "x", shape=(4, 6), chunks=(2, 3), dtype="<i4")
>>> a[1:3, 2:5] = np.arange(6).reshape(2, 3)
>>> tessera.open("memory://doc", "x")[2, ::-1]
array([0, 5, 4, 3, 0, 0], dtype=int32)

Names follow zarr-python 2's top level: :func:`open`, :func:`open_array`, :func:`open_group`,
:func:`create`, :func:`consolidate_metadata`; :class:`Array` and :class:`Group`; the errors in
:mod:`tessera.errors`. :func:`to_dask` wraps an array as a Dask array; ``xarray.open_dataset(store,
engine="tessera")`` opens a group as a Dataset.
"""

from ._api import consolidate_metadata, create, open, open_array, open_group
from ._array import Array
from ._group import Group
from .errors import (
    CorruptDataError,
    NodeExistsError,
    NodeNotFound,
    NotPicklableError,
    ReadOnlyError,
    TesseraError,
    UnsupportedError,
)

__all__ = [
    "Array",
    "Group",
    "open",
    "open_array",
    "open_group",
    "create",
    "consolidate_metadata",
    "to_dask",
    "TesseraError",
    "NodeNotFound",
    "NodeExistsError",
    "ReadOnlyError",
    "UnsupportedError",
    "CorruptDataError",
    "NotPicklableError",
]


def to_dask(array, chunks=None):
    """``array`` as a lazy ``dask.array.Array`` with one block per stored chunk (or ``chunks``).

    Each block is read by ``array[...]`` in the worker that computes it; the array pickles as
    (store URL, path, mode), so it must live in a store other processes can open (not ``memory://``
    for a distributed cluster).
    """
    from ._dask import to_dask as _to_dask

    return _to_dask(array, chunks)
