//! Live updates (spec §5): every change is appended to a bounded per-organisation event log;
//! each signed-in user's stream turns new log entries into messages about *their* items.

use serde::{Deserialize, Serialize};

use crate::items::{Counts, ItemFilter, ItemPage, ItemView};

/// Why an item left a user's view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Removal {
    Archived,
    Completed,
    Cancelled,
    RoleRevoked,
    /// Its producer's expiry passed.
    Expired,
}

/// One change on the stream, an object with its `type` beside its details. It is read through
/// `ChangeWire`, a plain struct, for the reason `error::Refusal` is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", try_from = "ChangeWire")]
pub enum Change {
    ItemAdded {
        item: ItemView,
    },
    ItemChanged {
        item: ItemView,
    },
    ItemRemoved {
        item_id: crate::items::ItemId,
        reason: Removal,
    },
    /// Too much happened (or the log no longer reaches back far enough): reload everything.
    Resync,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum ChangeType {
    ItemAdded,
    ItemChanged,
    ItemRemoved,
    Resync,
}

/// A `Change` as it is read: its type and every detail any change has.
#[derive(Deserialize)]
struct ChangeWire {
    r#type: ChangeType,
    item: Option<ItemView>,
    item_id: Option<crate::items::ItemId>,
    reason: Option<Removal>,
}

impl TryFrom<ChangeWire> for Change {
    type Error = &'static str;

    fn try_from(wire: ChangeWire) -> Result<Change, &'static str> {
        Ok(match wire.r#type {
            ChangeType::ItemAdded => Change::ItemAdded {
                item: wire.item.ok_or("missing field `item`")?,
            },
            ChangeType::ItemChanged => Change::ItemChanged {
                item: wire.item.ok_or("missing field `item`")?,
            },
            ChangeType::ItemRemoved => Change::ItemRemoved {
                item_id: wire.item_id.ok_or("missing field `item_id`")?,
                reason: wire.reason.ok_or("missing field `reason`")?,
            },
            ChangeType::Resync => Change::Resync,
        })
    }
}

/// One message on a user's stream: what changed for them, and their counts after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveMessage {
    pub changes: Vec<Change>,
    pub counts: Counts,
}

/// What following a change did to a list the browser holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Followed {
    Unchanged,
    Changed,
    /// The change cannot be followed from what the list holds (a resync, an item archived
    /// elsewhere that the Archived view has never seen, a page emptied while more exist):
    /// fetch the list again.
    Refetch,
}

/// Keeps a loaded page of a list current with one change, by the list's own rules
/// (`ItemFilter::admits` and `ItemFilter::order_of`), so the browser never has to ask the
/// server for the list again to show an added, changed or removed item.
///
/// An item is placed only where the page can tell it belongs: between its first and last item,
/// before its first when it is the list's first page, after its last when no page follows.
/// A page grows rather than drop its last item, so its next-page cursor stays valid.
pub fn follow(items: &mut Vec<ItemView>, more: bool, filter: &ItemFilter, change: &Change) -> Followed {
    match change {
        Change::Resync => Followed::Refetch,
        Change::ItemRemoved { item_id, reason } => {
            let before = items.len();
            items.retain(|i| &i.id != item_id);
            if items.len() == before {
                // Archived elsewhere: it belongs in the Archived view, but the change does not
                // carry it.
                match filter.archived && *reason == Removal::Archived {
                    true => Followed::Refetch,
                    false => Followed::Unchanged,
                }
            } else if items.is_empty() && more {
                Followed::Refetch
            } else {
                Followed::Changed
            }
        }
        // Whether an item matches a search takes the server's folding of its text: the list
        // asks again (only a reader who is searching pays for that).
        Change::ItemAdded { .. } | Change::ItemChanged { .. } if filter.search_text().is_some() => {
            Followed::Refetch
        }
        Change::ItemAdded { item } | Change::ItemChanged { item } => {
            let had = items.iter().position(|i| i.id == item.id);
            if let Some(at) = had {
                items.remove(at);
            }
            let at = items.partition_point(|i| filter.order_of(i, item).is_lt());
            let first_page = filter.cursor.is_none();
            let fits = had == Some(at) || ((at > 0 || first_page) && (at < items.len() || !more));
            if filter.admits(item) && fits {
                items.insert(at, item.clone());
                Followed::Changed
            } else if had.is_some() {
                match items.is_empty() && more {
                    true => Followed::Refetch,
                    false => Followed::Changed,
                }
            } else {
                Followed::Unchanged
            }
        }
    }
}

impl ItemPage {
    /// `follow` for a page of a list.
    pub fn follow(&mut self, filter: &ItemFilter, change: &Change) -> Followed {
        follow(&mut self.items, self.next_cursor.is_some(), filter, change)
    }
}

#[cfg(feature = "ssr")]
pub use log::*;
#[cfg(feature = "ssr")]
mod messages;
#[cfg(feature = "ssr")]
pub use messages::*;

#[cfg(feature = "ssr")]
mod log {
    use sqlx::{Any, Transaction};

    use crate::db::{Db, DbError, now_ms};

    /// What happened, as written to the event log.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum LogKind {
        /// A producer published an item.
        Published,
        /// A producer completed or cancelled an action, or the item expired.
        StatusChanged,
        /// A producer changed an item's text, due date or expiry.
        Updated,
        /// A user read, archived or unarchived an item (only that user's stream cares).
        UserState,
        /// A user's roles changed (only that user's stream cares).
        RolesChanged,
    }

    impl LogKind {
        fn as_str(&self) -> &'static str {
            match self {
                LogKind::Published => "published",
                LogKind::StatusChanged => "status",
                LogKind::Updated => "updated",
                LogKind::UserState => "user_state",
                LogKind::RolesChanged => "roles",
            }
        }

        fn parse(s: &str) -> Option<LogKind> {
            Some(match s {
                "published" => LogKind::Published,
                "status" => LogKind::StatusChanged,
                "updated" => LogKind::Updated,
                "user_state" => LogKind::UserState,
                "roles" => LogKind::RolesChanged,
                _ => return None,
            })
        }
    }

    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct LogEntry {
        pub id: i64,
        pub org_id: String,
        /// Set when the entry concerns one user only.
        pub user_id: Option<String>,
        pub kind: LogKind,
        /// The item concerned, or for role changes the role.
        pub subject: String,
    }

    /// The log keeps this many entries per organisation (older ones are pruned).
    pub const LOG_KEEP_PER_ORG: i64 = 10_000;

    /// One entry to append to the log.
    pub struct NewEntry<'a> {
        pub org_id: &'a str,
        /// Set when the entry concerns one user only.
        pub user_id: Option<&'a str>,
        pub kind: LogKind,
        pub subject: &'a str,
    }

    /// Appends to the log inside the caller's transaction. On PostgreSQL an advisory lock per
    /// organisation makes ids commit in order, so a stream never skips one that commits late.
    pub async fn append(
        tx: &mut Transaction<'_, Any>,
        db: &Db,
        org_id: &str,
        user_id: Option<&str>,
        kind: LogKind,
        subject: &str,
    ) -> Result<(), DbError> {
        let entry = NewEntry {
            org_id,
            user_id,
            kind,
            subject,
        };
        append_all(tx, db, std::slice::from_ref(&entry)).await
    }

    /// `append` for several entries at once. The organisations' locks are taken in one order,
    /// so two transactions appending for the same organisations cannot wait for each other.
    pub async fn append_all(
        tx: &mut Transaction<'_, Any>,
        db: &Db,
        entries: &[NewEntry<'_>],
    ) -> Result<(), DbError> {
        if entries.is_empty() {
            return Ok(());
        }
        let orgs: std::collections::BTreeSet<&str> = entries.iter().map(|e| e.org_id).collect();
        let backend = db.backend();
        let append = backend.append_live_events(orgs.len(), entries.len());
        let mut query = sqlx::query(&append.sql);
        if append.binds_orgs_first {
            for org_id in &orgs {
                query = query.bind(*org_id);
            }
        }
        let now = now_ms();
        for e in entries {
            query = query
                .bind(e.org_id)
                .bind(e.user_id)
                .bind(e.kind.as_str())
                .bind(e.subject)
                .bind(now);
        }
        query.execute(&mut **tx).await?;
        Ok(())
    }

    type EntryRow = (i64, String, Option<String>, String, String);

    fn entries(rows: Vec<EntryRow>) -> Vec<LogEntry> {
        rows.into_iter()
            .filter_map(|(id, org_id, user_id, kind, subject)| {
                Some(LogEntry {
                    id,
                    org_id,
                    user_id,
                    kind: LogKind::parse(&kind)?,
                    subject,
                })
            })
            .collect()
    }

    /// Entries after `after_id` that may concern `user_id`, oldest first.
    pub async fn entries_after(
        db: &Db,
        org_id: &str,
        user_id: &str,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<LogEntry>, DbError> {
        let rows: Vec<EntryRow> = sqlx::query_as(
            "SELECT id, org_id, user_id, kind, payload FROM live_events \
             WHERE org_id = $1 AND id > $2 AND (user_id IS NULL OR user_id = $3) ORDER BY id LIMIT $4",
        )
        .bind(org_id)
        .bind(after_id)
        .bind(user_id)
        .bind(limit)
        .fetch_all(db.pool())
        .await?;
        Ok(entries(rows))
    }

    /// Every entry of the organisation after `after_id`, oldest first (for the shared reader
    /// of an instance, which hands each stream what concerns it).
    pub async fn org_entries_after(
        db: &Db,
        org_id: &str,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<LogEntry>, DbError> {
        let rows: Vec<EntryRow> = sqlx::query_as(
            "SELECT id, org_id, user_id, kind, payload FROM live_events \
             WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(org_id)
        .bind(after_id)
        .bind(limit)
        .fetch_all(db.pool())
        .await?;
        Ok(entries(rows))
    }

    /// Where an organisation's event log stood (its newest entry id) when a request's session
    /// was read. Whatever was computed as of this id or later is current for that request, so
    /// the read cache (`items::ReadCache`) uses it instead of reading the log's end again.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct LogPosition(pub i64);

    /// The newest entry id of the organisation (0 when the log is empty).
    pub async fn latest_id(db: &Db, org_id: &str) -> Result<i64, DbError> {
        let (id,): (Option<i64>,) = sqlx::query_as("SELECT MAX(id) FROM live_events WHERE org_id = $1")
            .bind(org_id)
            .fetch_one(db.pool())
            .await?;
        Ok(id.unwrap_or(0))
    }

    /// The oldest entry id still kept for the organisation, if any.
    pub async fn oldest_id(db: &Db, org_id: &str) -> Result<Option<i64>, DbError> {
        let (id,): (Option<i64>,) = sqlx::query_as("SELECT MIN(id) FROM live_events WHERE org_id = $1")
            .bind(org_id)
            .fetch_one(db.pool())
            .await?;
        Ok(id)
    }

    /// Drops all but the newest `LOG_KEEP_PER_ORG` entries of every organisation.
    pub async fn prune(db: &Db) -> Result<u64, DbError> {
        let orgs: Vec<(String,)> = sqlx::query_as("SELECT DISTINCT org_id FROM live_events")
            .fetch_all(db.pool())
            .await?;
        let mut removed = 0;
        for (org_id,) in orgs {
            let done = sqlx::query(
                "DELETE FROM live_events WHERE org_id = $1 AND id <= \
                 (SELECT id FROM live_events WHERE org_id = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)",
            )
            .bind(&org_id)
            .bind(LOG_KEEP_PER_ORG)
            .execute(db.pool())
            .await?;
            removed += done.rows_affected();
        }
        Ok(removed)
    }

    #[cfg(test)]
    mod tests {
        use std::collections::BTreeSet;
        use std::time::Duration;

        use super::*;
        use crate::db::scratch::ScratchDb;
        use crate::db::{Backend, CHANGES_CHANNEL};

        fn published<'a>(org_id: &'a str, subject: &'a str) -> NewEntry<'a> {
            NewEntry {
                org_id,
                user_id: None,
                kind: LogKind::Published,
                subject,
            }
        }

        /// A publish batch spans organisations: the other instances hear of each of them.
        #[tokio::test]
        async fn a_batch_for_several_organisations_notifies_each() {
            let scratch = ScratchDb::new(Backend::Postgres).await;
            let db = &scratch.db;
            let mut listener = sqlx::postgres::PgListener::connect(&scratch.url).await.unwrap();
            listener.listen(CHANGES_CHANNEL).await.unwrap();
            let batch = [
                published("org-b", "1"),
                published("org-a", "2"),
                published("org-b", "3"),
                published("org-c", "4"),
            ];
            let mut tx = db.begin_write().await.unwrap();
            append_all(&mut tx, db, &batch).await.unwrap();
            tx.commit().await.unwrap();
            let mut heard = BTreeSet::new();
            while heard.len() < 3 {
                let note = tokio::time::timeout(Duration::from_secs(10), listener.recv())
                    .await
                    .expect("a notification for each organisation")
                    .unwrap();
                heard.insert(note.payload().to_string());
            }
            assert_eq!(
                heard,
                BTreeSet::from(["org-a", "org-b", "org-c"].map(String::from))
            );
            let org_b: Vec<String> = org_entries_after(db, "org-b", 0, 10)
                .await
                .unwrap()
                .into_iter()
                .map(|e| e.subject)
                .collect();
            assert_eq!(org_b, ["1", "3"]);
        }

        /// Transactions appending for the same organisations, listed in opposite orders, take
        /// the organisations' locks in one order, so neither waits for the other in a cycle
        /// (PostgreSQL would end one with "deadlock detected").
        #[tokio::test]
        async fn appends_for_the_same_organisations_never_deadlock() {
            let scratch = ScratchDb::new(Backend::Postgres).await;
            let orgs = ["o1", "o2", "o3", "o4", "o5", "o6", "o7", "o8"];
            let rounds = 20;
            let mut appends = Vec::new();
            for _ in 0..rounds {
                for reversed in [false, true] {
                    let db = scratch.db.clone();
                    appends.push(tokio::spawn(async move {
                        let mut listed = orgs.to_vec();
                        if reversed {
                            listed.reverse();
                        }
                        let entries: Vec<NewEntry> = listed.iter().map(|o| published(o, "x")).collect();
                        let mut tx = db.begin_write().await?;
                        append_all(&mut tx, &db, &entries).await?;
                        tx.commit().await?;
                        Ok::<_, DbError>(())
                    }));
                }
            }
            for append in appends {
                append.await.unwrap().expect("every append commits");
            }
            let written = org_entries_after(&scratch.db, "o5", 0, 1000).await.unwrap();
            assert_eq!(written.len(), 2 * rounds);
        }
    }
}

#[cfg(test)]
mod follow_tests {
    use super::*;
    use crate::items::{Category, Kind, Order, Status};

    fn item(id: &str, category: Category, created_at: i64, due_at: Option<i64>) -> ItemView {
        ItemView {
            id: id.into(),
            kind: category.kind(),
            category,
            workspace: "billing".into(),
            title: id.into(),
            body: String::new(),
            link: None,
            due_at,
            status: Status::Open,
            created_at,
            read: false,
            archived: false,
            snoozed_until: None,
        }
    }

    fn notes(ids_newest_first: &[(&str, i64)]) -> Vec<ItemView> {
        ids_newest_first
            .iter()
            .map(|(id, at)| item(id, Category::Transactional, *at, None))
            .collect()
    }

    fn ids(items: &[ItemView]) -> Vec<&str> {
        items.iter().map(|i| i.id.as_str()).collect()
    }

    fn notifications() -> ItemFilter {
        ItemFilter {
            kind: Some(Kind::Notification),
            ..Default::default()
        }
    }

    /// The stream's wire form is a contract (README, the API tests): each change reads back as
    /// it was written, and a change without its details is refused, not guessed.
    #[test]
    fn changes_travel_with_their_type_beside_their_details() {
        let changes = [
            Change::ItemAdded {
                item: item("a", Category::Mandatory, 10, Some(20)),
            },
            Change::ItemChanged {
                item: item("b", Category::Promotional, 10, None),
            },
            Change::ItemRemoved {
                item_id: "c".into(),
                reason: Removal::RoleRevoked,
            },
            Change::Resync,
        ];
        for change in changes {
            let json = serde_json::to_value(&change).unwrap();
            assert_eq!(serde_json::from_value::<Change>(json).unwrap(), change);
        }
        let removed = serde_json::json!({ "type": "item_removed", "item_id": "c", "reason": "expired" });
        assert_eq!(
            serde_json::to_value(Change::ItemRemoved {
                item_id: "c".into(),
                reason: Removal::Expired
            })
            .unwrap(),
            removed
        );
        assert_eq!(
            serde_json::to_value(Change::Resync).unwrap(),
            serde_json::json!({ "type": "resync" })
        );
        for broken in [
            serde_json::json!({ "type": "item_added" }),
            serde_json::json!({ "type": "item_removed", "item_id": "c" }),
            serde_json::json!({ "type": "item_moved", "item_id": "c" }),
            serde_json::json!({ "item_id": "c", "reason": "expired" }),
        ] {
            assert!(
                serde_json::from_value::<Change>(broken.clone()).is_err(),
                "{broken}"
            );
        }
    }

    #[test]
    fn an_added_item_takes_its_place_in_the_order() {
        let filter = notifications();
        let mut items = notes(&[("c", 30), ("a", 10)]);
        let added = Change::ItemAdded {
            item: item("b", Category::Promotional, 20, None),
        };
        assert_eq!(follow(&mut items, false, &filter, &added), Followed::Changed);
        assert_eq!(ids(&items), ["c", "b", "a"]);
        let newest = Change::ItemAdded {
            item: item("d", Category::Promotional, 40, None),
        };
        follow(&mut items, false, &filter, &newest);
        assert_eq!(ids(&items), ["d", "c", "b", "a"]);
    }

    #[test]
    fn an_item_outside_the_filter_or_the_page_is_left_out() {
        let filter = ItemFilter {
            category: Some(Category::Transactional),
            ..notifications()
        };
        let mut items = notes(&[("c", 30), ("b", 20)]);
        let other_category = Change::ItemAdded {
            item: item("x", Category::Promotional, 25, None),
        };
        assert_eq!(
            follow(&mut items, true, &filter, &other_category),
            Followed::Unchanged
        );
        // Older than the page's last item while a next page exists: it is on a later page.
        let older = Change::ItemAdded {
            item: item("a", Category::Transactional, 10, None),
        };
        assert_eq!(follow(&mut items, true, &filter, &older), Followed::Unchanged);
        // The same with no next page: it ends the list.
        assert_eq!(follow(&mut items, false, &filter, &older), Followed::Changed);
        assert_eq!(ids(&items), ["c", "b", "a"]);
        // A later page takes nothing newer than its first item.
        let second_page = ItemFilter {
            cursor: Some("cursor".into()),
            ..filter
        };
        let newest = Change::ItemAdded {
            item: item("d", Category::Transactional, 40, None),
        };
        assert_eq!(
            follow(&mut items, false, &second_page, &newest),
            Followed::Unchanged
        );
    }

    #[test]
    fn a_changed_item_is_replaced_in_place_or_leaves_when_it_no_longer_belongs() {
        let filter = notifications();
        let mut items = notes(&[("c", 30), ("b", 20), ("a", 10)]);
        let mut read = items[2].clone();
        read.read = true;
        assert_eq!(
            follow(&mut items, true, &filter, &Change::ItemChanged { item: read }),
            Followed::Changed,
            "the last item of a page with more stays where it was"
        );
        assert!(items[2].read);
        let mut archived = items[1].clone();
        archived.archived = true;
        follow(
            &mut items,
            false,
            &filter,
            &Change::ItemChanged { item: archived },
        );
        assert_eq!(ids(&items), ["c", "a"]);
    }

    #[test]
    fn actions_are_ordered_by_due_date() {
        let filter = ItemFilter {
            kind: Some(Kind::Action),
            order: Order::DueDate,
            ..Default::default()
        };
        let mut items = vec![
            item("soon", Category::Mandatory, 1, Some(100)),
            item("later", Category::Recommended, 2, Some(300)),
        ];
        let between = Change::ItemAdded {
            item: item("mid", Category::Recommended, 3, Some(200)),
        };
        follow(&mut items, false, &filter, &between);
        assert_eq!(ids(&items), ["soon", "mid", "later"]);
        let mut completed = items[0].clone();
        completed.status = Status::Completed;
        follow(
            &mut items,
            false,
            &filter,
            &Change::ItemChanged { item: completed },
        );
        assert_eq!(ids(&items), ["mid", "later"], "closed actions leave open lists");
    }

    #[test]
    fn removals_and_what_needs_a_fetch() {
        let filter = notifications();
        let mut items = notes(&[("b", 20), ("a", 10)]);
        let removed = |id: &str, reason| Change::ItemRemoved {
            item_id: id.into(),
            reason,
        };
        assert_eq!(
            follow(&mut items, true, &filter, &removed("b", Removal::Archived)),
            Followed::Changed
        );
        assert_eq!(
            follow(&mut items, true, &filter, &removed("zz", Removal::Archived)),
            Followed::Unchanged
        );
        assert_eq!(
            follow(&mut items, true, &filter, &removed("a", Removal::RoleRevoked)),
            Followed::Refetch,
            "a page emptied while more exist"
        );
        let archived_view = ItemFilter {
            archived: true,
            ..Default::default()
        };
        assert_eq!(
            follow(
                &mut Vec::new(),
                false,
                &archived_view,
                &removed("c", Removal::Archived)
            ),
            Followed::Refetch,
            "the Archived view has not seen an item archived elsewhere"
        );
        assert_eq!(
            follow(&mut Vec::new(), false, &filter, &Change::Resync),
            Followed::Refetch
        );
    }
}
