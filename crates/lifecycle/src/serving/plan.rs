//! What a deployment command does to a deployment: the new state, and which versions
//! enter and leave service (they become Deployed and Retired). Pure, so every rule is
//! unit-tested here.

use bascule_core::{Canary, Deployment, Role};

use super::error::ServingError;

/// A change of what serves a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeployCommand {
    /// Serve `version` live (replacing the live version), as a canary taking `percent` of
    /// the traffic, or as a shadow.
    Deploy {
        version: i64,
        role: Role,
        percent: Option<u8>,
    },
    /// Make the canary the live version.
    Promote,
    /// Drop the canary if there is one; otherwise return to the previous live version.
    Rollback,
    /// Serve nothing.
    Undeploy,
}

impl DeployCommand {
    /// A default reason for the event log.
    pub fn describe(&self) -> String {
        match self {
            DeployCommand::Deploy {
                version,
                role: Role::Canary,
                percent,
            } => format!(
                "deploy version {version} as canary ({}%)",
                percent.unwrap_or(0)
            ),
            DeployCommand::Deploy { version, role, .. } => {
                format!("deploy version {version} as {role}")
            }
            DeployCommand::Promote => "promote the canary to live".to_owned(),
            DeployCommand::Rollback => "roll back".to_owned(),
            DeployCommand::Undeploy => "undeploy".to_owned(),
        }
    }
}

/// The state after `command`, and the versions entering and leaving service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Planned {
    pub deployment: Deployment,
    pub entering: Vec<i64>,
    pub leaving: Vec<i64>,
}

pub(crate) fn plan(current: &Deployment, command: DeployCommand) -> Result<Planned, ServingError> {
    let refuse = |why: String| Err(ServingError::Refused(why));
    let name = &current.name;
    let mut next = current.clone();
    match command {
        DeployCommand::Deploy {
            version,
            role: Role::Live,
            ..
        } => {
            if current.live != Some(version) {
                next.previous_live = current.live;
                next.live = Some(version);
            }
            if next.shadow == Some(version) {
                next.shadow = None;
            }
            if next.canary.map(|canary| canary.version) == Some(version) {
                next.canary = None;
            }
        }
        DeployCommand::Deploy {
            version,
            role: Role::Canary,
            percent,
        } => {
            let Some(live) = current.live else {
                return refuse(format!(
                    "{name} has no live version for a canary to share traffic with; deploy one first"
                ));
            };
            if live == version {
                return refuse(format!("{name} version {version} is already live"));
            }
            let percent = percent.unwrap_or(0);
            if !(1..=99).contains(&percent) {
                return Err(ServingError::BadInput(format!(
                    "a canary takes 1 to 99 percent of the traffic, not {percent}"
                )));
            }
            next.canary = Some(Canary { version, percent });
            if next.shadow == Some(version) {
                next.shadow = None;
            }
        }
        DeployCommand::Deploy {
            version,
            role: Role::Shadow,
            ..
        } => {
            if current.live.is_none() {
                return refuse(format!(
                    "{name} has no live version for a shadow to copy; deploy one first"
                ));
            }
            if let Some(role) = current
                .role_of(version)
                .filter(|role| *role != Role::Shadow)
            {
                return refuse(format!("{name} version {version} already serves as {role}"));
            }
            next.shadow = Some(version);
        }
        DeployCommand::Promote => {
            let Some(canary) = current.canary else {
                return refuse(format!("{name} has no canary to promote"));
            };
            next.previous_live = current.live;
            next.live = Some(canary.version);
            next.canary = None;
        }
        DeployCommand::Rollback => {
            if current.canary.is_some() {
                next.canary = None;
            } else if let Some(previous) = current.previous_live {
                next.live = Some(previous);
                next.previous_live = None;
                if next.shadow == Some(previous) {
                    next.shadow = None;
                }
            } else {
                return refuse(format!(
                    "{name} has no canary and no previous live version to roll back to"
                ));
            }
        }
        DeployCommand::Undeploy => {
            if current.is_empty() {
                return Err(ServingError::NotDeployed { name: name.clone() });
            }
            next = Deployment {
                revision: current.revision,
                ..Deployment::empty(name.clone())
            };
        }
    }
    let before: Vec<i64> = current.serving().into_iter().map(|(v, _)| v).collect();
    let after: Vec<i64> = next.serving().into_iter().map(|(v, _)| v).collect();
    Ok(Planned {
        entering: after
            .iter()
            .copied()
            .filter(|v| !before.contains(v))
            .collect(),
        leaving: before
            .iter()
            .copied()
            .filter(|v| !after.contains(v))
            .collect(),
        deployment: next,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deploy(version: i64, role: Role, percent: Option<u8>) -> DeployCommand {
        DeployCommand::Deploy {
            version,
            role,
            percent,
        }
    }

    fn apply(current: &Deployment, command: DeployCommand) -> Planned {
        plan(current, command).expect("a legal command")
    }

    #[test]
    fn live_canary_promote_and_rollback() {
        let empty = Deployment::empty("bc");
        let first = apply(&empty, deploy(1, Role::Live, None));
        assert_eq!(
            (first.entering.clone(), first.leaving.clone()),
            (vec![1], vec![])
        );
        assert_eq!(first.deployment.previous_live, None);

        let canary = apply(&first.deployment, deploy(2, Role::Canary, Some(10)));
        assert_eq!(canary.entering, vec![2]);
        let promoted = apply(&canary.deployment, DeployCommand::Promote);
        assert_eq!(promoted.deployment.live, Some(2));
        assert_eq!(promoted.deployment.previous_live, Some(1));
        assert_eq!(
            (promoted.entering.clone(), promoted.leaving.clone()),
            (vec![], vec![1])
        );

        let back = apply(&promoted.deployment, DeployCommand::Rollback);
        assert_eq!(back.deployment.live, Some(1));
        assert_eq!(back.deployment.previous_live, None);
        assert_eq!((back.entering, back.leaving), (vec![1], vec![2]));
        assert!(plan(&back.deployment, DeployCommand::Rollback).is_err());
    }

    #[test]
    fn rolling_back_a_canary_drops_it() {
        let live = apply(&Deployment::empty("bc"), deploy(1, Role::Live, None)).deployment;
        let canary = apply(&live, deploy(2, Role::Canary, Some(30))).deployment;
        let back = apply(&canary, DeployCommand::Rollback);
        assert_eq!(back.deployment.live, Some(1));
        assert_eq!(back.deployment.canary, None);
        assert_eq!(back.leaving, vec![2]);
    }

    #[test]
    fn a_new_live_version_replaces_the_old_one() {
        let live = apply(&Deployment::empty("bc"), deploy(1, Role::Live, None)).deployment;
        let shadowed = apply(&live, deploy(2, Role::Shadow, None)).deployment;
        let replaced = apply(&shadowed, deploy(2, Role::Live, None));
        assert_eq!(replaced.deployment.live, Some(2));
        assert_eq!(replaced.deployment.shadow, None);
        assert_eq!(replaced.deployment.previous_live, Some(1));
        assert_eq!((replaced.entering, replaced.leaving), (vec![], vec![1]));
    }

    #[test]
    fn refusals() {
        let empty = Deployment::empty("bc");
        for command in [
            deploy(2, Role::Canary, Some(10)),
            deploy(2, Role::Shadow, None),
            DeployCommand::Promote,
            DeployCommand::Rollback,
            DeployCommand::Undeploy,
        ] {
            assert!(plan(&empty, command).is_err(), "{command:?}");
        }
        let live = apply(&empty, deploy(1, Role::Live, None)).deployment;
        assert!(plan(&live, deploy(1, Role::Canary, Some(10))).is_err());
        assert!(plan(&live, deploy(2, Role::Canary, Some(0))).is_err());
        assert!(plan(&live, deploy(2, Role::Canary, None)).is_err());
        assert!(plan(&live, deploy(1, Role::Shadow, None)).is_err());
        let undeployed = apply(&live, DeployCommand::Undeploy);
        assert!(undeployed.deployment.is_empty());
        assert_eq!(undeployed.leaving, vec![1]);
    }
}
