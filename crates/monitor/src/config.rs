//! What a drift report tests and how it decides: [`DriftConfig`], with defaults that
//! pick a test per column type, every one overridable globally and per feature.
//!
//! The defaults, in one table (docs/monitoring.md repeats it):
//!
//! | column | test (p-value) | effect size | floor |
//! |---|---|---|---|
//! | numeric, reference not constant | two-sample KS: exact p when both sides ≤ 10,000 values, asymptotic above | Wasserstein-1 ÷ reference std | 0.1 |
//! | numeric, constant reference | two-sample KS, as above | KS statistic D | 0.1 |
//! | categorical, 2 categories | two-proportion z-test | Cramér's V (= \|φ\|) | 0.1 |
//! | categorical, 3 or more | chi-square on the 2 × k table, categories with an expected count below 5 pooled | Cramér's V | 0.1 |
//!
//! Distance tests, chosen by override, have no p-value: Wasserstein (normalised, floor
//! 0.1), PSI over 10 reference-quantile bins (or categories; floor 0.2) and
//! Jensen–Shannon distance (natural log; floor 0.1). Global: `alpha` 0.05,
//! Benjamini–Hochberg across features, at least 30 values per side.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::MonitorError;

/// A drift test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestKind {
    /// Two-sample Kolmogorov–Smirnov (numeric; p-value).
    Ks,
    /// Chi-square test of the 2 × k contingency table (categorical; p-value).
    ChiSquare,
    /// Two-proportion z-test (categorical with two categories; p-value).
    ZTest,
    /// Wasserstein-1 normalised by the reference standard deviation (numeric; distance).
    Wasserstein,
    /// Population stability index (numeric over reference-quantile bins, or
    /// categorical; distance).
    Psi,
    /// Jensen–Shannon distance, natural logarithm (numeric over reference-quantile
    /// bins, or categorical; distance).
    JensenShannon,
}

impl TestKind {
    /// Whether the test gives a p-value (else it is judged on its distance alone).
    pub fn has_p_value(self) -> bool {
        matches!(self, TestKind::Ks | TestKind::ChiSquare | TestKind::ZTest)
    }

    /// The name used in reports and configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            TestKind::Ks => "ks",
            TestKind::ChiSquare => "chi_square",
            TestKind::ZTest => "z_test",
            TestKind::Wasserstein => "wasserstein",
            TestKind::Psi => "psi",
            TestKind::JensenShannon => "jensen_shannon",
        }
    }
}

/// How the p-values of the features of one report are adjusted for testing many.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Correction {
    /// Benjamini–Hochberg: controls the share of false alarms among flagged features.
    #[default]
    BenjaminiHochberg,
    /// Bonferroni: controls the chance of any false alarm.
    Bonferroni,
    /// None: each feature on its own.
    None,
}

/// The measure of how far apart the two sides are, whatever the sample size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EffectKind {
    /// Wasserstein-1 distance divided by the reference's standard deviation.
    WassersteinNormalized,
    /// The Kolmogorov–Smirnov statistic D (largest gap between the two CDFs).
    KsStatistic,
    /// Cramér's V of the 2 × k table (|φ| for two categories).
    CramersV,
    /// Population stability index.
    Psi,
    /// Jensen–Shannon distance (natural logarithm).
    JensenShannon,
}

impl EffectKind {
    /// The name used in reports and configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            EffectKind::WassersteinNormalized => "wasserstein_normalized",
            EffectKind::KsStatistic => "ks_statistic",
            EffectKind::CramersV => "cramers_v",
            EffectKind::Psi => "psi",
            EffectKind::JensenShannon => "jensen_shannon",
        }
    }
}

/// The smallest effect size that counts as drift, per kind of effect.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EffectFloors {
    pub wasserstein_normalized: f64,
    pub ks_statistic: f64,
    pub cramers_v: f64,
    pub psi: f64,
    pub jensen_shannon: f64,
}

impl Default for EffectFloors {
    fn default() -> Self {
        EffectFloors {
            wasserstein_normalized: 0.1,
            ks_statistic: 0.1,
            cramers_v: 0.1,
            psi: 0.2,
            jensen_shannon: 0.1,
        }
    }
}

impl EffectFloors {
    pub fn floor(&self, kind: EffectKind) -> f64 {
        match kind {
            EffectKind::WassersteinNormalized => self.wasserstein_normalized,
            EffectKind::KsStatistic => self.ks_statistic,
            EffectKind::CramersV => self.cramers_v,
            EffectKind::Psi => self.psi,
            EffectKind::JensenShannon => self.jensen_shannon,
        }
    }

    fn all(&self) -> [(&'static str, f64); 5] {
        [
            (
                "effect_floors.wasserstein_normalized",
                self.wasserstein_normalized,
            ),
            ("effect_floors.ks_statistic", self.ks_statistic),
            ("effect_floors.cramers_v", self.cramers_v),
            ("effect_floors.psi", self.psi),
            ("effect_floors.jensen_shannon", self.jensen_shannon),
        ]
    }
}

/// What one feature overrides.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeatureOverride {
    /// The test to run instead of the default. A categorical test on a numeric feature
    /// treats each distinct number as a category.
    pub test: Option<TestKind>,
    /// The effect-size floor (for a test with a p-value) or distance threshold (for a
    /// distance test) instead of the global one.
    pub threshold: Option<f64>,
}

/// How a drift report tests and decides; see the module documentation for defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DriftConfig {
    /// The significance level the adjusted p-value must be below (0 < alpha < 1).
    pub alpha: f64,
    /// How p-values are adjusted across the features of one report.
    pub correction: Correction,
    /// The fewest values (missing and non-finite excluded) each side needs to be judged.
    pub min_sample_size: u64,
    /// The smallest effect that counts as drift, per kind of effect.
    pub effect_floors: EffectFloors,
    /// The test of numeric features without an override (default: `ks`).
    pub numeric_test: TestKind,
    /// The test of categorical features without an override (default: none, which
    /// picks `z_test` for two categories and `chi_square` for more).
    pub categorical_test: Option<TestKind>,
    /// Quantile bins of the reference for PSI and Jensen–Shannon on numeric features.
    pub distance_bins: usize,
    /// Bins of the per-feature histogram (equal widths over both sides' range), and the
    /// most categories a categorical histogram shows before pooling the rest.
    pub histogram_bins: usize,
    /// Per-feature overrides, by feature name.
    pub features: BTreeMap<String, FeatureOverride>,
}

impl Default for DriftConfig {
    fn default() -> Self {
        DriftConfig {
            alpha: 0.05,
            correction: Correction::BenjaminiHochberg,
            min_sample_size: 30,
            effect_floors: EffectFloors::default(),
            numeric_test: TestKind::Ks,
            categorical_test: None,
            distance_bins: 10,
            histogram_bins: 20,
            features: BTreeMap::new(),
        }
    }
}

/// The most histogram bins a report keeps per feature.
pub const MAX_HISTOGRAM_BINS: usize = 1_000;

impl DriftConfig {
    /// Refuses settings that would make verdicts meaningless, naming the field.
    pub fn validate(&self) -> Result<(), MonitorError> {
        let invalid = |field: String, reason: &'static str| {
            Err(MonitorError::InvalidConfig { field, reason })
        };
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return invalid("alpha".into(), "must lie strictly between 0 and 1");
        }
        if self.min_sample_size == 0 {
            return invalid("min_sample_size".into(), "must be at least 1");
        }
        for (field, floor) in self.effect_floors.all() {
            if !(floor.is_finite() && floor >= 0.0) {
                return invalid(field.into(), "must be a finite number ≥ 0");
            }
        }
        if self.distance_bins < 2 {
            return invalid("distance_bins".into(), "must be at least 2");
        }
        if !(1..=MAX_HISTOGRAM_BINS).contains(&self.histogram_bins) {
            return invalid("histogram_bins".into(), "must lie between 1 and 1000");
        }
        if !matches!(
            self.numeric_test,
            TestKind::Ks | TestKind::Wasserstein | TestKind::Psi | TestKind::JensenShannon
        ) {
            return invalid(
                "numeric_test".into(),
                "must be ks, wasserstein, psi or jensen_shannon (override a feature to test it as categorical)",
            );
        }
        if let Some(test) = self.categorical_test
            && matches!(test, TestKind::Ks | TestKind::Wasserstein)
        {
            return invalid(
                "categorical_test".into(),
                "must be chi_square, z_test, psi or jensen_shannon",
            );
        }
        for (name, feature) in &self.features {
            if let Some(threshold) = feature.threshold
                && !(threshold.is_finite() && threshold >= 0.0)
            {
                return invalid(
                    format!("features.{name}.threshold"),
                    "must be a finite number ≥ 0",
                );
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_values_are_named() {
        assert_eq!(DriftConfig::default().validate(), Ok(()));
        let config = DriftConfig {
            alpha: 1.0,
            ..DriftConfig::default()
        };
        assert!(
            matches!(config.validate(), Err(MonitorError::InvalidConfig { field, .. }) if field == "alpha")
        );
        let mut config = DriftConfig::default();
        config.features.insert(
            "age".into(),
            FeatureOverride {
                test: None,
                threshold: Some(f64::NAN),
            },
        );
        assert!(
            matches!(config.validate(), Err(MonitorError::InvalidConfig { field, .. }) if field == "features.age.threshold")
        );
        let config = DriftConfig {
            numeric_test: TestKind::ZTest,
            ..DriftConfig::default()
        };
        assert!(config.validate().is_err());
    }
}
