//! Writes tessera-encoded blobs for every case of the object-codec fixture manifest
//! (`fixtures/codecs/objects`), so that numcodecs can check it decodes them (CI suite 20):
//! `cargo run -p tessera-codec --example export_object_blobs -- FIXTURES_DIR OUT_DIR` writes
//! `OUT_DIR/blobs/<case>.bin` and copies the manifest to `OUT_DIR/manifest.json`.

include!("../tests/support/object_cases.rs");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, fixtures, out] = args.as_slice() else {
        return Err("usage: export_object_blobs FIXTURES_DIR OUT_DIR".into());
    };
    let (fixtures, out) = (std::path::Path::new(fixtures), std::path::Path::new(out));
    std::fs::create_dir_all(out.join("blobs"))?;
    for case in object_cases(fixtures) {
        let blob = case.chain.encode_objects(&case.values, &case.shape)?;
        std::fs::write(out.join("blobs").join(format!("{}.bin", case.name)), blob)?;
    }
    std::fs::copy(fixtures.join("manifest.json"), out.join("manifest.json"))?;
    Ok(())
}
