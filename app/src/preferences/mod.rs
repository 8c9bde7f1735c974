//! A user's preferences (spec §3): job function, email language, notification email (with its
//! verification) and which email they receive, within the rules in `rules`. The first save
//! completes first-run setup.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use server_fn::codec::Json;

use crate::error::AppError;

pub mod rules;
pub use rules::{EmailChoices, LockReason, RuleError, Switch, SwitchPositions};
pub mod schedule;
pub use schedule::{
    Cadence, EmailSchedule, GetEmailSchedule, SaveEmailSchedule, ScheduleChoices, ScheduleError,
    get_email_schedule, save_email_schedule,
};

#[cfg(feature = "ssr")]
pub mod import;
#[cfg(feature = "ssr")]
pub mod org_defaults;
#[cfg(feature = "ssr")]
mod store;
#[cfg(feature = "ssr")]
pub mod verification;
#[cfg(feature = "ssr")]
pub use store::*;

/// Languages email can be written in; the UI itself is English and Dutch.
pub const EMAIL_LANGUAGES: [&str; 4] = ["en", "nl", "de", "fr"];
pub const MAX_JOB_FUNCTION_CHARS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    pub job_function: String,
    pub email_language: String,
    pub sign_in_email: String,
    /// The address notification email should go to (the sign-in email unless changed).
    pub notification_email: String,
    /// Whether `notification_email` is verified; until it is, email goes to the sign-in address.
    pub notification_email_verified: bool,
    pub setup_completed: bool,
    pub email: EmailChoices,
    /// The workspace catalog: the form has a switch for each.
    pub workspaces: Vec<crate::items::Workspace>,
}

/// What the setup screen and My preferences send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreferencesForm {
    pub job_function: String,
    pub email_language: String,
    pub notification_email: String,
    #[serde(default)]
    pub switches: SwitchPositions,
}

/// Why a preferences form was refused, in words for the form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreferencesError {
    #[error("A job function is at most 100 characters.")]
    JobFunction,
    #[error("Choose one of the offered email languages.")]
    Language,
    #[error("Enter a valid email address.")]
    Email,
    #[error(transparent)]
    Rule(#[from] RuleError),
}

impl From<PreferencesError> for crate::error::Refusal {
    fn from(err: PreferencesError) -> Self {
        use crate::error::Refusal;
        match err {
            PreferencesError::JobFunction => Refusal::JobFunctionTooLong,
            PreferencesError::Language => Refusal::LanguageNotOffered,
            PreferencesError::Email => Refusal::EmailInvalid,
            PreferencesError::Rule(rule) => rule.into(),
        }
    }
}

/// Checks and normalises the basics; returns (job function, language, email).
#[cfg(feature = "ssr")]
pub fn validate_basics(
    job_function: &str,
    email_language: &str,
    notification_email: &str,
) -> Result<(String, String, String), PreferencesError> {
    let job = job_function.trim();
    if job.chars().count() > MAX_JOB_FUNCTION_CHARS || job.chars().any(char::is_control) {
        return Err(PreferencesError::JobFunction);
    }
    if !EMAIL_LANGUAGES.contains(&email_language) {
        return Err(PreferencesError::Language);
    }
    let email = crate::orgs::normalize_email(notification_email).map_err(|_| PreferencesError::Email)?;
    Ok((job.to_string(), email_language.to_string(), email))
}

#[server(endpoint = "preferences_get")]
pub async fn get_preferences() -> Result<Preferences, AppError> {
    let (state, user) = crate::auth::session::require_user()?;
    load(&state.db, &user.id).await?.ok_or(AppError::Unauthenticated)
}

/// Saves the whole form as JSON (`{"form": {...}}`), every switch included: API for scripts and
/// tests, which the UI reaches through `submit_preferences`. A switch that is locked on cannot
/// be turned off: such a request is refused and changes nothing.
#[server(endpoint = "preferences_save", input = Json)]
pub async fn save_preferences(form: PreferencesForm) -> Result<Preferences, AppError> {
    let (state, user) = crate::auth::session::require_user()?;
    Ok(save(
        &state.db,
        &state.links,
        &user.id,
        &user.org_id,
        &user.email,
        &form,
    )
    .await?)
}

/// The preferences form as a browser posts it: a switch that is on is sent (`transactional=on`,
/// `workspaces[billing]=on`), one that is off is not; the locked switches are not sent at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedPreferences {
    pub job_function: String,
    pub email_language: String,
    pub notification_email: String,
    pub transactional: bool,
    pub promotional: bool,
    /// The workspaces whose switch is on.
    pub workspaces_on: Vec<crate::items::Workspace>,
}

impl PostedPreferences {
    /// The whole form, every switch of the workspace catalog in its posted position.
    pub fn into_form(self, catalog: &[crate::items::Workspace]) -> PreferencesForm {
        PreferencesForm {
            job_function: self.job_function,
            email_language: self.email_language,
            notification_email: self.notification_email,
            switches: SwitchPositions {
                in_app: Some(true),
                categories: [
                    ("mandatory".to_string(), true),
                    ("recommended".to_string(), true),
                    ("transactional".to_string(), self.transactional),
                    ("promotional".to_string(), self.promotional),
                ]
                .into(),
                workspaces: catalog
                    .iter()
                    .map(|w| (w.to_string(), self.workspaces_on.contains(w)))
                    .collect(),
            },
        }
    }
}

/// Saves the form as the setup screen and My preferences post it, and answers with the
/// preferences now stored. A browser that posted it itself is sent on: to the Action Center
/// after setup, back to My preferences (saying so) otherwise.
#[server(endpoint = "preferences_submit")]
pub async fn submit_preferences(
    job_function: String,
    email_language: String,
    notification_email: String,
    transactional: Option<String>,
    promotional: Option<String>,
    workspaces: Option<std::collections::BTreeMap<String, String>>,
    setup: Option<String>,
) -> Result<Preferences, AppError> {
    let (state, user) = crate::auth::session::require_user()?;
    let current = load(&state.db, &user.id)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    let form = PostedPreferences {
        job_function,
        email_language,
        notification_email,
        transactional: transactional.is_some(),
        promotional: promotional.is_some(),
        workspaces_on: workspaces
            .unwrap_or_default()
            .into_keys()
            .map(crate::items::Workspace::from)
            .collect(),
    }
    .into_form(&current.workspaces);
    let saved = save_preferences(form).await?;
    crate::forms::redirect_browser(if setup.is_some() {
        "/action-center"
    } else {
        "/preferences?saved=1"
    });
    Ok(saved)
}

/// Sends a new verification link to the unverified notification email.
#[server(endpoint = "preferences_resend_verification")]
pub async fn resend_verification() -> Result<(), AppError> {
    let (state, user) = crate::auth::session::require_user()?;
    verification::resend(&state.db, &state.links, &user.id).await?;
    // A browser's form post goes back to My preferences, which then says the link was sent.
    crate::forms::redirect_browser("/preferences?sent=1");
    Ok(())
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn a_posted_form_sets_every_switch_of_the_catalog() {
        let catalog: Vec<crate::items::Workspace> = vec!["billing".into(), "referrals".into()];
        let form = PostedPreferences {
            job_function: "Sales".into(),
            email_language: "nl".into(),
            notification_email: "a@b.c".into(),
            transactional: true,
            promotional: false,
            workspaces_on: vec!["referrals".into(), "unknown".into()],
        }
        .into_form(&catalog);
        assert_eq!(form.switches.in_app, Some(true));
        assert!(form.switches.categories["mandatory"]);
        assert!(form.switches.categories["transactional"]);
        assert!(!form.switches.categories["promotional"]);
        assert_eq!(
            form.switches.workspaces,
            [("billing".to_string(), false), ("referrals".to_string(), true)].into()
        );
    }

    #[test]
    fn basics_are_validated_and_normalised() {
        assert_eq!(
            validate_basics("  Sales lead ", "nl", " Ada@Contoso.TEST ").unwrap(),
            ("Sales lead".into(), "nl".into(), "ada@contoso.test".into())
        );
        assert_eq!(
            validate_basics(&"x".repeat(101), "en", "a@b.c"),
            Err(PreferencesError::JobFunction)
        );
        assert_eq!(
            validate_basics("", "klingon", "a@b.c"),
            Err(PreferencesError::Language)
        );
        for bad in ["", "a", "a@b", "a b@c.d", "a@@b.c", "@b.c"] {
            assert_eq!(
                validate_basics("", "en", bad),
                Err(PreferencesError::Email),
                "{bad}"
            );
        }
    }
}
