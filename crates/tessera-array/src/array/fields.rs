//! Structured fields: one field (a dotted path for nested ones) or several, read without the other
//! fields ever reaching the result, and fields written with the rest of each record kept.
//!
//! Each touched chunk is read once (as the box of records the selection holds in it) and only the
//! field's bytes are copied out; a write reads, modifies and writes back each touched chunk once.

use ndarray::{ArrayBase, ArrayD, Data, Dimension, IxDyn};

use super::Array;
use super::fancy::ElementView;
use super::write::Source;
use crate::access::{ArrayAccess, RawArray, buffer_len, swap_parallel};
use crate::dtype::{DataType, Field};
use crate::element::Element;
use crate::error::{ArrayError, ArrayResult};
use crate::fancy::positions_of;
use crate::selection::IntoSelection;

/// A field found by its dotted path: where it lies in the record, its element type and sub-array
/// shape.
struct FieldPlace {
    offset: usize,
    dtype: DataType,
    shape: Vec<usize>,
}

impl FieldPlace {
    fn count(&self) -> usize {
        self.shape.iter().product()
    }

    fn size(&self) -> usize {
        self.dtype.itemsize() * self.count()
    }
}

/// The fields named by `paths` packed in that order: per field (its offset in the record, its offset
/// in the packed record, its size), the packed fields, and the packed size.
type Packed = (Vec<(usize, usize, usize)>, Vec<Field>, usize);

fn packed_fields(dtype: &DataType, paths: &[&str]) -> ArrayResult<Packed> {
    let mut segments = Vec::with_capacity(paths.len());
    let mut fields = Vec::with_capacity(paths.len());
    let mut size = 0;
    for (i, &name) in paths.iter().enumerate() {
        if paths[..i].contains(&name) {
            return Err(ArrayError::selection(format!("field {name:?} named twice")));
        }
        let place = find_field(dtype, name)?;
        segments.push((place.offset, size, place.size()));
        size += place.size();
        fields.push(Field {
            name: name.to_string(),
            dtype: place.dtype,
            shape: place.shape,
        });
    }
    Ok((segments, fields, size))
}

/// Finds `path` (`"mass"`, `"pos.x"`) in a structured dtype; fields are packed, in order.
fn find_field(dtype: &DataType, path: &str) -> ArrayResult<FieldPlace> {
    let mut place = FieldPlace {
        offset: 0,
        dtype: dtype.clone(),
        shape: Vec::new(),
    };
    for name in path.split('.') {
        let DataType::Structured(fields) = &place.dtype else {
            return Err(ArrayError::DataTypeMismatch {
                stored: place.dtype.typestr(),
                requested: format!("field {path:?} (only structured types have fields)"),
            });
        };
        if !place.shape.is_empty() {
            return Err(ArrayError::unsupported(
                "fields of sub-array fields",
                format!("{path:?} reaches into a field with shape {:?}", place.shape),
            ));
        }
        let mut offset = place.offset;
        let mut found = None;
        for f in fields {
            if f.name == name {
                found = Some(f);
                break;
            }
            offset += f.dtype.itemsize() * f.shape.iter().product::<usize>();
        }
        let Some(f) = found else {
            let names: Vec<&str> = fields
                .iter()
                .map(|f| f.name.as_str())
                .filter(|n| !n.is_empty())
                .collect();
            return Err(ArrayError::selection(format!(
                "no field {name:?} in {path:?}; the fields are {}",
                names.join(", ")
            )));
        };
        place = FieldPlace {
            offset,
            dtype: f.dtype.clone(),
            shape: f.shape.clone(),
        };
    }
    Ok(place)
}

impl Array {
    /// Reads one field of a structured array (a dotted path for nested fields, `"pos.x"`) over a
    /// selection, as numpy's `a[sel]["mass"]`; a sub-array field adds its shape after the
    /// selection's. Only the field's bytes reach the result.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// use tessera_array::{ArrayBuilder, DataType};
    /// use tessera_store::MemoryStore;
    /// use serde_json::json;
    ///
    /// let dtype = DataType::from_json(&json!([["id", "<u2"], ["mass", "<f8"]]))?;
    /// let a = ArrayBuilder::new(vec![4], vec![3], dtype).create(Arc::new(MemoryStore::new()), "p")?;
    /// a.write_field("mass", (), &ndarray::array![1.5, 2.5, 3.5, 4.5])?;
    /// assert_eq!(a.read_field::<f64>("mass", "::-2")?.into_raw_vec_and_offset().0, [4.5, 2.5]);
    /// assert!(a.read_field::<f32>("mass", ()).is_err());
    /// # Ok::<(), tessera_array::ArrayError>(())
    /// ```
    ///
    /// # Errors
    /// [`ArrayError::Selection`] naming the fields that exist when `field` is not one;
    /// [`ArrayError::DataTypeMismatch`] when `T` is not the field's type or the array is not
    /// structured; selection, store and codec errors.
    pub fn read_field<T: Element>(
        &self,
        field: &str,
        selection: impl IntoSelection,
    ) -> ArrayResult<ArrayD<T>> {
        let place = find_field(&self.meta.dtype, field)?;
        if !T::matches(&place.dtype) {
            return Err(ArrayError::DataTypeMismatch {
                stored: place.dtype.typestr(),
                requested: T::NAME.to_string(),
            });
        }
        let sel = ArrayAccess::resolve(self, selection)?;
        let mut shape: Vec<usize> = sel.shape().iter().map(|&d| d as usize).collect();
        shape.extend(&place.shape);
        let n = buffer_len(sel.num_elements(), place.count())?;
        let view = ElementView {
            src_elem: self.meta.dtype.itemsize(),
            dst_elem: place.size(),
            segments: vec![(place.offset, 0, place.size())],
        };
        let data = T::collect(n, |bytes| {
            self.read_fancy_view(&sel, &positions_of(&sel), bytes, &view)?;
            swap_parallel(&place.dtype, bytes);
            Ok(())
        })?;
        Ok(ArrayD::from_shape_vec(IxDyn(&shape), data)
            .expect("the result has the selection's shape"))
    }

    /// Reads several fields, untyped (numpy's `a[sel][["mass", "charge"]]`): a [`RawArray`] whose
    /// dtype is a structured type of just those fields, packed, in the order given (nested fields
    /// named by their dotted path), in the stored byte order.
    ///
    /// # Errors
    /// As [`read_field`](Self::read_field), and [`ArrayError::Selection`] for a field named twice.
    pub fn read_fields(
        &self,
        fields: &[&str],
        selection: impl IntoSelection,
    ) -> ArrayResult<RawArray> {
        let (segments, out_fields, size) = packed_fields(&self.meta.dtype, fields)?;
        let sel = ArrayAccess::resolve(self, selection)?;
        let mut bytes: Vec<u8> = crate::element::zeroed_vec(buffer_len(sel.num_elements(), size)?)?;
        let view = ElementView {
            src_elem: self.meta.dtype.itemsize(),
            dst_elem: size,
            segments,
        };
        self.read_fancy_view(&sel, &positions_of(&sel), &mut bytes, &view)?;
        Ok(RawArray {
            dtype: DataType::Structured(out_fields),
            shape: sel.shape(),
            bytes,
        })
    }

    /// Writes several fields, untyped: `bytes` holds, for every element of the selection (C order),
    /// the named fields packed in the order given, in the stored byte order (what
    /// [`read_fields`](Self::read_fields) returns); the other fields of every record keep their
    /// values (each touched chunk is read, modified and written back once).
    ///
    /// ```
    /// use tessera_array::{ArrayBuilder, DataType};
    /// use tessera_store::MemoryStore;
    /// # use std::sync::Arc;
    ///
    /// let dtype = DataType::from_json(&serde_json::json!([["id", "<u2"], ["mass", "<f4"]]))?;
    /// let a = ArrayBuilder::new(vec![3], vec![2], dtype).create(Arc::new(MemoryStore::new()), "p")?;
    /// let masses: Vec<u8> = [1.5f32, 2.5].iter().flat_map(|m| m.to_le_bytes()).collect();
    /// a.write_fields(&["mass"], "1:", &masses)?;
    /// assert_eq!(a.read_field::<f32>("mass", ())?.into_raw_vec_and_offset().0, [0.0, 1.5, 2.5]);
    /// assert_eq!(a.read_field::<u16>("id", ())?.into_raw_vec_and_offset().0, [0, 0, 0]);
    /// # Ok::<(), tessera_array::ArrayError>(())
    /// ```
    ///
    /// # Errors
    /// As [`read_fields`](Self::read_fields), and [`ArrayError::ShapeMismatch`] when `bytes` is not
    /// the selection's elements times the packed fields' size.
    pub fn write_fields(
        &self,
        fields: &[&str],
        selection: impl IntoSelection,
        bytes: &[u8],
    ) -> ArrayResult<()> {
        let (segments, _, size) = packed_fields(&self.meta.dtype, fields)?;
        let sel = ArrayAccess::resolve(self, selection)?;
        if bytes.len() != buffer_len(sel.num_elements(), size)? {
            return Err(ArrayError::ShapeMismatch {
                expected: sel.shape(),
                found: vec![(bytes.len() / size.max(1)) as u64],
            });
        }
        let view = ElementView {
            src_elem: size,
            dst_elem: self.meta.dtype.itemsize(),
            segments: segments
                .into_iter()
                .map(|(record, packed, len)| (packed, record, len))
                .collect(),
        };
        self.write_fancy_view(
            &sel,
            &positions_of(&sel),
            Source::Bytes(bytes),
            false,
            &view,
        )
    }

    /// Writes one field of a structured array over a selection (`data` has the selection's shape,
    /// then the field's sub-array shape); the other fields of every record keep their values (each
    /// touched chunk is read, modified and written back once).
    ///
    /// # Errors
    /// As [`read_field`](Self::read_field), and [`ArrayError::ShapeMismatch`].
    pub fn write_field<T: Element, S: Data<Elem = T>, D: Dimension>(
        &self,
        field: &str,
        selection: impl IntoSelection,
        data: &ArrayBase<S, D>,
    ) -> ArrayResult<()> {
        let place = find_field(&self.meta.dtype, field)?;
        if !T::matches(&place.dtype) {
            return Err(ArrayError::DataTypeMismatch {
                stored: place.dtype.typestr(),
                requested: T::NAME.to_string(),
            });
        }
        let sel = ArrayAccess::resolve(self, selection)?;
        let mut expected = sel.shape();
        expected.extend(place.shape.iter().map(|&d| d as u64));
        let found: Vec<u64> = data.shape().iter().map(|&d| d as u64).collect();
        if found != expected {
            return Err(ArrayError::ShapeMismatch { expected, found });
        }
        let elems: Vec<T> = data.iter().copied().collect();
        let mut bytes = T::as_bytes(&elems).to_vec();
        swap_parallel(&place.dtype, &mut bytes);
        let view = ElementView {
            src_elem: place.size(),
            dst_elem: self.meta.dtype.itemsize(),
            segments: vec![(0, place.offset, place.size())],
        };
        self.write_fancy_view(
            &sel,
            &positions_of(&sel),
            Source::Bytes(&bytes),
            false,
            &view,
        )
    }
}
