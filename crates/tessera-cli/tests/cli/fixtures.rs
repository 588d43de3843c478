//! Exporting the arrays zarr-python wrote matches the expected `.npy` files, whole and for every
//! selection the manifest lists.

use std::path::Path;
use std::sync::Mutex;

use serde_json::Value;
use tessera_array::DataType;

use super::common::*;

fn check_version(version: &str) {
    let root = fixtures().join(version);
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(root.join("manifest.json")).unwrap()).unwrap();
    let arrays = manifest["arrays"].as_array().unwrap();
    assert!(arrays.len() > 50, "{version}: {} arrays", arrays.len());
    let out = tempfile::tempdir().unwrap();
    let next = Mutex::new(0usize);
    let failures = Mutex::new(Vec::new());
    // Several exports at once: each is a separate process.
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                loop {
                    let i = {
                        let mut n = next.lock().unwrap();
                        *n += 1;
                        *n - 1
                    };
                    let Some(entry) = arrays.get(i) else { break };
                    if let Err(msg) = check_array(&root, entry, out.path(), i) {
                        failures.lock().unwrap().push(msg);
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{version}: {} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn check_array(root: &Path, entry: &Value, out: &Path, i: usize) -> Result<(), String> {
    let path = entry["path"].as_str().unwrap();
    let (want_dtype, want_shape, _, want) =
        read_npy(&root.join(entry["expected"].as_str().unwrap()));
    let dtype = DataType::from_json(&entry["dtype"]).unwrap();
    if want_dtype != dtype {
        return Err(format!(
            "{path}: manifest dtype {dtype} but expected file {want_dtype}"
        ));
    }
    let file = out.join(format!("{i}.npy"));
    let mut specs = vec![None];
    specs.extend(
        entry["selections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str()),
    );
    for spec in specs {
        let mut cmd = tessera();
        cmd.args(["export", s(root), "--array", path, "-o", s(&file)]);
        if let Some(spec) = spec {
            cmd.args(["--select", spec]);
        }
        let result = cmd.output().unwrap();
        if !result.status.success() {
            return Err(format!(
                "{path} {spec:?}: {}",
                String::from_utf8_lossy(&result.stderr)
            ));
        }
        let (dt, shape, fortran, data) = read_npy(&file);
        let (sel_shape, sel) = match spec {
            None => (want_shape.clone(), want.clone()),
            Some(spec) => select(&want, &want_shape, dtype.itemsize(), spec),
        };
        if dt != dtype || fortran || shape != sel_shape {
            return Err(format!(
                "{path} {spec:?}: got {dt} {shape:?}, expected {dtype} {sel_shape:?}"
            ));
        }
        if data != sel {
            return Err(format!("{path} {spec:?}: data differs"));
        }
    }
    Ok(())
}

#[test]
fn zarr_python_2_fixtures_export_as_expected() {
    check_version("v2.18");
}

#[test]
fn zarr_python_3_fixtures_export_as_expected() {
    check_version("v3");
}
