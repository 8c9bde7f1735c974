//! A user's preferences (spec §3): job function, email language and notification email.
//! The first save completes first-run setup.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

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

#[cfg(feature = "ssr")]
pub use store::*;

#[cfg(feature = "ssr")]
mod store {
    use super::*;
    use crate::db::{Db, DbError, now_ms};

    pub async fn load(db: &Db, user_id: &str) -> Result<Option<Preferences>, DbError> {
        type Row = (String, String, String, Option<String>, Option<i64>, Option<i64>);
        let row: Option<Row> = sqlx::query_as(
            "SELECT p.job_function, p.email_language, u.email, p.notification_email, \
             p.notification_email_verified_at, u.setup_completed_at \
             FROM users u JOIN preferences p ON p.user_id = u.id WHERE u.id = $1",
        )
        .bind(user_id)
        .fetch_optional(db.pool())
        .await?;
        Ok(row.map(
            |(job_function, email_language, sign_in_email, chosen, verified_at, setup)| {
                let verified = chosen.is_none() || verified_at.is_some();
                Preferences {
                    job_function,
                    email_language,
                    notification_email: chosen.unwrap_or_else(|| sign_in_email.clone()),
                    sign_in_email,
                    notification_email_verified: verified,
                    setup_completed: setup.is_some(),
                }
            },
        ))
    }

    /// Saves job function, email language and notification email, and completes setup.
    /// A changed notification email starts out unverified; the sign-in email needs no check.
    pub async fn save_basics(
        db: &Db,
        user_id: &str,
        org_id: &str,
        actor: &str,
        job_function: &str,
        email_language: &str,
        notification_email: &str,
    ) -> Result<Preferences, SaveError> {
        let (job, language, email) = validate_basics(job_function, email_language, notification_email)?;
        let before = load(db, user_id).await?.ok_or(DbError::NotFound("user".into()))?;
        let now = now_ms();
        let mut tx = db.pool().begin().await.map_err(DbError::from)?;
        sqlx::query("UPDATE preferences SET job_function = $1, email_language = $2, updated_at = $3 WHERE user_id = $4")
            .bind(&job)
            .bind(&language)
            .bind(now)
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(DbError::from)?;
        if email != before.notification_email {
            let chosen = (email != before.sign_in_email).then_some(email.as_str());
            sqlx::query(
                "UPDATE preferences SET notification_email = $1, notification_email_verified_at = NULL WHERE user_id = $2",
            )
            .bind(chosen)
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(DbError::from)?;
        }
        sqlx::query("UPDATE users SET setup_completed_at = COALESCE(setup_completed_at, $1) WHERE id = $2")
            .bind(now)
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .map_err(DbError::from)?;
        if language != before.email_language || email != before.notification_email {
            let detail = serde_json::json!({
                "email_language": { "from": before.email_language, "to": language },
                "notification_email": { "from": before.notification_email, "to": email },
            });
            crate::audit::record_in(
                &mut tx,
                Some(org_id),
                actor,
                "preferences.update",
                Some(user_id),
                &detail,
            )
            .await?;
        }
        tx.commit().await.map_err(DbError::from)?;
        Ok(load(db, user_id).await?.ok_or(DbError::NotFound("user".into()))?)
    }

    #[derive(Debug, thiserror::Error)]
    pub enum SaveError {
        #[error(transparent)]
        Invalid(#[from] PreferencesError),
        #[error(transparent)]
        Db(#[from] DbError),
    }

    impl From<SaveError> for AppError {
        fn from(err: SaveError) -> Self {
            match err {
                SaveError::Invalid(e) => AppError::Invalid(e.to_string()),
                SaveError::Db(e) => e.into(),
            }
        }
    }
}

#[server(endpoint = "preferences_get")]
pub async fn get_preferences() -> Result<Preferences, AppError> {
    let (state, user) = crate::auth::session::require_user()?;
    load(&state.db, &user.id).await?.ok_or(AppError::Unauthenticated)
}

/// Saves the basics (the setup screen and My preferences share it).
#[server(endpoint = "preferences_save_basics")]
pub async fn save_preferences(
    job_function: String,
    email_language: String,
    notification_email: String,
) -> Result<Preferences, AppError> {
    let (state, user) = crate::auth::session::require_user()?;
    let actor = user.email.clone();
    Ok(save_basics(
        &state.db,
        &user.id,
        &user.org_id,
        &actor,
        &job_function,
        &email_language,
        &notification_email,
    )
    .await?)
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

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
