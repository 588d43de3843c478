//! Planning a rechunk within a memory budget.
//!
//! The work is split into blocks of the destination chunk grid (whole destination chunks, so no
//! destination chunk is ever written twice or read back). A block is read from the source with one
//! batch read that decodes each source chunk straight into the block buffer, one source chunk per
//! worker at a time, and written with one parallel write that encodes each destination chunk. So a
//! block costs its own bytes plus a few chunks per worker — never the sum of the source chunks it
//! touches, which for `(1, N)` → `(N, 1)` would be the whole array.
//!
//! Blocks are grown greedily from one destination chunk: along the axis whose growth most reduces
//! the read amplification (source bytes decoded per byte written: a source chunk that straddles two
//! blocks is decoded twice), while the block fits the budget.
//!
//! Writing a destination chunk piece by piece (read-modify-write) would not lower the peak: each
//! piece still needs the whole decoded destination chunk. The smallest plan is therefore one
//! destination chunk with one worker; when even that does not fit, the copy is refused up front with
//! the size it would need.

use crate::error::{CliError, CliResult};
use crate::memory::{human_bytes, workers_for};

/// How a rechunk is carried out.
#[derive(Clone, Debug, PartialEq)]
pub struct RechunkPlan {
    /// Block shape in elements: a multiple of the destination chunks (clipped to the array).
    pub block: Vec<u64>,
    /// Worker threads.
    pub threads: usize,
    /// Source chunks a batch read may hold fetched before decoding.
    pub in_flight: usize,
    /// Expected source bytes decoded per byte written (1.0 when blocks align with source chunks).
    pub amplification: f64,
    /// Bytes of one block buffer.
    pub block_bytes: u64,
}

/// Plans a rechunk of an array of `shape` from `src` chunks to `dst` chunks (decoded bytes per chunk
/// `src_chunk_bytes`, `dst_chunk_bytes`) within `limit` bytes.
pub fn plan(
    shape: &[u64],
    src: &[u64],
    dst: &[u64],
    itemsize: u64,
    limit: u64,
) -> CliResult<RechunkPlan> {
    let src_cb = src.iter().product::<u64>().saturating_mul(itemsize).max(1);
    let dst_cb = dst.iter().product::<u64>().saturating_mul(itemsize).max(1);
    // Each worker holds a decoded source chunk and its encoded bytes, or a destination chunk and
    // its encoding.
    let per_worker = 2 * src_cb.max(dst_cb);
    let mut threads = workers_for(limit / 4, per_worker);
    let mut in_flight = ((limit / 8) / src_cb).clamp(1, 64) as usize;
    let one_block: u64 = shape
        .iter()
        .zip(dst)
        .map(|(&s, &d)| s.min(d).max(1))
        .product::<u64>()
        * itemsize;
    let fixed = |t: usize, f: usize| t as u64 * per_worker + f as u64 * src_cb;
    if fixed(threads, in_flight) + one_block > limit {
        threads = 1;
        in_flight = 1;
    }
    let budget = limit.saturating_sub(fixed(threads, in_flight));
    if budget < one_block {
        return Err(CliError::usage(format!(
            "--memory-limit {} is too small for this rechunk: one destination chunk ({}) and one source chunk ({}) \
             with their encoded bytes need about {}",
            human_bytes(limit),
            human_bytes(dst_cb),
            human_bytes(src_cb),
            human_bytes(fixed(1, 1) + one_block)
        )));
    }

    let n = shape.len();
    let mut mult = vec![1u64; n];
    let bytes = |m: &[u64]| -> u128 {
        (0..n)
            .map(|a| u128::from((m[a] * dst[a]).min(shape[a]).max(1)))
            .product::<u128>()
            * u128::from(itemsize)
    };
    let amp = |m: &[u64]| -> f64 {
        (0..n)
            .map(|a| axis_amplification(shape[a], src[a], m[a] * dst[a]))
            .product()
    };
    // Enough destination chunks per block to keep every worker busy.
    let want_chunks = 4 * threads as u64;
    for _ in 0..10_000 {
        let current = amp(&mult);
        let chunks_in_block: u64 = (0..n)
            .map(|a| mult[a].min(shape[a].div_ceil(dst[a]).max(1)))
            .product();
        let mut best: Option<(f64, u128, Vec<u64>)> = None;
        for a in 0..n {
            if mult[a] * dst[a] >= shape[a] {
                continue;
            }
            let lcm_mult = lcm(dst[a], src[a]) / dst[a];
            let aligned = (mult[a] / lcm_mult + 1) * lcm_mult;
            for m in [mult[a] + 1, mult[a] * 2, aligned] {
                let m = m.min(shape[a].div_ceil(dst[a]));
                if m <= mult[a] {
                    continue;
                }
                let mut cand = mult.clone();
                cand[a] = m;
                let b = bytes(&cand);
                if b > u128::from(budget) {
                    continue;
                }
                let c = amp(&cand);
                if best.as_ref().is_none_or(|(ba, bb, _)| {
                    c < *ba - 1e-9 || ((c - *ba).abs() <= 1e-9 && b < *bb)
                }) {
                    best = Some((c, b, cand));
                }
            }
        }
        match best {
            Some((c, _, cand)) if c < current - 1e-9 || chunks_in_block < want_chunks => {
                mult = cand
            }
            _ => break,
        }
    }
    let block: Vec<u64> = (0..n)
        .map(|a| (mult[a] * dst[a]).min(shape[a].max(1)).max(1))
        .collect();
    // Blocks must stay multiples of the destination chunks, except where they reach the array's end.
    let block: Vec<u64> = (0..n)
        .map(|a| {
            if block[a] < shape[a] {
                mult[a] * dst[a]
            } else {
                block[a]
            }
        })
        .collect();
    Ok(RechunkPlan {
        block_bytes: u64::try_from(bytes(&mult)).unwrap_or(u64::MAX),
        block,
        threads,
        in_flight,
        amplification: amp(&mult),
    })
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a.max(1) } else { gcd(b, a % b) }
}

fn lcm(a: u64, b: u64) -> u64 {
    (a / gcd(a, b)).saturating_mul(b)
}

/// Source elements decoded per element written along one axis, for blocks of `len` elements starting
/// at multiples of `len`, over source chunks of `src` elements.
fn axis_amplification(shape: u64, src: u64, len: u64) -> f64 {
    if shape == 0 {
        return 1.0;
    }
    if len >= shape {
        return (shape.div_ceil(src) * src) as f64 / shape as f64;
    }
    // Averaged over the block offsets modulo the source chunk: (len + src - gcd) / src chunks each.
    let spans = (len + src - gcd(len, src)) as f64 / src as f64;
    spans * src as f64 / len as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transposing_rechunk_fits_the_budget() {
        // (1, 8192) -> (1024, 1) chunks of a 1024 x 8192 f8 array (64 MiB) within 16 MiB.
        let p = plan(&[1024, 8192], &[1, 8192], &[1024, 1], 8, 16 << 20).unwrap();
        assert_eq!(p.block[0], 1024);
        assert!(p.block_bytes <= 16 << 20);
        assert!(p.block[1] >= 64, "{p:?}");
    }

    #[test]
    fn aligned_blocks_have_no_amplification() {
        let p = plan(&[100, 100], &[50, 50], &[10, 10], 4, 1 << 30).unwrap();
        assert!((p.amplification - 1.0).abs() < 1e-9, "{p:?}");
        assert_eq!(axis_amplification(100, 50, 10), 5.0);
        assert_eq!(axis_amplification(100, 50, 50), 1.0);
        assert_eq!(axis_amplification(96, 8, 12), 16.0 / 12.0);
    }

    #[test]
    fn too_small_a_budget_is_refused() {
        assert!(plan(&[1 << 20], &[1 << 20], &[1 << 20], 8, 4 << 20).is_err());
    }
}
