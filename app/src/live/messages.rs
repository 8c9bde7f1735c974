//! The messages of a reader's live stream, built from the event log: per entry for the reader,
//! or, for a publish, from one copy of the item shared by every stream of the instance.

use std::borrow::Cow;

use serde_json::value::RawValue;
use sqlx::FromRow;

use super::{Change, LiveMessage, LogEntry, LogKind, Removal};
use crate::db::{Db, DbError, now_ms};
use crate::items::audience::reaches;
use crate::items::counts::untouched_facts;
use crate::items::list::view_any;
use crate::items::list::{VIEW_COLUMNS, ViewRow};
use crate::items::tally::{ItemFacts, Tally};
use crate::items::{Counts, ItemView, Reader, Status, counts, view};

/// A just-published item as every live stream of its org needs it: read once per instance
/// and shared, so a publish costs no query per connected stream.
#[derive(Debug, Clone)]
pub struct PublishedItem {
    row: PublishedRow,
    /// The users the item names directly.
    named: Vec<String>,
    /// The item's JSON as an untouched reader sees it, in each email language: serialized once
    /// for every stream of the instance instead of once per stream.
    shown: Vec<(&'static str, Box<RawValue>)>,
}

/// The item's row as a list shows it to a reader who has not touched it, and its role key.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
struct PublishedRow {
    #[sqlx(flatten)]
    view: ViewRow,
    audience_roles: String,
}

impl PublishedItem {
    /// Whether the item reaches this user, holding these roles, in its org.
    pub fn reaches(&self, user_id: &str, roles: &[crate::orgs::Role]) -> bool {
        reaches(&self.row.audience_roles, &self.named, user_id, roles)
    }

    /// The item as a reader who has not touched it yet sees it.
    pub fn view(&self, language: &str) -> ItemView {
        self.row.view.clone().into_view(language)
    }

    /// `view(language)` as JSON; shared unless the language is not an email language.
    fn view_json(&self, language: &str) -> Cow<'_, RawValue> {
        match self.shown.iter().find(|(l, _)| *l == language) {
            Some((_, json)) => Cow::Borrowed(json),
            None => Cow::Owned(to_raw(&self.view(language))),
        }
    }

    /// What the item adds to the counts of a reader it reaches.
    pub fn facts(&self, now: i64) -> ItemFacts {
        let v = &self.row.view;
        untouched_facts(&v.category, &v.status, v.due_at, now)
    }
}

/// Reads a published item for the live streams (`None` if it no longer exists).
pub async fn published_item(db: &Db, item_id: &str) -> Result<Option<PublishedItem>, DbError> {
    // The join matches no row (every state has a user): the state of a reader who has not
    // touched the item, typed as the list query's.
    let row: Option<PublishedRow> = sqlx::query_as(&format!(
        "SELECT {VIEW_COLUMNS}, i.created_at AS sort_key, i.audience_roles FROM items i \
         LEFT JOIN item_states s ON s.item_id = i.id AND s.user_id IS NULL WHERE i.id = $1"
    ))
    .bind(item_id)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let named: Vec<(String,)> = sqlx::query_as("SELECT user_id FROM item_audience_users WHERE item_id = $1")
        .bind(item_id)
        .fetch_all(db.pool())
        .await?;
    let mut item = PublishedItem {
        row,
        named: named.into_iter().map(|n| n.0).collect(),
        shown: Vec::new(),
    };
    item.shown = crate::preferences::EMAIL_LANGUAGES
        .iter()
        .map(|language| (*language, to_raw(&item.view(language))))
        .collect();
    Ok(Some(item))
}

fn to_raw(view: &ItemView) -> Box<RawValue> {
    serde_json::value::to_raw_value(view).expect("an item view is plain data")
}

/// The reader's stream message for a published item, from the shared copy and the reader's
/// last counts, with no query: their new counts and the message as JSON (made from the item's
/// shared JSON). `None` when the item does not reach them or is no longer open.
pub fn published_message_json(
    item: &PublishedItem,
    reader: &Reader,
    roles: &[crate::orgs::Role],
    counts: Counts,
) -> Option<(Counts, String)> {
    /// `LiveMessage` with one `Change::ItemAdded` whose item is already JSON.
    #[derive(serde::Serialize)]
    struct Added<'a> {
        changes: [AddedChange<'a>; 1],
        counts: Counts,
    }
    #[derive(serde::Serialize)]
    struct AddedChange<'a> {
        r#type: &'static str,
        item: &'a RawValue,
    }
    if !item.reaches(&reader.user_id, roles) || item.row.view.status != Status::Open.as_str() {
        return None;
    }
    let mut tally = Tally::from(counts);
    tally.add_item(item.facts(now_ms()), 1);
    let counts = tally.counts();
    let view = item.view_json(&reader.language);
    let message = Added {
        changes: [AddedChange {
            r#type: "item_added",
            item: &view,
        }],
        counts,
    };
    Some((counts, serde_json::to_string(&message).unwrap_or_default()))
}

/// More item changes than this in one role change become a single `Resync`.
const MAX_CHANGES_PER_MESSAGE: usize = 50;

/// What a log entry means for the reader's stream, or `None` when it does not concern them.
pub async fn live_message(
    db: &Db,
    reader: &Reader,
    entry: &LogEntry,
) -> Result<Option<LiveMessage>, DbError> {
    if entry.org_id != reader.org_id || entry.user_id.as_deref().is_some_and(|u| u != reader.user_id) {
        return Ok(None);
    }
    let changes = match entry.kind {
        LogKind::Published => match view(db, reader, &entry.subject).await? {
            Some(item) if item.status == Status::Open && !item.archived => vec![Change::ItemAdded { item }],
            _ => vec![],
        },
        LogKind::StatusChanged => match view_any(db, reader, &entry.subject).await? {
            Some(item) => {
                let removed = |reason| {
                    vec![Change::ItemRemoved {
                        item_id: item.id.clone(),
                        reason,
                    }]
                };
                match (item.status, item.archived) {
                    // Expired leaves the Archived view too.
                    (Status::Expired, _) => removed(Removal::Expired),
                    (_, true) => vec![],
                    (Status::Open, false) => vec![Change::ItemChanged { item }],
                    (Status::Completed, false) => removed(Removal::Completed),
                    (Status::Cancelled, false) => removed(Removal::Cancelled),
                }
            }
            None => vec![],
        },
        // A changed text or due date, wherever the reader holds the item (archived too).
        LogKind::Updated => match view(db, reader, &entry.subject).await? {
            Some(item) => vec![Change::ItemChanged { item }],
            None => vec![],
        },
        LogKind::UserState => {
            let (action, item_id) = entry
                .subject
                .split_once(':')
                .unwrap_or(("", entry.subject.as_str()));
            match (action, view(db, reader, item_id).await?) {
                ("archived", Some(_)) => vec![Change::ItemRemoved {
                    item_id: item_id.into(),
                    reason: Removal::Archived,
                }],
                ("unarchived", Some(item)) => vec![Change::ItemAdded { item }],
                (_, Some(item)) => vec![Change::ItemChanged { item }],
                (_, None) => vec![],
            }
        }
        LogKind::RolesChanged => role_changes(db, reader, &entry.subject).await?,
    };
    if changes.is_empty() {
        return Ok(None);
    }
    Ok(Some(LiveMessage {
        changes,
        counts: counts(db, reader).await?,
    }))
}

/// The items a role grant brought in, or a revoke took away, as changes.
async fn role_changes(db: &Db, reader: &Reader, subject: &str) -> Result<Vec<Change>, DbError> {
    let Some((direction, role)) = subject.split_once(':') else {
        return Ok(vec![]);
    };
    let ids: Vec<(String,)> = sqlx::query_as(
        "SELECT i.id FROM items i JOIN item_audience_roles ar ON ar.item_id = i.id \
         WHERE i.org_id = $1 AND ar.role = $2 AND i.status = 'open' AND i.expired_at IS NULL ORDER BY i.id",
    )
    .bind(&reader.org_id)
    .bind(role)
    .fetch_all(db.pool())
    .await?;
    let mut changes = Vec::new();
    for (id,) in ids {
        let visible = view(db, reader, &id).await?;
        match (direction, visible) {
            ("grant", Some(item)) if !item.archived => changes.push(Change::ItemAdded { item }),
            ("revoke", None) => changes.push(Change::ItemRemoved {
                item_id: id.into(),
                reason: Removal::RoleRevoked,
            }),
            _ => {}
        }
        if changes.len() > MAX_CHANGES_PER_MESSAGE {
            return Ok(vec![Change::Resync]);
        }
    }
    Ok(changes)
}
