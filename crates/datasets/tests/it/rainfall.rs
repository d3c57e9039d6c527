//! The vendored rainfall data set: the file is the one its README names, and it reads.

use std::path::PathBuf;

use sha2::{Digest, Sha256};

#[test]
fn the_vendored_rainfall_file_is_intact_and_reads() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../datasets/rainfall/rainfall.csv");
    let bytes = std::fs::read(&path).unwrap();
    let digest: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        digest,
        "975586059b09f0946e38d2171352da9cafa011b58f11e906c5567507cc99559e"
    );
    let frame = bascule_datasets::read_path(&path).unwrap();
    assert_eq!(frame.n_rows(), 18_159);
    let names: Vec<&str> = frame.names().collect();
    // The unnamed pandas row index is dropped: eight features and the label remain.
    assert_eq!(names.len(), 9);
    assert_eq!(names[0], "temperature");
    assert_eq!(names[8], "rain");
}
