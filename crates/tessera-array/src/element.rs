//! Rust element types for typed reads and writes, and the check that they match the stored dtype.
//!
//! A typed read never reinterprets bytes: `read::<f32>` on an `<i4` array is a
//! [`DataTypeMismatch`](crate::ArrayError::DataTypeMismatch) error naming both types. Values stored
//! big-endian are returned in native order.

use half::f16;
use num_complex::Complex;

use crate::dtype::{ByteOrder, DataType, TimeUnit};
use crate::error::{ArrayError, ArrayResult};

mod sealed {
    pub trait Sealed {}
}

/// A numpy `datetime64` value: a count of the array's time unit since 1970-01-01 (`i64::MIN` is NaT).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct DateTime64(pub i64);

/// A numpy `timedelta64` value: a count of the array's time unit (`i64::MIN` is NaT).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct TimeDelta64(pub i64);

/// A Rust type that array elements can be read into and written from.
///
/// Guarantee relied on by zero-copy views (e.g. over memory-mapped files): every implementor except
/// `bool` is plain data of exactly the dtype's item size, without padding, for which every bit pattern
/// is a valid value. The trait is sealed so that this stays true.
///
/// Implemented for `bool`, the integer types, [`f16`](struct@f16), `f32`, `f64`, `Complex<f32>`, `Complex<f64>`,
/// [`DateTime64`] and [`TimeDelta64`]. Byte strings, text, void and structured types are read untyped
/// (see [`Array::read_raw`](crate::Array::read_raw)).
pub trait Element: Copy + Send + Sync + 'static + sealed::Sealed {
    /// The numpy name used in error messages, e.g. `float32`.
    const NAME: &'static str;

    /// True when values of this type can be read from `dtype` without reinterpretation (any byte order).
    fn matches(dtype: &DataType) -> bool;

    /// The dtype a new array of this type gets (native byte order; `ns` for time types).
    fn dtype() -> DataType;

    /// Builds `n` elements by letting `fill` write their bytes (native byte order) into a zeroed buffer.
    ///
    /// # Errors
    /// Whatever `fill` returns.
    fn collect(n: usize, fill: impl FnOnce(&mut [u8]) -> ArrayResult<()>)
    -> ArrayResult<Vec<Self>>;

    /// The bytes of a slice of elements, in native byte order.
    fn as_bytes(data: &[Self]) -> &[u8];
}

/// Allocates `n` zeroed `T`s, for types whose all-zero bit pattern is a valid value. An allocation the
/// system refuses (a selection of 2^62 elements) is [`ArrayError::TooLarge`], not an abort.
pub(crate) fn zeroed_vec<T: Copy>(n: usize) -> ArrayResult<Vec<T>> {
    if n == 0 || std::mem::size_of::<T>() == 0 {
        return Ok(Vec::new());
    }
    let too_large = || {
        ArrayError::TooLarge(format!(
            "cannot allocate {n} elements of {} bytes",
            std::mem::size_of::<T>()
        ))
    };
    let layout = std::alloc::Layout::array::<T>(n).map_err(|_| too_large())?;
    // SAFETY: the layout is non-zero-sized; calloc-style allocation hands out zero pages lazily, so large
    // results cost no upfront memset. Callers only use this for plain-data types where zero is valid.
    unsafe {
        let ptr = std::alloc::alloc_zeroed(layout) as *mut T;
        if ptr.is_null() {
            return Err(too_large());
        }
        advise_huge_pages(ptr as *mut u8, layout.size());
        Ok(Vec::from_raw_parts(ptr, n, n))
    }
}

/// Asks for transparent huge pages on a large, freshly allocated and not yet touched buffer: filling a
/// 1 GiB result then takes 512 page faults instead of 262144, which on virtual machines is most of the
/// time a warm read spends. Only a hint (no-op off Linux, or when huge pages are disabled).
fn advise_huge_pages(ptr: *mut u8, len: usize) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        if len < 2 * HUGE {
            return;
        }
        let start = (ptr as usize).next_multiple_of(HUGE);
        let end = (ptr as usize + len) / HUGE * HUGE;
        if end > start {
            // SAFETY: the range lies inside an allocation of ours; MADV_HUGEPAGE changes no contents.
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) };
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (ptr, len);
}

macro_rules! plain_element {
    ($t:ty, $name:expr, $dtype:expr, |$d:ident| $matches:expr) => {
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const NAME: &'static str = $name;
            fn matches($d: &DataType) -> bool {
                $matches
            }
            fn dtype() -> DataType {
                $dtype
            }
            fn collect(
                n: usize,
                fill: impl FnOnce(&mut [u8]) -> ArrayResult<()>,
            ) -> ArrayResult<Vec<Self>> {
                let mut v: Vec<$t> = zeroed_vec(n)?;
                // SAFETY: `$t` is plain data: every bit pattern is a valid value, no padding.
                let bytes = unsafe {
                    std::slice::from_raw_parts_mut(
                        v.as_mut_ptr() as *mut u8,
                        std::mem::size_of_val(v.as_slice()),
                    )
                };
                fill(bytes)?;
                Ok(v)
            }
            fn as_bytes(data: &[Self]) -> &[u8] {
                // SAFETY: plain data without padding; u8 has no alignment requirement.
                unsafe {
                    std::slice::from_raw_parts(
                        data.as_ptr() as *const u8,
                        std::mem::size_of_val(data),
                    )
                }
            }
        }
    };
}

const N: ByteOrder = ByteOrder::NATIVE;

plain_element!(
    i8,
    "int8",
    DataType::Int { size: 1, order: N },
    |d| matches!(d, DataType::Int { size: 1, .. })
);
plain_element!(
    i16,
    "int16",
    DataType::Int { size: 2, order: N },
    |d| matches!(d, DataType::Int { size: 2, .. })
);
plain_element!(
    i32,
    "int32",
    DataType::Int { size: 4, order: N },
    |d| matches!(d, DataType::Int { size: 4, .. })
);
plain_element!(
    i64,
    "int64",
    DataType::Int { size: 8, order: N },
    |d| matches!(d, DataType::Int { size: 8, .. })
);
plain_element!(
    u8,
    "uint8",
    DataType::UInt { size: 1, order: N },
    |d| matches!(d, DataType::UInt { size: 1, .. })
);
plain_element!(
    u16,
    "uint16",
    DataType::UInt { size: 2, order: N },
    |d| matches!(d, DataType::UInt { size: 2, .. })
);
plain_element!(
    u32,
    "uint32",
    DataType::UInt { size: 4, order: N },
    |d| matches!(d, DataType::UInt { size: 4, .. })
);
plain_element!(
    u64,
    "uint64",
    DataType::UInt { size: 8, order: N },
    |d| matches!(d, DataType::UInt { size: 8, .. })
);
plain_element!(
    f16,
    "float16",
    DataType::Float { size: 2, order: N },
    |d| matches!(d, DataType::Float { size: 2, .. })
);
plain_element!(
    f32,
    "float32",
    DataType::Float { size: 4, order: N },
    |d| matches!(d, DataType::Float { size: 4, .. })
);
plain_element!(
    f64,
    "float64",
    DataType::Float { size: 8, order: N },
    |d| matches!(d, DataType::Float { size: 8, .. })
);
plain_element!(
    Complex<f32>,
    "complex64",
    DataType::Complex { size: 8, order: N },
    |d| matches!(d, DataType::Complex { size: 8, .. })
);
plain_element!(
    Complex<f64>,
    "complex128",
    DataType::Complex { size: 16, order: N },
    |d| matches!(d, DataType::Complex { size: 16, .. })
);
plain_element!(
    DateTime64,
    "datetime64",
    DataType::DateTime {
        unit: TimeUnit {
            count: 1,
            base: "ns".into()
        },
        order: N
    },
    |d| matches!(d, DataType::DateTime { .. })
);
plain_element!(
    TimeDelta64,
    "timedelta64",
    DataType::TimeDelta {
        unit: TimeUnit {
            count: 1,
            base: "ns".into()
        },
        order: N
    },
    |d| matches!(d, DataType::TimeDelta { .. })
);

impl sealed::Sealed for bool {}
impl Element for bool {
    const NAME: &'static str = "bool";
    fn matches(d: &DataType) -> bool {
        matches!(d, DataType::Bool)
    }
    fn dtype() -> DataType {
        DataType::Bool
    }
    fn collect(
        n: usize,
        fill: impl FnOnce(&mut [u8]) -> ArrayResult<()>,
    ) -> ArrayResult<Vec<Self>> {
        // Stored bytes other than 0 and 1 are not valid `bool`s in Rust; numpy reads any non-zero byte as
        // True, and so do we.
        let mut bytes: Vec<u8> = zeroed_vec(n)?;
        fill(&mut bytes)?;
        Ok(bytes.into_iter().map(|b| b != 0).collect())
    }
    fn as_bytes(data: &[Self]) -> &[u8] {
        // SAFETY: a bool is one byte holding 0 or 1.
        unsafe { std::slice::from_raw_parts(data.as_ptr() as *const u8, data.len()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_ignores_byte_order_but_not_kind_or_size() {
        let be = DataType::parse_typestr(">f4").unwrap();
        assert!(f32::matches(&be));
        assert!(!f64::matches(&be));
        assert!(!i32::matches(&be));
        assert!(!i64::matches(&DataType::parse_typestr("<M8[ns]").unwrap()));
        assert!(DateTime64::matches(
            &DataType::parse_typestr("<M8[D]").unwrap()
        ));
    }

    #[test]
    fn bools_normalise_nonzero_bytes() {
        let v = bool::collect(3, |b| {
            b.copy_from_slice(&[0, 1, 7]);
            Ok(())
        })
        .unwrap();
        assert_eq!(v, vec![false, true, true]);
    }
}
