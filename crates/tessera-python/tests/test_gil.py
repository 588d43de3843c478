"""Reads and writes run without the GIL: another Python thread keeps running meanwhile."""

import threading
import time

import numpy as np

import tessera


def test_other_threads_run_during_reads_and_writes(tmp_path):
    data = np.random.default_rng(0).integers(0, 1000, size=(64, 256, 256)).astype("<i4")  # 16 MiB
    a = tessera.create(tmp_path / "gil.zarr", shape=data.shape, chunks=(8, 64, 64), dtype="<i4",
                       compressor={"id": "zstd", "level": 5})
    ticks = [0]
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            ticks[0] += 1

    t = threading.Thread(target=spin)
    t.start()
    try:
        time.sleep(0.05)
        during = []
        # The native calls alone (no numpy work in Python around them, which the interpreter's
        # switch interval would interleave with the spinning thread anyway).
        flat = data.reshape(-1).view(np.uint8)
        out = np.empty_like(data)
        axes = [(None, None, None)] * 3
        write = lambda: a._core.write_from(axes, flat)  # noqa: E731
        read = lambda: a._core.read_into(axes, out.reshape(-1).view(np.uint8))  # noqa: E731
        for op in (write, read):
            before = ticks[0]
            start = time.perf_counter()
            op()
            elapsed = time.perf_counter() - start
            during.append((ticks[0] - before, elapsed))
    finally:
        stop.set()
        t.join()
    for count, elapsed in during:
        # With the GIL held for the whole call the spinning thread could not count at all; released,
        # it counts millions of times per second.
        assert count > 1000, (count, elapsed)
    np.testing.assert_array_equal(out, data)
