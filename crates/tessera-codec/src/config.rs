//! Reading fields of a numcodecs JSON config with numcodecs' defaults and clear errors.

use serde_json::{Map, Value};

use crate::error::{CodecError, CodecResult};

/// A codec config object with its id, read field by field.
pub(crate) struct Config<'a> {
    pub(crate) id: &'a str,
    map: &'a Map<String, Value>,
}

impl<'a> Config<'a> {
    /// Reads `value` as the config of codec `id`, whose fields besides `"id"` are `fields`
    /// (every field numcodecs' `get_config` writes, in current and older versions).
    ///
    /// A field outside that list is refused rather than ignored: written back to `.zarray`
    /// it would make the array unreadable for zarr-python, and a misspelled field (`lvl` for
    /// `level`) would silently fall back to the default.
    pub(crate) fn new(id: &'a str, value: &'a Value, fields: &[&str]) -> CodecResult<Self> {
        let map = value.as_object().ok_or_else(|| {
            CodecError::invalid(id, format!("config must be a JSON object, got {value}"))
        })?;
        if let Some(unknown) = map
            .keys()
            .find(|k| k.as_str() != "id" && !fields.contains(&k.as_str()))
        {
            let known = if fields.is_empty() {
                format!("{id} takes no field besides \"id\"")
            } else {
                let names: Vec<String> = fields.iter().map(|f| format!("{f:?}")).collect();
                format!("{id} takes {}", names.join(", "))
            };
            return Err(CodecError::invalid(
                id,
                format!("unknown field {unknown:?} ({known})"),
            ));
        }
        Ok(Config { id, map })
    }

    /// The raw field, `None` when absent or JSON null (numcodecs treats both as the default).
    pub(crate) fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    pub(crate) fn int_or(&self, key: &str, default: i64) -> CodecResult<i64> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => self.int_value(key, v),
        }
    }

    pub(crate) fn opt_int(&self, key: &str) -> CodecResult<Option<i64>> {
        self.get(key).map(|v| self.int_value(key, v)).transpose()
    }

    pub(crate) fn required_int(&self, key: &str) -> CodecResult<i64> {
        let v = self.required(key)?;
        self.int_value(key, v)
    }

    fn int_value(&self, key: &str, v: &Value) -> CodecResult<i64> {
        if let Some(i) = v.as_i64() {
            return Ok(i);
        }
        // Python's json writes True/False for booleans that numcodecs then uses as ints.
        if let Some(b) = v.as_bool() {
            return Ok(b as i64);
        }
        // An integral float (e.g. 5.0) is accepted as numcodecs' int() would.
        if let Some(f) = v.as_f64()
            && f.fract() == 0.0
            && f.abs() < 9.0e15
        {
            return Ok(f as i64);
        }
        Err(CodecError::invalid(
            self.id,
            format!("field {key:?} must be an integer, got {v}"),
        ))
    }

    pub(crate) fn bool_or(&self, key: &str, default: bool) -> CodecResult<bool> {
        match self.get(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(*b),
            Some(v) if v.as_i64().is_some() => Ok(v.as_i64() != Some(0)),
            Some(v) => Err(CodecError::invalid(
                self.id,
                format!("field {key:?} must be a boolean, got {v}"),
            )),
        }
    }

    pub(crate) fn required(&self, key: &str) -> CodecResult<&'a Value> {
        self.get(key)
            .ok_or_else(|| CodecError::invalid(self.id, format!("missing required field {key:?}")))
    }

    pub(crate) fn str_or(&self, key: &str, default: &'a str) -> CodecResult<&'a str> {
        match self.get(key) {
            None => Ok(default),
            Some(v) => v.as_str().ok_or_else(|| {
                CodecError::invalid(self.id, format!("field {key:?} must be a string, got {v}"))
            }),
        }
    }

    pub(crate) fn required_str(&self, key: &str) -> CodecResult<&'a str> {
        let v = self.required(key)?;
        v.as_str().ok_or_else(|| {
            CodecError::invalid(self.id, format!("field {key:?} must be a string, got {v}"))
        })
    }

    /// A number as numcodecs sees it: an int or a float (JSON keeps the distinction, and numpy's
    /// arithmetic depends on it).
    pub(crate) fn number(&self, key: &str, default: Option<Number>) -> CodecResult<Number> {
        match self.get(key) {
            None => default.ok_or_else(|| {
                CodecError::invalid(self.id, format!("missing required field {key:?}"))
            }),
            Some(v) => Number::from_json(v).ok_or_else(|| {
                CodecError::invalid(self.id, format!("field {key:?} must be a number, got {v}"))
            }),
        }
    }
}

/// A Python scalar from a config: int and float behave differently in numpy arithmetic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Number {
    Int(i128),
    Float(f64),
}

impl Number {
    pub(crate) fn from_json(v: &Value) -> Option<Number> {
        if let Some(i) = v.as_i64() {
            Some(Number::Int(i as i128))
        } else if let Some(u) = v.as_u64() {
            Some(Number::Int(u as i128))
        } else if let Some(f) = v.as_f64() {
            Some(Number::Float(f))
        } else {
            // numcodecs' JSON writer emits NaN/Infinity as strings for float fields.
            match v.as_str()? {
                "NaN" => Some(Number::Float(f64::NAN)),
                "Infinity" => Some(Number::Float(f64::INFINITY)),
                "-Infinity" => Some(Number::Float(f64::NEG_INFINITY)),
                _ => None,
            }
        }
    }

    pub(crate) fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        }
    }

    pub(crate) fn is_float(self) -> bool {
        matches!(self, Number::Float(_))
    }
}
