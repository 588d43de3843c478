//! Selections: which elements of an array a read or write touches.
//!
//! A [`Selection`] holds, per axis, a slice (any non-zero step), a single index (which drops the axis
//! from the result), an integer list or a boolean mask, with numpy's semantics: negative positions
//! count from the end, slice bounds are clamped, an index out of bounds is an
//! [`IndexOutOfBounds`](ArrayError::IndexOutOfBounds) error. Lists and masks combine orthogonally
//! (zarr's `oindex`: each axis is selected independently). [`Selection::points`] and
//! [`Selection::mask`] are coordinate selections (zarr's `vindex`, numpy's `a[rows, cols]` and
//! `a[mask]`). It is built from text, from ndarray's `s![]`, or from ranges, and
//! [resolved](Selection::resolve) against a shape; a selection of one positive-step range per axis
//! resolves into absolute [`AxisRange`]s ([`ResolvedSelection::is_basic`]), the others into explicit
//! positions that reads and writes group by chunk, each touched chunk handled once.
//!
//! ```
//! use tessera_array::{ArrayAccess, ArrayBuilder, DataType, Selection};
//! use tessera_store::MemoryStore;
//! use ndarray::{Array2, array};
//! # use std::sync::Arc;
//!
//! let a = ArrayBuilder::new(vec![4, 5], vec![2, 2], DataType::parse_typestr("<i4")?)
//!     .create(Arc::new(MemoryStore::new()), "a")?;
//! a.write((), &Array2::from_shape_fn((4, 5), |(i, j)| (10 * i + j) as i32))?;
//! assert_eq!(a.read::<i32>("[3, 0, 3], ::-2")?, array![[34, 32, 30], [4, 2, 0], [34, 32, 30]].into_dyn());
//! let points = Selection::points(vec![vec![0, 3, -1], vec![4, 0, 1]]);
//! assert_eq!(a.read::<i32>(&points)?, array![4, 30, 31].into_dyn());
//! a.write(&points, &array![-1, -2, -3])?;
//! assert_eq!(a.read::<i32>("3, [0, 1]")?, array![-2, -3].into_dyn());
//! # Ok::<(), tessera_array::ArrayError>(())
//! ```
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
use std::sync::Arc;

use ndarray::{Dimension, SliceInfo, SliceInfoElem};

use crate::error::{ArrayError, ArrayResult};

/// One axis of a selection, as written (not yet resolved against a shape).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AxisSelector {
    /// `start:stop:step`; `None` bounds mean the ends of the axis (which ends depends on the step's
    /// sign, as in numpy), a `None` step means 1.
    Slice {
        /// First position (negative counts from the end).
        start: Option<i64>,
        /// One past the last position (negative counts from the end).
        stop: Option<i64>,
        /// Distance between positions; any non-zero value (negative walks the axis backwards).
        step: Option<i64>,
    },
    /// A single position; the axis is dropped from the result.
    Index(i64),
    /// Positions in any order, repeats allowed, negative counting from the end (numpy's integer array
    /// index, applied orthogonally like zarr's `oindex`): the axis keeps one entry per listed position.
    List(Vec<i64>),
    /// A boolean mask as long as the axis: the axis keeps the positions marked `true`, in order.
    Mask(Vec<bool>),
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
            AxisSelector::List(list) => {
                let items: Vec<String> = list.iter().map(i64::to_string).collect();
                write!(f, "[{}]", items.join(","))
            }
            AxisSelector::Mask(mask) => {
                let items: Vec<&str> = mask
                    .iter()
                    .map(|&b| if b { "True" } else { "False" })
                    .collect();
                write!(f, "[{}]", items.join(","))
            }
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
    points: Option<Points>,
}

/// The points of a coordinate selection, as given.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Points {
    /// Per axis, one position per point (a list of length 1 is broadcast).
    Coords(Vec<Vec<i64>>),
    /// A boolean mask of the array's shape, C order.
    Mask(Vec<bool>),
}

impl Selection {
    /// Everything.
    pub fn all() -> Selection {
        Selection::default()
    }

    /// From per-axis selectors.
    pub fn new(axes: Vec<AxisSelector>) -> Selection {
        Selection { axes, points: None }
    }

    /// A coordinate selection (numpy's `a[rows, cols]` with integer arrays, zarr's `vindex`):
    /// `coords[axis][i]` is point `i`'s position along `axis`; negative positions count from the end.
    /// Every axis needs a list, all of one length `n` (a list of length 1 is broadcast to `n`). The
    /// result is 1-D, one element per point, in the order given; repeated points are allowed.
    ///
    /// ```
    /// use tessera_array::Selection;
    ///
    /// let pts = Selection::points(vec![vec![0, 3, -1], vec![2]]).resolve(&[5, 4]).unwrap();
    /// assert_eq!(pts.shape(), vec![3]);
    /// assert!(Selection::points(vec![vec![5], vec![0]]).resolve(&[5, 4]).is_err());
    /// ```
    pub fn points(coords: Vec<Vec<i64>>) -> Selection {
        Selection {
            axes: Vec::new(),
            points: Some(Points::Coords(coords)),
        }
    }

    /// A coordinate selection by an N-d boolean mask of the array's shape (C order, numpy's
    /// `a[mask]`): the result is 1-D, the elements marked `true` in C order.
    ///
    /// ```
    /// use tessera_array::{ArrayError, Selection};
    ///
    /// let m = Selection::mask(vec![true, false, false, true, true, false]);
    /// assert_eq!(m.resolve(&[2, 3]).unwrap().shape(), vec![3]);
    /// assert!(matches!(m.resolve(&[3, 3]), Err(ArrayError::MaskShape { .. })));
    /// ```
    pub fn mask(mask: Vec<bool>) -> Selection {
        Selection {
            axes: Vec::new(),
            points: Some(Points::Mask(mask)),
        }
    }

    /// True for a coordinate selection ([`points`](Self::points) or [`mask`](Self::mask)).
    pub fn is_coordinate(&self) -> bool {
        self.points.is_some()
    }

    /// From one half-open range per axis.
    pub fn from_ranges(ranges: &[Range<u64>]) -> Selection {
        Selection {
            axes: ranges
                .iter()
                .map(|r| AxisSelector::range(r.start, r.end))
                .collect(),
            points: None,
        }
    }

    /// The per-axis selectors as written (empty for a coordinate selection).
    pub fn axes(&self) -> &[AxisSelector] {
        &self.axes
    }

    /// Resolves the selection against an array shape.
    ///
    /// # Errors
    /// [`ArrayError::IndexOutOfBounds`] for an index or list entry outside its axis;
    /// [`ArrayError::MaskShape`] for a mask of the wrong length or shape; [`ArrayError::Selection`]
    /// when there are more axes than the rank, more than one `...`, a step of 0, a `NewAxis`, or
    /// coordinate lists of different lengths; [`ArrayError::TooLarge`] when it selects more than 2^64
    /// elements.
    pub fn resolve(&self, shape: &[u64]) -> ArrayResult<ResolvedSelection> {
        if let Some(points) = &self.points {
            return crate::fancy::resolve_points(points_view(points), shape);
        }
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
                expanded.push(a.clone());
            }
        }
        expanded.resize(shape.len(), AxisSelector::FULL);
        let fancy = expanded.iter().any(|a| match a {
            AxisSelector::List(_) | AxisSelector::Mask(_) => true,
            AxisSelector::Slice { step, .. } => step.is_some_and(|s| s < 0),
            _ => false,
        });
        if fancy {
            return crate::fancy::resolve_orthogonal(&expanded, shape);
        }
        let axes = expanded
            .iter()
            .zip(shape)
            .enumerate()
            .map(|(axis, (sel, &len))| resolve_axis(axis, sel, len))
            .collect::<ArrayResult<Vec<_>>>()?;
        ResolvedSelection::counted(axes, shape)
    }
}

/// The points of a coordinate selection, for the resolver.
pub(crate) enum PointsView<'a> {
    /// Per axis, one position per point.
    Coords(&'a [Vec<i64>]),
    /// An N-d mask, C order.
    Mask(&'a [bool]),
}

fn points_view(points: &Points) -> PointsView<'_> {
    match points {
        Points::Coords(c) => PointsView::Coords(c),
        Points::Mask(m) => PointsView::Mask(m),
    }
}

/// An index normalised against an axis of `len` (negative counts from the end), or
/// [`ArrayError::IndexOutOfBounds`].
pub(crate) fn normalize_index(axis: usize, index: i64, len: u64) -> ArrayResult<u64> {
    let ilen = i128::from(len);
    let pos = if index < 0 {
        ilen + i128::from(index)
    } else {
        i128::from(index)
    };
    if pos < 0 || pos >= ilen {
        return Err(ArrayError::IndexOutOfBounds {
            axis,
            index,
            length: len,
        });
    }
    Ok(pos as u64)
}

fn resolve_axis(axis: usize, sel: &AxisSelector, len: u64) -> ArrayResult<AxisRange> {
    let ilen = i128::from(len);
    match *sel {
        // Resolved by `fancy::resolve_orthogonal`, never here.
        AxisSelector::List(_) | AxisSelector::Mask(_) => Err(ArrayError::selection(format!(
            "axis {axis}: a list or mask needs an orthogonal resolution"
        ))),
        AxisSelector::Index(i) => {
            let pos = normalize_index(axis, i, len)?;
            Ok(AxisRange {
                start: pos,
                count: 1,
                step: 1,
                keep: false,
            })
        }
        AxisSelector::Slice { start, stop, step } => {
            let step = step.unwrap_or(1);
            if step <= 0 {
                return Err(ArrayError::selection(format!(
                    "axis {axis}: slice step cannot be zero"
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
        match &self.points {
            Some(Points::Coords(c)) => return write!(f, "points{c:?}"),
            Some(Points::Mask(m)) => return write!(f, "mask of {} elements", m.len()),
            None => {}
        }
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

    /// Parses `start:stop:step`, an index or a bracketed list per axis, comma-separated: `:` or an
    /// empty string for all, `...` for the remaining axes, `[3,17,-1]` for an integer list and
    /// `[True,False,...]` (or `true`/`false`, `1`/`0` are integers) for a boolean mask of the axis.
    ///
    /// ```
    /// use tessera_array::{AxisSelector, Selection};
    ///
    /// let sel: Selection = "[3,17,40], ::-1, 5".parse().unwrap();
    /// assert_eq!(sel.axes()[0], AxisSelector::List(vec![3, 17, 40]));
    /// assert_eq!(sel.resolve(&[50, 4, 9]).unwrap().shape(), vec![3, 4]);
    /// ```
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
        let axes = split_axes(text)?
            .into_iter()
            .map(|raw| {
                let part = raw.trim();
                if part == "..." {
                    return Ok(AxisSelector::Ellipsis);
                }
                if let Some(inner) = part.strip_prefix('[') {
                    return parse_list(inner, text);
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
        Ok(Selection::new(axes))
    }
}

/// Splits selection text at the commas outside brackets.
fn split_axes(text: &str) -> ArrayResult<Vec<&str>> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut begin = 0;
    for (i, ch) in text.char_indices() {
        match ch {
            '[' if depth == 0 => depth = 1,
            '[' => return Err(ArrayError::selection(format!("nested '[' in {text:?}"))),
            ']' if depth == 1 => depth = 0,
            ']' => return Err(ArrayError::selection(format!("unmatched ']' in {text:?}"))),
            ',' if depth == 0 => {
                parts.push(&text[begin..i]);
                begin = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(ArrayError::selection(format!("unclosed '[' in {text:?}")));
    }
    parts.push(&text[begin..]);
    Ok(parts)
}

/// Parses the inside of `[...]` (after the `[`): integers, or booleans for a mask.
fn parse_list(inner: &str, text: &str) -> ArrayResult<AxisSelector> {
    let inner = inner
        .trim_end()
        .strip_suffix(']')
        .ok_or_else(|| ArrayError::selection(format!("text after ']' in {text:?}")))?;
    let items: Vec<&str> = inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let boolean = |s: &str| match s {
        "True" | "true" => Some(true),
        "False" | "false" => Some(false),
        _ => None,
    };
    if !items.is_empty() && items.iter().all(|s| boolean(s).is_some()) {
        return Ok(AxisSelector::Mask(
            items.iter().filter_map(|s| boolean(s)).collect(),
        ));
    }
    items
        .iter()
        .map(|s| {
            s.parse::<i64>().map_err(|_| {
                ArrayError::selection(format!(
                    "list item {s:?} is not an integer (or a list mixes integers and booleans) in {text:?}"
                ))
            })
        })
        .collect::<ArrayResult<Vec<_>>>()
        .map(AxisSelector::List)
}

impl From<&SliceInfoElem> for AxisSelector {
    fn from(e: &SliceInfoElem) -> AxisSelector {
        match *e {
            SliceInfoElem::Slice { start, end, step } if step >= 0 => AxisSelector::Slice {
                start: Some(start as i64),
                stop: end.map(|e| e as i64),
                step: Some(step as i64),
            },
            // ndarray reverses the range `start..end` (taking every `-step`-th from its end); numpy's
            // slice with the same positions runs from `end - 1` down to `start`.
            SliceInfoElem::Slice { start, end, step } => match end {
                Some(0) => AxisSelector::Slice {
                    start: Some(0),
                    stop: Some(0),
                    step: None,
                },
                _ => AxisSelector::Slice {
                    start: end.map(|e| e as i64 - 1),
                    stop: (start != 0).then(|| start as i64 - 1),
                    step: Some(step as i64),
                },
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
        Selection::new(info.as_ref().iter().map(AxisSelector::from).collect())
    }
}

impl<T: AsRef<[SliceInfoElem]>, Din: Dimension, Dout: Dimension> From<&SliceInfo<T, Din, Dout>>
    for Selection
{
    fn from(info: &SliceInfo<T, Din, Dout>) -> Selection {
        Selection::new(info.as_ref().iter().map(AxisSelector::from).collect())
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

/// One axis of a resolved selection: `count` positions `start, start + step, ...`, all within the axis
/// (for a selection that is not [basic](ResolvedSelection::is_basic): the bounding range of the
/// positions it touches, step 1).
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
    fancy: Option<Arc<Fancy>>,
}

/// The positions one axis of an orthogonal selection takes, in result order.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum AxisPositions {
    /// `count` positions `first, first + step, ...` (a slice of either direction, or an index), never
    /// spelled out: `::-1` over an axis of 2^40 costs nothing until planned.
    Strided {
        /// First position, in the axis.
        first: u64,
        /// Number of positions.
        count: u64,
        /// Distance between positions (non-zero; negative walks backwards).
        step: i64,
    },
    /// Explicit positions (integer lists and masks), already as long as the input that gave them.
    Listed(Vec<u64>),
}

impl AxisPositions {
    /// Number of positions.
    pub(crate) fn len(&self) -> u64 {
        match self {
            AxisPositions::Strided { count, .. } => *count,
            AxisPositions::Listed(p) => p.len() as u64,
        }
    }

    /// The smallest and largest position, `None` when there are none.
    pub(crate) fn bounds(&self) -> Option<(u64, u64)> {
        match *self {
            AxisPositions::Strided { count: 0, .. } => None,
            AxisPositions::Strided { first, count, step } => {
                let last = (i128::from(first) + i128::from(step) * i128::from(count - 1)) as u64;
                Some((first.min(last), first.max(last)))
            }
            AxisPositions::Listed(ref p) => listed_bounds(p),
        }
    }
}

/// The smallest and largest of `positions`, `None` when there are none.
pub(crate) fn listed_bounds(positions: &[u64]) -> Option<(u64, u64)> {
    let lo = positions.iter().min()?;
    let hi = positions.iter().max()?;
    Some((*lo, *hi))
}

/// The positions of a selection that is not one strided range per axis.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Fancy {
    /// Orthogonal: per axis, the positions in result order.
    Orthogonal(Vec<AxisPositions>),
    /// Coordinate: per axis, one position per point.
    Points(Vec<Vec<u64>>),
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
            fancy: None,
        })
    }

    /// A fancy selection; `axes` is its bounding box (keep flags as the result keeps the axes).
    pub(crate) fn fancy(
        axes: Vec<AxisRange>,
        shape: &[u64],
        fancy: Fancy,
    ) -> ArrayResult<ResolvedSelection> {
        let counts: Vec<u64> = match &fancy {
            Fancy::Orthogonal(p) => p.iter().map(AxisPositions::len).collect(),
            Fancy::Points(p) => vec![p.first().map_or(1, |p| p.len() as u64)],
        };
        if !counts.contains(&0)
            && counts
                .iter()
                .try_fold(1u64, |n, &c| n.checked_mul(c))
                .is_none()
        {
            return Err(ArrayError::TooLarge(format!(
                "a selection of {counts:?} positions per axis holds more than 2^64 elements"
            )));
        }
        Ok(ResolvedSelection {
            axes,
            array_shape: shape.to_vec(),
            fancy: Some(Arc::new(fancy)),
        })
    }

    /// The positions of a fancy selection; `None` for one strided range per axis.
    pub(crate) fn fancy_positions(&self) -> Option<&Fancy> {
        self.fancy.as_deref()
    }

    /// True when the selection is one strided range (or index) per axis, as [`axes`](Self::axes)
    /// says; false for integer lists, masks, negative steps and coordinate selections, whose
    /// [`axes`](Self::axes) are only the bounding box of the positions touched.
    pub fn is_basic(&self) -> bool {
        self.fancy.is_none()
    }

    /// The shape of the result: the counts of the axes that are kept (numpy's orthogonal rules), or
    /// the number of points of a coordinate selection.
    pub fn shape(&self) -> Vec<u64> {
        match self.fancy.as_deref() {
            Some(Fancy::Orthogonal(p)) => {
                return p
                    .iter()
                    .zip(&self.axes)
                    .filter(|(_, a)| a.keep)
                    .map(|(p, _)| p.len())
                    .collect();
            }
            Some(Fancy::Points(p)) => return vec![p.first().map_or(1, |p| p.len() as u64)],
            None => {}
        }
        self.axes
            .iter()
            .filter(|a| a.keep)
            .map(|a| a.count)
            .collect()
    }

    /// The counts of all axes, dropped ones included (as 1); for a coordinate selection, the number
    /// of points.
    pub fn full_shape(&self) -> Vec<u64> {
        match self.fancy.as_deref() {
            Some(Fancy::Orthogonal(p)) => p.iter().map(AxisPositions::len).collect(),
            Some(Fancy::Points(_)) => self.shape(),
            None => self.axes.iter().map(|a| a.count).collect(),
        }
    }

    /// Number of elements selected.
    pub fn num_elements(&self) -> u64 {
        if self.fancy.is_some() {
            let counts = self.full_shape();
            if counts.contains(&0) {
                return 0;
            }
            return counts.iter().product();
        }
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
            ("[1, 10]", &[10]),
            ("[-11]", &[10]),
            ("[true, false]", &[3]),
        ] {
            assert!(
                matches!(
                    r(text, shape),
                    Err(ArrayError::IndexOutOfBounds { .. } | ArrayError::MaskShape { .. })
                ),
                "{text}"
            );
        }
        for (text, shape) in [
            ("::0", &[10u64][..]),
            ("[1,true]", &[10]),
            ("[1,[2]]", &[10]),
            ("[1,2", &[10]),
            ("[1]x", &[10]),
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
        for text in ["1:5:2, :, -3, ...", "[3,17,-1], ::-2, [True,False]", "[]"] {
            let sel: Selection = text.parse().unwrap();
            assert_eq!(sel.to_string().parse::<Selection>().unwrap(), sel, "{text}");
        }
    }

    #[test]
    fn fancy_shapes_follow_numpy() {
        let shape = |text: &str, dims: &[u64]| {
            let r = text.parse::<Selection>().unwrap().resolve(dims).unwrap();
            assert!(!r.is_basic(), "{text}");
            (r.shape(), r.num_elements())
        };
        assert_eq!(shape("[3,3,0], 1", &[4, 5]), (vec![3], 3));
        assert_eq!(
            shape("::-1, [true,false,true,true,false]", &[4, 5]),
            (vec![4, 3], 12)
        );
        assert_eq!(shape("[], :", &[4, 5]), (vec![0, 5], 0));
        assert_eq!(shape("10:2:-3", &[12]), (vec![3], 3));
        // ndarray's reversed range is the same positions as numpy's reversed slice.
        let r = Selection::from(ndarray::s![1..4;-1]).resolve(&[6]).unwrap();
        let n = "3:0:-1"
            .parse::<Selection>()
            .unwrap()
            .resolve(&[6])
            .unwrap();
        assert_eq!(r, n);
        // Slices are never spelled out: a reversed axis of 2^40 resolves at once.
        assert_eq!(
            shape("[0], ::-1", &[1, 1 << 40]),
            (vec![1, 1 << 40], 1 << 40)
        );
        let points = Selection::points(vec![vec![1, -1], vec![0]])
            .resolve(&[3, 3])
            .unwrap();
        assert_eq!(points.shape(), vec![2]);
        assert!(matches!(
            Selection::points(vec![vec![1, 2], vec![0, 1, 2]]).resolve(&[3, 3]),
            Err(ArrayError::Selection(_))
        ));
        assert!(matches!(
            Selection::points(vec![vec![1]]).resolve(&[3, 3]),
            Err(ArrayError::Selection(_))
        ));
        assert!(matches!(
            Selection::points(vec![vec![0], vec![3]]).resolve(&[3, 3]),
            Err(ArrayError::IndexOutOfBounds {
                axis: 1,
                index: 3,
                length: 3
            })
        ));
    }
}
