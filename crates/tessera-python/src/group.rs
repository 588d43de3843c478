//! `GroupCore`: one Zarr group; lookups below it go through its consolidated metadata when it was
//! opened that way.

use pyo3::prelude::*;
use tessera_array::{Group, NodeKind};

use crate::array::PyArrayCore;
use crate::errors::{creating, reading};
use crate::store::json_object;

/// An open group.
#[pyclass(frozen, module = "tessera._tessera", name = "GroupCore")]
pub(crate) struct PyGroupCore {
    group: Group,
}

impl PyGroupCore {
    pub(crate) fn new(group: Group) -> PyGroupCore {
        PyGroupCore { group }
    }
}

fn kind_name(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Array => "array",
        NodeKind::Group => "group",
    }
}

#[pymethods]
impl PyGroupCore {
    /// The group's path in its store.
    #[getter]
    fn path(&self) -> String {
        self.group.path().as_str().to_string()
    }

    /// The group's Zarr format: 2 or 3.
    #[getter]
    fn zarr_format(&self) -> u8 {
        self.group.zarr_format().number()
    }

    /// True when metadata lookups go through consolidated metadata (`.zmetadata`, or v3's inline
    /// `consolidated_metadata`).
    #[getter]
    fn consolidated(&self) -> bool {
        self.group.is_consolidated()
    }

    /// What `name` (a relative path) below the group is: `"array"`, `"group"` or `None`.
    fn kind_of(&self, py: Python<'_>, name: &str) -> PyResult<Option<&'static str>> {
        py.detach(|| self.group.kind_of(name))
            .map(|k| k.map(kind_name))
            .map_err(reading)
    }

    /// The direct children as `(name, "array" | "group")`, sorted by name.
    fn children(&self, py: Python<'_>) -> PyResult<Vec<(String, &'static str)>> {
        let children = py.detach(|| self.group.children()).map_err(reading)?;
        Ok(children
            .into_iter()
            .map(|(name, kind)| (name, kind_name(kind)))
            .collect())
    }

    /// Opens the array `name` below the group.
    fn open_array(&self, py: Python<'_>, name: &str) -> PyResult<PyArrayCore> {
        let array = py.detach(|| self.group.open_array(name)).map_err(reading)?;
        Ok(PyArrayCore::new(array))
    }

    /// Opens the group `name` below the group.
    fn open_group(&self, py: Python<'_>, name: &str) -> PyResult<PyGroupCore> {
        let group = py.detach(|| self.group.open_group(name)).map_err(reading)?;
        Ok(PyGroupCore::new(group))
    }

    /// The attributes (`.zattrs`, or v3's `attributes`) as JSON text.
    fn attributes_json(&self, py: Python<'_>) -> PyResult<String> {
        let attrs = py.detach(|| self.group.attributes()).map_err(reading)?;
        Ok(serde_json::Value::Object(attrs).to_string())
    }

    /// Replaces the attributes with a JSON object.
    fn set_attributes_json(&self, py: Python<'_>, attrs: &str) -> PyResult<()> {
        let attrs = json_object("attributes", attrs)?;
        py.detach(|| self.group.set_attributes(&attrs))
            .map_err(creating)
    }

    /// Writes `.zmetadata` for this group (every document below it).
    fn consolidate(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| self.group.consolidate()).map_err(creating)
    }
}
