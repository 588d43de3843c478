//! Splitting a selection into slabs that are contiguous in its C-order output and fit a byte budget,
//! so exports stream with bounded memory.

use tessera_array::AxisRange;

/// Iterator over the slabs of a selection, in output order. Each slab is a selection (one range per
/// array axis) whose elements form one contiguous run of the output; concatenating the slabs gives
/// the whole output.
#[derive(Debug)]
pub struct Slabs {
    axes: Vec<AxisRange>,
    chunks: Vec<u64>,
    /// The axis split into blocks; axes before it are walked one position at a time, axes after it
    /// are taken whole.
    split: usize,
    block: u64,
    outer: Vec<u64>,
    next: u64,
    done: bool,
}

impl Slabs {
    /// Slabs of at most `budget` bytes where possible (a slab never holds less than one position of
    /// the innermost axis). `chunks` lets slab boundaries fall on chunk boundaries so that each chunk
    /// is decoded once.
    pub fn new(axes: &[AxisRange], chunks: &[u64], itemsize: usize, budget: u64) -> Slabs {
        let n = axes.len();
        if axes.iter().any(|a| a.count == 0) {
            // An empty selection has no slab (and its zero-sized axes must not divide the budget).
            return Slabs {
                axes: axes.to_vec(),
                chunks: chunks.to_vec(),
                split: 0,
                block: 1,
                outer: Vec::new(),
                next: 0,
                done: true,
            };
        }
        let itemsize = itemsize.max(1) as u128;
        // inner[k]: bytes of one position of axis k with every axis after it whole.
        let mut inner = vec![itemsize; n];
        for k in (0..n.saturating_sub(1)).rev() {
            inner[k] = inner[k + 1].saturating_mul(u128::from(axes[k + 1].count));
        }
        let budget = u128::from(budget.max(1));
        let split = (0..n)
            .find(|&k| inner[k] <= budget)
            .unwrap_or(n.saturating_sub(1));
        let block = if n == 0 {
            1
        } else {
            let fit = (budget / inner[split]).max(1);
            u64::try_from(fit)
                .unwrap_or(u64::MAX)
                .min(axes[split].count.max(1))
        };
        Slabs {
            axes: axes.to_vec(),
            chunks: chunks.to_vec(),
            split,
            block,
            outer: vec![0; split],
            next: 0,
            done: false,
        }
    }

    /// Bytes of the largest slab.
    pub fn max_bytes(&self, itemsize: usize) -> u64 {
        let rest: u64 = self
            .axes
            .iter()
            .skip(self.split + 1)
            .map(|a| a.count)
            .product();
        rest.saturating_mul(self.block)
            .saturating_mul(itemsize as u64)
    }

    /// The end (exclusive, in positions of the split axis) of the block starting at `p`.
    fn block_end(&self, p: u64) -> u64 {
        let axis = &self.axes[self.split];
        let mut q = p.saturating_add(self.block).min(axis.count);
        let chunk = self.chunks.get(self.split).copied().unwrap_or(0);
        // With a unit step, end blocks on chunk boundaries when a block spans at least one chunk.
        if axis.step == 1 && chunk > 0 && self.block >= chunk && q < axis.count {
            let abs = axis.start + q;
            let aligned = abs - abs % chunk;
            if aligned > axis.start + p {
                q = aligned - axis.start;
            }
        }
        q
    }
}

impl Iterator for Slabs {
    type Item = Vec<AxisRange>;

    fn next(&mut self) -> Option<Vec<AxisRange>> {
        if self.done {
            return None;
        }
        if self.axes.is_empty() {
            self.done = true;
            return Some(Vec::new());
        }
        let k = self.split;
        let p = self.next;
        let q = self.block_end(p);
        let mut slab = self.axes.clone();
        for (a, &i) in self.outer.iter().enumerate() {
            let axis = &self.axes[a];
            slab[a] = AxisRange {
                start: axis.start + i * axis.step,
                count: 1,
                step: 1,
                keep: axis.keep,
            };
        }
        let axis = &self.axes[k];
        slab[k] = AxisRange {
            start: axis.start + p * axis.step,
            count: q - p,
            step: axis.step,
            keep: axis.keep,
        };

        // Advance: the block along the split axis, then the outer axes like an odometer.
        if q < axis.count {
            self.next = q;
        } else {
            self.next = 0;
            let mut a = k;
            loop {
                if a == 0 {
                    self.done = true;
                    break;
                }
                a -= 1;
                self.outer[a] += 1;
                if self.outer[a] < self.axes[a].count {
                    break;
                }
                self.outer[a] = 0;
            }
        }
        Some(slab)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(shape: &[u64]) -> Vec<AxisRange> {
        shape
            .iter()
            .map(|&n| AxisRange {
                start: 0,
                count: n,
                step: 1,
                keep: true,
            })
            .collect()
    }

    fn elements(slabs: &[Vec<AxisRange>]) -> u64 {
        slabs
            .iter()
            .map(|s| s.iter().map(|a| a.count).product::<u64>())
            .sum()
    }

    #[test]
    fn slabs_cover_the_selection_in_order() {
        // Budget of 3 rows of 10 f8, chunks of 2 rows: blocks end on chunk boundaries (but the last).
        let slabs: Vec<_> = Slabs::new(&full(&[7, 10]), &[2, 10], 8, 240).collect();
        assert_eq!(
            slabs
                .iter()
                .map(|s| (s[0].start, s[0].count))
                .collect::<Vec<_>>(),
            vec![(0, 2), (2, 2), (4, 3)]
        );
        assert_eq!(elements(&slabs), 70);
        // A budget smaller than a row splits rows, walking the first axis one at a time.
        let slabs: Vec<_> = Slabs::new(&full(&[3, 10]), &[3, 10], 8, 40).collect();
        assert_eq!(slabs.len(), 6);
        assert_eq!(elements(&slabs), 30);
        assert_eq!(
            (slabs[1][0].start, slabs[1][1].start, slabs[1][1].count),
            (0, 5, 5)
        );
        // Zero-d and empty selections.
        assert_eq!(Slabs::new(&[], &[], 8, 1).count(), 1);
        assert_eq!(Slabs::new(&full(&[0, 5]), &[2, 2], 8, 100).count(), 0);
        // A zero-length inner axis once divided the budget by zero.
        assert_eq!(Slabs::new(&full(&[5, 0]), &[2, 2], 8, 100).count(), 0);
        assert_eq!(Slabs::new(&full(&[3, 0, 4]), &[2, 2, 2], 8, 1).count(), 0);
    }

    #[test]
    fn steps_are_kept() {
        let axes = vec![
            AxisRange {
                start: 1,
                count: 4,
                step: 3,
                keep: true,
            },
            AxisRange {
                start: 2,
                count: 1,
                step: 1,
                keep: false,
            },
        ];
        let slabs: Vec<_> = Slabs::new(&axes, &[5, 5], 4, 8).collect();
        assert_eq!(
            slabs.iter().map(|s| s[0].start).collect::<Vec<_>>(),
            vec![1, 7]
        );
        assert!(slabs.iter().all(|s| s[0].step == 3 && s[1].start == 2));
    }
}
