//! Selections: which elements of an array a read or write touches.
//!
//! A [`Selection`] holds, per axis, a slice with a positive step or a single index (which drops the axis
//! from the result), with numpy's semantics: negative positions count from the end, slice bounds are
//! clamped, an index out of bounds is an error. It is built from text, from ndarray's `s![]`, or from ranges,
//! and [resolved](Selection::resolve) against a shape into absolute [`AxisRange`]s.
//!
//! ```
//! use tessera_array::Selection;
//! use ndarray::s;
//!
//! let sel: Selection = "0:100:2, :, -1".parse().unwrap();
//! let r = sel.resolve(&[50, 4, 9]).unwrap();
//! assert_eq!(r.shape(), vec![25, 4]);
//! assert_eq!(r.axes()[2].start, 8);
//!
//! let same = Selection::from(s![0..100;2, .., -1]).resolve(&[50, 4, 9]).unwrap();
//! assert_eq!(same, r);
//! assert!("0:2, 7".parse::<Selection>().unwrap().resolve(&[3, 5]).is_err());
//! ```

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

use ndarray::{Dimension, SliceInfo, SliceInfoElem};

use crate::error::{ArrayError, ArrayResult};

/// One axis of a selection, as written (not yet resolved against a shape).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AxisSelector {
    /// `start:stop:step`; `None` bounds mean the ends of the axis, a `None` step means 1.
    Slice {
        /// First position (negative counts from the end).
        start: Option<i64>,
        /// One past the last position (negative counts from the end).
        stop: Option<i64>,
        /// Distance between positions; must be positive.
        step: Option<i64>,
    },
    /// A single position; the axis is dropped from the result.
    Index(i64),
    /// `...`: as many full slices as needed to reach the array's rank.
    Ellipsis,
    /// ndarray's `NewAxis`, which a stored array cannot honour; refused when resolving.
    NewAxis,
}

impl AxisSelector {
    /// The whole axis, `:`.
    pub const FULL: AxisSelector = AxisSelector::Slice {
        start: None,
        stop: None,
        step: None,
    };

    /// `start..stop` with step 1.
    pub fn range(start: u64, stop: u64) -> AxisSelector {
        AxisSelector::Slice {
            start: Some(clamp_i64(start)),
            stop: Some(clamp_i64(stop)),
            step: None,
        }
    }
}

fn clamp_i64(x: u64) -> i64 {
    i64::try_from(x).unwrap_or(i64::MAX)
}

impl fmt::Display for AxisSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let opt = |x: &Option<i64>| x.map(|v| v.to_string()).unwrap_or_default();
        match self {
            AxisSelector::Slice {
                start,
                stop,
                step: None | Some(1),
            } => write!(f, "{}:{}", opt(start), opt(stop)),
            AxisSelector::Slice { start, stop, step } => {
                write!(f, "{}:{}:{}", opt(start), opt(stop), opt(step))
            }
            AxisSelector::Index(i) => write!(f, "{i}"),
            AxisSelector::Ellipsis => f.write_str("..."),
            AxisSelector::NewAxis => f.write_str("newaxis"),
        }
    }
}

/// A selection over all axes of an array (fewer axes than the rank select the trailing axes whole, as in
/// numpy).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Selection {
    axes: Vec<AxisSelector>,
}

impl Selection {
    /// Everything.
    pub fn all() -> Selection {
        Selection::default()
    }

    /// From per-axis selectors.
    pub fn new(axes: Vec<AxisSelector>) -> Selection {
        Selection { axes }
    }

    /// From one half-open range per axis.
    pub fn from_ranges(ranges: &[Range<u64>]) -> Selection {
        Selection {
            axes: ranges
                .iter()
                .map(|r| AxisSelector::range(r.start, r.end))
                .collect(),
        }
    }

    /// The per-axis selectors as written.
    pub fn axes(&self) -> &[AxisSelector] {
        &self.axes
    }

    /// Resolves the selection against an array shape.
    ///
    /// # Errors
    /// [`ArrayError::Selection`] when there are more axes than the rank, more than one `...`, a step that
    /// is not positive, an index out of bounds or a `NewAxis`; [`ArrayError::TooLarge`] when it selects
    /// more than 2^64 elements.
    pub fn resolve(&self, shape: &[u64]) -> ArrayResult<ResolvedSelection> {
        let ellipses = self
            .axes
            .iter()
            .filter(|a| matches!(a, AxisSelector::Ellipsis))
            .count();
        if ellipses > 1 {
            return Err(ArrayError::selection("at most one `...` is allowed"));
        }
        let given = self.axes.len() - ellipses;
        if given > shape.len() {
            return Err(ArrayError::selection(format!(
                "{given} axes selected but the array has {} dimensions",
                shape.len()
            )));
        }
        let mut expanded = Vec::with_capacity(shape.len());
        for a in &self.axes {
            if matches!(a, AxisSelector::Ellipsis) {
                expanded.extend(std::iter::repeat_n(AxisSelector::FULL, shape.len() - given));
            } else {
                expanded.push(*a);
            }
        }
        expanded.resize(shape.len(), AxisSelector::FULL);
        let axes = expanded
            .iter()
            .zip(shape)
            .enumerate()
            .map(|(axis, (sel, &len))| resolve_axis(axis, sel, len))
            .collect::<ArrayResult<Vec<_>>>()?;
        ResolvedSelection::counted(axes, shape)
    }
}

fn resolve_axis(axis: usize, sel: &AxisSelector, len: u64) -> ArrayResult<AxisRange> {
    let ilen = i128::from(len);
    match *sel {
        AxisSelector::Index(i) => {
            let pos = if i < 0 {
                ilen + i128::from(i)
            } else {
                i128::from(i)
            };
            if pos < 0 || pos >= ilen {
                return Err(ArrayError::selection(format!(
                    "index {i} is out of bounds for axis {axis} with length {len}"
                )));
            }
            Ok(AxisRange {
                start: pos as u64,
                count: 1,
                step: 1,
                keep: false,
            })
        }
        AxisSelector::Slice { start, stop, step } => {
            let step = step.unwrap_or(1);
            if step <= 0 {
                return Err(ArrayError::selection(format!(
                    "axis {axis}: step {step} is not supported; steps must be positive"
                )));
            }
            let norm = |x: Option<i64>, default: i128| -> i128 {
                match x {
                    None => default,
                    Some(v) if v < 0 => (ilen + i128::from(v)).max(0),
                    Some(v) => i128::from(v).min(ilen),
                }
            };
            let start = norm(start, 0);
            let stop = norm(stop, ilen);
            let step = i128::from(step);
            let count = if stop > start {
                (stop - start + step - 1) / step
            } else {
                0
            };
            // An empty slice starts at 0 so that plans never point past the end.
            let start = if count == 0 { 0 } else { start };
            Ok(AxisRange {
                start: start as u64,
                count: count as u64,
                step: step as u64,
                keep: true,
            })
        }
        AxisSelector::Ellipsis => Ok(AxisRange {
            start: 0,
            count: len,
            step: 1,
            keep: true,
        }),
        AxisSelector::NewAxis => Err(ArrayError::selection(format!(
            "axis {axis}: a new axis cannot be selected from a stored array"
        ))),
    }
}

impl fmt::Display for Selection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, a) in self.axes.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{a}")?;
        }
        Ok(())
    }
}

impl FromStr for Selection {
    type Err = ArrayError;

    /// Parses `start:stop:step` or an index per axis, comma-separated; `:` or an empty string for all,
    /// `...` for the remaining axes.
    fn from_str(text: &str) -> ArrayResult<Selection> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(Selection::all());
        }
        let int = |part: &str, what: &str| -> ArrayResult<Option<i64>> {
            let part = part.trim();
            if part.is_empty() {
                return Ok(None);
            }
            part.parse::<i64>().map(Some).map_err(|_| {
                ArrayError::selection(format!("{what} {part:?} is not an integer in {text:?}"))
            })
        };
        let axes = text
            .split(',')
            .map(|raw| {
                let part = raw.trim();
                if part == "..." {
                    return Ok(AxisSelector::Ellipsis);
                }
                if part.is_empty() {
                    return Err(ArrayError::selection(format!("empty axis in {text:?}")));
                }
                let pieces: Vec<&str> = part.split(':').collect();
                match pieces.as_slice() {
                    [index] => Ok(AxisSelector::Index(int(index, "index")?.unwrap_or(0))),
                    [start, stop] => Ok(AxisSelector::Slice {
                        start: int(start, "start")?,
                        stop: int(stop, "stop")?,
                        step: None,
                    }),
                    [start, stop, step] => Ok(AxisSelector::Slice {
                        start: int(start, "start")?,
                        stop: int(stop, "stop")?,
                        step: int(step, "step")?,
                    }),
                    _ => Err(ArrayError::selection(format!("{part:?} has too many ':'"))),
                }
            })
            .collect::<ArrayResult<Vec<_>>>()?;
        Ok(Selection { axes })
    }
}

impl From<&SliceInfoElem> for AxisSelector {
    fn from(e: &SliceInfoElem) -> AxisSelector {
        match *e {
            SliceInfoElem::Slice { start, end, step } => AxisSelector::Slice {
                start: Some(start as i64),
                stop: end.map(|e| e as i64),
                step: Some(step as i64),
            },
            SliceInfoElem::Index(i) => AxisSelector::Index(i as i64),
            SliceInfoElem::NewAxis => AxisSelector::NewAxis,
        }
    }
}

impl<T: AsRef<[SliceInfoElem]>, Din: Dimension, Dout: Dimension> From<SliceInfo<T, Din, Dout>>
    for Selection
{
    fn from(info: SliceInfo<T, Din, Dout>) -> Selection {
        Selection {
            axes: info.as_ref().iter().map(AxisSelector::from).collect(),
        }
    }
}

impl<T: AsRef<[SliceInfoElem]>, Din: Dimension, Dout: Dimension> From<&SliceInfo<T, Din, Dout>>
    for Selection
{
    fn from(info: &SliceInfo<T, Din, Dout>) -> Selection {
        Selection {
            axes: info.as_ref().iter().map(AxisSelector::from).collect(),
        }
    }
}

/// Anything a read or write accepts as a selection: a [`Selection`], text such as `"0:10, 3"`, ndarray's
/// `s![]`, or `()` for everything.
pub trait IntoSelection {
    /// Converts, parsing text if needed.
    ///
    /// # Errors
    /// [`ArrayError::Selection`] for text that does not parse.
    fn into_selection(self) -> ArrayResult<Selection>;
}

impl IntoSelection for Selection {
    fn into_selection(self) -> ArrayResult<Selection> {
        Ok(self)
    }
}
impl IntoSelection for &Selection {
    fn into_selection(self) -> ArrayResult<Selection> {
        Ok(self.clone())
    }
}
impl IntoSelection for &str {
    fn into_selection(self) -> ArrayResult<Selection> {
        self.parse()
    }
}
impl IntoSelection for () {
    fn into_selection(self) -> ArrayResult<Selection> {
        Ok(Selection::all())
    }
}
impl<T: AsRef<[SliceInfoElem]>, Din: Dimension, Dout: Dimension> IntoSelection
    for SliceInfo<T, Din, Dout>
{
    fn into_selection(self) -> ArrayResult<Selection> {
        Ok(self.into())
    }
}
impl<T: AsRef<[SliceInfoElem]>, Din: Dimension, Dout: Dimension> IntoSelection
    for &SliceInfo<T, Din, Dout>
{
    fn into_selection(self) -> ArrayResult<Selection> {
        Ok(self.into())
    }
}
impl IntoSelection for &[Range<u64>] {
    fn into_selection(self) -> ArrayResult<Selection> {
        Ok(Selection::from_ranges(self))
    }
}

/// One axis of a resolved selection: `count` positions `start, start + step, ...`, all within the axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AxisRange {
    /// First position.
    pub start: u64,
    /// Number of positions (0 for an empty slice).
    pub count: u64,
    /// Distance between positions (>= 1).
    pub step: u64,
    /// False for an index: the axis is dropped from the result's shape.
    pub keep: bool,
}

/// A selection resolved against a shape: absolute, in bounds, one [`AxisRange`] per axis. It carries
/// that shape: reading or writing it on an array of another shape is a
/// [`ShapeMismatch`](ArrayError::ShapeMismatch), never a silent write outside the array.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ResolvedSelection {
    axes: Vec<AxisRange>,
    array_shape: Vec<u64>,
}

impl ResolvedSelection {
    /// The shape of the array this selection was resolved against.
    pub fn array_shape(&self) -> &[u64] {
        &self.array_shape
    }

    /// Checks that this selection was resolved against `shape`.
    ///
    /// # Errors
    /// [`ArrayError::ShapeMismatch`] with `shape` as expected and the selection's shape as found.
    pub fn check_array_shape(&self, shape: &[u64]) -> ArrayResult<()> {
        if self.array_shape == shape {
            Ok(())
        } else {
            Err(ArrayError::ShapeMismatch {
                expected: shape.to_vec(),
                found: self.array_shape.clone(),
            })
        }
    }

    /// The per-axis ranges, one per array dimension.
    pub fn axes(&self) -> &[AxisRange] {
        &self.axes
    }

    /// Builds a resolved selection from ranges known to lie within `shape`.
    ///
    /// # Errors
    /// [`ArrayError::Selection`] when a range falls outside `shape` or the ranks differ;
    /// [`ArrayError::TooLarge`] when it selects more than 2^64 elements.
    pub fn from_axes(axes: Vec<AxisRange>, shape: &[u64]) -> ArrayResult<ResolvedSelection> {
        if axes.len() != shape.len() {
            return Err(ArrayError::selection(format!(
                "{} axes for a {}-d array",
                axes.len(),
                shape.len()
            )));
        }
        for (i, (a, &len)) in axes.iter().zip(shape).enumerate() {
            let last = a.start as u128 + (a.count.max(1) as u128 - 1) * a.step as u128;
            if a.step == 0 || (a.count > 0 && last >= len as u128) || (!a.keep && a.count != 1) {
                return Err(ArrayError::selection(format!(
                    "axis {i}: {a:?} does not fit length {len}"
                )));
            }
        }
        ResolvedSelection::counted(axes, shape)
    }

    /// Refuses selections of more than `u64::MAX` elements (three axes of 2^40 select 2^120), so that
    /// [`num_elements`](Self::num_elements) never overflows.
    fn counted(axes: Vec<AxisRange>, shape: &[u64]) -> ArrayResult<ResolvedSelection> {
        let empty = axes.iter().any(|a| a.count == 0);
        if !empty
            && axes
                .iter()
                .try_fold(1u64, |n, a| n.checked_mul(a.count))
                .is_none()
        {
            let counts: Vec<u64> = axes.iter().map(|a| a.count).collect();
            return Err(ArrayError::TooLarge(format!(
                "a selection of {counts:?} positions per axis holds more than 2^64 elements"
            )));
        }
        Ok(ResolvedSelection {
            axes,
            array_shape: shape.to_vec(),
        })
    }

    /// The shape of the result: the counts of the axes that are kept.
    pub fn shape(&self) -> Vec<u64> {
        self.axes
            .iter()
            .filter(|a| a.keep)
            .map(|a| a.count)
            .collect()
    }

    /// The counts of all axes, dropped ones included (as 1).
    pub fn full_shape(&self) -> Vec<u64> {
        self.axes.iter().map(|a| a.count).collect()
    }

    /// Number of elements selected.
    pub fn num_elements(&self) -> u64 {
        // An empty axis first: the other counts may multiply past 2^64 (construction refuses that only
        // for selections that are not empty).
        if self.axes.iter().any(|a| a.count == 0) {
            return 0;
        }
        self.axes.iter().map(|a| a.count).product()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(text: &str, shape: &[u64]) -> ArrayResult<Vec<(u64, u64, u64, bool)>> {
        let sel: Selection = text.parse()?;
        Ok(sel
            .resolve(shape)?
            .axes()
            .iter()
            .map(|a| (a.start, a.count, a.step, a.keep))
            .collect())
    }

    #[test]
    fn numpy_semantics() {
        assert_eq!(
            r("", &[4, 5]).unwrap(),
            vec![(0, 4, 1, true), (0, 5, 1, true)]
        );
        assert_eq!(
            r("1:3", &[4, 5]).unwrap(),
            vec![(1, 2, 1, true), (0, 5, 1, true)]
        );
        assert_eq!(r("-2:", &[4]).unwrap(), vec![(2, 2, 1, true)]);
        assert_eq!(r("-10:100", &[4]).unwrap(), vec![(0, 4, 1, true)]);
        assert_eq!(r("::3", &[10]).unwrap(), vec![(0, 4, 3, true)]);
        assert_eq!(r("3:1", &[10]).unwrap(), vec![(0, 0, 1, true)]);
        assert_eq!(r("-1", &[10]).unwrap(), vec![(9, 1, 1, false)]);
        assert_eq!(r("..., 2", &[3, 4, 5]).unwrap()[2], (2, 1, 1, false));
        assert_eq!(r("1, ...", &[3, 4, 5]).unwrap()[2], (0, 5, 1, true));
        assert_eq!(r("...", &[]).unwrap(), vec![]);
    }

    #[test]
    fn mistakes_are_errors() {
        for (text, shape) in [
            ("10", &[10u64][..]),
            ("-11", &[10]),
            ("::0", &[10]),
            ("::-1", &[10]),
            ("1,2", &[10]),
            ("a:b", &[10]),
            ("1:2:3:4", &[10]),
            ("1,,2", &[10, 10, 10]),
            ("...,...", &[10]),
            ("0", &[]),
        ] {
            assert!(
                matches!(r(text, shape), Err(ArrayError::Selection(_))),
                "{text}"
            );
        }
    }

    #[test]
    fn display_round_trips() {
        let sel: Selection = "1:5:2, :, -3, ...".parse().unwrap();
        assert_eq!(sel.to_string().parse::<Selection>().unwrap(), sel);
    }
}
