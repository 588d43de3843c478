"""``attrs``: a node's ``.zattrs`` as a mutable mapping, persisted on every change."""

import json
from collections.abc import MutableMapping

import numpy as np

from .errors import ReadOnlyError


def _plain(value):
    """numpy scalars and arrays as the JSON values zarr-python writes for them."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"attribute value of type {type(value).__name__} is not JSON serializable")


def encode(attrs):
    """JSON text of an attribute dict (NaN and infinities as zarr-python writes them)."""
    return json.dumps(attrs, default=_plain)


class Attributes(MutableMapping):
    """The attributes of an array or group. Reads go to the store each time (another handle's
    writes are seen); each change rewrites ``.zattrs`` (use :meth:`update` for several keys at once).
    """

    def __init__(self, core, read_only):
        self._core = core
        self._read_only = read_only

    def asdict(self):
        """The attributes as a new ``dict``."""
        return json.loads(self._core.attributes_json())

    def _write(self, attrs):
        if self._read_only:
            raise ReadOnlyError("the node was opened read-only (mode='r'); attributes cannot change")
        self._core.set_attributes_json(encode(attrs))

    def __getitem__(self, key):
        return self.asdict()[key]

    def __setitem__(self, key, value):
        attrs = self.asdict()
        attrs[key] = value
        self._write(attrs)

    def __delitem__(self, key):
        attrs = self.asdict()
        del attrs[key]
        self._write(attrs)

    def update(self, *args, **kwargs):
        """Sets several attributes with one write."""
        attrs = self.asdict()
        attrs.update(*args, **kwargs)
        self._write(attrs)

    def put(self, attrs):
        """Replaces every attribute with ``attrs``."""
        self._write(dict(attrs))

    def __iter__(self):
        return iter(self.asdict())

    def __len__(self):
        return len(self.asdict())

    def __contains__(self, key):
        return key in self.asdict()

    def __repr__(self):
        return repr(self.asdict())
