//! What a reader does to an item of theirs: read, archive, unarchive.

use super::{ItemError, ItemView, Reader, view};
use crate::db::{Db, now_ms};
use crate::live::{self, LogKind};

/// What a user did to an item of theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserAction {
    Read,
    Archive,
    Unarchive,
}

impl UserAction {
    fn as_str(self) -> &'static str {
        match self {
            UserAction::Read => "read",
            UserAction::Archive => "archived",
            UserAction::Unarchive => "unarchived",
        }
    }
}

/// Stamps `column` ($3) on the reader's ($1) state of an item ($2), creating the state with
/// the item's facts the counts read (category, role key, due date, whether still open).
fn stamp_state(column: &str, on_conflict: &str) -> String {
    format!(
        "INSERT INTO item_states (user_id, item_id, {column}, category, audience_roles, due_at, item_open) \
         SELECT $1, i.id, $3, i.category, i.audience_roles, i.due_at, \
           CAST(CASE WHEN i.status = 'open' AND i.expired_at IS NULL THEN 1 ELSE 0 END AS BIGINT) FROM items i WHERE i.id = $2 \
         ON CONFLICT (user_id, item_id) DO UPDATE SET {column} = {on_conflict}"
    )
}

/// Marks an item read, archived or unarchived for the reader. Refuses items that do not reach
/// them (as not found) and archiving a mandatory action.
pub async fn apply(
    db: &Db,
    reader: &Reader,
    item_id: &str,
    action: UserAction,
) -> Result<ItemView, ItemError> {
    let item = view(db, reader, item_id).await?.ok_or(ItemError::NotFound)?;
    let now = now_ms();
    match action {
        UserAction::Read if item.read => return Ok(item),
        UserAction::Archive if !item.can_be_archived() => return Err(ItemError::MandatoryCannotBeArchived),
        UserAction::Archive if item.archived => return Ok(item),
        UserAction::Unarchive if !item.archived => return Ok(item),
        _ => {}
    }
    let mut tx = db.begin_write().await?;
    let (sql, stamped) = match action {
        UserAction::Read => (
            stamp_state("read_at", "COALESCE(item_states.read_at, excluded.read_at)"),
            true,
        ),
        UserAction::Archive => (stamp_state("archived_at", "excluded.archived_at"), true),
        UserAction::Unarchive => (
            "UPDATE item_states SET archived_at = NULL WHERE user_id = $1 AND item_id = $2".to_string(),
            false,
        ),
    };
    let query = sqlx::query(&sql).bind(&reader.user_id).bind(item_id);
    let query = if stamped { query.bind(now) } else { query };
    query.execute(&mut *tx).await?;
    let subject = format!("{}:{item_id}", action.as_str());
    live::append(
        &mut tx,
        db,
        &reader.org_id,
        Some(&reader.user_id),
        LogKind::UserState,
        &subject,
    )
    .await?;
    tx.commit().await?;
    db.announce_change(&reader.org_id);
    view(db, reader, item_id).await?.ok_or(ItemError::NotFound)
}
