//! The four JSON input formats of MLflow's scoring protocol, and CSV, read into one
//! `Input`: a data frame (named columns), the rows of a single tensor, or named tensors.
//! Nothing here knows the model; `tensors.rs` matches an `Input` to its signature.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::Value;

use super::error::MlflowError;

/// A request's data, before it meets the model's signature.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// `dataframe_split`, `dataframe_records` or CSV: cells by row, under named columns.
    Frame {
        columns: Vec<String>,
        rows: Vec<Vec<Value>>,
    },
    /// `instances` or `inputs` as a list: the rows of the model's one input.
    Rows(Value),
    /// `inputs` as a dict, or `instances` as a list of dicts: each input's values.
    Named(Vec<(String, Value)>),
}

const FORMATS: [&str; 4] = [
    "dataframe_split",
    "dataframe_records",
    "instances",
    "inputs",
];

const REQUIRED_FORMAT: &str = "The input must be a JSON dictionary with exactly one of the \
     input fields {'dataframe_split', 'dataframe_records', 'instances', 'inputs'}";

/// Reads a JSON body: a dict with exactly one format key (and optionally `params`, which
/// is ignored since ONNX models take none).
pub fn from_json(body: &[u8]) -> Result<Input, MlflowError> {
    let value: Value = serde_json::from_slice(body).map_err(|error| {
        MlflowError::bad_request(format!(
            "Failed to parse input from JSON. Ensure that input is a valid JSON formatted \
             string. Error: '{error}'"
        ))
    })?;
    let mut fields = match value {
        Value::Object(fields) => fields,
        Value::Array(_) => {
            return Err(MlflowError::bad_request(format!(
                "{REQUIRED_FORMAT}. Received a list."
            )));
        }
        other => {
            return Err(MlflowError::bad_request(format!(
                "{REQUIRED_FORMAT}. Received unexpected input type '{}'.",
                json_type(&other)
            )));
        }
    };
    let present: Vec<&str> = FORMATS
        .into_iter()
        .filter(|key| fields.contains_key(*key))
        .collect();
    let [format] = present[..] else {
        let keys: Vec<&String> = fields.keys().collect();
        return Err(MlflowError::bad_request(format!(
            "{REQUIRED_FORMAT}. Received dictionary with input fields: {keys:?}."
        )));
    };
    let data = fields.remove(format).unwrap_or(Value::Null);
    match format {
        "dataframe_split" => dataframe_split(data),
        "dataframe_records" => {
            check_records(&data)?;
            // serde_json's `Value` sorts an object's keys; read the records again keeping
            // the columns in the order the client wrote them.
            let ordered: OrderedRecords = serde_json::from_slice(body)
                .map_err(|error| MlflowError::bad_request(format!("dataframe_records: {error}")))?;
            let (columns, rows) = by_columns(ordered.dataframe_records);
            Ok(Input::Frame { columns, rows })
        }
        "instances" => instances(data),
        _ => inputs(data),
    }
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// pandas' `split` orientation: `{"columns": [...], "data": [[...], ...]}`, `index`
/// ignored. Without `columns`, they are named `0`, `1`, ….
fn dataframe_split(data: Value) -> Result<Input, MlflowError> {
    let Value::Object(mut split) = data else {
        return Err(MlflowError::bad_request(format!(
            "dataframe_split must be a dict with 'columns' and 'data', got a {}",
            json_type(&data)
        )));
    };
    let rows = match split.remove("data") {
        Some(Value::Array(rows)) => rows,
        Some(other) => {
            return Err(MlflowError::bad_request(format!(
                "dataframe_split: 'data' must be a list of rows, got a {}",
                json_type(&other)
            )));
        }
        None => {
            return Err(MlflowError::bad_request(
                "dataframe_split has no 'data' (a list of rows)",
            ));
        }
    };
    let rows = rows
        .into_iter()
        .map(|row| match row {
            Value::Array(cells) => cells,
            scalar => vec![scalar],
        })
        .collect::<Vec<_>>();
    let columns = match split.remove("columns") {
        Some(Value::Array(names)) => names.iter().map(column_name).collect(),
        Some(other) => {
            return Err(MlflowError::bad_request(format!(
                "dataframe_split: 'columns' must be a list of names, got a {}",
                json_type(&other)
            )));
        }
        None => (0..rows.first().map_or(0, Vec::len))
            .map(|i| i.to_string())
            .collect::<Vec<_>>(),
    };
    for (index, row) in rows.iter().enumerate() {
        if row.len() != columns.len() {
            return Err(MlflowError::bad_request(format!(
                "dataframe_split: row {index} has {} values but there are {} columns",
                row.len(),
                columns.len()
            )));
        }
    }
    Ok(Input::Frame { columns, rows })
}

fn column_name(name: &Value) -> String {
    match name {
        Value::String(name) => name.clone(),
        other => other.to_string(),
    }
}

/// pandas' `records` orientation: a list of `{column: value}`; the columns in order of
/// first appearance, a column a record lacks is null there.
fn check_records(data: &Value) -> Result<(), MlflowError> {
    let Value::Array(records) = data else {
        return Err(MlflowError::bad_request(format!(
            "dataframe_records must be a list of {{column: value}} dicts, got a {}",
            json_type(data)
        )));
    };
    match records.iter().position(|record| !record.is_object()) {
        Some(index) => Err(MlflowError::bad_request(format!(
            "dataframe_records: record {index} is a {}, not a {{column: value}} dict",
            json_type(&records[index])
        ))),
        None => Ok(()),
    }
}

#[derive(Debug, serde::Deserialize)]
struct OrderedRecords {
    dataframe_records: Vec<Entries>,
}

/// A JSON object's entries in the order written.
#[derive(Debug)]
struct Entries(Vec<(String, Value)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;
        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = Entries;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a {column: value} dict")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor)
    }
}

fn by_columns(records: Vec<Entries>) -> (Vec<String>, Vec<Vec<Value>>) {
    let mut columns: Vec<String> = Vec::new();
    for Entries(record) in &records {
        for (key, _) in record {
            if !columns.contains(key) {
                columns.push(key.clone());
            }
        }
    }
    let rows = records
        .into_iter()
        .map(|Entries(mut record)| {
            columns
                .iter()
                .map(
                    |column| match record.iter().rposition(|(key, _)| key == column) {
                        Some(index) => record.swap_remove(index).1,
                        None => Value::Null,
                    },
                )
                .collect()
        })
        .collect();
    (columns, rows)
}

/// TF Serving's row format: a list of rows, or of `{input: value}` dicts (read by input).
fn instances(data: Value) -> Result<Input, MlflowError> {
    let Value::Array(items) = data else {
        return Err(MlflowError::bad_request(format!(
            "instances must be a list (of rows, or of {{input: value}} dicts), got a {}",
            json_type(&data)
        )));
    };
    if items.is_empty() || !items.iter().all(Value::is_object) {
        return Ok(Input::Rows(Value::Array(items)));
    }
    let records = items
        .into_iter()
        .filter_map(|item| match item {
            Value::Object(record) => Some(Entries(record.into_iter().collect())),
            _ => None,
        })
        .collect();
    let (columns, rows) = by_columns(records);
    let mut named: Vec<(String, Vec<Value>)> =
        columns.into_iter().map(|name| (name, Vec::new())).collect();
    for row in rows {
        for ((_, values), cell) in named.iter_mut().zip(row) {
            values.push(cell);
        }
    }
    Ok(Input::Named(
        named
            .into_iter()
            .map(|(name, values)| (name, Value::Array(values)))
            .collect(),
    ))
}

/// TF Serving's columnar format: one tensor (a list) or a dict of input → tensor.
fn inputs(data: Value) -> Result<Input, MlflowError> {
    match data {
        Value::Array(_) => Ok(Input::Rows(data)),
        Value::Object(named) => Ok(Input::Named(named.into_iter().collect())),
        other => Err(MlflowError::bad_request(format!(
            "inputs must be a list or a dict of input name → values, got a {}",
            json_type(&other)
        ))),
    }
}

/// Reads a CSV body with a header row (RFC 4180 quoting). Cells stay text until the
/// model's input types are known; an empty unquoted cell is missing (null).
pub fn from_csv(body: &[u8]) -> Result<Input, MlflowError> {
    let text = std::str::from_utf8(body).map_err(|error| {
        MlflowError::bad_request(format!("the CSV body is not valid UTF-8: {error}"))
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = parse_csv(text).map_err(MlflowError::bad_request)?;
    if records.is_empty() {
        return Err(MlflowError::bad_request(
            "the CSV body is empty; send a header row of column names, then the rows",
        ));
    }
    let header = records.remove(0);
    let columns: Vec<String> = header
        .into_iter()
        .map(|cell| cell.unwrap_or_default())
        .collect();
    let mut rows = Vec::with_capacity(records.len());
    for (index, record) in records.into_iter().enumerate() {
        if record.len() != columns.len() {
            return Err(MlflowError::bad_request(format!(
                "CSV line {}: {} values, but the header names {} columns",
                index + 2,
                record.len(),
                columns.len()
            )));
        }
        rows.push(
            record
                .into_iter()
                .map(|cell| cell.map_or(Value::Null, Value::String))
                .collect(),
        );
    }
    Ok(Input::Frame { columns, rows })
}

/// Records of cells; `None` for an empty unquoted cell. Blank lines are skipped.
fn parse_csv(text: &str) -> Result<Vec<Vec<Option<String>>>, String> {
    let mut records = Vec::new();
    let mut record: Vec<Option<String>> = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    let mut line = 1;
    let end_cell = |record: &mut Vec<Option<String>>, cell: &mut String, quoted: &mut bool| {
        let value = std::mem::take(cell);
        record.push((*quoted || !value.is_empty()).then_some(value));
        *quoted = false;
    };
    while let Some(c) = chars.next() {
        match c {
            '"' if cell.is_empty() && !quoted => {
                quoted = true;
                loop {
                    match chars.next() {
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            cell.push('"');
                        }
                        Some('"') => break,
                        Some(c) => {
                            if c == '\n' {
                                line += 1;
                            }
                            cell.push(c);
                        }
                        None => return Err(format!("CSV line {line}: a quoted cell never ends")),
                    }
                }
            }
            ',' => end_cell(&mut record, &mut cell, &mut quoted),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                if !(record.is_empty() && cell.is_empty() && !quoted) {
                    end_cell(&mut record, &mut cell, &mut quoted);
                    records.push(std::mem::take(&mut record));
                }
                line += 1;
            }
            c if quoted => {
                return Err(format!(
                    "CSV line {line}: '{c}' after a closing quote; quote the whole cell"
                ));
            }
            c => cell.push(c),
        }
    }
    if !(record.is_empty() && cell.is_empty() && !quoted) {
        end_cell(&mut record, &mut cell, &mut quoted);
        records.push(record);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn json_input(value: Value) -> Result<Input, MlflowError> {
        from_json(value.to_string().as_bytes())
    }

    #[test]
    fn split_and_records_give_the_same_frame() {
        let split = json_input(json!({"dataframe_split": {
            "columns": ["a", "b"], "data": [[1, 2], [3, 4]], "index": [7, 8]}}));
        let records =
            json_input(json!({"dataframe_records": [{"a": 1, "b": 2}, {"b": 4, "a": 3}]}));
        let expected = Input::Frame {
            columns: vec!["a".into(), "b".into()],
            rows: vec![vec![json!(1), json!(2)], vec![json!(3), json!(4)]],
        };
        assert_eq!(split.expect("split"), expected);
        assert_eq!(records.expect("records"), expected);
    }

    #[test]
    fn instances_of_dicts_are_read_by_input() {
        let input = json_input(
            json!({"instances": [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}],
            "params": {"ignored": true}}),
        );
        assert_eq!(
            input.expect("instances"),
            Input::Named(vec![
                ("a".into(), json!([1, 2])),
                ("b".into(), json!(["x", "y"]))
            ])
        );
    }

    #[test]
    fn format_mistakes_are_named() {
        let message = |value: Value| json_input(value).expect_err("refused").message_for_test();
        assert!(message(json!({"data": [[1]]})).contains("[\"data\"]"));
        assert!(message(json!({"instances": [[1]], "inputs": [[1]]})).contains("exactly one"));
        assert!(message(json!([[1]])).contains("Received a list"));
        assert!(
            message(json!({"dataframe_split": {"columns": ["a"], "data": [[1, 2]]}}))
                .contains("row 0 has 2 values but there are 1 columns")
        );
        assert!(from_json(b"{nope").is_err());
    }

    #[test]
    fn csv_quotes_blank_cells_and_crlf() {
        let input = from_csv(b"a,b\r\n1,\"x, \"\"y\"\"\"\r\n,2\n\n").expect("csv");
        assert_eq!(
            input,
            Input::Frame {
                columns: vec!["a".into(), "b".into()],
                rows: vec![
                    vec![json!("1"), json!("x, \"y\"")],
                    vec![Value::Null, json!("2")]
                ],
            }
        );
        assert!(from_csv(b"a,b\n1\n").is_err());
        assert!(from_csv(b"a\n\"open\n").is_err());
    }
}
