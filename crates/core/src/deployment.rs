//! Deployments: which versions of a registered model serve traffic, and in which role
//! (live, canary by weight, shadow), and the log of every prediction they made.

use std::fmt;
use std::str::FromStr;

use crate::{Millis, Tensor, Transition};

/// The part a version plays in a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Answers the traffic the canary does not take.
    Live,
    /// Answers a share of the traffic, by weight.
    Canary,
    /// Gets a copy of every request; its answers are logged and compared, never returned.
    Shadow,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Live, Role::Canary, Role::Shadow];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Live => "live",
            Role::Canary => "canary",
            Role::Shadow => "shadow",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown deployment role '{s}'; expected live, canary or shadow")
            })
    }
}

/// A canary: a version answering `percent` of the traffic (1 to 99).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Canary {
    pub version: i64,
    pub percent: u8,
}

/// What serves one registered model. A model with no deployment serves nothing.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Deployment {
    pub name: String,
    pub live: Option<i64>,
    pub canary: Option<Canary>,
    pub shadow: Option<i64>,
    /// The version that was live before the current one: where a rollback returns.
    pub previous_live: Option<i64>,
    /// Incremented by every change; a change computed from a stale revision is refused.
    pub revision: i64,
    pub updated_by: String,
    pub updated_time: Millis,
}

impl Deployment {
    /// A model with nothing deployed yet (revision 0: never stored).
    pub fn empty(name: impl Into<String>) -> Self {
        Deployment {
            name: name.into(),
            live: None,
            canary: None,
            shadow: None,
            previous_live: None,
            revision: 0,
            updated_by: String::new(),
            updated_time: 0,
        }
    }

    /// Whether no version serves in any role.
    pub fn is_empty(&self) -> bool {
        self.live.is_none() && self.canary.is_none() && self.shadow.is_none()
    }

    /// The role of `version`, if it serves.
    pub fn role_of(&self, version: i64) -> Option<Role> {
        if self.live == Some(version) {
            Some(Role::Live)
        } else if self.canary.map(|canary| canary.version) == Some(version) {
            Some(Role::Canary)
        } else if self.shadow == Some(version) {
            Some(Role::Shadow)
        } else {
            None
        }
    }

    /// Every serving version with its role.
    pub fn serving(&self) -> Vec<(i64, Role)> {
        let mut serving = Vec::with_capacity(3);
        serving.extend(self.live.map(|version| (version, Role::Live)));
        serving.extend(self.canary.map(|canary| (canary.version, Role::Canary)));
        serving.extend(self.shadow.map(|version| (version, Role::Shadow)));
        serving
    }
}

/// A deployment change as the lifecycle layer hands it to the store: the new state and
/// the stage transitions it implies, written in one transaction or not at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentChange {
    /// The new state; the store sets its revision and time. A state that serves nothing
    /// removes the deployment.
    pub deployment: Deployment,
    /// The revision the change was computed from (0: the model had no deployment).
    pub expected_revision: i64,
    pub transitions: Vec<Transition>,
}

/// One answered request of one version, as the prediction log keeps it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PredictionRecord {
    /// The request id returned to the caller; labels arrive later against it.
    pub request_id: String,
    pub name: String,
    pub version: i64,
    pub role: Role,
    pub time: Millis,
    /// Time spent running the model, in microseconds.
    pub latency_micros: i64,
    pub inputs: Vec<Tensor>,
    pub outputs: Vec<Tensor>,
    /// Why the model failed, when it did (a shadow's failure is logged, never returned).
    pub error: Option<String>,
    /// For a shadow: whether its outputs equal the live answer's.
    pub agrees_with_live: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_of_a_deployment() {
        let mut deployment = Deployment::empty("bc");
        assert!(deployment.is_empty());
        deployment.live = Some(1);
        deployment.canary = Some(Canary {
            version: 2,
            percent: 10,
        });
        deployment.shadow = Some(3);
        assert_eq!(deployment.role_of(2), Some(Role::Canary));
        assert_eq!(deployment.role_of(4), None);
        assert_eq!(
            deployment.serving(),
            vec![(1, Role::Live), (2, Role::Canary), (3, Role::Shadow)]
        );
        assert_eq!("Shadow".parse::<Role>(), Ok(Role::Shadow));
        assert!("blue".parse::<Role>().is_err());
    }
}
