"""The exceptions tessera raises.

Every class derives from :class:`TesseraError` and from the built-in exception a Python or numpy user
would expect for the same mistake, so ``except KeyError`` catches a missing node and
``except IndexError`` an out-of-bounds index.
"""

import pickle

__all__ = [
    "TesseraError",
    "NodeNotFound",
    "NodeExistsError",
    "ReadOnlyError",
    "UnsupportedError",
    "CorruptDataError",
    "SelectionError",
    "DataTypeError",
    "ShapeError",
    "InvalidArgumentError",
    "InvalidPathError",
    "TooLargeError",
    "StoreError",
    "StoreNotFoundError",
    "StorePermissionError",
    "InvalidStoreError",
    "NotPicklableError",
]


class TesseraError(Exception):
    """Base class of every error tessera raises."""


class NodeNotFound(TesseraError, KeyError):
    """No array or group at the path (or no store at the location)."""

    def __str__(self):
        # KeyError's str() quotes its argument; show the message as written.
        return str(self.args[0]) if self.args else ""


class NodeExistsError(TesseraError, FileExistsError):
    """An array or group is already where one was to be created (``mode="w-"``, ``overwrite=False``)."""


class ReadOnlyError(TesseraError, PermissionError):
    """A write through a handle opened with ``mode="r"``."""


class UnsupportedError(TesseraError, ValueError):
    """tessera does not implement this (yet): the message names the codec, dtype or feature."""


class CorruptDataError(TesseraError, OSError):
    """Stored data or metadata is broken: the message names the key."""


class SelectionError(TesseraError, IndexError):
    """A selection does not fit the array (index out of bounds, too many indices)."""


class DataTypeError(TesseraError, TypeError):
    """A value's type does not fit the array's data type."""


class ShapeError(TesseraError, ValueError):
    """Data of the wrong shape for a write, resize or append."""


class InvalidArgumentError(TesseraError, ValueError):
    """An argument (shape, chunks, codec config, fill value, ...) is invalid."""


class InvalidPathError(TesseraError, ValueError):
    """A node path is not valid (empty segments, ``..``)."""


class TooLargeError(TesseraError, MemoryError):
    """A selection or buffer larger than this machine can address."""


class StoreError(TesseraError, OSError):
    """The store failed (I/O, network, service error)."""


class StoreNotFoundError(StoreError, FileNotFoundError):
    """The store's location (directory, bucket) does not exist."""


class StorePermissionError(StoreError, PermissionError):
    """The store refused access."""


class InvalidStoreError(TesseraError, ValueError):
    """A store URL or its configuration (environment variables) cannot be used."""


class NotPicklableError(TesseraError, pickle.PicklingError):
    """A handle on a ``memory://`` store: another process cannot reopen it."""
