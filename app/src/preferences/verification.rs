//! Verifying a changed notification email (spec §3): a single-use link, valid 24 hours, sent
//! to the new address; only the token's hash is stored. Until it is followed, email keeps
//! going to the sign-in address.

use sqlx::AnyConnection;

use crate::auth::session::{new_token, token_hash};
use crate::db::{Db, DbError, now_ms};
use crate::email::outbox::{Letter, enqueue};
use crate::email::render::{self, Recipient};
use crate::email::{EmailError, Links, Purpose};
use crate::error::{AppError, Refusal};
use crate::orgs::UserId;

pub const LINK_VALID_MS: i64 = 24 * 60 * 60 * 1000;
/// A user can ask for a new link at most this often.
pub const RESEND_INTERVAL_MS: i64 = 60 * 1000;

#[derive(Debug, thiserror::Error)]
pub enum VerificationError {
    #[error("Your notification email is already verified.")]
    AlreadyVerified,
    #[error(
        "A verification email was sent less than a minute ago. Check your inbox, or try again in a minute."
    )]
    TooSoon,
    #[error(transparent)]
    Email(#[from] EmailError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for VerificationError {
    fn from(err: sqlx::Error) -> Self {
        VerificationError::Db(err.into())
    }
}

impl From<VerificationError> for AppError {
    fn from(err: VerificationError) -> Self {
        match err {
            VerificationError::AlreadyVerified => Refusal::AlreadyVerified.into(),
            VerificationError::TooSoon => Refusal::VerificationTooSoon.into(),
            VerificationError::Email(e) => {
                tracing::error!(error = %e, "cannot prepare the verification email");
                AppError::Internal
            }
            VerificationError::Db(e) => e.into(),
        }
    }
}

/// Issues a new link for `address` (replacing any earlier one) and puts its email in the
/// outbox, inside the caller's transaction.
pub async fn start(
    conn: &mut AnyConnection,
    links: &Links,
    user_id: &UserId,
    address: &str,
    now: i64,
) -> Result<(), VerificationError> {
    let (name, language): (String, String) = sqlx::query_as(
        "SELECT u.display_name, p.email_language FROM users u JOIN preferences p ON p.user_id = u.id WHERE u.id = $1",
    )
    .bind(user_id)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM email_verifications WHERE user_id = $1 AND used_at IS NULL")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    let (token, hash) = new_token();
    sqlx::query(
        "INSERT INTO email_verifications (token_hash, user_id, email, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&hash)
    .bind(user_id)
    .bind(address)
    .bind(now)
    .bind(now + LINK_VALID_MS)
    .execute(&mut *conn)
    .await?;
    let recipient = Recipient {
        user_id: user_id.clone(),
        display_name: name,
        language,
    };
    let letter = Letter {
        dedupe_key: format!("verify:{hash}"),
        item_id: None,
        user_id: Some(user_id.clone()),
        purpose: Purpose::Verify,
        to: address.to_string(),
        email: render::verification_email(links, &recipient, address, &token)?,
    };
    enqueue(conn, &letter, now).await?;
    Ok(())
}

/// "Send verification email" again, for an address that is still unverified.
pub async fn resend(db: &Db, links: &Links, user_id: &UserId) -> Result<(), VerificationError> {
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let row: Option<(Option<String>, Option<i64>)> = sqlx::query_as(
        "SELECT notification_email, notification_email_verified_at FROM preferences WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?;
    let address = match row {
        Some((Some(address), None)) => address,
        Some(_) => return Err(VerificationError::AlreadyVerified),
        None => return Err(DbError::NotFound("user".into()).into()),
    };
    let (recent,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM email_verifications WHERE user_id = $1 AND created_at > $2")
            .bind(user_id)
            .bind(now - RESEND_INTERVAL_MS)
            .fetch_one(&mut *tx)
            .await?;
    if recent > 0 {
        return Err(VerificationError::TooSoon);
    }
    start(&mut tx, links, user_id, &address, now).await?;
    tx.commit().await?;
    Ok(())
}

/// What a verification link stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    /// Valid: following it verifies `email`.
    Valid {
        email: String,
        language: String,
    },
    Used {
        language: String,
    },
    Expired {
        language: String,
    },
    /// The user has since chosen another address.
    Stale {
        language: String,
    },
    Invalid,
}

/// A verification link's row, with the address the user has chosen now and their language.
#[derive(sqlx::FromRow)]
struct LinkRow {
    user_id: UserId,
    email: String,
    expires_at: i64,
    used_at: Option<i64>,
    notification_email: Option<String>,
    email_language: String,
}

async fn state_of(
    conn: &mut AnyConnection,
    token: &str,
    now: i64,
) -> Result<(LinkState, Option<UserId>), DbError> {
    let row: Option<LinkRow> = sqlx::query_as(
        "SELECT v.user_id, v.email, v.expires_at, v.used_at, p.notification_email, p.email_language \
         FROM email_verifications v JOIN preferences p ON p.user_id = v.user_id WHERE v.token_hash = $1",
    )
    .bind(token_hash(token))
    .fetch_optional(&mut *conn)
    .await?;
    let Some(LinkRow {
        user_id,
        email,
        expires_at,
        used_at,
        notification_email: current,
        email_language: language,
    }) = row
    else {
        return Ok((LinkState::Invalid, None));
    };
    let state = if used_at.is_some() {
        LinkState::Used { language }
    } else if expires_at <= now {
        LinkState::Expired { language }
    } else if current.as_deref() != Some(email.as_str()) {
        LinkState::Stale { language }
    } else {
        LinkState::Valid { email, language }
    };
    Ok((state, Some(user_id)))
}

/// Looks at a link without using it (the page that asks to confirm).
pub async fn inspect(db: &Db, token: &str) -> Result<LinkState, DbError> {
    let mut conn = db.pool().acquire().await?;
    Ok(state_of(&mut conn, token, now_ms()).await?.0)
}

/// Uses a link: verifies the address when the link is valid, and never twice.
pub async fn confirm(db: &Db, token: &str) -> Result<LinkState, DbError> {
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    let (state, user_id) = state_of(&mut tx, token, now).await?;
    if let (LinkState::Valid { email, .. }, Some(user_id)) = (&state, &user_id) {
        // The guard on used_at makes two concurrent confirmations verify once.
        let used = sqlx::query(
            "UPDATE email_verifications SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL",
        )
        .bind(now)
        .bind(token_hash(token))
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() == 1 {
            sqlx::query(
                "UPDATE preferences SET notification_email_verified_at = $1, updated_at = $1 WHERE user_id = $2",
            )
            .bind(now)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
            let (org_id, actor): (String, String) =
                sqlx::query_as("SELECT org_id, email FROM users WHERE id = $1")
                    .bind(user_id)
                    .fetch_one(&mut *tx)
                    .await?;
            crate::audit::record_in(
                &mut tx,
                Some(&org_id),
                &actor,
                "preferences.verify_email",
                Some(user_id),
                &serde_json::json!({ "notification_email": email }),
            )
            .await?;
        }
    }
    tx.commit().await?;
    Ok(state)
}
