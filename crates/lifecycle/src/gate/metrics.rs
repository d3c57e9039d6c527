//! Model-quality metrics of one evaluation (labels against a model's predictions), by
//! name, computed by `bascule-stats` (equal to scikit-learn's).

use bascule_stats::StatsError;
use bascule_stats::metrics as m;

use super::policy::Task;

/// The metrics a policy may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MetricName {
    Accuracy,
    Precision,
    Recall,
    F1,
    RocAuc,
    LogLoss,
    Brier,
    Rmse,
    Mse,
    Mae,
    R2,
}

impl MetricName {
    pub const ALL: [MetricName; 11] = [
        MetricName::Accuracy,
        MetricName::Precision,
        MetricName::Recall,
        MetricName::F1,
        MetricName::RocAuc,
        MetricName::LogLoss,
        MetricName::Brier,
        MetricName::Rmse,
        MetricName::Mse,
        MetricName::Mae,
        MetricName::R2,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MetricName::Accuracy => "accuracy",
            MetricName::Precision => "precision",
            MetricName::Recall => "recall",
            MetricName::F1 => "f1",
            MetricName::RocAuc => "roc_auc",
            MetricName::LogLoss => "log_loss",
            MetricName::Brier => "brier",
            MetricName::Rmse => "rmse",
            MetricName::Mse => "mse",
            MetricName::Mae => "mae",
            MetricName::R2 => "r2",
        }
    }

    pub fn parse(name: &str) -> Option<MetricName> {
        MetricName::ALL.into_iter().find(|m| m.as_str() == name)
    }

    pub fn known() -> String {
        MetricName::ALL.map(MetricName::as_str).join(", ")
    }

    /// Whether larger values are better (scores) rather than smaller (losses).
    pub fn higher_is_better(self) -> bool {
        matches!(
            self,
            MetricName::Accuracy
                | MetricName::Precision
                | MetricName::Recall
                | MetricName::F1
                | MetricName::RocAuc
                | MetricName::R2
        )
    }

    pub fn applies_to(self, task: Task) -> bool {
        let regression = matches!(
            self,
            MetricName::Rmse | MetricName::Mse | MetricName::Mae | MetricName::R2
        );
        regression == (task == Task::Regression)
    }

    /// The metrics of a task, in report order.
    pub fn for_task(task: Task) -> Vec<MetricName> {
        MetricName::ALL
            .into_iter()
            .filter(|metric| metric.applies_to(task))
            .collect()
    }
}

/// The true values of the label column.
#[derive(Debug, Clone, PartialEq)]
pub enum Truth {
    /// Class indices `0..k`.
    Classes(Vec<usize>),
    Values(Vec<f64>),
}

/// What a model predicted for every row.
#[derive(Debug, Clone, PartialEq)]
pub enum Predictions {
    Classes {
        predicted: Vec<usize>,
        /// Row-major `rows × n_classes`.
        probabilities: Vec<f64>,
        n_classes: usize,
    },
    Values(Vec<f64>),
}

impl Predictions {
    pub fn len(&self) -> usize {
        match self {
            Predictions::Classes { predicted, .. } => predicted.len(),
            Predictions::Values(values) => values.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Labels and predictions of the same rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub truth: Truth,
    pub predictions: Predictions,
}

impl Evaluation {
    /// The evaluation restricted to `rows` (repeats allowed, as a bootstrap draws them).
    pub fn subset(&self, rows: &[usize]) -> Evaluation {
        let truth = match &self.truth {
            Truth::Classes(classes) => Truth::Classes(rows.iter().map(|&r| classes[r]).collect()),
            Truth::Values(values) => Truth::Values(rows.iter().map(|&r| values[r]).collect()),
        };
        let predictions = match &self.predictions {
            Predictions::Classes {
                predicted,
                probabilities,
                n_classes,
            } => Predictions::Classes {
                predicted: rows.iter().map(|&r| predicted[r]).collect(),
                probabilities: rows
                    .iter()
                    .flat_map(|&r| &probabilities[r * n_classes..(r + 1) * n_classes])
                    .copied()
                    .collect(),
                n_classes: *n_classes,
            },
            Predictions::Values(values) => {
                Predictions::Values(rows.iter().map(|&r| values[r]).collect())
            }
        };
        Evaluation { truth, predictions }
    }

    /// Whether each row is classified correctly (classification only).
    pub fn correct(&self) -> Option<Vec<bool>> {
        match (&self.truth, &self.predictions) {
            (Truth::Classes(truth), Predictions::Classes { predicted, .. }) => {
                Some(truth.iter().zip(predicted).map(|(t, p)| t == p).collect())
            }
            _ => None,
        }
    }

    /// One metric; an error when it is undefined here (e.g. ROC AUC of one class).
    pub fn metric(&self, metric: MetricName) -> Result<f64, StatsError> {
        match (&self.truth, &self.predictions) {
            (
                Truth::Classes(truth),
                Predictions::Classes {
                    predicted,
                    probabilities,
                    n_classes: 2,
                },
            ) => {
                let truth: Vec<f64> = truth.iter().map(|&c| c as f64).collect();
                let predicted: Vec<f64> = predicted.iter().map(|&c| c as f64).collect();
                let positive = || -> Vec<f64> { probabilities.chunks(2).map(|p| p[1]).collect() };
                match metric {
                    MetricName::Accuracy => m::accuracy(&truth, &predicted),
                    MetricName::Precision => m::precision(&truth, &predicted),
                    MetricName::Recall => m::recall(&truth, &predicted),
                    MetricName::F1 => m::f1_score(&truth, &predicted),
                    MetricName::RocAuc => m::roc_auc(&truth, &positive()),
                    MetricName::LogLoss => m::log_loss(&truth, &positive()),
                    MetricName::Brier => m::brier_score(&truth, &positive()),
                    _ => Err(not_for(metric, Task::Binary)),
                }
            }
            (
                Truth::Classes(truth),
                Predictions::Classes {
                    predicted,
                    probabilities,
                    n_classes,
                },
            ) => match metric {
                MetricName::Accuracy => m::multiclass_accuracy(truth, predicted),
                MetricName::Precision => {
                    m::multiclass_precision(truth, predicted, m::Average::Macro)
                }
                MetricName::Recall => m::multiclass_recall(truth, predicted, m::Average::Macro),
                MetricName::F1 => m::multiclass_f1(truth, predicted, m::Average::Macro),
                MetricName::RocAuc => m::roc_auc_ovr(truth, probabilities, *n_classes),
                MetricName::LogLoss => m::multiclass_log_loss(truth, probabilities, *n_classes),
                MetricName::Brier => m::multiclass_brier_score(truth, probabilities, *n_classes),
                _ => Err(not_for(metric, Task::Multiclass)),
            },
            (Truth::Values(truth), Predictions::Values(predicted)) => match metric {
                MetricName::Rmse => m::rmse(truth, predicted),
                MetricName::Mse => m::mse(truth, predicted),
                MetricName::Mae => m::mae(truth, predicted),
                MetricName::R2 => m::r2_score(truth, predicted),
                _ => Err(not_for(metric, Task::Regression)),
            },
            _ => Err(StatsError::InvalidParameter {
                argument: "predictions",
                value: f64::NAN,
                reason: "labels and predictions are of different kinds",
            }),
        }
    }
}

fn not_for(_metric: MetricName, _task: Task) -> StatsError {
    StatsError::InvalidParameter {
        argument: "metric",
        value: f64::NAN,
        reason: "the metric does not apply to the task",
    }
}

impl Evaluation {
    /// The number of rows.
    pub fn truth_len(&self) -> usize {
        match &self.truth {
            Truth::Classes(classes) => classes.len(),
            Truth::Values(values) => values.len(),
        }
    }
}
