"""Dask arrays backed by tessera arrays."""

import numpy as np


def to_dask(array, chunks=None):
    """See :func:`tessera.to_dask`."""
    import dask.array as da
    from dask.base import tokenize

    if chunks is None:
        # One Dask block per stored object: a shard reads with one index fetch and coalesced reads.
        chunks = array.shards or array.chunks
    name = "tessera-" + tokenize(array.store_url, array.path, array.shape, str(array.dtype), chunks)
    return da.from_array(
        array,
        chunks=chunks,
        name=name,
        lock=False,
        asarray=False,
        fancy=False,
        meta=np.empty((0,) * array.ndim, dtype=array.dtype),
    )
