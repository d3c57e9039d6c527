//! CSV files written by other tools.

use bascule_datasets::{ColumnValues, Format, read_bytes, read_path};

use crate::{data_file, fixture};

#[test]
fn the_logistic_holdout_reads_as_thirty_features_and_a_label() {
    let frame = read_path(&fixture("logistic/holdout.csv")).unwrap();
    assert_eq!(frame.n_columns(), 31);
    assert_eq!(frame.n_rows(), 143);
    assert_eq!(frame.names().next(), Some("mean radius"));
    assert_eq!(frame.names().last(), Some("label"));
    for column in frame.columns() {
        assert!(
            matches!(column.values, ColumnValues::Numeric(_)),
            "{} is not numeric",
            column.name
        );
        assert_eq!(
            column.values.n_missing(),
            0,
            "{} has missing values",
            column.name
        );
    }
    let label = frame.column("label").unwrap().values.as_numeric().unwrap();
    assert_eq!(label.iter().filter(|&&value| value == 1.0).count(), 90);
    assert_eq!(label.iter().filter(|&&value| value == 0.0).count(), 53);
    assert_eq!(
        frame
            .column("mean radius")
            .unwrap()
            .values
            .as_numeric()
            .unwrap()[0],
        13.17
    );

    let features: Vec<&str> = frame.names().filter(|name| *name != "label").collect();
    let inputs = frame.select(&features).unwrap().to_row_major_f32().unwrap();
    assert_eq!(inputs.len(), 143 * 30);
    assert_eq!(inputs[0], 13.17_f32);
}

#[test]
fn the_pandas_row_index_of_the_rainfall_excerpt_is_dropped() {
    let frame = read_path(&data_file("rainfall_head.csv")).unwrap();
    assert_eq!(
        frame.names().collect::<Vec<_>>(),
        [
            "temperature",
            "dew point",
            "sea-level pressure",
            "visibility",
            "average wind speed",
            "max sustained wind-speed",
            "minimum temperature",
            "maximum temperature",
            "rain",
        ]
    );
    assert_eq!(frame.n_rows(), 19);
    let temperature = frame
        .column("temperature")
        .unwrap()
        .values
        .as_numeric()
        .unwrap();
    assert_eq!(temperature[0], -1.4756842473305716);
    let rain = frame.column("rain").unwrap().values.as_numeric().unwrap();
    assert_eq!(rain.iter().sum::<f64>(), 5.0);
}

#[test]
fn bytes_read_as_the_same_frame_as_the_file() {
    let path = fixture("logistic/holdout.csv");
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(Format::sniff(&bytes), Format::Csv);
    assert_eq!(
        read_bytes(bytes, Format::Csv).unwrap(),
        read_path(&path).unwrap()
    );
}
