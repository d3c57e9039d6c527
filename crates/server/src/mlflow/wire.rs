//! Reading MLflow requests and writing its responses. Requests are protobuf messages as
//! JSON: POST, PATCH and DELETE send a body, GET sends the fields in the query string
//! (repeated keys for lists); int64 fields may come as numbers or strings and doubles as
//! `"NaN"`/`"Infinity"`. Responses are proto3 JSON: ids as strings, empty lists left out.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::Method;
use bascule_core::{Metric, Param, Tag};
use serde::de::{DeserializeOwned, Deserializer, Error as _};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::error::Category;
use serde_json::{Map, Value};

use super::error::TrackingError;

/// The largest JSON body the tracking API reads (a full log-batch is well under 1 MiB).
const MAX_JSON_BYTES: usize = 16 << 20;

/// A request message, from the query string (GET) or the JSON body (anything else).
#[derive(Debug)]
pub struct Message<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Message<T> {
    type Rejection = TrackingError;
    async fn from_request(request: Request, _state: &S) -> Result<Self, TrackingError> {
        if request.method() == Method::GET {
            let value = query_message(request.uri().query().unwrap_or_default())?;
            return serde_json::from_value(value)
                .map(Message)
                .map_err(|error| TrackingError::invalid(format!("Invalid request: {error}")));
        }
        let bytes = axum::body::to_bytes(request.into_body(), MAX_JSON_BYTES)
            .await
            .map_err(|error| {
                TrackingError::malformed(format!("cannot read the request body: {error}"))
            })?;
        body_message(&bytes).map(Message)
    }
}

/// Reads the message straight from the body's bytes (no intermediate `Value`: a log-batch
/// of a thousand metrics would build a thousand maps first). Broken JSON is malformed, a
/// well-formed message with a field of the wrong type is invalid, as in MLflow.
fn body_message<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, TrackingError> {
    let first = bytes.iter().find(|byte| !byte.is_ascii_whitespace());
    let bytes: &[u8] = match first {
        None => b"{}",
        Some(b'{') => bytes,
        Some(_) => {
            return Err(TrackingError::malformed(
                "The request body must be a JSON object",
            ));
        }
    };
    serde_json::from_slice(bytes).map_err(|error| match error.classify() {
        Category::Data => TrackingError::invalid(format!("Invalid request: {error}")),
        Category::Syntax | Category::Eof | Category::Io => {
            TrackingError::malformed(format!("Malformed JSON in the request body: {error}"))
        }
    })
}

/// The query string as a JSON object: a key given once is a string, repeated an array.
fn query_message(query: &str) -> Result<Value, TrackingError> {
    let pairs: Vec<(String, String)> = serde_urlencoded_pairs(query)?;
    let mut object = Map::new();
    for (key, value) in pairs {
        match object.get_mut(&key) {
            Some(Value::Array(values)) => values.push(Value::String(value)),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, Value::String(value)]);
            }
            None => {
                object.insert(key, Value::String(value));
            }
        }
    }
    Ok(Value::Object(object))
}

fn serde_urlencoded_pairs(query: &str) -> Result<Vec<(String, String)>, TrackingError> {
    let uri: axum::http::Uri = format!("/?{query}")
        .parse()
        .map_err(|_| TrackingError::malformed("invalid query string"))?;
    axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&uri)
        .map(|query| query.0)
        .map_err(|error| TrackingError::malformed(format!("invalid query string: {error}")))
}

/// Returns the field or MLflow's "missing required parameter" error.
pub fn required<T>(value: Option<T>, field: &str) -> Result<T, TrackingError> {
    value.ok_or_else(|| TrackingError::missing(field))
}

/// A required string that must not be empty.
pub fn required_text(value: Option<String>, field: &str) -> Result<String, TrackingError> {
    match value {
        Some(value) if !value.is_empty() => Ok(value),
        _ => Err(TrackingError::missing(field)),
    }
}

/// `run_id`, or the legacy `run_uuid` the client sends beside it.
pub fn run_id_of(
    run_id: Option<String>,
    run_uuid: Option<String>,
) -> Result<String, TrackingError> {
    required_text(run_id.or(run_uuid), "run_id")
}

/// An experiment id as MLflow writes it (a string of digits).
pub fn experiment_id(text: &str) -> Result<i64, TrackingError> {
    text.trim().parse().map_err(|_| {
        TrackingError::invalid(format!(
            "Invalid experiment id '{text}': experiment ids are integers"
        ))
    })
}

/// A request's experiment ids.
pub fn experiment_ids(texts: &[String]) -> Result<Vec<i64>, TrackingError> {
    texts.iter().map(|text| experiment_id(text)).collect()
}

// ---- lenient field readers ---------------------------------------------------------------

/// A JSON number or string, read straight from the parser: an untagged enum would buffer
/// every field first, which was a tenth of the server's time on large log-batch requests.
enum NumberOrText {
    Integer(i64),
    Float(f64),
    Text(String),
}

impl<'de> Deserialize<'de> for NumberOrText {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NumberOrTextVisitor)
    }
}

struct NumberOrTextVisitor;

impl serde::de::Visitor<'_> for NumberOrTextVisitor {
    type Value = NumberOrText;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("a number or a string")
    }

    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<NumberOrText, E> {
        Ok(NumberOrText::Integer(value))
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<NumberOrText, E> {
        Ok(i64::try_from(value).map_or(NumberOrText::Float(value as f64), NumberOrText::Integer))
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<NumberOrText, E> {
        Ok(NumberOrText::Float(value))
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<NumberOrText, E> {
        Ok(NumberOrText::Text(value.to_owned()))
    }

    fn visit_string<E: serde::de::Error>(self, value: String) -> Result<NumberOrText, E> {
        Ok(NumberOrText::Text(value))
    }
}

fn integer<E: serde::de::Error>(value: NumberOrText) -> Result<i64, E> {
    match value {
        NumberOrText::Integer(integer) => Ok(integer),
        NumberOrText::Float(float) if float.fract() == 0.0 && float.abs() < 9.0e15 => {
            Ok(float as i64)
        }
        NumberOrText::Float(float) => Err(E::custom(format!("{float} is not an integer"))),
        NumberOrText::Text(text) => text
            .trim()
            .parse()
            .map_err(|_| E::custom(format!("'{text}' is not an integer"))),
    }
}

/// An optional int64 given as a number or a string.
pub fn opt_i64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    Option::<NumberOrText>::deserialize(deserializer)?
        .map(integer)
        .transpose()
}

/// An optional double given as a number or a string (`"NaN"`, `"Infinity"`, `"-Infinity"`).
pub fn opt_f64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    match Option::<NumberOrText>::deserialize(deserializer)? {
        None => Ok(None),
        Some(NumberOrText::Integer(integer)) => Ok(Some(integer as f64)),
        Some(NumberOrText::Float(float)) => Ok(Some(float)),
        Some(NumberOrText::Text(text)) => match text.trim() {
            "NaN" | "nan" => Ok(Some(f64::NAN)),
            "Infinity" | "inf" => Ok(Some(f64::INFINITY)),
            "-Infinity" | "-inf" => Ok(Some(f64::NEG_INFINITY)),
            other => other
                .parse()
                .map(Some)
                .map_err(|_| D::Error::custom(format!("'{text}' is not a number"))),
        },
    }
}

/// An optional string, also accepting a number (ids written either way).
pub fn opt_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(
        Option::<NumberOrText>::deserialize(deserializer)?.map(|value| match value {
            NumberOrText::Integer(integer) => integer.to_string(),
            NumberOrText::Float(float) => float.to_string(),
            NumberOrText::Text(text) => text,
        }),
    )
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    Many(Vec<Value>),
    One(Value),
}

/// A list of strings, also accepting one string (a query key given once) or numbers.
pub fn texts<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    let values = match Option::<OneOrMany>::deserialize(deserializer)? {
        None => return Ok(Vec::new()),
        Some(OneOrMany::Many(values)) => values,
        Some(OneOrMany::One(value)) => vec![value],
    };
    values
        .into_iter()
        .map(|value| match value {
            Value::String(text) => Ok(text),
            Value::Number(number) => Ok(number.to_string()),
            other => Err(D::Error::custom(format!("expected a string, got {other}"))),
        })
        .collect()
}

// ---- shared message parts ------------------------------------------------------------------

#[derive(Debug, Deserialize)]
pub struct TagIn {
    #[serde(default, deserialize_with = "opt_text")]
    pub key: Option<String>,
    #[serde(default, deserialize_with = "opt_text")]
    pub value: Option<String>,
}

impl TagIn {
    pub fn into_tag(self) -> Result<Tag, TrackingError> {
        Ok(Tag {
            key: required_text(self.key, "key")?,
            value: self.value.unwrap_or_default(),
        })
    }

    pub fn into_param(self) -> Result<Param, TrackingError> {
        let tag = self.into_tag()?;
        Ok(Param {
            key: tag.key,
            value: tag.value,
        })
    }
}

pub fn tags_in(tags: Vec<TagIn>) -> Result<Vec<Tag>, TrackingError> {
    tags.into_iter().map(TagIn::into_tag).collect()
}

#[derive(Debug, Serialize)]
pub struct TagOut {
    pub key: String,
    pub value: String,
}

impl From<Tag> for TagOut {
    fn from(tag: Tag) -> Self {
        TagOut {
            key: tag.key,
            value: tag.value,
        }
    }
}

impl From<Param> for TagOut {
    fn from(param: Param) -> Self {
        TagOut {
            key: param.key,
            value: param.value,
        }
    }
}

pub fn tags_out(tags: Vec<Tag>) -> Vec<TagOut> {
    tags.into_iter().map(TagOut::from).collect()
}

#[derive(Debug, Serialize)]
pub struct MetricOut {
    pub key: String,
    #[serde(serialize_with = "double")]
    pub value: f64,
    pub timestamp: i64,
    pub step: i64,
}

impl From<Metric> for MetricOut {
    fn from(metric: Metric) -> Self {
        MetricOut {
            key: metric.key,
            value: metric.value,
            timestamp: metric.timestamp,
            step: metric.step,
        }
    }
}

/// A double as proto3 JSON writes it: a number, or `"NaN"`/`"Infinity"`/`"-Infinity"`.
pub fn double<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    if value.is_nan() {
        serializer.serialize_str("NaN")
    } else if value.is_infinite() {
        serializer.serialize_str(if *value > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        })
    } else {
        serializer.serialize_f64(*value)
    }
}

/// The `{}` every write call answers with.
pub fn empty() -> axum::Json<Value> {
    axum::Json(Value::Object(Map::new()))
}

/// A page token: the number of results already returned, as an opaque string.
pub fn page_offset(token: Option<&str>) -> Result<u64, TrackingError> {
    match token.filter(|token| !token.is_empty()) {
        None => Ok(0),
        Some(token) => token
            .strip_prefix("offset:")
            .and_then(|offset| offset.parse().ok())
            .ok_or_else(|| TrackingError::invalid(format!("Invalid page token '{token}'"))),
    }
}

pub fn next_page_token(offset: u64, returned: usize, more: bool) -> Option<String> {
    more.then(|| format!("offset:{}", offset + returned as u64))
}

/// One page of `items` from `offset`, and the token of the next page if more follow.
pub fn paginate<T>(items: Vec<T>, offset: u64, max_results: usize) -> (Vec<T>, Option<String>) {
    let more = items.len() as u64 > offset + max_results as u64;
    let page: Vec<T> = items
        .into_iter()
        .skip(usize::try_from(offset).unwrap_or(usize::MAX))
        .take(max_results)
        .collect();
    let token = next_page_token(offset, page.len(), more);
    (page, token)
}
