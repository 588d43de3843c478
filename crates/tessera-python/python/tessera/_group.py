"""``tessera.Group``: a Zarr group (v2 or v3), a mapping of names to arrays and groups."""

from ._array import Array, _reopen_mode, portable_url
from ._attrs import Attributes
from .errors import NodeNotFound, NotPicklableError, ReadOnlyError


def _join(parent, name):
    name = name.strip("/")
    return f"{parent}/{name}" if parent else name


class Group:
    """A group. ``g["a/b"]`` opens nested nodes; ``name in g``, ``g.arrays()``, ``g.groups()``,
    ``g.attrs``, ``g.create_group``, ``g.create_array``, ``g.tree()``."""

    def __init__(self, core, store, url, mode):
        self._core = core
        self._store = store
        self._url = url
        # Where another process reopens it, fixed now: the working directory may change later.
        self._portable_url = portable_url(url)
        self._mode = mode

    @property
    def path(self):
        """The group's path in its store (``""`` for the root)."""
        return self._core.path

    @property
    def name(self):
        """The path with a leading ``/``."""
        return "/" + self.path

    @property
    def store_url(self):
        """The URL or path the store was opened from."""
        return self._url

    @property
    def mode(self):
        """The mode the group was opened with."""
        return self._mode

    @property
    def read_only(self):
        """True when opened with ``mode="r"``."""
        return self._mode == "r"

    @property
    def consolidated(self):
        """True when metadata is read from consolidated metadata (``.zmetadata``, or Zarr v3's
        inline ``consolidated_metadata``)."""
        return self._core.consolidated

    @property
    def zarr_format(self):
        """The Zarr format version: 2 or 3."""
        return self._core.zarr_format

    @property
    def attrs(self):
        """The attributes (``.zattrs``, or ``attributes`` in ``zarr.json``)."""
        return Attributes(self._core, self.read_only)

    def _wrap(self, name, kind):
        if kind == "array":
            return Array(self._core.open_array(name), self._store, self._url, self._mode)
        return Group(self._core.open_group(name), self._store, self._url, self._mode)

    def __getitem__(self, name):
        kind = self._core.kind_of(name)
        if kind is None:
            raise NodeNotFound(f"no array or group named {name!r} in group /{self.path}")
        return self._wrap(name, kind)

    def get(self, name, default=None):
        """``g[name]``, or ``default`` when there is no such node."""
        try:
            return self[name]
        except NodeNotFound:
            return default

    def __contains__(self, name):
        return self._core.kind_of(name) is not None

    def __iter__(self):
        return iter(name for name, _ in self._core.children())

    def __len__(self):
        return len(self._core.children())

    def keys(self):
        """Names of the direct children, sorted."""
        return [name for name, _ in self._core.children()]

    def members(self):
        """``(name, node)`` pairs of the direct children."""
        return [(name, self._wrap(name, kind)) for name, kind in self._core.children()]

    def arrays(self):
        """``(name, Array)`` pairs of the arrays directly in the group."""
        return [(n, self._wrap(n, k)) for n, k in self._core.children() if k == "array"]

    def groups(self):
        """``(name, Group)`` pairs of the groups directly in the group."""
        return [(n, self._wrap(n, k)) for n, k in self._core.children() if k == "group"]

    def array_keys(self):
        """Names of the arrays directly in the group."""
        return [n for n, k in self._core.children() if k == "array"]

    def group_keys(self):
        """Names of the groups directly in the group."""
        return [n for n, k in self._core.children() if k == "group"]

    def _check_writable(self):
        if self.read_only:
            raise ReadOnlyError(
                f"{self._url} /{self.path} was opened read-only (mode='r'); open it with mode='r+' "
                "or 'a' to change it"
            )

    def create_group(self, name, overwrite=False):
        """Creates the group ``name`` (a relative path) below this one, in this group's format."""
        self._check_writable()
        core = self._store.create_group(_join(self.path, name), overwrite, self.zarr_format)
        return Group(core, self._store, self._url, self._mode)

    def require_group(self, name):
        """Opens the group ``name``, creating it when missing."""
        if self._core.kind_of(name) == "group":
            return self[name]
        return self.create_group(name)

    def create_array(self, name, **kwargs):
        """Creates the array ``name`` below this group; keywords as :func:`tessera.create`
        (``zarr_format`` defaults to this group's)."""
        from ._api import _create

        self._check_writable()
        kwargs.setdefault("zarr_format", self.zarr_format)
        return _create(self._store, self._url, _join(self.path, name), self._mode, **kwargs)

    def tree(self):
        """The hierarchy below the group as indented text, one node per line."""
        lines = [self.name]

        def walk(group, indent):
            for name, kind in group._core.children():
                node = group._wrap(name, kind)
                if kind == "array":
                    lines.append(f"{indent}{name} {node.shape} {node.dtype}")
                else:
                    lines.append(f"{indent}{name}")
                    walk(node, indent + "  ")

        walk(self, "  ")
        return "\n".join(lines)

    def __repr__(self):
        return f"<tessera.Group {self._url!s} /{self.path} mode={self._mode!r}>"

    def __reduce__(self):
        from ._api import reopen

        if self._url.startswith("memory://"):
            raise NotPicklableError(
                f"a group in {self._url} cannot be pickled: memory stores live in one process. "
                "Use a directory or an object store URL to share groups with other processes"
            )
        return (reopen, (self._portable_url, self.path, _reopen_mode(self._mode), "group"))
