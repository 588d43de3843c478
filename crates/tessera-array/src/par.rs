//! Parallel loops that never wait in rayon while a lock is held.
//!
//! A thread waiting for its parallel loop to finish executes other queued rayon tasks meanwhile
//! (work stealing). If it holds a lock, one of those tasks may want the same lock: it blocks, and the
//! thread under it, the lock's holder, can never resume. A read-modify-write of a chunk holds a
//! chunk lock (and the store's lock of the key) while it decodes, modifies and encodes, and each of
//! those may run a parallel loop (shard codecs, large copies, byte swaps). So every parallel loop
//! in this crate takes `.with_min_len(par::min_len())`: on a thread inside a [`serial`] section the
//! loop does not split and runs on that thread alone, with no wait in which to steal.

use std::cell::Cell;
use std::marker::PhantomData;

thread_local! {
    static SERIAL_DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// While alive, this thread's parallel loops run serially (see the module documentation).
pub(crate) struct Serial {
    // The depth is per thread: the guard must be dropped on the thread that made it.
    _not_send: PhantomData<*const ()>,
}

/// Makes this thread's parallel loops serial until the guard is dropped.
pub(crate) fn serial() -> Serial {
    SERIAL_DEPTH.with(|d| d.set(d.get() + 1));
    Serial {
        _not_send: PhantomData,
    }
}

impl Drop for Serial {
    fn drop(&mut self) {
        SERIAL_DEPTH.with(|d| d.set(d.get() - 1));
    }
}

/// The minimum length of a parallel loop's pieces: `usize::MAX` (no split) inside a [`serial`]
/// section, else 1.
pub(crate) fn min_len() -> usize {
    if SERIAL_DEPTH.with(Cell::get) > 0 {
        usize::MAX
    } else {
        1
    }
}

#[cfg(test)]
mod tests {
    use rayon::prelude::*;

    use super::*;

    #[test]
    fn a_serial_section_runs_its_loops_on_its_own_thread() {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        pool.install(|| {
            let _serial = serial();
            let threads: Vec<_> = (0..64)
                .into_par_iter()
                .with_min_len(min_len())
                .map(|_| std::thread::current().id())
                .collect();
            let first = threads[0];
            assert!(threads.iter().all(|&t| t == first));
        });
        assert_eq!(min_len(), 1);
    }
}
