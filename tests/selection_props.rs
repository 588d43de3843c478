//! Property tests: reads and writes of random selections over random shapes, chunk shapes and orders
//! agree with a naive element-by-element reference.

use std::sync::Arc;

use proptest::prelude::*;
use serde_json::json;
use tessera::array::{ArrayBuilder, AxisSelector, DataType, Order, Selection};
use tessera::store::MemoryStore;

#[derive(Debug, Clone)]
struct Case {
    shape: Vec<u64>,
    chunks: Vec<u64>,
    order: Order,
    compressed: bool,
    /// Zarr v3 with shards of this many chunks per axis (v2 when `None`).
    shards: Option<Vec<u64>>,
    sel: Vec<AxisSelector>,
}

fn axis_selector(len: u64) -> impl Strategy<Value = AxisSelector> {
    let len = len as i64;
    let bound = move || prop_oneof![Just(None), (-len - 2..len + 3).prop_map(Some)];
    // In bounds, or (rarely) one past either end.
    let index = move || {
        prop_oneof![
            20 => if len > 0 { (-len..len).boxed() } else { Just(0i64).boxed() },
            1 => prop_oneof![Just(len), Just(-len - 1)],
        ]
    };
    prop_oneof![
        3 => (bound(), bound(), prop_oneof![Just(None), (1i64..5).prop_map(Some), (-4i64..0).prop_map(Some)])
            .prop_map(|(start, stop, step)| AxisSelector::Slice { start, stop, step }),
        1 => index().prop_map(AxisSelector::Index),
        2 => proptest::collection::vec(index(), 0..6).prop_map(AxisSelector::List),
        1 => (proptest::collection::vec(any::<bool>(), len as usize), any::<bool>()).prop_map(|(mut m, short)| {
            // Sometimes a mask of the wrong length: a typed error.
            if short && !m.is_empty() && m.len() % 4 == 1 {
                m.pop();
            }
            AxisSelector::Mask(m)
        }),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (1usize..4)
        .prop_flat_map(|rank| {
            (
                proptest::collection::vec(0u64..11, rank),
                proptest::collection::vec(1u64..6, rank),
                any::<bool>(),
                any::<bool>(),
                proptest::option::weighted(0.3, proptest::collection::vec(1u64..3, rank)),
            )
        })
        .prop_flat_map(|(shape, chunks, f, compressed, shards)| {
            let sels: Vec<_> = shape.iter().map(|&l| axis_selector(l)).collect();
            (
                Just(shape),
                Just(chunks),
                Just(f),
                Just(compressed),
                Just(shards),
                sels,
            )
        })
        .prop_map(|(shape, chunks, f, compressed, shards, sel)| Case {
            shape,
            chunks,
            order: if f { Order::F } else { Order::C },
            compressed,
            shards,
            sel,
        })
}

/// A builder for the case's layout: v2, or v3 with shards of whole chunks.
fn builder(c: &Case, dtype: &str) -> ArrayBuilder {
    let b = ArrayBuilder::new(
        c.shape.clone(),
        c.chunks.clone(),
        DataType::parse_typestr(dtype).unwrap(),
    )
    .order(c.order);
    match &c.shards {
        None => b,
        Some(per) => b
            .zarr_format(3)
            .shards(c.chunks.iter().zip(per).map(|(c, k)| c * k).collect()),
    }
}

/// The naive reference: positions selected on each axis, numpy semantics, or None if out of bounds.
fn positions(sel: &AxisSelector, len: u64) -> Option<(Vec<u64>, bool)> {
    let len = len as i64;
    let index = |i: i64| {
        let p = if i < 0 { i + len } else { i };
        (0..len).contains(&p).then_some(p as u64)
    };
    match sel {
        AxisSelector::Index(i) => Some((vec![index(*i)?], false)),
        AxisSelector::List(list) => {
            Some((list.iter().map(|&i| index(i)).collect::<Option<_>>()?, true))
        }
        AxisSelector::Mask(mask) => (mask.len() as i64 == len).then(|| {
            (
                (0..len as u64).filter(|&i| mask[i as usize]).collect(),
                true,
            )
        }),
        AxisSelector::Slice { start, stop, step } if step.unwrap_or(1) < 0 => {
            // Walk down from start, as numpy's PySlice_AdjustIndices does.
            let step = step.unwrap();
            let norm = |x: Option<i64>, d: i64| match x {
                None => d,
                Some(v) if v < 0 => (v + len).max(-1),
                Some(v) => v.min(len - 1),
            };
            let (mut p, end) = (norm(*start, len - 1), norm(*stop, -1));
            let mut out = vec![];
            while p > end {
                out.push(p as u64);
                p += step;
            }
            Some((out, true))
        }
        AxisSelector::Slice { start, stop, step } => {
            let step = step.unwrap_or(1);
            let norm = |x: Option<i64>, d: i64| match x {
                None => d,
                Some(v) if v < 0 => (v + len).max(0),
                Some(v) => v.min(len),
            };
            let (a, b) = (norm(*start, 0), norm(*stop, len));
            Some((
                (a..b.max(a))
                    .step_by(step as usize)
                    .map(|p| p as u64)
                    .collect(),
                true,
            ))
        }
        _ => None,
    }
}

fn value_at(idx: &[u64]) -> u16 {
    idx.iter().fold(7u64, |acc, &i| acc * 31 + i) as u16
}

fn all_indices(shape: &[u64]) -> Vec<Vec<u64>> {
    let mut out = vec![vec![]];
    for &d in shape {
        out = out
            .into_iter()
            .flat_map(|p| (0..d).map(move |i| [p.clone(), vec![i]].concat()))
            .collect();
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn reads_match_the_reference(c in case()) {
        let store = Arc::new(MemoryStore::new());
        let compressor = c.compressed.then(|| json!({"id": "zstd", "level": 1}));
        let arr = builder(&c, ">u2")
            .compressor(compressor)
            .fill_value(json!(9))
            .create(store, "a")
            .unwrap();
        // Write every element except those in the first chunk along axis 0 (missing chunks read as fill).
        let all = all_indices(&c.shape);
        let data: Vec<u16> = all.iter().map(|i| value_at(i)).collect();
        let full = ndarray::ArrayD::from_shape_vec(c.shape.iter().map(|&d| d as usize).collect::<Vec<_>>(), data).unwrap();
        arr.write((), &full).unwrap();
        if c.shape[0] > 0 {
            let first = Selection::new(vec![AxisSelector::range(0, c.chunks[0].min(c.shape[0]))]);
            arr.fill(first).unwrap();
        }
        let expect = |idx: &[u64]| if idx[0] < c.chunks[0] { 9 } else { value_at(idx) };

        let per_axis: Option<Vec<_>> = c.sel.iter().zip(&c.shape).map(|(s, &l)| positions(s, l)).collect();
        let result = arr.read::<u16>(Selection::new(c.sel.clone()));
        match per_axis {
            None => prop_assert!(result.is_err()),
            Some(per_axis) => {
                let got = result.unwrap();
                let kept: Vec<usize> = per_axis.iter().filter(|(_, k)| *k).map(|(p, _)| p.len()).collect();
                prop_assert_eq!(got.shape(), kept.as_slice());
                let counts: Vec<u64> = per_axis.iter().map(|(p, _)| p.len() as u64).collect();
                let flat: Vec<u16> = got.iter().copied().collect();
                for (n, out_idx) in all_indices(&counts).iter().enumerate() {
                    let src: Vec<u64> = out_idx.iter().zip(&per_axis).map(|(&o, (p, _))| p[o as usize]).collect();
                    prop_assert_eq!(flat[n], expect(&src), "at {:?}", src);
                }
            }
        }
    }

    #[test]
    fn writes_match_the_reference(c in case(), seed in any::<u16>()) {
        let store = Arc::new(MemoryStore::new());
        let arr = builder(&c, "<u2")
            .compressor(c.compressed.then(|| json!({"id": "blosc", "cname": "lz4", "clevel": 3, "shuffle": 2, "blocksize": 0})))
            .fill_value(json!(1))
            .create(store, "w")
            .unwrap();
        let Some(per_axis) = c.sel.iter().zip(&c.shape).map(|(s, &l)| positions(s, l)).collect::<Option<Vec<_>>>() else {
            prop_assert!(arr.write(Selection::new(c.sel.clone()), &ndarray::ArrayD::<u16>::zeros(vec![0])).is_err());
            return Ok(());
        };
        let kept: Vec<usize> = per_axis.iter().filter(|(_, k)| *k).map(|(p, _)| p.len()).collect();
        let n: usize = kept.iter().product();
        let data: Vec<u16> = (0..n).map(|i| (i as u16).wrapping_mul(3).wrapping_add(seed)).collect();
        let block = ndarray::ArrayD::from_shape_vec(kept, data.clone()).unwrap();
        arr.write(Selection::new(c.sel.clone()), &block).unwrap();

        let mut model = std::collections::HashMap::new();
        let counts: Vec<u64> = per_axis.iter().map(|(p, _)| p.len() as u64).collect();
        for (k, out_idx) in all_indices(&counts).iter().enumerate() {
            let src: Vec<u64> = out_idx.iter().zip(&per_axis).map(|(&o, (p, _))| p[o as usize]).collect();
            model.insert(src, data[k]);
        }
        let got = arr.read::<u16>(()).unwrap();
        for (idx, v) in all_indices(&c.shape).iter().zip(got.iter()) {
            prop_assert_eq!(*v, model.get(idx).copied().unwrap_or(1), "at {:?}", idx);
        }
    }

    #[test]
    fn points_and_masks_match_the_reference(
        c in case(),
        raw in proptest::collection::vec(proptest::collection::vec(any::<i64>(), 4), 0..12),
        use_mask in any::<bool>(),
        mask_bits in proptest::collection::vec(any::<bool>(), 1000),
        seed in any::<u16>(),
    ) {
        let store = Arc::new(MemoryStore::new());
        let arr = builder(&c, "<u2")
            .compressor(c.compressed.then(|| json!({"id": "zstd", "level": 1})))
            .fill_value(json!(4))
            .create(store, "p")
            .unwrap();
        let all = all_indices(&c.shape);
        let data: Vec<u16> = all.iter().map(|i| value_at(i)).collect();
        let full = ndarray::ArrayD::from_shape_vec(c.shape.iter().map(|&d| d as usize).collect::<Vec<_>>(), data).unwrap();
        arr.write((), &full).unwrap();

        // The reference's points, as absolute coordinates; mostly in bounds, negative half the time.
        let rank = c.shape.len();
        let (sel, points): (Selection, Option<Vec<Vec<u64>>>) = if use_mask {
            let mask: Vec<bool> = all.iter().enumerate().map(|(k, _)| mask_bits[k % mask_bits.len()]).collect();
            let pts = all.iter().zip(&mask).filter(|(_, m)| **m).map(|(i, _)| i.clone()).collect();
            (Selection::mask(mask), Some(pts))
        } else {
            let mut lists = vec![Vec::new(); rank];
            let mut pts = Some(Vec::new());
            for r in &raw {
                let mut point = Vec::new();
                for a in 0..rank {
                    let len = c.shape[a] as i64;
                    // One in 16 coordinates may fall outside.
                    let v = if len == 0 { r[a] % 2 } else if r[a] % 16 == 0 { len } else { r[a].rem_euclid(len) };
                    let v = if r[a] % 2 == 0 && v < len { v - len } else { v };
                    lists[a].push(v);
                    let p = if v < 0 { v + len } else { v };
                    if !(0..len).contains(&p) { pts = None; }
                    point.push(p as u64);
                }
                if let Some(pts) = pts.as_mut() { pts.push(point); }
            }
            (Selection::points(lists), pts)
        };
        let got = arr.read::<u16>(&sel);
        let Some(points) = points else {
            prop_assert!(got.is_err());
            return Ok(());
        };
        let got = got.unwrap();
        prop_assert_eq!(got.shape(), &[points.len()]);
        for (g, p) in got.iter().zip(&points) {
            prop_assert_eq!(*g, value_at(p), "at {:?}", p);
        }

        // Writes: later points win, as in numpy.
        let values: Vec<u16> = (0..points.len()).map(|i| (i as u16).wrapping_mul(7).wrapping_add(seed)).collect();
        arr.write(&sel, &ndarray::Array1::from(values.clone())).unwrap();
        let mut model: std::collections::HashMap<Vec<u64>, u16> = all.iter().map(|i| (i.clone(), value_at(i))).collect();
        for (p, v) in points.iter().zip(&values) {
            model.insert(p.clone(), *v);
        }
        let back = arr.read::<u16>(()).unwrap();
        for (idx, v) in all.iter().zip(back.iter()) {
            prop_assert_eq!(*v, model[idx], "at {:?}", idx);
        }
    }
}
