//! Turning tessera's Rust errors into the exception classes of `tessera.errors`.
//!
//! The classes are defined in Python (they inherit from two bases each, e.g. `NodeNotFound` from
//! `TesseraError` and `KeyError`, which `create_exception!` cannot express) and looked up when an error
//! is raised: errors are rare, the lookup is cheap.

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use tessera_array::ArrayError;
use tessera_codec::CodecErrorKind;
use tessera_store::{StoreError, StoreErrorKind};

/// A `tessera.errors` class by name, with `message`; a `RuntimeError` if the module cannot be imported.
pub(crate) fn raise(class: &str, message: String) -> PyErr {
    Python::attach(|py| {
        let class = py.import("tessera.errors").and_then(|m| m.getattr(class));
        match class {
            Ok(class) => match class.call1((message.clone(),)) {
                Ok(instance) => PyErr::from_value(instance),
                Err(e) => e,
            },
            Err(_) => PyRuntimeError::new_err(message),
        }
    })
}

/// What the caller was doing, which decides whether invalid metadata is the user's mistake (creating an
/// array from bad arguments) or the stored data's (opening a broken `.zarray`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Doing {
    /// Opening or reading what is stored.
    Reading,
    /// Creating nodes or writing from the caller's arguments.
    Creating,
}

/// The Python exception for a store error.
pub(crate) fn store_error(e: &StoreError) -> PyErr {
    let class = match e.kind() {
        StoreErrorKind::NotFound => "StoreNotFoundError",
        StoreErrorKind::PermissionDenied => "StorePermissionError",
        StoreErrorKind::InvalidUrl | StoreErrorKind::InvalidConfig | StoreErrorKind::InvalidKey => {
            "InvalidStoreError"
        }
        StoreErrorKind::NotSupported => "UnsupportedError",
        _ => "StoreError",
    };
    raise(class, full_message(e))
}

/// `Display` of an error followed by its sources, so a Python user sees the cause too.
fn full_message(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

/// The Python exception for an array-layer error.
pub(crate) fn array_error(e: ArrayError, doing: Doing) -> PyErr {
    let message = full_message(&e);
    let class = match &e {
        ArrayError::NotFound { .. } => "NodeNotFound",
        ArrayError::AlreadyExists { .. } => "NodeExistsError",
        ArrayError::Selection(_)
        | ArrayError::IndexOutOfBounds { .. }
        | ArrayError::MaskShape { .. } => "SelectionError",
        ArrayError::DataTypeMismatch { .. } => "DataTypeError",
        ArrayError::ShapeMismatch { .. } => "ShapeError",
        ArrayError::InvalidPath { .. } => "InvalidPathError",
        ArrayError::TooLarge(_) => "TooLargeError",
        ArrayError::Unsupported { .. } => "UnsupportedError",
        ArrayError::ShardIndex { .. } => "CorruptDataError",
        ArrayError::Store(s) => return store_error(s),
        ArrayError::Codec { source, .. } | ArrayError::CodecConfig(source) => match source.kind() {
            CodecErrorKind::UnknownCodec | CodecErrorKind::Unsupported => "UnsupportedError",
            CodecErrorKind::InvalidConfig if doing == Doing::Creating => "InvalidArgumentError",
            _ => "CorruptDataError",
        },
        ArrayError::Metadata { .. } if doing == Doing::Creating => "InvalidArgumentError",
        ArrayError::Metadata { .. } | ArrayError::ChunkSize { .. } => "CorruptDataError",
        _ => return PyValueError::new_err(message),
    };
    raise(class, message)
}

/// `map_err` helper for reads and opens.
pub(crate) fn reading(e: ArrayError) -> PyErr {
    array_error(e, Doing::Reading)
}

/// `map_err` helper for creation and writes from caller arguments.
pub(crate) fn creating(e: ArrayError) -> PyErr {
    array_error(e, Doing::Creating)
}
