//! A request input's `data`, flattened row-major while it is parsed. The datatype may come
//! after the data in the JSON object, so elements are kept by their JSON kind (numbers
//! exactly as written: integer or float) and converted once the datatype is known. Parsing
//! into `serde_json::Value` first cost an enum and a vector per nesting level for every
//! element; this keeps one vector per input.

use std::fmt;

use serde::Deserializer;
use serde::de::{Deserialize, DeserializeSeed, SeqAccess, Visitor};

/// A JSON number as written: an integer when it has no fraction or exponent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Int(i64),
    /// An integer above `i64::MAX`.
    Big(u64),
    Float(f64),
}

impl Number {
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(x) => x as f64,
            Number::Big(x) => x as f64,
            Number::Float(x) => x,
        }
    }

    /// The value when it is an integer that fits an `i64`.
    pub fn as_i64(self) -> Option<i64> {
        match self {
            Number::Int(x) => Some(x),
            Number::Big(_) | Number::Float(_) => None,
        }
    }
}

/// The elements of one input, all of one JSON kind, or `Mixed` (which no datatype takes).
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Elements {
    #[default]
    Empty,
    Numbers(Vec<Number>),
    Bools(Vec<bool>),
    Strings(Vec<String>),
    /// Elements of different kinds, or a `null` or an object among them.
    Mixed,
}

impl Elements {
    fn push_number(&mut self, number: Number) {
        match self {
            Elements::Empty => {
                // A row of features is tens of numbers: growing from one took four
                // reallocations per request.
                let mut numbers = Vec::with_capacity(32);
                numbers.push(number);
                *self = Elements::Numbers(numbers);
            }
            Elements::Numbers(numbers) => numbers.push(number),
            _ => *self = Elements::Mixed,
        }
    }

    fn push_bool(&mut self, value: bool) {
        match self {
            Elements::Empty => *self = Elements::Bools(vec![value]),
            Elements::Bools(values) => values.push(value),
            _ => *self = Elements::Mixed,
        }
    }

    fn push_string(&mut self, value: String) {
        match self {
            Elements::Empty => *self = Elements::Strings(vec![value]),
            Elements::Strings(values) => values.push(value),
            _ => *self = Elements::Mixed,
        }
    }
}

impl<'de> Deserialize<'de> for Elements {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut elements = Elements::Empty;
        Flatten(&mut elements).deserialize(deserializer)?;
        Ok(elements)
    }
}

/// Appends one JSON value's elements (an array's, recursively; a scalar is one element).
struct Flatten<'a>(&'a mut Elements);

impl<'de> DeserializeSeed<'de> for Flatten<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Flatten<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an array of numbers, booleans or strings")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Flatten(self.0))?.is_some() {}
        Ok(())
    }

    fn visit_i64<E>(self, value: i64) -> Result<(), E> {
        self.0.push_number(Number::Int(value));
        Ok(())
    }

    fn visit_u64<E>(self, value: u64) -> Result<(), E> {
        let number = i64::try_from(value).map_or(Number::Big(value), Number::Int);
        self.0.push_number(number);
        Ok(())
    }

    fn visit_f64<E>(self, value: f64) -> Result<(), E> {
        self.0.push_number(Number::Float(value));
        Ok(())
    }

    fn visit_bool<E>(self, value: bool) -> Result<(), E> {
        self.0.push_bool(value);
        Ok(())
    }

    fn visit_str<E>(self, value: &str) -> Result<(), E> {
        self.0.push_string(value.to_owned());
        Ok(())
    }

    fn visit_string<E>(self, value: String) -> Result<(), E> {
        self.0.push_string(value);
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        *self.0 = Elements::Mixed;
        Ok(())
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        *self.0 = Elements::Mixed;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Elements {
        serde_json::from_str(json).expect("parses")
    }

    #[test]
    fn nested_arrays_flatten_in_row_major_order() {
        assert_eq!(
            parse("[[1, 2.5], [-3, 18446744073709551615]]"),
            Elements::Numbers(vec![
                Number::Int(1),
                Number::Float(2.5),
                Number::Int(-3),
                Number::Big(u64::MAX)
            ])
        );
        assert_eq!(parse("7"), Elements::Numbers(vec![Number::Int(7)]));
        assert_eq!(
            parse(r#"[["a"], ["b"]]"#),
            Elements::Strings(vec!["a".into(), "b".into()])
        );
        assert_eq!(parse("[true, false]"), Elements::Bools(vec![true, false]));
        assert_eq!(parse("[[], []]"), Elements::Empty);
    }

    #[test]
    fn mixed_kinds_nulls_and_objects_are_mixed() {
        assert_eq!(parse(r#"[1, "a"]"#), Elements::Mixed);
        assert_eq!(parse("[true, 1]"), Elements::Mixed);
        assert_eq!(parse("[1, null]"), Elements::Mixed);
        assert_eq!(parse(r#"[{"a": 1}, 2]"#), Elements::Mixed);
        assert!(serde_json::from_str::<Elements>("[1, 2").is_err());
    }
}
