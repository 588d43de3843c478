//! `export --select` with lists and negative steps, `--points` and `--mask`, against values computed
//! element by element.

use tessera_array::DataType;

use super::common::*;

const SHAPE: [u64; 3] = [5, 4, 3];

/// A 5x4x3 `<i4` array holding its own C-order linear index, chunked 2x3x2, sharded or not.
fn store(dir: &std::path::Path, extra: &[&str]) -> std::path::PathBuf {
    let input = dir.join("in.npy");
    let data: Vec<u8> = (0..60i32).flat_map(|v| v.to_le_bytes()).collect();
    write_npy(
        &input,
        &DataType::parse_typestr("<i4").unwrap(),
        &SHAPE,
        false,
        &data,
    );
    let store = dir.join("s.zarr");
    let mut args = vec![
        "import",
        s(&input),
        s(&store),
        "--array",
        "x",
        "--chunks",
        "2,3,2",
    ];
    args.extend_from_slice(extra);
    ok(&args);
    store
}

fn linear(i: i64, j: i64, k: i64) -> i32 {
    let norm = |x: i64, n: u64| if x < 0 { x + n as i64 } else { x };
    (norm(i, SHAPE[0]) * 12 + norm(j, SHAPE[1]) * 3 + norm(k, SHAPE[2])) as i32
}

fn exported(
    store: &std::path::Path,
    out: &std::path::Path,
    flags: &[&str],
) -> (Vec<u64>, Vec<i32>) {
    let mut args = vec!["export", s(store), "--array", "x", "-o", s(out)];
    args.extend_from_slice(flags);
    ok(&args);
    let (dtype, shape, _, data) = read_npy(out);
    assert_eq!(dtype, DataType::parse_typestr("<i4").unwrap());
    let values = data
        .chunks(4)
        .map(|b| i32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    (shape, values)
}

#[test]
fn lists_negative_steps_points_and_masks_export_numpy_results() {
    for extra in [&[][..], &["--zarr-format", "3", "--shards", "4,3,2"][..]] {
        let dir = tempfile::tempdir().unwrap();
        let store = store(dir.path(), extra);
        let out = dir.path().join("o.npy");

        // Orthogonal: rows 3, 0, 3 (a repeat), columns reversed, one plane.
        let (shape, got) = exported(&store, &out, &["--select", "[3,0,-2],::-1,1"]);
        assert_eq!(shape, vec![3, 4]);
        let want: Vec<i32> = [3, 0, 3]
            .iter()
            .flat_map(|&i| (0..4).rev().map(move |j| linear(i, j, 1)))
            .collect();
        assert_eq!(got, want, "{extra:?}");

        // Points: an (n, 3) int64 array, negative coordinates count from the end.
        let points: [[i64; 3]; 4] = [[0, 0, 0], [4, 3, 2], [-1, 0, 1], [2, 1, 0]];
        let file = dir.path().join("points.npy");
        let bytes: Vec<u8> = points
            .iter()
            .flatten()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        write_npy(
            &file,
            &DataType::parse_typestr("<i8").unwrap(),
            &[4, 3],
            false,
            &bytes,
        );
        let (shape, got) = exported(&store, &out, &["--points", s(&file)]);
        assert_eq!(shape, vec![4]);
        let want: Vec<i32> = points.iter().map(|p| linear(p[0], p[1], p[2])).collect();
        assert_eq!(got, want);

        // A mask of the array's shape: the marked elements in C order.
        let mask: Vec<u8> = (0..60).map(|v| u8::from(v % 7 == 3)).collect();
        let file = dir.path().join("mask.npy");
        write_npy(&file, &DataType::Bool, &SHAPE, false, &mask);
        let (shape, got) = exported(&store, &out, &["--mask", s(&file)]);
        let want: Vec<i32> = (0..60).filter(|v| v % 7 == 3).collect();
        assert_eq!((shape, got), (vec![want.len() as u64], want));

        // A 1-D mask of the first axis keeps the other axes whole.
        let file = dir.path().join("rows.npy");
        write_npy(&file, &DataType::Bool, &[5], false, &[0, 1, 0, 0, 1]);
        let (shape, got) = exported(&store, &out, &["--mask", s(&file)]);
        assert_eq!(shape, vec![2, 4, 3]);
        let want: Vec<i32> = (12..24).chain(48..60).collect();
        assert_eq!(got, want);
    }
}

#[test]
fn bad_point_and_mask_files_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(dir.path(), &[]);
    let out = dir.path().join("o.npy");
    let points = dir.path().join("p.npy");
    let i8_ = DataType::parse_typestr("<i8").unwrap();
    let case = |flag: &str, file: &std::path::Path, needle: &str| {
        let err = fails(
            &[
                "export",
                s(&store),
                "--array",
                "x",
                flag,
                s(file),
                "-o",
                s(&out),
            ],
            2,
        );
        assert!(
            err.contains(flag) && err.contains(needle),
            "{needle}: {err}"
        );
        assert!(!out.exists());
    };
    write_npy(&points, &i8_, &[2, 2], false, &[0u8; 32]);
    case("--points", &points, "(n, 3)");
    let bytes: Vec<u8> = [0i64, 0, 5].iter().flat_map(|v| v.to_le_bytes()).collect();
    write_npy(&points, &i8_, &[1, 3], false, &bytes);
    case("--points", &points, "out of bounds");
    write_npy(
        &points,
        &DataType::parse_typestr("<f4").unwrap(),
        &[1, 3],
        false,
        &[0u8; 12],
    );
    case("--points", &points, "not integers");
    write_npy(&points, &DataType::Bool, &[4], false, &[1u8; 4]);
    case("--mask", &points, "first axis");
    std::fs::write(&points, b"not npy").unwrap();
    case("--mask", &points, ".npy");
}

#[test]
fn fields_export_alone() {
    let dir = tempfile::tempdir().unwrap();
    let dtype = DataType::from_json(&serde_json::json!([
        ["id", "<u2"],
        ["mass", "<f8"],
        ["q", "|i1"]
    ]))
    .unwrap();
    let record = |i: u16| -> Vec<u8> {
        let mut r = i.to_le_bytes().to_vec();
        r.extend((f64::from(i) * 1.5).to_le_bytes());
        r.push((i as i8).wrapping_neg() as u8);
        r
    };
    let input = dir.path().join("in.npy");
    let data: Vec<u8> = (0..6).flat_map(record).collect();
    write_npy(&input, &dtype, &[6], false, &data);
    let store = dir.path().join("s.zarr");
    ok(&[
        "import",
        s(&input),
        s(&store),
        "--array",
        "p",
        "--chunks",
        "4",
    ]);
    let out = dir.path().join("o.npy");

    ok(&[
        "export",
        s(&store),
        "--array",
        "p",
        "--field",
        "mass",
        "-o",
        s(&out),
    ]);
    let (dt, shape, _, bytes) = read_npy(&out);
    assert_eq!(
        (dt, shape),
        (DataType::parse_typestr("<f8").unwrap(), vec![6])
    );
    let want: Vec<u8> = (0..6)
        .flat_map(|i| (f64::from(i) * 1.5).to_le_bytes())
        .collect();
    assert_eq!(bytes, want);

    ok(&[
        "export",
        s(&store),
        "--array",
        "p",
        "--field",
        "q,id",
        "--select",
        "::-2",
        "-o",
        s(&out),
    ]);
    let (dt, shape, _, bytes) = read_npy(&out);
    assert_eq!(dt.itemsize(), 3);
    assert_eq!(shape, vec![3]);
    let want: Vec<u8> = [5u16, 3, 1]
        .iter()
        .flat_map(|&i| {
            let r = record(i);
            [r[10], r[0], r[1]]
        })
        .collect();
    assert_eq!(bytes, want);

    let err = fails(
        &[
            "export",
            s(&store),
            "--array",
            "p",
            "--field",
            "charge",
            "-o",
            s(&out),
        ],
        2,
    );
    assert!(
        err.contains("--field") && err.contains("id, mass, q"),
        "{err}"
    );
}
