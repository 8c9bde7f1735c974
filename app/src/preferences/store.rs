//! Storage of preferences and email opt-outs, with the audit trail of every change to
//! communication preferences.

use std::collections::BTreeSet;

use sqlx::AnyConnection;

use super::rules::{EmailChoices, apply_switches};
use super::{Preferences, PreferencesError, PreferencesForm, validate_basics, verification};
use crate::db::{Db, DbError, now_ms};
use crate::email::{Links, UnsubscribeTarget};
use crate::error::AppError;
use crate::items::Workspace;
use crate::orgs::UserId;

/// A user's stored preferences with their sign-in email and setup state.
#[derive(sqlx::FromRow)]
struct PreferencesRow {
    job_function: String,
    email_language: String,
    sign_in_email: String,
    notification_email: Option<String>,
    notification_email_verified_at: Option<i64>,
    setup_completed_at: Option<i64>,
}

pub async fn load(db: &Db, user_id: &UserId) -> Result<Option<Preferences>, DbError> {
    let row: Option<PreferencesRow> = sqlx::query_as(
        "SELECT p.job_function, p.email_language, u.email AS sign_in_email, p.notification_email, \
         p.notification_email_verified_at, u.setup_completed_at \
         FROM users u JOIN preferences p ON p.user_id = u.id WHERE u.id = $1",
    )
    .bind(user_id)
    .fetch_optional(db.pool())
    .await?;
    let Some(PreferencesRow {
        job_function,
        email_language,
        sign_in_email,
        notification_email: chosen,
        notification_email_verified_at: verified_at,
        setup_completed_at: setup,
    }) = row
    else {
        return Ok(None);
    };
    let mut conn = db.pool().acquire().await?;
    let email = choices(&mut conn, user_id).await?;
    Ok(Some(Preferences {
        job_function,
        email_language,
        notification_email_verified: chosen.is_none() || verified_at.is_some(),
        notification_email: chosen.unwrap_or_else(|| sign_in_email.clone()),
        sign_in_email,
        setup_completed: setup.is_some(),
        email,
        workspaces: crate::orgs::workspace_catalog(db).await?,
    }))
}

/// The user's email choices as stored: a row per opt-out, none for what is on.
pub async fn choices(conn: &mut AnyConnection, user_id: &UserId) -> Result<EmailChoices, DbError> {
    let categories: Vec<(String,)> =
        sqlx::query_as("SELECT category FROM email_category_optouts WHERE user_id = $1")
            .bind(user_id)
            .fetch_all(&mut *conn)
            .await?;
    let workspaces: Vec<(Workspace,)> =
        sqlx::query_as("SELECT workspace FROM workspace_email_optouts WHERE user_id = $1")
            .bind(user_id)
            .fetch_all(&mut *conn)
            .await?;
    let off = |name: &str| categories.iter().any(|(c,)| c == name);
    Ok(EmailChoices {
        transactional: !off("transactional"),
        promotional: !off("promotional"),
        workspaces_off: workspaces.into_iter().map(|(w,)| w).collect(),
    })
}

/// The two kinds of opt-out row: a category, or a workspace.
#[derive(Clone, Copy)]
enum Optout {
    Category,
    Workspace,
}

impl Optout {
    /// (table, column); fixed names, never input.
    fn table(self) -> (&'static str, &'static str) {
        match self {
            Optout::Category => ("email_category_optouts", "category"),
            Optout::Workspace => ("workspace_email_optouts", "workspace"),
        }
    }
}

/// Writes (`off`) or removes the opt-out row for `name`.
async fn set_optout(
    conn: &mut AnyConnection,
    kind: Optout,
    user_id: &UserId,
    name: &str,
    off: bool,
    now: i64,
) -> Result<(), DbError> {
    let (table, column) = kind.table();
    if off {
        sqlx::query(&format!(
            "INSERT INTO {table} (user_id, {column}, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, {column}) DO NOTHING"
        ))
        .bind(user_id)
        .bind(name)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    } else {
        sqlx::query(&format!(
            "DELETE FROM {table} WHERE user_id = $1 AND {column} = $2"
        ))
        .bind(user_id)
        .bind(name)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Stores new choices as opt-out rows; returns the changes for the audit trail.
pub async fn store_choices(
    conn: &mut AnyConnection,
    user_id: &UserId,
    before: &EmailChoices,
    after: &EmailChoices,
    now: i64,
) -> Result<Vec<serde_json::Value>, DbError> {
    let mut changes = Vec::new();
    for (category, was, is) in [
        ("transactional", before.transactional, after.transactional),
        ("promotional", before.promotional, after.promotional),
    ] {
        if was != is {
            set_optout(conn, Optout::Category, user_id, category, !is, now).await?;
            changes.push(serde_json::json!({ "email_category": category, "from": was, "to": is }));
        }
    }
    for workspace in before.workspaces_off.symmetric_difference(&after.workspaces_off) {
        let on = before.workspaces_off.contains(workspace);
        set_optout(conn, Optout::Workspace, user_id, workspace, !on, now).await?;
        changes.push(serde_json::json!({ "workspace_email": workspace, "from": !on, "to": on }));
    }
    Ok(changes)
}

/// Saves the whole form in one transaction and completes setup. A changed notification email
/// starts out unverified and gets a verification link; the sign-in email needs no check.
/// Nothing is stored when any part is refused.
pub async fn save(
    db: &Db,
    links: &Links,
    user_id: &UserId,
    org_id: &str,
    actor: &str,
    form: &PreferencesForm,
) -> Result<Preferences, SaveError> {
    let (job, language, email) =
        validate_basics(&form.job_function, &form.email_language, &form.notification_email)?;
    let before = load(db, user_id).await?.ok_or(DbError::NotFound("user".into()))?;
    let catalog: BTreeSet<Workspace> = before.workspaces.iter().cloned().collect();
    let next_choices =
        apply_switches(&before.email, &form.switches, &catalog).map_err(PreferencesError::from)?;
    let now = now_ms();
    let mut tx = db.begin_write().await.map_err(DbError::from)?;
    sqlx::query(
        "UPDATE preferences SET job_function = $1, email_language = $2, updated_at = $3 WHERE user_id = $4",
    )
    .bind(&job)
    .bind(&language)
    .bind(now)
    .bind(user_id)
    .execute(&mut *tx)
    .await
    .map_err(DbError::from)?;
    let mut changes = Vec::new();
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
        if chosen.is_some() {
            verification::start(&mut tx, links, user_id, &email, now).await?;
        }
        changes.push(
            serde_json::json!({ "notification_email": { "from": before.notification_email, "to": email } }),
        );
    }
    if language != before.email_language {
        changes
            .push(serde_json::json!({ "email_language": { "from": before.email_language, "to": language } }));
    }
    if job != before.job_function {
        changes.push(serde_json::json!({ "job_function": { "from": before.job_function, "to": job } }));
    }
    changes.extend(store_choices(&mut tx, user_id, &before.email, &next_choices, now).await?);
    sqlx::query("UPDATE users SET setup_completed_at = COALESCE(setup_completed_at, $1) WHERE id = $2")
        .bind(now)
        .bind(user_id)
        .execute(&mut *tx)
        .await
        .map_err(DbError::from)?;
    if !changes.is_empty() {
        crate::audit::record_in(
            &mut tx,
            Some(org_id),
            actor,
            "preferences.update",
            Some(user_id),
            &serde_json::json!({ "changes": changes }),
        )
        .await?;
    }
    tx.commit().await.map_err(DbError::from)?;
    Ok(load(db, user_id).await?.ok_or(DbError::NotFound("user".into()))?)
}

/// Turns off what a signed unsubscribe link names (RFC 8058 one-click). Repeating it changes
/// nothing. Returns the user's email language, for the confirmation page.
pub async fn unsubscribe(db: &Db, user_id: &UserId, target: &UnsubscribeTarget) -> Result<String, SaveError> {
    let user = crate::orgs::find_user(db, user_id)
        .await?
        .ok_or(DbError::NotFound("user".into()))?;
    let prefs = load(db, user_id).await?.ok_or(DbError::NotFound("user".into()))?;
    let mut next = prefs.email.clone();
    match target {
        UnsubscribeTarget::Category(c) if c == "transactional" => next.transactional = false,
        UnsubscribeTarget::Category(c) if c == "promotional" => next.promotional = false,
        UnsubscribeTarget::Category(c) => {
            return Err(PreferencesError::Rule(super::RuleError::UnknownCategory(c.clone())).into());
        }
        UnsubscribeTarget::Workspace(w) => {
            if !prefs.workspaces.contains(w) {
                return Err(PreferencesError::Rule(super::RuleError::UnknownWorkspace(w.to_string())).into());
            }
            next.workspaces_off.insert(w.clone());
        }
    }
    let mut tx = db.begin_write().await.map_err(DbError::from)?;
    let changes = store_choices(&mut tx, user_id, &prefs.email, &next, now_ms()).await?;
    if !changes.is_empty() {
        crate::audit::record_in(
            &mut tx,
            Some(&user.org_id),
            &format!("{} (unsubscribe link)", user.email),
            "preferences.update",
            Some(user_id),
            &serde_json::json!({ "changes": changes }),
        )
        .await?;
    }
    tx.commit().await.map_err(DbError::from)?;
    Ok(prefs.email_language)
}

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error(transparent)]
    Invalid(#[from] PreferencesError),
    #[error(transparent)]
    Verification(#[from] verification::VerificationError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<SaveError> for AppError {
    fn from(err: SaveError) -> Self {
        match err {
            SaveError::Invalid(e) => AppError::Invalid(e.into()),
            SaveError::Verification(e) => e.into(),
            SaveError::Db(e) => e.into(),
        }
    }
}

/// An `email_schedules` row.
#[derive(sqlx::FromRow)]
pub(crate) struct ScheduleRow {
    pub(crate) time_zone: Option<String>,
    pub(crate) quiet_from: Option<i64>,
    pub(crate) quiet_to: Option<i64>,
    pub(crate) transactional: Option<String>,
    pub(crate) promotional: Option<String>,
}

impl ScheduleRow {
    /// The schedule the row holds; the default one for a user without a row (all NULL).
    pub(crate) fn schedule(self) -> super::EmailSchedule {
        let cadence = |c: Option<String>| c.as_deref().and_then(super::Cadence::parse).unwrap_or_default();
        let hour = |h: Option<i64>| h.and_then(|h| u8::try_from(h).ok());
        super::EmailSchedule {
            time_zone: self
                .time_zone
                .unwrap_or_else(|| super::schedule::DEFAULT_TIME_ZONE.to_string()),
            quiet_from: hour(self.quiet_from),
            quiet_to: hour(self.quiet_to),
            transactional: cadence(self.transactional),
            promotional: cadence(self.promotional),
        }
    }
}

/// The columns of `ScheduleRow`, over `email_schedules es` (joined LEFT: NULL for no row).
pub(crate) const SCHEDULE_COLUMNS: &str =
    "es.time_zone, es.quiet_from, es.quiet_to, es.transactional, es.promotional";

/// The email schedule the user saved, if they ever did.
pub async fn find_schedule(db: &Db, user_id: &UserId) -> Result<Option<super::EmailSchedule>, DbError> {
    let row: Option<ScheduleRow> = sqlx::query_as(&format!(
        "SELECT {SCHEDULE_COLUMNS} FROM email_schedules es WHERE es.user_id = $1"
    ))
    .bind(user_id)
    .fetch_optional(db.pool())
    .await?;
    Ok(row.map(ScheduleRow::schedule))
}

/// The user's email schedule (the default one if they never chose).
pub async fn load_schedule(db: &Db, user_id: &UserId) -> Result<super::EmailSchedule, DbError> {
    Ok(find_schedule(db, user_id).await?.unwrap_or_default())
}

/// Stores a checked schedule (and says so in the audit trail, as `actor`). A digest chosen now
/// starts from `now`: what was published before went out (or goes out) by itself.
pub async fn save_schedule(
    db: &Db,
    user_id: &UserId,
    org_id: &str,
    actor: &str,
    schedule: &super::EmailSchedule,
    now: i64,
) -> Result<(), DbError> {
    use super::Cadence;
    let since = |c: Cadence| schedule.uses(c).then_some(now);
    let mut tx = db.begin_write().await?;
    // What the digests now stand at comes back, for when the planner next looks at this user.
    let (daily, weekly): (Option<i64>, Option<i64>) = sqlx::query_as(
        "INSERT INTO email_schedules (user_id, time_zone, quiet_from, quiet_to, transactional, promotional, \
           daily_until, weekly_until, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (user_id) DO UPDATE SET time_zone = excluded.time_zone, quiet_from = excluded.quiet_from, \
           quiet_to = excluded.quiet_to, transactional = excluded.transactional, promotional = excluded.promotional, \
           daily_until = CASE WHEN excluded.daily_until IS NULL THEN NULL \
             ELSE COALESCE(email_schedules.daily_until, excluded.daily_until) END, \
           weekly_until = CASE WHEN excluded.weekly_until IS NULL THEN NULL \
             ELSE COALESCE(email_schedules.weekly_until, excluded.weekly_until) END, \
           updated_at = excluded.updated_at \
         RETURNING daily_until, weekly_until",
    )
    .bind(user_id)
    .bind(&schedule.time_zone)
    .bind(schedule.quiet_from.map(i64::from))
    .bind(schedule.quiet_to.map(i64::from))
    .bind(schedule.transactional.as_str())
    .bind(schedule.promotional.as_str())
    .bind(since(Cadence::Daily))
    .bind(since(Cadence::Weekly))
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("UPDATE email_schedules SET next_digest_at = $1 WHERE user_id = $2")
        .bind(schedule.next_digest_at(daily, weekly))
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    crate::audit::record_in(
        &mut tx,
        Some(org_id),
        actor,
        "preferences.schedule",
        Some(user_id),
        &serde_json::json!({
            "time_zone": schedule.time_zone,
            "quiet_from": schedule.quiet_from,
            "quiet_to": schedule.quiet_to,
            "transactional": schedule.transactional.as_str(),
            "promotional": schedule.promotional.as_str(),
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
