//! The lifecycle state machine of a model version.
//!
//! ```text
//! Prototype ──▶ Validated ──▶ Deployed ──▶ Monitored ──▶ Retired
//!     │             │  ▲          │                        │
//!     ▼             ▼  │          └──────────▶ Retired ────┘ (may be deployed again:
//!  Rejected      Improved ──▶ Deployed                        it passed the gate once)
//! ```
//! `Improved` is reached from `Validated` only by a version that has a parent and beat it
//! at the gate; it is a validated version and may be deployed.

use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Stage {
    Prototype,
    Validated,
    Rejected,
    Improved,
    Deployed,
    Monitored,
    Retired,
}

impl Stage {
    pub const ALL: [Stage; 7] = [
        Stage::Prototype,
        Stage::Validated,
        Stage::Rejected,
        Stage::Improved,
        Stage::Deployed,
        Stage::Monitored,
        Stage::Retired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Prototype => "Prototype",
            Stage::Validated => "Validated",
            Stage::Rejected => "Rejected",
            Stage::Improved => "Improved",
            Stage::Deployed => "Deployed",
            Stage::Monitored => "Monitored",
            Stage::Retired => "Retired",
        }
    }

    /// The stages this stage may move to, in the order a reader would expect them.
    pub fn successors(self) -> &'static [Stage] {
        match self {
            Stage::Prototype => &[Stage::Validated, Stage::Rejected],
            Stage::Validated => &[Stage::Deployed, Stage::Improved],
            Stage::Improved => &[Stage::Deployed],
            Stage::Deployed => &[Stage::Monitored, Stage::Retired],
            Stage::Monitored => &[Stage::Retired],
            Stage::Retired => &[Stage::Deployed],
            Stage::Rejected => &[],
        }
    }

    /// Whether a version in this stage has passed the validation gate and may serve.
    pub fn is_deployable(self) -> bool {
        matches!(self, Stage::Validated | Stage::Improved | Stage::Retired)
    }

    /// Whether a version in this stage is serving traffic.
    pub fn is_serving(self) -> bool {
        matches!(self, Stage::Deployed | Stage::Monitored)
    }

    /// Checks one transition. `has_parent` is whether the version was registered with a
    /// parent: only such a version can become `Improved`.
    pub fn check_transition(self, to: Stage, has_parent: bool) -> Result<(), IllegalTransition> {
        if !self.successors().contains(&to) {
            return Err(IllegalTransition {
                from: self,
                to,
                why: match (self, to) {
                    (Stage::Prototype | Stage::Rejected, Stage::Deployed) => {
                        "only a version that passed the validation gate may be deployed"
                    }
                    (Stage::Rejected, _) => "a rejected version is final; register a new version",
                    _ if self == to => "the version is already in that stage",
                    _ => "that transition is not part of the lifecycle",
                },
            });
        }
        if to == Stage::Improved && !has_parent {
            return Err(IllegalTransition {
                from: self,
                to,
                why: "only a version registered with a parent can be marked Improved",
            });
        }
        Ok(())
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Stage {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Stage::ALL
            .into_iter()
            .find(|stage| stage.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let names: Vec<_> = Stage::ALL.iter().map(|s| s.as_str()).collect();
                format!("unknown stage '{s}'; expected one of {}", names.join(", "))
            })
    }
}

/// A transition the lifecycle refuses; the message names both states.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("illegal transition: the version is {from} and cannot become {to} ({why})")]
pub struct IllegalTransition {
    pub from: Stage,
    pub to: Stage,
    pub why: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loop_is_legal() {
        let path = [
            Stage::Prototype,
            Stage::Validated,
            Stage::Deployed,
            Stage::Monitored,
            Stage::Retired,
            Stage::Deployed,
        ];
        for pair in path.windows(2) {
            assert_eq!(pair[0].check_transition(pair[1], false), Ok(()), "{pair:?}");
        }
    }

    #[test]
    fn unvalidated_versions_cannot_deploy() {
        for from in [Stage::Prototype, Stage::Rejected] {
            let err = from.check_transition(Stage::Deployed, true).unwrap_err();
            assert_eq!((err.from, err.to), (from, Stage::Deployed));
            let message = err.to_string();
            assert!(
                message.contains(from.as_str()) && message.contains("Deployed"),
                "{message}"
            );
        }
        assert!(!Stage::Prototype.is_deployable());
        assert!(!Stage::Rejected.is_deployable());
        assert!(Stage::Validated.is_deployable());
        assert!(Stage::Improved.is_deployable());
    }

    #[test]
    fn improved_needs_a_parent() {
        assert!(
            Stage::Validated
                .check_transition(Stage::Improved, false)
                .is_err()
        );
        assert_eq!(
            Stage::Validated.check_transition(Stage::Improved, true),
            Ok(())
        );
        assert_eq!(
            Stage::Improved.check_transition(Stage::Deployed, true),
            Ok(())
        );
        assert!(
            Stage::Prototype
                .check_transition(Stage::Improved, true)
                .is_err()
        );
    }

    #[test]
    fn every_pair_agrees_with_the_successor_table() {
        for from in Stage::ALL {
            for to in Stage::ALL {
                let legal = from.check_transition(to, true).is_ok();
                assert_eq!(legal, from.successors().contains(&to), "{from} -> {to}");
            }
        }
        assert!(Stage::Rejected.successors().is_empty());
    }

    #[test]
    fn stages_parse_case_insensitively() {
        for stage in Stage::ALL {
            assert_eq!(stage.as_str().to_lowercase().parse::<Stage>(), Ok(stage));
        }
        assert!(
            "Production"
                .parse::<Stage>()
                .unwrap_err()
                .contains("Prototype")
        );
    }
}
