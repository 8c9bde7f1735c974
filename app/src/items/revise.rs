//! A producer's revision of an item it published: new text, a new due date, an expiry.

use sqlx::FromRow;

use super::payload::{ApiItem, FieldError, ValidUpdate};
use super::status::STATUS_COLUMN;
use super::{Category, ItemError, Kind, Status, get};
use crate::db::{Db, now_ms};
use crate::email::Purpose;
use crate::email::outbox::next_reminder_at;
use crate::live::{self, LogKind};

/// What a revision checks of the stored item.
#[derive(FromRow)]
struct RevisedRow {
    org_id: String,
    category: String,
    status: String,
    due_at: Option<i64>,
    title: String,
    body: String,
}

/// Changes an open item's text, due date or expiry, for every recipient at once: open lists
/// and bells show the change live, and email not yet on its way follows it. Pending letters
/// that no worker holds are withdrawn and planned again from the changed item: the first
/// email (if it had not gone out) and every reminder stage, which the planner then schedules
/// from the new due date. Letters already sent keep their keys in the outbox, so planning a
/// stage again never sends anyone the same reminder twice. An expiry already past retires the
/// item at the lifecycle's next pass.
pub async fn update(db: &Db, id: &str, change: &ValidUpdate, actor: &str) -> Result<ApiItem, ItemError> {
    let mut tx = db.begin_write().await?;
    let row: Option<RevisedRow> = sqlx::query_as(&format!(
        "SELECT org_id, category, {STATUS_COLUMN}, due_at, title, body FROM items WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let row = row.ok_or(ItemError::NotFound)?;
    let kind = Category::parse(&row.category).map_or(Kind::Notification, Category::kind);
    let status = Status::parse(&row.status).unwrap_or(Status::Open);
    if status != Status::Open {
        return Err(ItemError::AlreadyClosed(status.as_str()));
    }
    if kind == Kind::Notification && change.due_at.is_some() {
        return Err(FieldError {
            field: "due_at".into(),
            message: "a notification has no due date".into(),
        }
        .into());
    }
    let now = now_ms();
    let text =
        |t: &Option<super::LocalizedText>| t.as_ref().map(|t| serde_json::to_string(t).unwrap_or_default());
    let (set_expiry, expires_at) = match change.expires_at {
        Some(at) => (1_i64, at),
        None => (0, None),
    };
    // The words a search finds it by, when its text changes (this write transaction holds
    // the row, so the text read above is the text changed).
    let search_words = (change.title.is_some() || change.body.is_some()).then(|| {
        let title = change
            .title
            .clone()
            .unwrap_or_else(|| super::status::parse_text(&row.title));
        let body = change
            .body
            .clone()
            .unwrap_or_else(|| super::status::parse_text(&row.body));
        super::search::stored_words(&title, &body)
    });
    // Guarded on open: an expiry or status change committed since the read above wins.
    let changed = sqlx::query(
        "UPDATE items SET title = COALESCE($1, title), body = COALESCE($2, body), \
           due_at = COALESCE($3, due_at), \
           expires_at = CASE WHEN $4 = 1 THEN $5 ELSE expires_at END, updated_at = $6, \
           search_words = COALESCE($8, search_words) \
         WHERE id = $7 AND status = 'open' AND expired_at IS NULL",
    )
    .bind(text(&change.title))
    .bind(text(&change.body))
    .bind(change.due_at)
    .bind(set_expiry)
    .bind(expires_at)
    .bind(now)
    .bind(id)
    .bind(search_words)
    .execute(&mut *tx)
    .await?;
    if changed.rows_affected() == 0 {
        tx.rollback().await?;
        let now = get(db, id).await?.ok_or(ItemError::NotFound)?;
        return Err(ItemError::AlreadyClosed(now.status.as_str()));
    }
    let due_changed = change.due_at.is_some_and(|due| Some(due) != row.due_at);
    if due_changed {
        // The readers' states carry the due date for the overdue count.
        sqlx::query("UPDATE item_states SET due_at = $1 WHERE item_id = $2")
            .bind(change.due_at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    if change.changes_email() {
        let withdraw = |purposes: &str| {
            format!(
                "DELETE FROM outbox WHERE item_id = $1 AND status = 'pending' \
                 AND (locked_until IS NULL OR locked_until <= $2) AND purpose IN ({purposes})"
            )
        };
        let first = sqlx::query(&withdraw(&format!("'{}'", Purpose::Item.as_str())))
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        if first.rows_affected() > 0 {
            sqlx::query("UPDATE items SET emails_planned_at = NULL WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let purposes = Purpose::REMINDERS
            .iter()
            .map(|p| format!("'{}'", p.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let reminders = sqlx::query(&withdraw(&purposes))
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        if kind == Kind::Action && (due_changed || reminders.rows_affected() > 0) {
            let due_at = change.due_at.or(row.due_at);
            sqlx::query(
                "UPDATE items SET reminded_7d_at = NULL, reminded_1d_at = NULL, \
                 reminded_overdue_at = NULL, next_reminder_at = $1 WHERE id = $2",
            )
            .bind(next_reminder_at(due_at, [None; 3]))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
    }
    let fields: Vec<&str> = [
        ("title", change.title.is_some()),
        ("body", change.body.is_some()),
        ("due_at", change.due_at.is_some()),
        ("expires_at", change.expires_at.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, set)| set.then_some(name))
    .collect();
    crate::audit::record_in(
        &mut tx,
        Some(&row.org_id),
        actor,
        "item.update",
        Some(id),
        &serde_json::json!({ "fields": fields }),
    )
    .await?;
    live::append(&mut tx, db, &row.org_id, None, LogKind::Updated, id).await?;
    tx.commit().await?;
    db.announce_change(&row.org_id);
    get(db, id).await?.ok_or(ItemError::NotFound)
}
