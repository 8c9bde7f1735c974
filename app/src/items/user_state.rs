//! What a reader does to an item of theirs: read, archive, unarchive, snooze; one item or a
//! whole list.

use super::{ItemError, ItemFilter, ItemView, Reader, view, visit_list};
use crate::db::{Db, now_ms};
use crate::live::{self, LogKind, NewEntry};

/// What a user did to an item of theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserAction {
    Read,
    Archive,
    Unarchive,
    /// Out of the bell, the lists and the counts until `until` (ms), then back: archived for
    /// the reader until the lifecycle wakes it (`lifecycle::wake_snoozed`).
    Snooze {
        until: i64,
    },
}

/// How far ahead an item can be snoozed.
pub const MAX_SNOOZE_MS: i64 = 365 * super::DAY_MS;

impl UserAction {
    /// The log subject's verb: what the reader's other pages do with the item.
    fn as_str(self) -> &'static str {
        match self {
            UserAction::Read => "read",
            UserAction::Archive | UserAction::Snooze { .. } => "archived",
            UserAction::Unarchive => "unarchived",
        }
    }
}

/// Stamps `columns` ($3, $4, …) on the reader's ($1) state of an item ($2), creating the state
/// with the item's facts the counts read (category, role key, due date, whether still open);
/// `on_conflict` sets what an existing state takes.
fn stamp_state(columns: &[&str], on_conflict: &str) -> String {
    let values: Vec<String> = (0..columns.len()).map(|i| format!("${}", i + 3)).collect();
    format!(
        "INSERT INTO item_states (user_id, item_id, {}, category, audience_roles, due_at, item_open) \
         SELECT $1, i.id, {}, i.category, i.audience_roles, i.due_at, \
           CAST(CASE WHEN i.status = 'open' AND i.expired_at IS NULL THEN 1 ELSE 0 END AS BIGINT) FROM items i WHERE i.id = $2 \
         ON CONFLICT (user_id, item_id) DO UPDATE SET {on_conflict}",
        columns.join(", "),
        values.join(", "),
    )
}

/// The statement that records `action` for a reader ($1) and an item ($2), and the values it
/// takes after those, at `now`.
fn statement(action: UserAction, now: i64) -> (String, Vec<i64>) {
    match action {
        UserAction::Read => (
            stamp_state(&["read_at"], "read_at = COALESCE(item_states.read_at, excluded.read_at)"),
            vec![now],
        ),
        // Archived for good: a snooze it had is over.
        UserAction::Archive => (
            stamp_state(&["archived_at"], "archived_at = excluded.archived_at, snoozed_until = NULL"),
            vec![now],
        ),
        UserAction::Snooze { until } => (
            stamp_state(
                &["archived_at", "snoozed_until"],
                "archived_at = excluded.archived_at, snoozed_until = excluded.snoozed_until",
            ),
            vec![now, until],
        ),
        UserAction::Unarchive => (
            "UPDATE item_states SET archived_at = NULL, snoozed_until = NULL WHERE user_id = $1 AND item_id = $2"
                .to_string(),
            vec![],
        ),
    }
}

/// Marks an item read, archived, unarchived or snoozed for the reader. Refuses items that do
/// not reach them (as not found), archiving or snoozing a mandatory action, and a snooze that
/// does not end in the coming year.
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
        UserAction::Archive if item.archived && item.snoozed_until.is_none() => return Ok(item),
        UserAction::Snooze { .. } if !item.can_be_archived() => {
            return Err(ItemError::MandatoryCannotBeSnoozed);
        }
        UserAction::Snooze { until } if until <= now || until > now + MAX_SNOOZE_MS => {
            return Err(super::payload::FieldError {
                field: "until".into(),
                message: "a snooze ends in the coming year".into(),
            }
            .into());
        }
        UserAction::Unarchive if !item.archived => return Ok(item),
        _ => {}
    }
    let mut tx = db.begin_write().await?;
    let (sql, values) = statement(action, now);
    let mut query = sqlx::query(&sql).bind(&reader.user_id).bind(item_id);
    for value in values {
        query = query.bind(value);
    }
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

/// Most items one "Mark all read" or "Archive all" takes; the rest stay for the next click.
pub const MAX_BULK: usize = 1000;

/// Live entries written per statement by a bulk action.
const ENTRIES_PER_APPEND: usize = 500;

/// Marks read (or archives) every item of a list, as `filter` selects it for the reader, up to
/// `MAX_BULK`, in one transaction. Items it does not apply to are left alone: mandatory
/// actions are never archived, and what is already read or archived stays as it was. Each
/// changed item goes to the reader's other pages on the live stream. Returns how many changed.
pub async fn apply_to_list(
    db: &Db,
    reader: &Reader,
    roles: &[crate::orgs::Role],
    filter: &ItemFilter,
    action: UserAction,
) -> Result<usize, ItemError> {
    if !matches!(action, UserAction::Read | UserAction::Archive) {
        return Err(ItemError::Invalid(super::payload::FieldError {
            field: "action".into(),
            message: "only reading and archiving apply to a whole list".into(),
        }));
    }
    let mut chosen: Vec<ItemView> = Vec::new();
    visit_list(db, reader, roles, filter, |item| {
        let applies = match action {
            UserAction::Read => !item.read,
            _ => item.can_be_archived() && !item.archived,
        };
        if applies {
            chosen.push(item);
        }
        chosen.len() < MAX_BULK
    })
    .await?;
    if chosen.is_empty() {
        return Ok(0);
    }
    let (sql, values) = statement(action, now_ms());
    let mut tx = db.begin_write().await?;
    for item in &chosen {
        let mut query = sqlx::query(&sql).bind(&reader.user_id).bind(item.id.as_str());
        for value in &values {
            query = query.bind(*value);
        }
        query.execute(&mut *tx).await?;
    }
    let subjects: Vec<String> = chosen
        .iter()
        .map(|item| format!("{}:{}", action.as_str(), item.id))
        .collect();
    for part in subjects.chunks(ENTRIES_PER_APPEND) {
        let entries: Vec<NewEntry<'_>> = part
            .iter()
            .map(|subject| NewEntry {
                org_id: &reader.org_id,
                user_id: Some(&reader.user_id),
                kind: LogKind::UserState,
                subject,
            })
            .collect();
        live::append_all(&mut tx, db, &entries).await?;
    }
    tx.commit().await?;
    db.announce_change(&reader.org_id);
    Ok(chosen.len())
}
