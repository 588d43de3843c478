//! import → export round trips: every dtype, many codecs, C and F input, raw+sidecar input, selections.

use serde_json::{Value, json};
use tessera_array::DataType;

use super::common::*;

const DTYPES: &[&str] = &[
    "|b1", "|i1", "<i2", ">i2", "<i4", ">i4", "<i8", ">i8", "|u1", "<u2", ">u2", "<u4", ">u4",
    "<u8", ">u8", "<f2", ">f2", "<f4", ">f4", "<f8", ">f8", "<c8", ">c8", "<c16", ">c16",
    "<M8[ns]", ">M8[D]", "<m8[ms]", "|S5", "<U3", ">U2", "|V7",
];

fn structured() -> Vec<Value> {
    vec![
        json!([["x", "<i4"], ["y", ">f8"]]),
        json!([["id", "<u2"], ["pos", "<f8", [3]]]),
        json!([["a", [["b", ">i2"], ["c", "|u1"]]], ["name", "|S4"]]),
    ]
}

/// Imports `data` (C order unless `fortran`) and exports it again; returns the exported file.
fn round_trip(
    dir: &std::path::Path,
    name: &str,
    dtype: &DataType,
    shape: &[u64],
    fortran: bool,
    data: &[u8],
    flags: &[&str],
) -> (DataType, Vec<u64>, Vec<u8>) {
    let input = dir.join(format!("{name}.npy"));
    let stored = if fortran {
        c_to_f(data, shape, dtype.itemsize())
    } else {
        data.to_vec()
    };
    write_npy(&input, dtype, shape, fortran, &stored);
    let store = dir.join("store.zarr");
    let path = format!("rt/{name}");
    let mut args = vec!["import", s(&input), s(&store), "--array", &path];
    args.extend_from_slice(flags);
    ok(&args);
    let out = dir.join(format!("{name}.out.npy"));
    ok(&["export", s(&store), "--array", &path, "-o", s(&out)]);
    let (dt, sh, f, bytes) = read_npy(&out);
    assert!(!f, "exports are C order");
    (dt, sh, bytes)
}

#[test]
fn every_dtype_round_trips_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let shape = [11u64, 7];
    let mut dtypes: Vec<DataType> = DTYPES
        .iter()
        .map(|t| DataType::parse_typestr(t).unwrap())
        .collect();
    dtypes.extend(structured().iter().map(|v| DataType::from_json(v).unwrap()));
    for (i, dtype) in dtypes.iter().enumerate() {
        let len = 77 * dtype.itemsize();
        let mut data = noise(len, i as u64 + 1);
        if *dtype == DataType::Bool {
            data.iter_mut().for_each(|b| *b &= 1);
        }
        let name = format!("d{i}");
        let (dt, sh, bytes) = round_trip(
            dir.path(),
            &name,
            dtype,
            &shape,
            false,
            &data,
            &["--chunks", "4,3"],
        );
        assert_eq!(&dt, dtype, "{dtype}");
        assert_eq!(sh, shape);
        assert_eq!(bytes, data, "{dtype}");
    }
}

#[test]
fn codecs_and_filters_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let f8 = DataType::parse_typestr("<f8").unwrap();
    let i4 = DataType::parse_typestr("<i4").unwrap();
    // Smooth data, so the compressors have something to do.
    let shape = [40u64, 30];
    let f8_data: Vec<u8> = (0..1200)
        .flat_map(|i| ((i as f64) * 0.01).sin().to_le_bytes())
        .collect();
    let i4_data: Vec<u8> = (0..1200i32)
        .flat_map(|i| (i * 3 - 700).to_le_bytes())
        .collect();
    let compressors = [
        "none",
        r#"{"id":"zstd","level":3}"#,
        r#"{"id":"zlib","level":6}"#,
        r#"{"id":"gzip","level":1}"#,
        r#"{"id":"bz2","level":9}"#,
        r#"{"id":"lzma","format":1,"check":-1,"preset":1,"filters":null}"#,
        r#"{"id":"lz4","acceleration":1}"#,
        r#"{"id":"blosc","cname":"lz4","clevel":5,"shuffle":1,"blocksize":0}"#,
        r#"{"id":"blosc","cname":"zstd","clevel":3,"shuffle":2,"blocksize":0}"#,
        r#"{"id":"blosc","cname":"blosclz","clevel":9,"shuffle":0,"blocksize":0}"#,
    ];
    for (i, c) in compressors.iter().enumerate() {
        let (dt, _, bytes) = round_trip(
            dir.path(),
            &format!("c{i}"),
            &f8,
            &shape,
            false,
            &f8_data,
            &["--chunks", "16,7", "--compressor", c],
        );
        assert_eq!((dt, bytes), (f8.clone(), f8_data.clone()), "{c}");
        // The store records the compressor as given.
        let zarray: Value = serde_json::from_slice(
            &std::fs::read(dir.path().join(format!("store.zarr/rt/c{i}/.zarray"))).unwrap(),
        )
        .unwrap();
        let expected: Value = if *c == "none" {
            Value::Null
        } else {
            serde_json::from_str(c).unwrap()
        };
        assert_eq!(zarray["compressor"], expected);
    }
    let filters = [
        (
            r#"[{"id":"delta","dtype":"<i4"}]"#,
            r#"{"id":"zstd","level":1}"#,
        ),
        (
            r#"[{"id":"shuffle","elementsize":4}]"#,
            r#"{"id":"zlib","level":1}"#,
        ),
        (r#"[{"id":"crc32"}]"#, "none"),
        (
            r#"[{"id":"delta","dtype":"<i4"},{"id":"adler32"}]"#,
            r#"{"id":"lz4","acceleration":1}"#,
        ),
    ];
    for (i, (f, c)) in filters.iter().enumerate() {
        let (dt, _, bytes) = round_trip(
            dir.path(),
            &format!("f{i}"),
            &i4,
            &shape,
            false,
            &i4_data,
            &["--chunks", "9,30", "--filters", f, "--compressor", c],
        );
        assert_eq!((dt, bytes), (i4.clone(), i4_data.clone()), "{f}");
    }
}

#[test]
fn fortran_input_orders_separators_and_fill_values() {
    let dir = tempfile::tempdir().unwrap();
    let dtype = DataType::parse_typestr(">u2").unwrap();
    let shape = [5u64, 6, 7];
    let data = noise(210 * 2, 7);
    for (i, flags) in [
        vec!["--chunks", "2,4,3"],
        vec!["--chunks", "2,4,3", "--order", "F"],
        vec![
            "--chunks",
            "5,1,7",
            "--order",
            "F",
            "--separator",
            "/",
            "--fill-value",
            "7",
        ],
        vec![
            "--chunks",
            "1,1,1",
            "--compressor",
            "none",
            "--memory-limit",
            "4M",
        ],
    ]
    .iter()
    .enumerate()
    {
        for fortran in [false, true] {
            let name = format!("o{i}{fortran}");
            let (dt, sh, bytes) =
                round_trip(dir.path(), &name, &dtype, &shape, fortran, &data, flags);
            assert_eq!((dt, sh), (dtype.clone(), shape.to_vec()), "{flags:?}");
            assert_eq!(bytes, data, "{flags:?} fortran={fortran}");
        }
    }
    let zarray: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("store.zarr/rt/o2false/.zarray")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        (
            zarray["order"].as_str(),
            zarray["dimension_separator"].as_str(),
            zarray["fill_value"].as_u64()
        ),
        (Some("F"), Some("/"), Some(7))
    );
    assert!(dir.path().join("store.zarr/rt/o2false/0/0/0").is_file());
    // Intermediate groups were created.
    assert!(dir.path().join("store.zarr/rt/.zgroup").is_file());
    assert!(dir.path().join("store.zarr/.zgroup").is_file());
}

#[test]
fn raw_files_with_sidecars_import() {
    let dir = tempfile::tempdir().unwrap();
    let shape = [6u64, 9];
    let data = noise(54 * 8, 3);
    // An F-order raw file with a header of 16 bytes to skip.
    let mut raw = vec![0xAB; 16];
    raw.extend(c_to_f(&data, &shape, 8));
    std::fs::write(dir.path().join("v.raw"), &raw).unwrap();
    std::fs::write(
        dir.path().join("v.raw.json"),
        json!({"tessera_raw": 1, "dtype": ">f8", "shape": shape, "order": "F", "offset": 16})
            .to_string(),
    )
    .unwrap();
    let store = dir.path().join("s.zarr");
    ok(&[
        "import",
        s(&dir.path().join("v.raw")),
        s(&store),
        "--chunks",
        "4,4",
    ]);
    let out = dir.path().join("v.npy");
    ok(&["export", s(&store), "-o", s(&out)]);
    let (dt, sh, _, bytes) = read_npy(&out);
    assert_eq!(
        (dt.typestr(), sh, bytes),
        (">f8".to_string(), shape.to_vec(), data.clone())
    );
    // Naming the sidecar works too; a size that does not match the sidecar is refused.
    let again = dir.path().join("again.zarr");
    ok(&[
        "import",
        s(&dir.path().join("v.raw.json")),
        s(&again),
        "--array",
        "a/b",
        "--chunks",
        "6,9",
    ]);
    ok(&["export", s(&again), "--array", "a/b", "-o", s(&out)]);
    assert_eq!(read_npy(&out).3, data);
    std::fs::write(dir.path().join("v.raw"), &raw[..raw.len() - 8]).unwrap();
    let err = fails(
        &[
            "import",
            s(&dir.path().join("v.raw")),
            s(&again),
            "--array",
            "short",
            "--chunks",
            "6,9",
        ],
        1,
    );
    assert!(err.contains("needs 448"), "{err}");
}

#[test]
fn selections_export_what_numpy_would() {
    let dir = tempfile::tempdir().unwrap();
    let dtype = DataType::parse_typestr("<i8").unwrap();
    let shape = [23u64, 17, 5];
    let data: Vec<u8> = (0..23 * 17 * 5i64).flat_map(|v| v.to_le_bytes()).collect();
    let input = dir.path().join("in.npy");
    write_npy(&input, &dtype, &shape, false, &data);
    let store = dir.path().join("s.zarr");
    ok(&[
        "import",
        s(&input),
        s(&store),
        "--chunks",
        "4,5,2",
        "--compressor",
        r#"{"id":"zstd","level":1}"#,
    ]);
    for spec in [
        "",
        "3",
        "-1",
        "::3",
        "1:20:4, 2:-2, 1",
        "5:5",
        "..., 4",
        "-100:100:7, -1, :",
        "2, 3, 4",
        ":, ::16",
    ] {
        let out = dir.path().join("sel.npy");
        // A small memory limit forces many slabs.
        ok(&[
            "export",
            s(&store),
            "--select",
            spec,
            "--memory-limit",
            "4M",
            "-o",
            s(&out),
        ]);
        let (_, sh, _, bytes) = read_npy(&out);
        let (want_shape, want) = select(&data, &shape, 8, spec);
        assert_eq!((sh, bytes), (want_shape, want), "{spec:?}");
    }
    // To standard output.
    let stdout = run_ok(tessera().args(["export", s(&store), "--select", "0,0", "-o", "-"]));
    assert!(stdout.starts_with(b"\x93NUMPY"));
}
