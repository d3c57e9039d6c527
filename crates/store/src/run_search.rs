//! Run search: MLflow's filter and order compiled into one SQL query that picks a page of
//! run ids (each clause a join on its key, which the `(key, value)` indexes of migration
//! 0004 serve), then the page loaded as `run_load::load` loads any selection.

use std::collections::HashMap;
use std::fmt::Write;

use bascule_core::{
    Comparator, Error, Run, RunSearch, SearchClause, SearchEntity, SearchOrder, SearchValue,
    ViewType,
};
use sqlx::any::AnyArguments;
use sqlx::{Arguments, Row};

use crate::SqlMetadataStore;
use crate::batch::ROWS_PER_STATEMENT;
use crate::error::Result;
use crate::run_load::{Select, load};

/// Builds the query: joins, conditions and their arguments, numbered as they are added.
struct Query {
    joins: String,
    conditions: Vec<String>,
    order: Vec<String>,
    arguments: AnyArguments<'static>,
    n_bound: usize,
    sqlite: bool,
}

impl Query {
    /// Binds a value and returns its placeholder.
    fn bind<T>(&mut self, value: T) -> Result<String>
    where
        T: sqlx::Encode<'static, sqlx::Any> + sqlx::Type<sqlx::Any> + Send + 'static,
    {
        self.arguments.add(value).map_err(sqlx::Error::Encode)?;
        self.n_bound += 1;
        Ok(format!("${}", self.n_bound))
    }

    /// `column <comparator> value` for a text column.
    fn text_condition(
        &mut self,
        column: &str,
        comparator: Comparator,
        value: &SearchValue,
    ) -> Result<String> {
        let text = |value: &SearchValue| match value {
            SearchValue::Text(text) => Ok(text.clone()),
            SearchValue::Number(number) => Ok(number.to_string()),
            SearchValue::List(_) => Err(Error::invalid(format!(
                "'{}' takes a single value, not a list",
                comparator.as_str()
            ))),
        };
        Ok(match comparator {
            Comparator::In | Comparator::NotIn => {
                let SearchValue::List(values) = value else {
                    return Err(Error::invalid(format!(
                        "'{}' takes a list of values such as ('a', 'b')",
                        comparator.as_str()
                    ))
                    .into());
                };
                let mut placeholders = Vec::with_capacity(values.len());
                for value in values {
                    placeholders.push(self.bind(value.clone())?);
                }
                let not = if comparator == Comparator::NotIn {
                    "NOT "
                } else {
                    ""
                };
                format!("{column} {not}IN ({})", placeholders.join(", "))
            }
            Comparator::Like if self.sqlite => {
                // SQLite's LIKE ignores case; GLOB is its case-sensitive match.
                let placeholder = self.bind(like_to_glob(&text(value)?))?;
                format!("{column} GLOB {placeholder}")
            }
            Comparator::Like => {
                let placeholder = self.bind(text(value)?)?;
                format!("{column} LIKE {placeholder}")
            }
            Comparator::ILike => {
                let placeholder = self.bind(text(value)?)?;
                format!("LOWER({column}) LIKE LOWER({placeholder})")
            }
            Comparator::Eq
            | Comparator::Ne
            | Comparator::Lt
            | Comparator::Le
            | Comparator::Gt
            | Comparator::Ge => {
                let placeholder = self.bind(text(value)?)?;
                format!("{column} {} {placeholder}", sql_operator(comparator))
            }
        })
    }

    /// `column <comparator> number` for a numeric column.
    fn number_condition(
        &mut self,
        column: &str,
        comparator: Comparator,
        value: &SearchValue,
    ) -> Result<String> {
        let SearchValue::Number(number) = value else {
            return Err(Error::invalid(format!(
                "'{column}' is numeric: compare it with a number, not a string or a list"
            ))
            .into());
        };
        if matches!(
            comparator,
            Comparator::Like | Comparator::ILike | Comparator::In | Comparator::NotIn
        ) {
            return Err(Error::invalid(format!(
                "'{}' does not apply to numbers; use =, !=, <, <=, > or >=",
                comparator.as_str()
            ))
            .into());
        }
        let placeholder = self.bind(*number)?;
        Ok(format!(
            "{column} {} {placeholder}",
            sql_operator(comparator)
        ))
    }

    fn add_clause(&mut self, index: usize, clause: &SearchClause) -> Result<()> {
        let alias = format!("f{index}");
        match clause.entity {
            SearchEntity::Metric | SearchEntity::Param | SearchEntity::Tag => {
                let table = child_table(clause.entity);
                let key = self.bind(clause.key.clone())?;
                let value = format!("{alias}.value");
                let condition = if clause.entity == SearchEntity::Metric {
                    let condition =
                        self.number_condition(&value, clause.comparator, &clause.value)?;
                    format!("{alias}.is_nan = 0 AND {condition}")
                } else {
                    self.text_condition(&value, clause.comparator, &clause.value)?
                };
                let _ = write!(
                    self.joins,
                    " JOIN {table} {alias} ON {alias}.run_uuid = r.run_uuid \
                      AND {alias}.key = {key} AND {condition}"
                );
            }
            SearchEntity::Attribute => {
                let (column, numeric) = attribute_column(&clause.key)?;
                let condition = if numeric {
                    self.number_condition(column, clause.comparator, &clause.value)?
                } else {
                    self.text_condition(column, clause.comparator, &clause.value)?
                };
                self.conditions.push(condition);
            }
            SearchEntity::Dataset => {
                let column = match clause.key.as_str() {
                    "name" => "d.name",
                    "digest" => "d.digest",
                    other => {
                        return Err(Error::invalid(format!(
                            "invalid data set attribute '{other}': expected name or digest"
                        ))
                        .into());
                    }
                };
                let condition = self.text_condition(column, clause.comparator, &clause.value)?;
                self.conditions.push(format!(
                    "EXISTS (SELECT 1 FROM run_dataset_inputs d \
                     WHERE d.run_uuid = r.run_uuid AND {condition})"
                ));
            }
        }
        Ok(())
    }

    fn add_order(
        &mut self,
        index: usize,
        order: &SearchOrder,
        clauses: &[SearchClause],
    ) -> Result<()> {
        let direction = if order.ascending { "ASC" } else { "DESC" };
        let (column, nullable) = match order.entity {
            SearchEntity::Metric | SearchEntity::Param | SearchEntity::Tag => {
                // A clause on the same key already joined it (and excludes runs without it).
                let filtered = clauses
                    .iter()
                    .position(|clause| clause.entity == order.entity && clause.key == order.key);
                match filtered {
                    Some(position) => (format!("f{position}.value"), false),
                    None => {
                        let alias = format!("o{index}");
                        let table = child_table(order.entity);
                        let key = self.bind(order.key.clone())?;
                        let _ = write!(
                            self.joins,
                            " LEFT JOIN {table} {alias} ON {alias}.run_uuid = r.run_uuid \
                              AND {alias}.key = {key}"
                        );
                        (format!("{alias}.value"), true)
                    }
                }
            }
            SearchEntity::Attribute => {
                let column = attribute_column(&order.key)?.0;
                (column.to_owned(), column == "r.end_time")
            }
            SearchEntity::Dataset => {
                return Err(Error::invalid("runs cannot be ordered by a data set").into());
            }
        };
        // Runs without the value come last, whichever the direction (as MLflow). Only a
        // column that can be NULL gets the term: on one that cannot, it would stop SQLite
        // from reading the rows in the order of the `(key, is_nan, value)` index and
        // stopping after the page (a sort of every matching run instead).
        if nullable {
            self.order.push(format!("({column} IS NULL)"));
        }
        self.order.push(format!("{column} {direction}"));
        Ok(())
    }
}

fn child_table(entity: SearchEntity) -> &'static str {
    match entity {
        SearchEntity::Metric => "latest_metrics",
        SearchEntity::Param => "params",
        _ => "run_tags",
    }
}

/// The runs column of an attribute, and whether it is numeric.
fn attribute_column(key: &str) -> Result<(&'static str, bool)> {
    Ok(match key {
        "run_id" | "run_uuid" => ("r.run_uuid", false),
        "run_name" => ("r.name", false),
        "status" => ("r.status", false),
        "user_id" => ("r.user_id", false),
        "artifact_uri" => ("r.artifact_uri", false),
        "lifecycle_stage" => ("r.lifecycle_stage", false),
        "start_time" | "created" => ("r.start_time", true),
        "end_time" => ("r.end_time", true),
        other => {
            return Err(Error::invalid(format!(
                "invalid attribute key '{other}': expected one of run_id, run_name, status, \
                 user_id, artifact_uri, lifecycle_stage, start_time, end_time"
            ))
            .into());
        }
    })
}

fn sql_operator(comparator: Comparator) -> &'static str {
    match comparator {
        Comparator::Ne => "<>",
        other => other.as_str(),
    }
}

/// A LIKE pattern as a GLOB pattern: `%` → `*`, `_` → `?`, GLOB's own wildcards escaped.
fn like_to_glob(pattern: &str) -> String {
    let mut glob = String::with_capacity(pattern.len() + 4);
    for character in pattern.chars() {
        match character {
            '%' => glob.push('*'),
            '_' => glob.push('?'),
            '*' => glob.push_str("[*]"),
            '?' => glob.push_str("[?]"),
            '[' => glob.push_str("[[]"),
            other => glob.push(other),
        }
    }
    glob
}

pub(crate) async fn search(
    store: &SqlMetadataStore,
    search: &RunSearch,
) -> Result<(Vec<Run>, bool)> {
    if search.experiment_ids.is_empty() || search.max_results == 0 {
        return Ok((Vec::new(), false));
    }
    let mut query = Query {
        joins: String::new(),
        conditions: Vec::new(),
        order: Vec::new(),
        arguments: AnyArguments::default(),
        n_bound: 0,
        sqlite: store.is_sqlite(),
    };
    let mut experiments = Vec::with_capacity(search.experiment_ids.len());
    for experiment_id in &search.experiment_ids {
        experiments.push(query.bind(*experiment_id)?);
    }
    query
        .conditions
        .push(format!("r.experiment_id IN ({})", experiments.join(", ")));
    query.conditions.push(
        match search.view {
            ViewType::ActiveOnly => "r.lifecycle_stage = 'active'",
            ViewType::DeletedOnly => "r.lifecycle_stage = 'deleted'",
            ViewType::All => "1 = 1",
        }
        .to_owned(),
    );
    for (index, clause) in search.clauses.iter().enumerate() {
        query.add_clause(index, clause)?;
    }
    for (index, order) in search.order_by.iter().enumerate() {
        query.add_order(index, order, &search.clauses)?;
    }
    query.order.push("r.start_time DESC".to_owned());
    query.order.push("r.run_uuid".to_owned());
    let sql = format!(
        "SELECT r.run_uuid FROM runs r{} WHERE {} ORDER BY {} LIMIT {} OFFSET {}",
        query.joins,
        query.conditions.join(" AND "),
        query.order.join(", "),
        u64::from(search.max_results) + 1,
        search.offset
    );
    let mut connection = store.pool.acquire().await?;
    let rows = sqlx::query_with(&sql, query.arguments)
        .fetch_all(&mut *connection)
        .await?;
    let mut run_ids = rows
        .iter()
        .map(|row| row.try_get::<String, _>(0))
        .collect::<Result<Vec<_>, _>>()?;
    let more = run_ids.len() > search.max_results as usize;
    run_ids.truncate(search.max_results as usize);

    let position: HashMap<&str, usize> = run_ids
        .iter()
        .enumerate()
        .map(|(position, run_id)| (run_id.as_str(), position))
        .collect();
    let mut runs: Vec<Option<Run>> = vec![None; run_ids.len()];
    for chunk in run_ids.chunks(ROWS_PER_STATEMENT) {
        for run in load(&mut connection, Select::Ids(chunk)).await? {
            if let Some(&position) = position.get(run.run_id.as_str()) {
                runs[position] = Some(run);
            }
        }
    }
    Ok((runs.into_iter().flatten().collect(), more))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_become_case_sensitive_globs() {
        assert_eq!(like_to_glob("a%b_c"), "a*b?c");
        assert_eq!(like_to_glob("*?["), "[*][?][[]");
    }
}
