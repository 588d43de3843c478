"""numpy basic indexing, translated into tessera-array selections.

tessera-array resolves selections (bounds, negative indices, clamping, chunk plans). This module only
turns a numpy key into its per-axis items and records what the Rust side does not express itself:
``None`` (a new length-1 axis of the result), negative slice steps (read as the same positions in
increasing order, then the axis is viewed reversed) and structured field names.
"""

import operator

import numpy as np

from .errors import SelectionError, UnsupportedError

FANCY = (
    "{what} is not supported yet: tessera-array has no orthogonal or coordinate selections "
    "(integer arrays, lists, boolean masks; issue 16). Use slices and integers"
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
    """

    __slots__ = ("axes", "flips", "newaxes", "scalar", "fields")

    def __init__(self, axes, flips, newaxes, scalar, fields):
        self.axes = axes
        self.flips = flips
        self.newaxes = newaxes
        self.scalar = scalar
        self.fields = fields


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


def parse(key, shape, what="fancy indexing"):
    """Parses a numpy basic-indexing ``key`` for an array of ``shape``.

    Raises ``IndexError`` (too many indices, several ellipses, a float index), ``TypeError`` (a slice
    bound that is not an integer), ``ValueError`` (a zero step) as numpy does, and
    :class:`UnsupportedError` for fancy indexing.
    """
    if not isinstance(key, tuple):
        key = (key,)
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
    dim = 0  # the stored axis the next item selects on
    kept = 0  # axes of the Rust result so far
    out = 0  # axes of the final result so far
    for item in items:
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
            raise UnsupportedError(FANCY.format(what=what))
        else:
            try:
                axes.append(operator.index(item))
            except TypeError:
                raise SelectionError(_BAD_INDEX) from None
            dim += 1
    return BasicSelection(axes, tuple(flips), tuple(newaxes), scalar, fields or None)


def is_basic(key):
    """True when ``key`` holds only integers, slices, ``...``, ``None`` and field names."""
    if not isinstance(key, tuple):
        key = (key,)
    return not any(_is_fancy(item) and not _is_field_list(item) for item in key)


def _is_field_list(item):
    return isinstance(item, list) and item and all(isinstance(f, str) for f in item)
