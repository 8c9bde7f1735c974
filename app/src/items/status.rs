//! An item as its producer sees it, and the org-wide status changes (complete, cancel).

use sqlx::FromRow;

use super::payload::{ApiItem, Audience, format_time};
use super::publish::count_open;
use super::{Category, ItemError, Kind, LocalizedText, Status};
use crate::db::{Db, DbError, now_ms};
use crate::live::{self, LogKind};

/// An item's own row, as the producer API shows it.
#[derive(FromRow)]
struct ItemRow {
    id: String,
    org_id: String,
    category: String,
    workspace: String,
    title: String,
    body: String,
    link: Option<String>,
    due_at: Option<i64>,
    status: String,
    idempotency_key: Option<String>,
    expires_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

/// How an item's status reads: an expired item shows as `expired` whatever it was.
pub(crate) const STATUS_COLUMN: &str =
    "CASE WHEN expired_at IS NULL THEN status ELSE 'expired' END AS status";

/// What a status change checks of an item.
#[derive(FromRow)]
struct StatusRow {
    org_id: String,
    category: String,
    status: String,
    audience_roles: String,
}

/// An item as the producer API shows it.
pub async fn get(db: &Db, id: &str) -> Result<Option<ApiItem>, DbError> {
    let row: Option<ItemRow> = sqlx::query_as(&format!(
        "SELECT id, org_id, category, workspace, title, body, link, due_at, {STATUS_COLUMN}, \
         idempotency_key, expires_at, created_at, updated_at FROM items WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let roles: Vec<(String,)> =
        sqlx::query_as("SELECT role FROM item_audience_roles WHERE item_id = $1 ORDER BY role")
            .bind(&row.id)
            .fetch_all(db.pool())
            .await?;
    let users: Vec<(String,)> =
        sqlx::query_as("SELECT user_id FROM item_audience_users WHERE item_id = $1 ORDER BY user_id")
            .bind(&row.id)
            .fetch_all(db.pool())
            .await?;
    let category = Category::parse(&row.category).unwrap_or(Category::Transactional);
    Ok(Some(ApiItem {
        id: row.id,
        kind: category.kind(),
        category,
        org_id: row.org_id,
        workspace: row.workspace,
        audience: Audience {
            roles: roles.into_iter().map(|r| r.0).collect(),
            user_ids: users.into_iter().map(|r| r.0).collect(),
        },
        title: parse_text(&row.title),
        body: parse_text(&row.body),
        link: row.link,
        due_at: row.due_at.map(format_time),
        status: Status::parse(&row.status).unwrap_or(Status::Open),
        idempotency_key: row.idempotency_key,
        expires_at: row.expires_at.map(format_time),
        created_at: format_time(row.created_at),
        updated_at: format_time(row.updated_at),
    }))
}

pub(crate) fn parse_text(json: &str) -> LocalizedText {
    serde_json::from_str(json).unwrap_or_default()
}

/// Completes or cancels an open action (org-wide: for every recipient at once), and with it
/// the account admins' actions about it (see `lifecycle`). Repeating the same transition
/// changes nothing.
pub async fn set_status(db: &Db, id: &str, to: Status, actor: &str) -> Result<ApiItem, ItemError> {
    let item = close(db, id, to, actor).await?;
    super::lifecycle::settle_concerns(db, &item.org_id, id, to).await?;
    Ok(item)
}

/// `set_status` of the action alone.
pub(crate) async fn close(db: &Db, id: &str, to: Status, actor: &str) -> Result<ApiItem, ItemError> {
    let mut tx = db.begin_write().await?;
    let row: Option<StatusRow> = sqlx::query_as(&format!(
        "SELECT org_id, category, {STATUS_COLUMN}, audience_roles FROM items WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let StatusRow {
        org_id,
        category,
        status,
        audience_roles: key,
    } = row.ok_or(ItemError::NotFound)?;
    let category = Category::parse(&category).unwrap_or(Category::Transactional);
    if category.kind() != Kind::Action {
        return Err(ItemError::NotAnAction);
    }
    let status = Status::parse(&status).unwrap_or(Status::Open);
    if status == to {
        tx.rollback().await?;
        return get(db, id).await?.ok_or(ItemError::NotFound);
    }
    if status != Status::Open {
        return Err(ItemError::AlreadyClosed(status.as_str()));
    }
    // Only from open: an expiry committed since the read above has settled the counts already.
    let changed = sqlx::query(
        "UPDATE items SET status = $1, updated_at = $2 WHERE id = $3 AND status = 'open' AND expired_at IS NULL",
    )
    .bind(to.as_str())
    .bind(now_ms())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if changed.rows_affected() == 0 {
        tx.rollback().await?;
        let now = get(db, id).await?.ok_or(ItemError::NotFound)?;
        return Err(ItemError::AlreadyClosed(now.status.as_str()));
    }
    count_open(&mut tx, &org_id, &key, category, -1).await?;
    sqlx::query("UPDATE item_states SET item_open = 0 WHERE item_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    // Email about an action that is no longer open (its first email or a reminder) is moot.
    sqlx::query(
        "UPDATE outbox SET status = 'skipped', locked_until = NULL WHERE item_id = $1 AND status = 'pending'",
    )
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let action = if to == Status::Completed {
        "item.complete"
    } else {
        "item.cancel"
    };
    crate::audit::record_in(
        &mut tx,
        Some(&org_id),
        actor,
        action,
        Some(id),
        &serde_json::json!({}),
    )
    .await?;
    live::append(&mut tx, db, &org_id, None, LogKind::StatusChanged, id).await?;
    tx.commit().await?;
    db.announce_change(&org_id);
    get(db, id).await?.ok_or(ItemError::NotFound)
}
