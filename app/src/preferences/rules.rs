//! The communication rules of spec §3, as plain functions: which email a user may turn off,
//! and whether an item's email reaches a user with given choices.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::items::Category;

/// A user's email choices. New users are opted in to everything: `EmailChoices::default()`
/// has both optional categories on and no workspace turned off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailChoices {
    pub transactional: bool,
    pub promotional: bool,
    /// Workspaces whose transactional and promotional email is turned off.
    pub workspaces_off: BTreeSet<crate::items::Workspace>,
}

impl Default for EmailChoices {
    fn default() -> Self {
        EmailChoices {
            transactional: true,
            promotional: true,
            workspaces_off: BTreeSet::new(),
        }
    }
}

/// Something the preferences form has a switch for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "name", rename_all = "snake_case")]
pub enum Switch {
    /// In-app notifications (the Action Center itself).
    InApp,
    Category(Category),
    Workspace(String),
}

/// Why a switch cannot be turned off; the UI shows it next to the locked switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LockReason {
    InAppAlwaysOn,
    ActionEmailAlwaysOn,
}

/// The switches that are locked on, with the reason.
pub fn lock_of(switch: &Switch) -> Option<LockReason> {
    match switch {
        Switch::InApp => Some(LockReason::InAppAlwaysOn),
        Switch::Category(Category::Mandatory | Category::Recommended) => {
            Some(LockReason::ActionEmailAlwaysOn)
        }
        Switch::Category(_) | Switch::Workspace(_) => None,
    }
}

/// Whether an item of `category` from `workspace` is emailed to a user with these choices.
/// Action email always goes out; a workspace switch only silences notifications.
pub fn wants_email(choices: &EmailChoices, category: Category, workspace: &str) -> bool {
    match category {
        Category::Mandatory | Category::Recommended => true,
        Category::Transactional => choices.transactional && !choices.workspaces_off.contains(workspace),
        Category::Promotional => choices.promotional && !choices.workspaces_off.contains(workspace),
    }
}

/// The switch positions a form sends: category and workspace names to on/off. A switch that
/// is not named keeps its current position.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SwitchPositions {
    #[serde(default)]
    pub in_app: Option<bool>,
    #[serde(default)]
    pub categories: BTreeMap<String, bool>,
    #[serde(default)]
    pub workspaces: BTreeMap<String, bool>,
}

/// Why switch positions were refused; nothing is changed when they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("In-app notifications cannot be turned off.")]
    InAppLocked,
    #[error("Email for {0} actions cannot be turned off.")]
    ActionEmailLocked(&'static str),
    #[error("There is no email category {0:?}.")]
    UnknownCategory(String),
    #[error("There is no workspace {0:?}.")]
    UnknownWorkspace(String),
}

impl From<RuleError> for crate::error::Refusal {
    fn from(err: RuleError) -> Self {
        use crate::error::Refusal;
        match err {
            RuleError::InAppLocked => Refusal::InAppLocked,
            RuleError::ActionEmailLocked(category) => Refusal::ActionEmailLocked {
                category: category.to_string(),
            },
            RuleError::UnknownCategory(name) => Refusal::UnknownCategory { name },
            RuleError::UnknownWorkspace(name) => Refusal::UnknownWorkspace { name },
        }
    }
}

/// Applies switch positions to the current choices, refusing any attempt to turn off what
/// is locked on, and any name that is not a category or a known workspace.
pub fn apply_switches(
    current: &EmailChoices,
    positions: &SwitchPositions,
    workspaces: &BTreeSet<crate::items::Workspace>,
) -> Result<EmailChoices, RuleError> {
    if positions.in_app == Some(false) {
        return Err(RuleError::InAppLocked);
    }
    let mut next = current.clone();
    for (name, &on) in &positions.categories {
        match Category::parse(name) {
            Some(c @ (Category::Mandatory | Category::Recommended)) => {
                if !on {
                    return Err(RuleError::ActionEmailLocked(c.as_str()));
                }
            }
            Some(Category::Transactional) => next.transactional = on,
            Some(Category::Promotional) => next.promotional = on,
            None => return Err(RuleError::UnknownCategory(name.clone())),
        }
    }
    for (name, &on) in &positions.workspaces {
        if !workspaces.contains(name.as_str()) {
            return Err(RuleError::UnknownWorkspace(name.clone()));
        }
        if on {
            next.workspaces_off.remove(name.as_str());
        } else {
            next.workspaces_off.insert(name.as_str().into());
        }
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspaces() -> BTreeSet<crate::items::Workspace> {
        ["billing", "referrals"]
            .into_iter()
            .map(crate::items::Workspace::from)
            .collect()
    }

    #[test]
    fn new_users_get_every_email() {
        let choices = EmailChoices::default();
        for category in Category::ALL {
            assert!(wants_email(&choices, category, "billing"), "{category:?}");
        }
    }

    /// Every combination of the three optional switches against every category.
    #[test]
    fn opt_outs_silence_only_notifications_in_every_combination() {
        for transactional in [true, false] {
            for promotional in [true, false] {
                for billing_off in [true, false] {
                    let choices = EmailChoices {
                        transactional,
                        promotional,
                        workspaces_off: if billing_off {
                            [crate::items::Workspace::from("billing")].into()
                        } else {
                            BTreeSet::new()
                        },
                    };
                    for workspace in ["billing", "referrals"] {
                        let ws_on = !(billing_off && workspace == "billing");
                        assert!(wants_email(&choices, Category::Mandatory, workspace));
                        assert!(wants_email(&choices, Category::Recommended, workspace));
                        assert_eq!(
                            wants_email(&choices, Category::Transactional, workspace),
                            transactional && ws_on
                        );
                        assert_eq!(
                            wants_email(&choices, Category::Promotional, workspace),
                            promotional && ws_on
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn locked_switches_cannot_be_turned_off() {
        let current = EmailChoices::default();
        let mut positions = SwitchPositions::default();
        positions.categories.insert("mandatory".into(), false);
        assert_eq!(
            apply_switches(&current, &positions, &workspaces()),
            Err(RuleError::ActionEmailLocked("mandatory"))
        );
        positions.categories = [("recommended".to_string(), false)].into();
        assert_eq!(
            apply_switches(&current, &positions, &workspaces()),
            Err(RuleError::ActionEmailLocked("recommended"))
        );
        let in_app = SwitchPositions {
            in_app: Some(false),
            ..Default::default()
        };
        assert_eq!(
            apply_switches(&current, &in_app, &workspaces()),
            Err(RuleError::InAppLocked)
        );
        // Sending a locked switch as on is fine (the form sends every switch).
        positions.categories = [("mandatory".to_string(), true), ("recommended".to_string(), true)].into();
        assert_eq!(apply_switches(&current, &positions, &workspaces()), Ok(current));
    }

    #[test]
    fn optional_switches_apply_and_unknown_names_are_refused() {
        let positions = SwitchPositions {
            in_app: Some(true),
            categories: [("promotional".to_string(), false)].into(),
            workspaces: [("billing".to_string(), false)].into(),
        };
        let next = apply_switches(&EmailChoices::default(), &positions, &workspaces()).unwrap();
        assert!(next.transactional && !next.promotional);
        assert_eq!(
            next.workspaces_off,
            [crate::items::Workspace::from("billing")].into()
        );
        let back = SwitchPositions {
            workspaces: [("billing".to_string(), true)].into(),
            ..Default::default()
        };
        assert!(
            apply_switches(&next, &back, &workspaces())
                .unwrap()
                .workspaces_off
                .is_empty()
        );

        let unknown = SwitchPositions {
            categories: [("spam".to_string(), false)].into(),
            ..Default::default()
        };
        assert_eq!(
            apply_switches(&next, &unknown, &workspaces()),
            Err(RuleError::UnknownCategory("spam".into()))
        );
        let unknown = SwitchPositions {
            workspaces: [("moon".to_string(), false)].into(),
            ..Default::default()
        };
        assert_eq!(
            apply_switches(&next, &unknown, &workspaces()),
            Err(RuleError::UnknownWorkspace("moon".into()))
        );
    }

    #[test]
    fn locks_name_their_reason() {
        assert_eq!(lock_of(&Switch::InApp), Some(LockReason::InAppAlwaysOn));
        assert_eq!(
            lock_of(&Switch::Category(Category::Mandatory)),
            Some(LockReason::ActionEmailAlwaysOn)
        );
        assert_eq!(lock_of(&Switch::Category(Category::Promotional)), None);
        assert_eq!(lock_of(&Switch::Workspace("billing".into())), None);
    }
}
