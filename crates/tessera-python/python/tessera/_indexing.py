"""numpy indexing, translated into tessera-array selections.

tessera-array resolves selections (bounds, negative indices, lists, masks, points, chunk plans). This
module only turns a numpy key into its per-axis items (or a coordinate selection) and records what the
Rust side does not express itself: ``None`` (a new length-1 axis of the result), negative slice steps
(read as the same positions in increasing order, then the axis is viewed reversed), numpy's moving of an
index array's axis to the front, the shape of broadcast coordinate arrays, and structured field names.
"""

import operator

import numpy as np

from .errors import SelectionError, UnsupportedError

FANCY = (
    "{what} is not supported: numpy's rules for several integer arrays mixed with slices, or "
    "multi-dimensional integer arrays beside other indices, are not mapped onto tessera's "
    "selections. Use a.oindex[...] (one list or mask per axis) or a.vindex[...] (points)"
)

_BAD_INDEX = (
    "only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and integer or "
    "boolean arrays are valid indices"
)


class BasicSelection:
    """A numpy basic-indexing key resolved into what the Rust layer and the result need.

    ``axes``: one item per stored axis for tessera-array (``int`` or ``(start, stop, step)`` with a
    positive step); ``flips``: axes of the Rust result to view reversed; ``newaxes``: positions of
    length-1 axes in the final result; ``scalar``: the result is a numpy scalar (every axis indexed by
    an integer); ``fields``: structured field names, or ``None``.

    ``move``: an axis of the Rust result that numpy puts first (one integer array separated from
    integer indices by a slice); ``reshape``: the final shape of a coordinate selection, whose Rust
    result is 1-d.
    """

    __slots__ = ("axes", "flips", "newaxes", "scalar", "fields", "move", "reshape")

    def __init__(self, axes, flips, newaxes, scalar, fields, move=None, reshape=None):
        self.axes = axes
        self.flips = flips
        self.newaxes = newaxes
        self.scalar = scalar
        self.fields = fields
        self.move = move
        self.reshape = reshape

    def finish(self, out):
        """The Rust result ``out`` in numpy's layout (flips, moved axis, new axes, coordinate
        shape)."""
        if self.flips:
            out = np.flip(out, axis=self.flips)
        if self.move is not None:
            out = np.moveaxis(out, self.move, 0)
        if self.newaxes:
            out = np.expand_dims(out, self.newaxes)
        if self.reshape is not None:
            out = out.reshape(self.reshape)
        return out

    def final_shape(self, shape):
        """The numpy shape of the result, given the Rust result's ``shape``."""
        if self.reshape is not None:
            return tuple(self.reshape)
        final = list(shape)
        if self.move is not None:
            final.insert(0, final.pop(self.move))
        for pos in self.newaxes:
            final.insert(pos, 1)
        return tuple(final)

    def unfinish(self, value, shape):
        """``value`` (already of :meth:`final_shape`) in the Rust selection's layout ``shape``."""
        if self.reshape is not None:
            return value.reshape(shape)
        if self.newaxes:
            value = value.reshape([n for i, n in enumerate(value.shape) if i not in self.newaxes])
        if self.move is not None:
            value = np.moveaxis(value, 0, self.move)
        if self.flips:
            value = np.flip(value, axis=self.flips)
        return value


def _is_fancy(item):
    if isinstance(item, (bool, np.bool_, list)):
        return True
    if isinstance(item, np.ndarray):
        return not (item.ndim == 0 and item.dtype.kind in "iu")
    return hasattr(item, "__array__") and not hasattr(item, "__index__")


def _bound(value):
    if value is None:
        return None
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(
            "slice indices must be integers or None or have an __index__ method"
        ) from None


def _index_array(item):
    """An integer or boolean index array as numpy would take it (an empty list is integers)."""
    arr = np.asarray(item)
    if arr.size == 0 and arr.dtype.kind not in "biu":
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "biu":
        raise SelectionError("arrays used as indices must be of integer (or boolean) type")
    return arr


def coordinate(key, shape):
    """A coordinate selection (zarr's ``vindex``, numpy's ``a[rows, cols]``): one integer array per
    axis, broadcast together, or one boolean mask of the array's shape. The result takes the
    broadcast shape (1-d for a mask)."""
    if not isinstance(key, tuple):
        key = (key,)
    if len(key) == 1:
        arr = np.asarray(key[0])
        if arr.dtype == bool and arr.ndim == len(shape) and arr.ndim > 0:
            flat = np.ascontiguousarray(arr, dtype=bool).reshape(-1)
            return BasicSelection({"mask": flat}, (), (), False, None)
    if len(key) != len(shape) or any(isinstance(k, slice) or k is Ellipsis or k is None for k in key):
        raise SelectionError(
            f"a coordinate selection (vindex) needs one integer array per axis ({len(shape)}) "
            "or one boolean mask of the array's shape"
        )
    arrays = [_index_array(k) for k in key]
    if any(a.dtype == bool for a in arrays):
        raise SelectionError("a coordinate selection takes integer arrays, or one whole-array mask")
    arrays = np.broadcast_arrays(*arrays)
    points = [np.ascontiguousarray(a, dtype=np.int64).reshape(-1) for a in arrays]
    return BasicSelection({"points": points}, (), (), False, None, reshape=arrays[0].shape)


def parse(key, shape, what="fancy indexing", orthogonal=False):
    """Parses a numpy indexing ``key`` for an array of ``shape``: integers, slices (any step),
    ``...``, ``None``, field names, and per-axis integer lists/arrays or boolean masks. With
    ``orthogonal`` (zarr's ``oindex``) each list or mask selects along its own axis; otherwise numpy's
    rules apply: one integer array (1-d) or boolean mask among other indices, one boolean mask of the
    whole array, or one integer array per axis (points).

    Raises ``IndexError`` (too many indices, several ellipses, a float index), ``TypeError`` (a slice
    bound that is not an integer), ``ValueError`` (a zero step) as numpy does, and
    :class:`UnsupportedError` for numpy's mixed fancy indexing that has no tessera selection.
    """
    if not isinstance(key, tuple):
        key = (key,)
    if not orthogonal:
        arrays = [k for k in key if _is_fancy(k) and not _is_field_list(k)]
        if len(arrays) == 1 and len(key) == 1 and not isinstance(arrays[0], (bool, np.bool_)):
            arr = np.asarray(arrays[0])
            if arr.dtype == bool and arr.ndim == len(shape) and arr.ndim > 1:
                return coordinate(key, shape)
        if len(arrays) > 1:
            if len(key) == len(shape) and all(_is_fancy(k) or _is_int(k) for k in key):
                return coordinate(key, shape)
            raise UnsupportedError(FANCY.format(what=what))
    fields = []
    items = []
    for item in key:
        if isinstance(item, str):
            fields.append(item)
        elif isinstance(item, list) and item and all(isinstance(f, str) for f in item):
            fields.extend(item)
        else:
            items.append(item)
    ellipses = sum(1 for item in items if item is Ellipsis)
    if ellipses > 1:
        raise SelectionError("an index can only have a single ellipsis ('...')")
    real = sum(1 for item in items if item is not None and item is not Ellipsis)
    ndim = len(shape)
    if real > ndim:
        raise SelectionError(
            f"too many indices for array: array is {ndim}-dimensional, but {real} were indexed"
        )
    axes, flips, newaxes = [], [], []
    scalar = ellipses == 0 and real == ndim
    fancy_at = None  # the Rust result axis of a list or mask
    advanced = []  # positions in `items` of integers and of the list or mask (numpy's rule)
    dim = 0  # the stored axis the next item selects on
    kept = 0  # axes of the Rust result so far
    out = 0  # axes of the final result so far
    for position, item in enumerate(items):
        if item is None:
            newaxes.append(out)
            out += 1
            scalar = False
        elif item is Ellipsis:
            for _ in range(ndim - real):
                axes.append((None, None, None))
                dim += 1
                kept += 1
                out += 1
        elif isinstance(item, slice):
            scalar = False
            start, stop, step = _bound(item.start), _bound(item.stop), _bound(item.step)
            if step == 0:
                raise ValueError("slice step cannot be zero")
            if step is None or step > 0:
                axes.append((start, stop, step))
            else:
                lo, hi, st = slice(start, stop, step).indices(shape[dim])
                n = len(range(lo, hi, st))
                if n == 0:
                    axes.append((0, 0, 1))
                else:
                    first = lo + (n - 1) * st
                    axes.append((first, lo + 1, -st))
                    flips.append(kept)
            dim += 1
            kept += 1
            out += 1
        elif _is_fancy(item):
            if isinstance(item, (bool, np.bool_)):
                raise UnsupportedError(FANCY.format(what="a boolean scalar index"))
            arr = _index_array(item)
            if arr.ndim == 0:
                axes.append(int(arr))
                advanced.append(position)
                dim += 1
                continue
            if arr.ndim != 1:
                raise UnsupportedError(FANCY.format(what=f"a {arr.ndim}-d index array on one axis"))
            scalar = False
            if arr.dtype == bool:
                axes.append(np.ascontiguousarray(arr))
            else:
                axes.append(np.ascontiguousarray(arr, dtype=np.int64))
            fancy_at = kept
            advanced.append(position)
            dim += 1
            kept += 1
            out += 1
        else:
            try:
                axes.append(operator.index(item))
            except TypeError:
                raise SelectionError(_BAD_INDEX) from None
            advanced.append(position)
            dim += 1
    move = None
    if fancy_at is not None and not orthogonal:
        if newaxes:
            raise UnsupportedError(FANCY.format(what="an index array with numpy.newaxis"))
        # numpy: advanced indices (integers count, beside an array) not side by side put the
        # array's axis first.
        if advanced != list(range(advanced[0], advanced[0] + len(advanced))) and fancy_at != 0:
            move = fancy_at
    return BasicSelection(axes, tuple(flips), tuple(newaxes), scalar, fields or None, move)


def _is_int(item):
    return hasattr(item, "__index__") and not isinstance(item, (bool, np.bool_))


def is_basic(key):
    """True when ``key`` holds only integers, slices, ``...``, ``None`` and field names."""
    if not isinstance(key, tuple):
        key = (key,)
    return not any(_is_fancy(item) and not _is_field_list(item) for item in key)


def _is_field_list(item):
    return isinstance(item, list) and item and all(isinstance(f, str) for f in item)
