//! A run search, parsed: MLflow's filter (clauses joined by AND) and order, which the
//! metadata store turns into one query.

use crate::ViewType;

/// What a clause or an order key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchEntity {
    /// The latest value of a metric.
    Metric,
    Param,
    Tag,
    /// A column of the run: `run_id`, `run_name`, `status`, `user_id`, `artifact_uri`,
    /// `lifecycle_stage`, `start_time`, `end_time`.
    Attribute,
    /// A data set the run took in: `name`, `digest`, `context`.
    Dataset,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparator {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// SQL `LIKE`, case-sensitive (`%` any run, `_` one character).
    Like,
    /// `LIKE` ignoring case.
    ILike,
    In,
    NotIn,
}

impl Comparator {
    /// The comparator as written in a filter.
    pub fn as_str(self) -> &'static str {
        match self {
            Comparator::Eq => "=",
            Comparator::Ne => "!=",
            Comparator::Lt => "<",
            Comparator::Le => "<=",
            Comparator::Gt => ">",
            Comparator::Ge => ">=",
            Comparator::Like => "LIKE",
            Comparator::ILike => "ILIKE",
            Comparator::In => "IN",
            Comparator::NotIn => "NOT IN",
        }
    }
}

/// The right-hand side of a clause.
#[derive(Debug, Clone, PartialEq)]
pub enum SearchValue {
    Number(f64),
    Text(String),
    List(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchClause {
    pub entity: SearchEntity,
    pub key: String,
    pub comparator: Comparator,
    pub value: SearchValue,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchOrder {
    pub entity: SearchEntity,
    pub key: String,
    pub ascending: bool,
}

/// A page of a run search over some experiments.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSearch {
    pub experiment_ids: Vec<i64>,
    pub clauses: Vec<SearchClause>,
    /// Applied in order, then newest start time first, then run id.
    pub order_by: Vec<SearchOrder>,
    pub view: ViewType,
    pub max_results: u32,
    /// How many matching runs to skip (from the page token).
    pub offset: u64,
}
