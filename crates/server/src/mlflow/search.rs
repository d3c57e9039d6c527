//! MLflow's search grammar: `<entity>.<key> <comparator> <value>` clauses joined by AND,
//! entities `metrics.`, `params.`, `tags.`, `attributes.` (and `datasets.`), keys quoted
//! with `"` or backticks when they hold spaces or punctuation, comparators `=`, `!=`, `<`,
//! `<=`, `>`, `>=`, `LIKE`, `ILIKE`, `IN`, `NOT IN`; and `order_by` clauses. Runs are
//! searched in SQL by the store; the few experiments, logged models and registry entries
//! are matched in memory here.

use bascule_core::{
    Comparator, Param, SearchClause, SearchEntity, SearchOrder, SearchValue, Tag, ViewType,
};

use super::error::{TrackingError, TrackingResult};

/// One parsed clause; `entity` is the canonical name (`metric`, `param`, `tag`,
/// `attribute`, `dataset`).
#[derive(Debug, Clone, PartialEq)]
pub struct Clause {
    pub entity: &'static str,
    pub key: String,
    pub comparator: Comparator,
    pub value: SearchValue,
}

/// A parsed filter: every clause must hold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filter {
    pub clauses: Vec<Clause>,
}

/// A value an object has for an entity and key, for matching in memory.
#[derive(Debug, Clone, PartialEq)]
pub enum Field {
    Number(f64),
    Text(String),
}

impl From<String> for Field {
    fn from(text: String) -> Self {
        Field::Text(text)
    }
}

impl From<f64> for Field {
    fn from(number: f64) -> Self {
        Field::Number(number)
    }
}

/// The value of the tag `key`, for matching in memory.
pub fn tag_field(tags: &[Tag], key: &str) -> Option<Field> {
    tags.iter()
        .find(|tag| tag.key == key)
        .map(|tag| Field::Text(tag.value.clone()))
}

/// The value of the param `key`, for matching in memory.
pub fn param_field(params: &[Param], key: &str) -> Option<Field> {
    params
        .iter()
        .find(|param| param.key == key)
        .map(|param| Field::Text(param.value.clone()))
}

const COMPARATORS: &str = "'{'<=', '<', '=', '>', '>=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'}'";

struct Lexer<'a> {
    text: &'a str,
    position: usize,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Self {
        Lexer { text, position: 0 }
    }

    fn rest(&self) -> &'a str {
        &self.text[self.position..]
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.position += rest.len() - rest.trim_start().len();
    }

    fn at_end(&mut self) -> bool {
        self.skip_space();
        self.rest().is_empty()
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let character = self.peek()?;
        self.position += character.len_utf8();
        Some(character)
    }

    /// A quoted string (`'…'`, `"…"` or `` `…` ``), the quote doubled or backslashed to
    /// include it.
    fn quoted(&mut self) -> TrackingResult<String> {
        let quote = self.bump().unwrap_or('"');
        let mut text = String::new();
        loop {
            match self.bump() {
                None => {
                    return Err(TrackingError::invalid(format!(
                        "Invalid filter: unterminated string starting with {quote}"
                    )));
                }
                Some('\\') => {
                    if let Some(escaped) = self.bump() {
                        text.push(escaped);
                    }
                }
                Some(character) if character == quote => {
                    if self.peek() == Some(quote) {
                        self.bump();
                        text.push(quote);
                    } else {
                        return Ok(text);
                    }
                }
                Some(character) => text.push(character),
            }
        }
    }

    /// A bare word: letters, digits and `_ . - : + /`.
    fn word(&mut self) -> &'a str {
        let start = self.position;
        while let Some(character) = self.peek() {
            if character.is_alphanumeric() || "_.-:+/".contains(character) {
                self.bump();
            } else {
                break;
            }
        }
        &self.text[start..self.position]
    }

    /// `entity.key`, `entity."quoted key"`, `` `entity`.`key` `` or a bare attribute.
    fn identifier(&mut self) -> TrackingResult<(&'static str, String)> {
        self.skip_space();
        let (entity, key) = match self.peek() {
            Some('"' | '`') => {
                let entity = self.quoted()?;
                if self.peek() != Some('.') {
                    return Ok(("attribute", entity));
                }
                self.bump();
                (entity, self.key()?)
            }
            Some(_) => {
                let start = self.position;
                while let Some(character) = self.peek() {
                    if character.is_alphanumeric() || character == '_' {
                        self.bump();
                    } else {
                        break;
                    }
                }
                let entity = self.text[start..self.position].to_owned();
                if self.peek() == Some('.') {
                    self.bump();
                    (entity, self.key()?)
                } else {
                    if entity.is_empty() {
                        return Err(TrackingError::invalid(format!(
                            "Invalid filter: expected an identifier such as metrics.accuracy \
                             at '{}'",
                            self.rest()
                        )));
                    }
                    return Ok(("attribute", entity));
                }
            }
            None => {
                return Err(TrackingError::invalid(
                    "Invalid filter: expected an identifier at the end of the filter",
                ));
            }
        };
        Ok((canonical_entity(&entity)?, key))
    }

    fn key(&mut self) -> TrackingResult<String> {
        match self.peek() {
            Some('"' | '`') => self.quoted(),
            _ => {
                let start = self.position;
                while let Some(character) = self.peek() {
                    if character.is_whitespace() || "<>=!(),'\"".contains(character) {
                        break;
                    }
                    self.bump();
                }
                let key = &self.text[start..self.position];
                if key.is_empty() {
                    return Err(TrackingError::invalid("Invalid filter: an empty key"));
                }
                Ok(key.to_owned())
            }
        }
    }

    fn comparator(&mut self) -> TrackingResult<Comparator> {
        self.skip_space();
        let start = self.position;
        let symbolic: String = self
            .rest()
            .chars()
            .take_while(|character| "<>=!".contains(*character))
            .collect();
        if !symbolic.is_empty() {
            self.position += symbolic.len();
            return match symbolic.as_str() {
                "=" | "==" => Ok(Comparator::Eq),
                "!=" | "<>" => Ok(Comparator::Ne),
                "<" => Ok(Comparator::Lt),
                "<=" => Ok(Comparator::Le),
                ">" => Ok(Comparator::Gt),
                ">=" => Ok(Comparator::Ge),
                other => Err(TrackingError::invalid(format!(
                    "Invalid comparator '{other}' not one of {COMPARATORS}"
                ))),
            };
        }
        let word = self.word().to_ascii_uppercase();
        match word.as_str() {
            "LIKE" => Ok(Comparator::Like),
            "ILIKE" => Ok(Comparator::ILike),
            "IN" => Ok(Comparator::In),
            "NOT" => {
                self.skip_space();
                if self.word().eq_ignore_ascii_case("IN") {
                    Ok(Comparator::NotIn)
                } else {
                    Err(TrackingError::invalid(format!(
                        "Invalid comparator 'NOT' not one of {COMPARATORS}"
                    )))
                }
            }
            _ => Err(TrackingError::invalid(format!(
                "Invalid comparator '{}' not one of {COMPARATORS}",
                &self.text[start..self.position]
            ))),
        }
    }

    fn value(&mut self) -> TrackingResult<SearchValue> {
        self.skip_space();
        match self.peek() {
            Some('\'' | '"') => Ok(SearchValue::Text(self.quoted()?)),
            Some('(') => {
                self.bump();
                let mut values = Vec::new();
                loop {
                    self.skip_space();
                    match self.peek() {
                        Some('\'' | '"') => values.push(self.quoted()?),
                        _ => {
                            return Err(TrackingError::invalid(
                                "Invalid filter: a list holds quoted strings, as ('a', 'b')",
                            ));
                        }
                    }
                    self.skip_space();
                    match self.bump() {
                        Some(',') => continue,
                        Some(')') => break,
                        _ => {
                            return Err(TrackingError::invalid(
                                "Invalid filter: a list must end with ')'",
                            ));
                        }
                    }
                }
                Ok(SearchValue::List(values))
            }
            Some(_) => {
                let word = self.word();
                word.parse::<f64>().map(SearchValue::Number).map_err(|_| {
                    TrackingError::invalid(format!(
                        "Invalid filter: the value '{word}{}' is neither a number nor a quoted \
                         string",
                        self.rest().split_whitespace().next().unwrap_or_default()
                    ))
                })
            }
            None => Err(TrackingError::invalid(
                "Invalid filter: a comparison lacks its value",
            )),
        }
    }
}

fn canonical_entity(entity: &str) -> TrackingResult<&'static str> {
    Ok(match entity.to_ascii_lowercase().as_str() {
        "metric" | "metrics" => "metric",
        "param" | "params" | "parameter" | "parameters" => "param",
        "tag" | "tags" => "tag",
        "attribute" | "attributes" | "attr" | "run" => "attribute",
        "dataset" | "datasets" => "dataset",
        _ => {
            return Err(TrackingError::invalid(format!(
                "Invalid entity type '{entity}'. Valid values are ['metric', 'parameter', \
                 'tag', 'attribute', 'dataset']"
            )));
        }
    })
}

impl Filter {
    pub fn parse(text: &str) -> TrackingResult<Self> {
        let mut lexer = Lexer::new(text);
        let mut clauses = Vec::new();
        if lexer.at_end() {
            return Ok(Filter { clauses });
        }
        loop {
            let (entity, key) = lexer.identifier()?;
            let comparator = lexer.comparator()?;
            let value = lexer.value()?;
            let is_list = matches!(value, SearchValue::List(_));
            let wants_list = matches!(comparator, Comparator::In | Comparator::NotIn);
            if is_list != wants_list {
                return Err(TrackingError::invalid(format!(
                    "Invalid filter: '{}' {} a list of values",
                    comparator.as_str(),
                    if wants_list { "takes" } else { "does not take" }
                )));
            }
            clauses.push(Clause {
                entity,
                key,
                comparator,
                value,
            });
            if lexer.at_end() {
                break;
            }
            let joiner = lexer.word();
            if !joiner.eq_ignore_ascii_case("AND") {
                return Err(TrackingError::invalid(format!(
                    "Invalid clause(s) in filter string: expected AND between comparisons, \
                     found '{}' (OR is not supported)",
                    if joiner.is_empty() {
                        lexer.rest()
                    } else {
                        joiner
                    }
                )));
            }
        }
        Ok(Filter { clauses })
    }

    /// The clauses as a run search: metrics compare numbers, params and tags strings.
    pub fn run_clauses(&self) -> TrackingResult<Vec<SearchClause>> {
        self.clauses
            .iter()
            .map(|clause| {
                let entity = search_entity(clause.entity);
                let numeric = matches!(clause.value, SearchValue::Number(_));
                match entity {
                    SearchEntity::Metric if !numeric => {
                        return Err(TrackingError::invalid(format!(
                            "Expected numeric value type for metric '{}'",
                            clause.key
                        )));
                    }
                    SearchEntity::Param | SearchEntity::Tag if numeric => {
                        return Err(TrackingError::invalid(format!(
                            "Parameter value is either not quoted or unidentified quote types \
                             used for string value of '{}'; quote strings with ' or \"",
                            clause.key
                        )));
                    }
                    SearchEntity::Param | SearchEntity::Tag
                        if matches!(
                            clause.comparator,
                            Comparator::Lt | Comparator::Le | Comparator::Gt | Comparator::Ge
                        ) =>
                    {
                        return Err(TrackingError::invalid(format!(
                            "Invalid comparator '{}' for a string; use =, !=, LIKE, ILIKE, IN \
                             or NOT IN",
                            clause.comparator.as_str()
                        )));
                    }
                    _ => {}
                }
                Ok(SearchClause {
                    entity,
                    key: clause.key.clone(),
                    comparator: clause.comparator,
                    value: clause.value.clone(),
                })
            })
            .collect()
    }

    /// Whether an object passes every clause; `field` gives its value for an entity and
    /// key, `None` when it has none (which fails the clause).
    pub fn matches(&self, field: impl Fn(&str, &str) -> Option<Field>) -> bool {
        self.clauses.iter().all(|clause| {
            field(clause.entity, &clause.key)
                .is_some_and(|value| compare(&value, clause.comparator, &clause.value))
        })
    }
}

fn search_entity(entity: &str) -> SearchEntity {
    match entity {
        "metric" => SearchEntity::Metric,
        "param" => SearchEntity::Param,
        "tag" => SearchEntity::Tag,
        "dataset" => SearchEntity::Dataset,
        _ => SearchEntity::Attribute,
    }
}

fn compare(field: &Field, comparator: Comparator, value: &SearchValue) -> bool {
    match (field, value) {
        (Field::Number(field), SearchValue::Number(value)) => match comparator {
            Comparator::Eq => field == value,
            Comparator::Ne => field != value,
            Comparator::Lt => field < value,
            Comparator::Le => field <= value,
            Comparator::Gt => field > value,
            Comparator::Ge => field >= value,
            _ => false,
        },
        (Field::Text(field), SearchValue::Text(value)) => match comparator {
            Comparator::Eq => field == value,
            Comparator::Ne => field != value,
            Comparator::Lt => field < value,
            Comparator::Le => field <= value,
            Comparator::Gt => field > value,
            Comparator::Ge => field >= value,
            Comparator::Like => like(field, value),
            Comparator::ILike => like(&field.to_lowercase(), &value.to_lowercase()),
            Comparator::In | Comparator::NotIn => false,
        },
        (Field::Text(field), SearchValue::List(values)) => match comparator {
            Comparator::In => values.contains(field),
            Comparator::NotIn => !values.contains(field),
            _ => false,
        },
        (Field::Text(field), SearchValue::Number(value)) => {
            // An id written without quotes (`version = 1`).
            field.parse::<f64>().is_ok_and(|field| {
                compare(
                    &Field::Number(field),
                    comparator,
                    &SearchValue::Number(*value),
                )
            })
        }
        _ => false,
    }
}

/// SQL LIKE: `%` matches any run of characters, `_` exactly one.
fn like(text: &str, pattern: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let pattern: Vec<char> = pattern.chars().collect();
    // matched[j]: the text so far matches the first j pattern characters.
    let mut matched = vec![false; pattern.len() + 1];
    matched[0] = true;
    for j in 1..=pattern.len() {
        matched[j] = matched[j - 1] && pattern[j - 1] == '%';
    }
    for character in text {
        let mut next = vec![false; pattern.len() + 1];
        for j in 1..=pattern.len() {
            next[j] = match pattern[j - 1] {
                '%' => next[j - 1] || matched[j],
                '_' => matched[j - 1],
                expected => matched[j - 1] && expected == character,
            };
        }
        matched = next;
    }
    matched[pattern.len()]
}

/// `order_by` clauses of a run search: `metrics.acc DESC`, `attributes.start_time`, ….
pub fn run_order(order_by: &[String]) -> TrackingResult<Vec<SearchOrder>> {
    order_by
        .iter()
        .map(|clause| {
            let mut lexer = Lexer::new(clause);
            let (entity, key) = lexer.identifier()?;
            lexer.skip_space();
            let direction = lexer.word().to_ascii_uppercase();
            let ascending = match direction.as_str() {
                "" | "ASC" => true,
                "DESC" => false,
                other => {
                    return Err(TrackingError::invalid(format!(
                        "Invalid order_by clause '{clause}': '{other}' is not ASC or DESC"
                    )));
                }
            };
            if !lexer.at_end() {
                return Err(TrackingError::invalid(format!(
                    "Invalid order_by clause '{clause}'"
                )));
            }
            Ok(SearchOrder {
                entity: search_entity(entity),
                key,
                ascending,
            })
        })
        .collect()
}

/// MLflow's `ViewType`, by name or number (`ACTIVE_ONLY` = 1, `DELETED_ONLY` = 2, `ALL` = 3).
pub fn view_type(view: Option<&str>) -> TrackingResult<ViewType> {
    match view.unwrap_or("ACTIVE_ONLY") {
        "" | "ACTIVE_ONLY" | "1" => Ok(ViewType::ActiveOnly),
        "DELETED_ONLY" | "2" => Ok(ViewType::DeletedOnly),
        "ALL" | "3" => Ok(ViewType::All),
        other => Err(TrackingError::invalid(format!(
            "Invalid view type '{other}': expected ACTIVE_ONLY, DELETED_ONLY or ALL"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<Clause> {
        Filter::parse(text).expect("parses").clauses
    }

    #[test]
    fn clauses_of_every_kind() {
        let clauses = parse(
            "metrics.acc > 0.5 and params.model = 'LogisticRegression' AND tags.\"my tag\" \
             LIKE 'x%' and attributes.status IN ('FINISHED', 'RUNNING') and \
             `metrics`.`a b` <= -1e3 and run_name != \"r\" and tags.t NOT IN ('a')",
        );
        assert_eq!(clauses.len(), 7);
        assert_eq!(clauses[0].entity, "metric");
        assert_eq!(clauses[0].value, SearchValue::Number(0.5));
        assert_eq!(clauses[2].key, "my tag");
        assert_eq!(clauses[2].comparator, Comparator::Like);
        assert_eq!(
            clauses[3].value,
            SearchValue::List(vec!["FINISHED".into(), "RUNNING".into()])
        );
        assert_eq!(clauses[4].key, "a b");
        assert_eq!(clauses[5].entity, "attribute");
        assert_eq!(clauses[6].comparator, Comparator::NotIn);
        assert!(parse("  ").is_empty());
    }

    #[test]
    fn bad_filters_say_what_is_wrong() {
        for (filter, expected) in [
            ("metrics.acc >>> 1", "Invalid comparator '>>>'"),
            ("metrics.acc > 1 or metrics.b < 2", "OR is not supported"),
            ("foo.acc > 1", "Invalid entity type 'foo'"),
            (
                "params.a = unquoted",
                "neither a number nor a quoted string",
            ),
            ("params.a = 'open", "unterminated"),
            ("tags.a IN 'x'", "takes a list"),
            ("metrics.acc >", "lacks its value"),
        ] {
            let error = Filter::parse(filter).expect_err(filter);
            assert!(
                error.message.contains(expected),
                "{filter}: {}",
                error.message
            );
        }
        let numeric_param = Filter::parse("params.a = 1").expect("parses");
        assert!(numeric_param.run_clauses().is_err());
    }

    #[test]
    fn like_and_in_memory_matching() {
        assert!(like("bc-classifier", "bc-%"));
        assert!(like("abc", "a_c"));
        assert!(!like("abc", "a_"));
        assert!(like("", "%"));
        let filter = Filter::parse("name ILIKE 'BC%' and tags.team = 'x'").expect("parses");
        assert!(filter.matches(|entity, key| match (entity, key) {
            ("attribute", "name") => Some("bc-classifier".to_owned().into()),
            ("tag", "team") => Some("x".to_owned().into()),
            _ => None,
        }));
        assert!(!filter.matches(|_, _| None));
    }

    #[test]
    fn order_clauses() {
        let order = run_order(&["metrics.acc DESC".into(), "attributes.start_time".into()])
            .expect("parses");
        assert_eq!(order[0].entity, SearchEntity::Metric);
        assert!(!order[0].ascending);
        assert!(order[1].ascending);
        assert!(run_order(&["metrics.acc sideways".into()]).is_err());
    }
}
