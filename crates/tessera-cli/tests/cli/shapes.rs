//! Every shape through every command: zero-length axes, 0-d arrays and chunks larger than the array are
//! imported, described, exported, copied, rechunked and recompressed, and read back byte for byte.

use serde_json::Value;
use tessera_array::DataType;

use super::common::*;

/// (shape, chunks): the corner cases, with one ordinary shape as a control.
const CASES: &[(&[u64], &[u64])] = &[
    (&[0], &[4]),
    (&[5, 0], &[2, 2]),
    (&[0, 5], &[2, 2]),
    (&[3, 0, 4], &[2, 1, 2]),
    (&[], &[]),
    (&[3], &[10]),
    (&[2, 3], &[5, 7]),
    (&[7, 5], &[3, 2]),
];

fn csv(values: &[u64]) -> String {
    values
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[test]
fn every_shape_survives_every_command() {
    let dtype = DataType::parse_typestr("<i4").unwrap();
    for (case, &(shape, chunks)) in CASES.iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        let what = format!("shape {shape:?} chunks {chunks:?}");
        let n: u64 = shape.iter().product();
        let data = noise(n as usize * 4, case as u64 + 1);
        let input = dir.path().join("in.npy");
        write_npy(&input, &dtype, shape, false, &data);
        let store = dir.path().join("s.zarr");
        let store = s(&store);
        ok(&[
            "import",
            s(&input),
            store,
            "--array",
            "g/x",
            "--chunks",
            &csv(chunks),
        ]);

        // info: the tree and the JSON agree on the shape and the size.
        let tree = ok(&["info", store]);
        assert!(
            tree.contains(&format!("shape       {shape:?}")),
            "{what}:\n{tree}"
        );
        let doc: Value = serde_json::from_str(&ok(&["info", store, "--json"])).unwrap();
        let node = doc["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["path"] == "g/x")
            .unwrap();
        assert_eq!(node["shape"], serde_json::json!(shape), "{what}");
        assert_eq!(node["nbytes"], serde_json::json!(n * 4), "{what}");
        assert!(node["error"].is_null(), "{what}: {node}");

        // export: the whole array and, where there is one, a selection.
        let out = dir.path().join("out.npy");
        ok(&["export", store, "--array", "g/x", "-o", s(&out)]);
        assert_eq!(
            read_npy(&out),
            (dtype.clone(), shape.to_vec(), false, data.clone()),
            "{what}"
        );
        if !shape.is_empty() {
            let spec = "1:";
            ok(&[
                "export",
                store,
                "--array",
                "g/x",
                "--select",
                spec,
                "-o",
                s(&out),
            ]);
            let (sel_shape, sel_data) = select(&data, shape, 4, spec);
            assert_eq!(
                read_npy(&out),
                (dtype.clone(), sel_shape, false, sel_data),
                "{what}"
            );
        }

        // copy: as stored, rechunked, recompressed; each copy exports the same bytes.
        let bigger: Vec<u64> = chunks.iter().map(|c| c + 1).collect();
        let variants: Vec<(&str, Vec<String>)> = vec![
            ("plain", vec![]),
            ("rechunked", vec!["--chunks".into(), csv(&bigger)]),
            (
                "recompressed",
                vec!["--compressor".into(), r#"{"id":"zstd","level":1}"#.into()],
            ),
        ];
        for (label, extra) in variants {
            if label == "rechunked" && shape.is_empty() {
                continue;
            }
            let dst = dir.path().join(format!("{label}.zarr"));
            let mut args = vec!["copy".to_string(), store.to_string(), s(&dst).to_string()];
            args.extend(extra);
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            ok(&args);
            ok(&["export", s(&dst), "--array", "g/x", "-o", s(&out)]);
            assert_eq!(
                read_npy(&out),
                (dtype.clone(), shape.to_vec(), false, data.clone()),
                "{what}, {label} copy"
            );
        }
    }
}
