//! The checks of the `array_selection` fuzz target as a plain function: the target calls it, and so do the
//! regression tests of its findings (`tests/reliability/fuzz_regressions.rs`, which includes this file by
//! path), so a finding is replayed through exactly the checks that found it. No libFuzzer here.

use tessera_array::{ReadPlan, Selection};

/// Selection text: the first byte gives the rank (0-4), then 8 bytes per axis its length, then
/// the text. Parsing and resolving give a selection or a typed error; a resolved selection lies inside
/// the array, and its plan over a small chunk grid covers it exactly.
pub fn selection(data: &[u8]) {
    let Some((&rank, rest)) = data.split_first() else {
        return;
    };
    let rank = (rank % 5) as usize;
    if rest.len() < rank * 8 {
        return;
    }
    let (lens, text) = rest.split_at(rank * 8);
    let shape: Vec<u64> = lens
        .chunks_exact(8)
        .map(|b| {
            let v = u64::from_le_bytes(b.try_into().unwrap());
            // Mostly small axes, sometimes huge ones.
            if v & 1 == 0 { (v >> 1) % 64 } else { v >> 1 }
        })
        .collect();
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let Ok(sel) = text.parse::<Selection>() else {
        return;
    };
    // Display writes text that parses back to a selection of the same elements (`4:8:1` shows as
    // `4:8`).
    let shown = sel.to_string();
    let again = shown
        .parse::<Selection>()
        .expect("displayed selections parse");
    assert_eq!(
        again.resolve(&shape).ok(),
        sel.resolve(&shape).ok(),
        "{text:?} -> {shown:?}"
    );
    let Ok(resolved) = sel.resolve(&shape) else {
        return;
    };
    if !resolved.is_basic() {
        // Lists, masks, negative steps: the axes are the bounding box of the positions, inside the
        // array, and the result holds as many elements as its shape says.
        for (axis, r) in resolved.axes().iter().enumerate() {
            assert!(
                r.count == 0 || r.start + (r.count - 1) < shape[axis],
                "{text:?} on {shape:?}"
            );
        }
        // An empty axis first: the other axes may multiply past 2^128 (resolving refuses past 2^64
        // only selections that are not empty).
        let dims = resolved.shape();
        let n = if dims.contains(&0) {
            Some(0)
        } else {
            dims.iter()
                .try_fold(1u128, |n, &d| n.checked_mul(d as u128))
        };
        assert_eq!(
            Some(resolved.num_elements() as u128),
            n,
            "{text:?} on {shape:?}"
        );
        return;
    }
    assert_eq!(resolved.full_shape().len(), shape.len());
    let mut elements: u128 = 1;
    for (axis, r) in resolved.axes().iter().enumerate() {
        assert!(r.step > 0);
        if r.count > 0 {
            let last = r.start as u128 + (r.count as u128 - 1) * r.step as u128;
            assert!(
                last < shape[axis] as u128,
                "{text:?} on {shape:?}: axis {axis} {r:?}"
            );
        }
        elements = elements.saturating_mul(r.count as u128);
    }
    assert_eq!(resolved.num_elements() as u128, elements);
    // A plan over small chunks, when the selection is small: its regions cover every element once.
    if elements <= 4096 && shape.iter().all(|&n| n <= 64) {
        let chunks: Vec<u64> = shape.iter().map(|&n| (n / 3).max(1)).collect();
        let plan = ReadPlan::new(resolved, &chunks);
        let covered: u128 = plan
            .regions()
            .map(|r| r.count.iter().map(|&c| c as u128).product::<u128>())
            .sum();
        assert_eq!(covered, if plan.is_empty() { 0 } else { elements });
    }
}
