//! Block-by-block iteration with bounded memory, for out-of-core work.
//!
//! The next blocks are read ahead in the background on rayon's pool while the caller works on the current
//! one; see [`Array::blocks`] for how many.
//!
//! ```
//! # use std::sync::{Arc, Mutex, PoisonError};
//! use tessera_array::{ArrayBuilder, DataType};
//! use tessera_store::MemoryStore;
//! use ndarray::Array2;
//!
//! let store = Arc::new(MemoryStore::new());
//! let arr = ArrayBuilder::new(vec![6, 4], vec![2, 4], DataType::parse_typestr("<f8")?).create(store, "x")?;
//! arr.write((), &Array2::<f64>::ones((6, 4)))?;
//! let mut sums = vec![0.0; 4];
//! for block in arr.blocks::<f64>(None)? {
//!     let (_ranges, data) = block?;
//!     for row in data.rows() {
//!         for (s, v) in sums.iter_mut().zip(row) { *s += v; }
//!     }
//! }
//! assert_eq!(sums, vec![6.0; 4]);
//! # Ok::<(), tessera_array::ArrayError>(())
//! ```

use std::any::Any;
use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Range;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, TryRecvError};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ndarray::ArrayD;

use crate::array::Array;
use crate::element::Element;
use crate::error::{ArrayError, ArrayResult};
use crate::selection::Selection;

/// Blocks whose reads may be under way at once (started and not yet yielded), when blocks are small.
const MAX_DEPTH: usize = 4;
/// Blocks whose reads may be under way at once, however large the blocks: the one `next` returns and the
/// one after it.
const MIN_DEPTH: usize = 2;
/// Bytes of decoded blocks that may be under way at once before the depth drops towards [`MIN_DEPTH`].
const PREFETCH_BYTES: u64 = 16 << 20;

/// What a background read hands back: the read's result, or the payload of a panic inside it.
type Outcome<T> = Result<ArrayResult<ArrayD<T>>, Box<dyn Any + Send>>;

/// A block whose read was handed to rayon's pool.
struct Pending<T> {
    ranges: Vec<Range<u64>>,
    /// Set by whoever does the read: the background job when it starts, or `next` when it gets there
    /// first (it then reads inline and the job, when it runs, does nothing). Also set when the iterator
    /// is dropped, so jobs not yet started skip their read.
    claimed: Arc<AtomicBool>,
    /// In a mutex only so that [`Blocks`] stays `Sync` (a receiver is not); never contended.
    result: Mutex<Receiver<Outcome<T>>>,
}

/// Iterator over the blocks of an array, in C order of the block grid; see [`Array::blocks`].
pub struct Blocks<'a, T> {
    /// A clone of the array shared with the background reads (the iterator still borrows the array it
    /// came from, so that array cannot be resized meanwhile).
    array: Arc<Array>,
    block: Vec<u64>,
    grid: Vec<u64>,
    /// The index of the next block to yield.
    next: u64,
    total: u64,
    /// Blocks `next..next + pending.len()`, read ahead.
    pending: VecDeque<Pending<T>>,
    /// The most blocks under way at once: `next` tops `pending` up to this many, then takes the first.
    depth: usize,
    _borrow: PhantomData<&'a Array>,
}

impl<T> fmt::Debug for Blocks<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Blocks")
            .field("array", &self.array.path())
            .field("block", &self.block)
            .field("grid", &self.grid)
            .field("next", &self.next)
            .field("total", &self.total)
            .field("read_ahead", &self.pending.len())
            .field("depth", &self.depth)
            .finish()
    }
}

impl Array {
    /// Iterates over the array in blocks of `block_shape` (default: the chunk shape), yielding each block's
    /// ranges and its data, in C order of the block grid. The chunks of a block are decoded in parallel, so
    /// blocks spanning several chunks (a row of chunks, say) keep every core busy.
    ///
    /// # Read-ahead and memory
    /// While the caller works on a block, the blocks after it are read in the background on rayon's pool
    /// (the pool `next` is called from, else the global one), so fetching and decoding overlap the
    /// caller's work, and several single-chunk blocks decode at once on different cores. At most `depth`
    /// blocks are ever being read or held decoded but not yet yielded, where `depth` is
    /// `16 MiB / block size` clamped to `2..=4` (4 for blocks of up to 4 MiB, 2 for blocks over about
    /// 5.3 MiB; the block size is that of a full block). So besides the blocks the caller keeps, the
    /// iterator holds at most `max(2 blocks, 16 MiB)` of decoded block data, plus what those reads hold
    /// while they run (fetched encoded chunks, for a remote store up to its concurrency per read, and
    /// per-thread decode scratch). While the caller holds block `k`, blocks `k + 1 ..= k + depth - 1` are
    /// under way; the next call to `next` starts block `k + depth` and returns block `k + 1`.
    ///
    /// Dropping the iterator early cancels the reads that have not started; reads already running finish
    /// in the background and their blocks are discarded. Waiting for a block from inside a rayon pool runs
    /// the pool's other jobs meanwhile, and a block whose background read has not started yet is read
    /// inline by `next`, so iterating inside a busy or one-thread pool does not deadlock; it then just
    /// reads less ahead (in a one-thread pool, only while the caller's own rayon work lets the thread run
    /// other jobs).
    ///
    /// # Errors
    /// [`ArrayError::DataTypeMismatch`] for a wrong `T`; [`ArrayError::Selection`] for a block shape of the
    /// wrong rank or with a zero. Each item carries the read's own errors, at the block's position; later
    /// blocks still come. A panic inside a block's read is resumed in the caller's `next`.
    pub fn blocks<T: Element>(&self, block_shape: Option<&[u64]>) -> ArrayResult<Blocks<'_, T>> {
        if !T::matches(self.dtype()) {
            return Err(ArrayError::DataTypeMismatch {
                stored: self.dtype().typestr(),
                requested: T::NAME.into(),
            });
        }
        let block = block_shape.map_or_else(|| self.chunks().to_vec(), <[u64]>::to_vec);
        if block.len() != self.shape().len() || block.contains(&0) {
            return Err(ArrayError::selection(format!(
                "block shape {block:?} does not fit a {}-d array",
                self.shape().len()
            )));
        }
        let grid: Vec<u64> = self
            .shape()
            .iter()
            .zip(&block)
            .map(|(&s, &b)| s.div_ceil(b))
            .collect();
        let total = grid
            .iter()
            .try_fold(1u64, |a, &g| a.checked_mul(g))
            .ok_or_else(|| {
                ArrayError::TooLarge("the block grid has more than 2^64 blocks".into())
            })?;
        // The largest block (edge blocks are smaller), in bytes.
        let block_bytes = self
            .shape()
            .iter()
            .zip(&block)
            .map(|(&s, &b)| s.min(b))
            .fold(self.dtype().itemsize() as u64, u64::saturating_mul)
            .max(1);
        let depth = usize::try_from(PREFETCH_BYTES / block_bytes)
            .unwrap_or(MAX_DEPTH)
            .clamp(MIN_DEPTH, MAX_DEPTH);
        Ok(Blocks {
            array: Arc::new(self.clone()),
            block,
            grid,
            next: 0,
            total,
            pending: VecDeque::with_capacity(depth),
            depth,
            _borrow: PhantomData,
        })
    }
}

impl<T: Element> Blocks<'_, T> {
    fn ranges(&self, mut index: u64) -> Vec<Range<u64>> {
        let mut ranges = vec![0..0; self.grid.len()];
        for axis in (0..self.grid.len()).rev() {
            let i = index % self.grid[axis];
            index /= self.grid[axis];
            let start = i * self.block[axis];
            ranges[axis] = start..(start + self.block[axis]).min(self.array.shape()[axis]);
        }
        ranges
    }

    /// Starts background reads until `depth` blocks from `next` on are under way (or the grid ends).
    fn top_up(&mut self) {
        let remaining = self.total - self.next;
        while (self.pending.len() as u64) < remaining.min(self.depth as u64) {
            let ranges = self.ranges(self.next + self.pending.len() as u64);
            let claimed = Arc::new(AtomicBool::new(false));
            let (tx, result) = mpsc::sync_channel(1);
            let (array, job_ranges, job_claimed) = (
                Arc::clone(&self.array),
                ranges.clone(),
                Arc::clone(&claimed),
            );
            rayon::spawn(move || {
                if job_claimed.swap(true, Ordering::AcqRel) {
                    return;
                }
                let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
                    array.read::<T>(Selection::from_ranges(&job_ranges))
                }));
                // The iterator may be gone: the block is then dropped here.
                let _ = tx.send(outcome);
            });
            self.pending.push_back(Pending {
                ranges,
                claimed,
                result: Mutex::new(result),
            });
        }
    }
}

/// Waits for a background read. Inside a rayon worker the wait runs the pool's other jobs (the read may
/// need them, and in a small pool this thread may be the only one free to run them).
fn wait<T>(rx: &Receiver<Outcome<T>>) -> Option<Outcome<T>> {
    if rayon::current_thread_index().is_none() {
        return rx.recv().ok();
    }
    loop {
        match rx.try_recv() {
            Ok(outcome) => return Some(outcome),
            Err(TryRecvError::Disconnected) => return None,
            Err(TryRecvError::Empty) => {}
        }
        if let Some(rayon::Yield::Executed) = rayon::yield_now() {
            continue;
        }
        match rx.recv_timeout(Duration::from_millis(1)) {
            Ok(outcome) => return Some(outcome),
            Err(RecvTimeoutError::Disconnected) => return None,
            Err(RecvTimeoutError::Timeout) => {}
        }
    }
}

impl<T: Element> Iterator for Blocks<'_, T> {
    type Item = ArrayResult<(Vec<Range<u64>>, ArrayD<T>)>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.total {
            return None;
        }
        self.top_up();
        let Pending {
            ranges,
            claimed,
            result,
        } = self.pending.pop_front()?;
        self.next += 1;
        let read = if claimed.swap(true, Ordering::AcqRel) {
            // The background read started: wait for it.
            let result = result.into_inner().unwrap_or_else(PoisonError::into_inner);
            match wait(&result) {
                Some(Ok(read)) => read,
                Some(Err(payload)) => panic::resume_unwind(payload),
                // The job claimed the block and vanished without an answer: it cannot (it catches
                // panics), but read inline rather than lose the block.
                None => self.array.read::<T>(Selection::from_ranges(&ranges)),
            }
        } else {
            // Not started yet (the pool is busy, or this is its only thread): read inline.
            self.array.read::<T>(Selection::from_ranges(&ranges))
        };
        Some(read.map(|data| (ranges, data)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::try_from(self.total - self.next).unwrap_or(usize::MAX);
        (left, Some(left))
    }
}

impl<T> Drop for Blocks<'_, T> {
    fn drop(&mut self) {
        // Reads not yet started are skipped; running ones finish and drop their block.
        for pending in &self.pending {
            pending.claimed.store(true, Ordering::Release);
        }
    }
}
