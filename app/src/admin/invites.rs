//! Inviting a user: the account is created without a password, and a single-use link (valid
//! 7 days, stored as a hash) lets the invitee choose one.

use crate::auth::CurrentUser;
use crate::auth::session::{new_token, token_hash};
use crate::db::{Db, DbError, now_ms};
use crate::email::outbox::{Letter, enqueue};
use crate::email::render::{self, Recipient};
use crate::email::{EmailError, Links, Purpose};
use crate::error::{AppError, Refusal};
use crate::orgs::{self, NewUser, OrgError, OrgId, UserId};

use super::Invitation;

pub const LINK_VALID_MS: i64 = 7 * 24 * 60 * 60 * 1000;

#[derive(Debug, thiserror::Error)]
pub enum InviteError {
    #[error("There is already an account with this email address.")]
    Exists,
    #[error(transparent)]
    Org(#[from] OrgError),
    #[error(transparent)]
    Email(#[from] EmailError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for InviteError {
    fn from(err: sqlx::Error) -> Self {
        InviteError::Db(err.into())
    }
}

impl From<InviteError> for AppError {
    fn from(err: InviteError) -> Self {
        match err {
            InviteError::Exists | InviteError::Org(OrgError::Db(DbError::Duplicate(_))) => {
                Refusal::AccountExists.into()
            }
            InviteError::Org(OrgError::Db(e)) | InviteError::Db(e) => e.into(),
            InviteError::Org(OrgError::Input(e)) => AppError::Invalid(e.into()),
            InviteError::Email(e) => {
                tracing::error!(error = %e, "cannot prepare the invitation email");
                AppError::Internal
            }
        }
    }
}

/// Creates the invited account in the admin's organisation, grants the chosen roles and puts
/// the invitation (with its set-password link) in the outbox.
pub async fn invite(
    db: &Db,
    links: &Links,
    admin: &CurrentUser,
    invitation: &Invitation,
) -> Result<orgs::User, InviteError> {
    let catalog = orgs::role_catalog(db).await?;
    if let Some(unknown) = invitation.roles.iter().find(|r| !catalog.contains(r)) {
        return Err(OrgError::Input(orgs::InputError::UnknownRole(unknown.to_string())).into());
    }
    let email = orgs::normalize_email(&invitation.email).map_err(OrgError::from)?;
    if orgs::find_user_by_email(db, &email).await?.is_some() {
        return Err(InviteError::Exists);
    }
    let user = orgs::create_user(
        db,
        NewUser {
            org_id: &admin.org_id,
            email: &email,
            display_name: &invitation.display_name,
            password_hash: None,
            setup_completed: false,
        },
    )
    .await?;
    for role in &invitation.roles {
        orgs::grant_role(db, &user, role, &admin.email).await?;
    }
    let now = now_ms();
    let (token, hash) = new_token();
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO password_tokens (token_hash, user_id, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&hash)
    .bind(&user.id)
    .bind(&admin.email)
    .bind(now)
    .bind(now + LINK_VALID_MS)
    .execute(&mut *tx)
    .await?;
    let recipient = Recipient {
        user_id: user.id.clone(),
        display_name: user.display_name.clone(),
        language: admin.language.clone(),
    };
    let letter = Letter {
        dedupe_key: format!("invite:{hash}"),
        item_id: None,
        user_id: Some(user.id.clone()),
        purpose: Purpose::Invite,
        to: user.email.clone(),
        email: render::invitation_email(links, &recipient, &admin.display_name, &admin.org_name, &token)?,
    };
    enqueue(&mut tx, &letter, now).await?;
    crate::audit::record_in(
        &mut tx,
        Some(&admin.org_id),
        &admin.email,
        "user.invite",
        Some(&user.email),
        &serde_json::json!({ "roles": invitation.roles }),
    )
    .await?;
    tx.commit().await?;
    Ok(user)
}

/// What a set-password link stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InviteLink {
    Valid { user_id: UserId, email: String },
    Used,
    Expired,
    Invalid,
}

pub async fn inspect(db: &Db, token: &str) -> Result<InviteLink, DbError> {
    let row: Option<(UserId, String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT t.user_id, u.email, t.expires_at, t.used_at FROM password_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.token_hash = $1",
    )
    .bind(token_hash(token))
    .fetch_optional(db.pool())
    .await?;
    Ok(match row {
        None => InviteLink::Invalid,
        Some((_, _, _, Some(_))) => InviteLink::Used,
        Some((_, _, expires, None)) if expires <= now_ms() => InviteLink::Expired,
        Some((user_id, email, _, None)) => InviteLink::Valid { user_id, email },
    })
}

/// Sets the invitee's password through a valid link, once. Returns the user's id.
pub async fn set_password(db: &Db, token: &str, password_hash: &str) -> Result<InviteLink, DbError> {
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let used = sqlx::query(
        "UPDATE password_tokens SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(token_hash(token))
    .execute(&mut *tx)
    .await?;
    if used.rows_affected() != 1 {
        tx.rollback().await?;
        return inspect(db, token).await;
    }
    let (user_id, email, org_id): (UserId, String, OrgId) = sqlx::query_as(
        "SELECT u.id, u.email, u.org_id FROM password_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1",
    )
    .bind(token_hash(token))
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(password_hash)
        .bind(&user_id)
        .execute(&mut *tx)
        .await?;
    crate::audit::record_in(
        &mut tx,
        Some(&org_id),
        &email,
        "user.set_password",
        Some(&email),
        &serde_json::json!({}),
    )
    .await?;
    tx.commit().await?;
    Ok(InviteLink::Valid { user_id, email })
}
