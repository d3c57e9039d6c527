//! `bascule drift` as a user runs it: the rainfall data set split where its real drift
//! begins, a Parquet pair with odd columns, and the errors for bad input.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{bascule, fails, ok, path};

fn rainfall() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../datasets/rainfall/rainfall.csv")
}

/// Writes the header and the data rows `rows` of `source` to `target`.
fn split_csv(source: &Path, rows: std::ops::Range<usize>, target: &Path) {
    let text = std::fs::read_to_string(source).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let mut out = String::from(header);
    out.push('\n');
    for line in lines.skip(rows.start).take(rows.end - rows.start) {
        out.push_str(line);
        out.push('\n');
    }
    std::fs::write(target, out).unwrap();
}

fn verdict<'a>(report: &'a Value, feature: &str) -> &'a str {
    report["features"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == feature)
        .unwrap_or_else(|| panic!("no feature {feature} in {report}"))["verdict"]["status"]
        .as_str()
        .unwrap()
}

#[test]
fn rainfall_drift_from_row_12000_names_dew_point() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, current) = (dir.path().join("ref.csv"), dir.path().join("cur.csv"));
    split_csv(&rainfall(), 0..12_000, &reference);
    split_csv(&rainfall(), 12_000..usize::MAX, &current);
    let (json, html) = (
        dir.path().join("report.json"),
        dir.path().join("report.html"),
    );
    let stdout = ok(bascule()
        .args(["drift", "--reference", path(&reference), "--current"])
        .arg(&current)
        .args(["--json", path(&json), "--html", path(&html)])
        .output()
        .unwrap());
    assert!(
        stdout.contains("dew point") && stdout.contains("drift share"),
        "{stdout}"
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(verdict(&report, "dew point"), "drifted", "{stdout}");
    assert_eq!(report["features"].as_array().unwrap().len(), 9);
    assert_eq!(report["features"][1]["reference"]["count"], 12_000);
    assert_eq!(report["features"][1]["current"]["count"], 18_159 - 12_000);

    let page = std::fs::read_to_string(&html).unwrap();
    assert_eq!(page.matches("<svg").count(), 9);
    assert!(page.contains("<title id=\"title-1\">Histogram of dew point"));
    // Self-contained: nothing is fetched (the SVG namespace is a name, not a fetch).
    for fetch in ["src=", "<link", "<script", "@import", "url("] {
        assert!(!page.contains(fetch), "the page fetches {fetch}");
    }

    // The same files as Parquet are walked a few columns at a time: the same report.
    let (reference_parquet, current_parquet) = (
        dir.path().join("ref.parquet"),
        dir.path().join("cur.parquet"),
    );
    for (csv, parquet) in [
        (&reference, &reference_parquet),
        (&current, &current_parquet),
    ] {
        let frame = bascule_datasets::read_path(csv).unwrap();
        bascule_datasets::write_path(&frame, parquet).unwrap();
    }
    let parquet_json = dir.path().join("parquet.json");
    ok(bascule()
        .args([
            "drift",
            "--reference",
            path(&reference_parquet),
            "--current",
        ])
        .arg(&current_parquet)
        .args(["--json", path(&parquet_json)])
        .output()
        .unwrap());
    let from_parquet: Value =
        serde_json::from_slice(&std::fs::read(&parquet_json).unwrap()).unwrap();
    assert_eq!(from_parquet["features"], report["features"]);

    // Undrifted halves of the stable period: nothing is flagged, and exit is still 0.
    let (early, late) = (dir.path().join("early.csv"), dir.path().join("late.csv"));
    split_csv(&rainfall(), 0..6_000, &early);
    split_csv(&rainfall(), 6_000..12_000, &late);
    let stdout = ok(bascule()
        .args([
            "drift",
            "--reference",
            path(&early),
            "--current",
            path(&late),
        ])
        .args(["--columns", "dew point,temperature", "--json", path(&json)])
        .output()
        .unwrap());
    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report["features"].as_array().unwrap().len(), 2, "{stdout}");
    assert_eq!(verdict(&report, "dew point"), "not_drifted", "{stdout}");
}

#[test]
fn bad_input_fails_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("ref.csv");
    split_csv(&rainfall(), 0..100, &reference);
    let error = fails(
        bascule()
            .args(["drift", "--reference", path(&reference), "--current"])
            .arg(dir.path().join("missing.csv"))
            .output()
            .unwrap(),
    );
    assert!(
        error.contains("cannot read the current data set"),
        "{error}"
    );
    let against_itself = |extra: &[&str]| {
        let reference = path(&reference);
        fails(
            bascule()
                .args(["drift", "--reference", reference, "--current", reference])
                .args(extra)
                .output()
                .unwrap(),
        )
    };
    let error = against_itself(&["--columns", "dew point,humidity"]);
    assert!(error.contains("no column called 'humidity'"), "{error}");
    let config = dir.path().join("drift.toml");
    std::fs::write(&config, "alpha = 2.0\n").unwrap();
    let error = against_itself(&["--config", path(&config)]);
    assert!(error.contains("alpha"), "{error}");
}

#[test]
fn odd_columns_are_reported_not_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let (reference, current) = (dir.path().join("ref.csv"), dir.path().join("cur.csv"));
    let mut reference_text = String::from("x,colour,only_ref,empty\n");
    let mut current_text = String::from("x,colour,only_cur,empty\n");
    for i in 0..200 {
        let colour = ["red", "green", "blue"][i % 3];
        reference_text.push_str(&format!("{},{colour},{i},\n", i % 17));
        let current_colour = if i % 2 == 0 { "purple" } else { colour };
        current_text.push_str(&format!("{},{current_colour},{i},\n", i % 17));
    }
    std::fs::write(&reference, reference_text).unwrap();
    std::fs::write(&current, current_text).unwrap();
    let json = dir.path().join("report.json");
    let stdout = ok(bascule()
        .args([
            "drift",
            "--reference",
            path(&reference),
            "--current",
            path(&current),
        ])
        .args(["--json", path(&json)])
        .output()
        .unwrap());
    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(verdict(&report, "x"), "not_drifted", "{stdout}");
    assert_eq!(verdict(&report, "colour"), "drifted", "{stdout}");
    for absent in ["only_ref", "only_cur", "empty"] {
        assert_eq!(verdict(&report, absent), "insufficient_data", "{stdout}");
    }
    assert_eq!(report["n_judged"], 2);
}
