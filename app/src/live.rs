//! Live updates (spec §5): every change is appended to a bounded per-organisation event log;
//! each signed-in user's stream turns new log entries into messages about *their* items.

use serde::{Deserialize, Serialize};

use crate::items::{Counts, ItemView};

/// Why an item left a user's view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Removal {
    Archived,
    Completed,
    Cancelled,
    RoleRevoked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Change {
    ItemAdded {
        item: ItemView,
    },
    ItemChanged {
        item: ItemView,
    },
    ItemRemoved {
        item_id: String,
        reason: Removal,
    },
    /// Too much happened (or the log no longer reaches back far enough): reload everything.
    Resync,
}

/// One message on a user's stream: what changed for them, and their counts after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveMessage {
    pub changes: Vec<Change>,
    pub counts: Counts,
}

#[cfg(feature = "ssr")]
pub use log::*;

#[cfg(feature = "ssr")]
mod log {
    use sqlx::{Any, Transaction};

    use crate::db::{Db, DbError, now_ms};

    /// What happened, as written to the event log.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum LogKind {
        /// A producer published an item.
        Published,
        /// A producer completed or cancelled an action.
        StatusChanged,
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
                LogKind::UserState => "user_state",
                LogKind::RolesChanged => "roles",
            }
        }

        fn parse(s: &str) -> Option<LogKind> {
            Some(match s {
                "published" => LogKind::Published,
                "status" => LogKind::StatusChanged,
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

    /// `append` for several entries at once (one statement). The organisations' locks are
    /// taken in one order, so two transactions appending for the same organisations cannot
    /// wait for each other.
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
        let postgres = backend == crate::db::Backend::Postgres;
        if postgres {
            for org_id in &orgs {
                sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1))::text")
                    .bind(format!("live:{org_id}"))
                    .execute(&mut **tx)
                    .await?;
            }
        }
        let sql = format!(
            "INSERT INTO live_events (org_id, user_id, kind, payload, at) VALUES {}",
            backend.placeholders(entries.len(), 5)
        );
        let now = now_ms();
        let mut query = sqlx::query(&sql);
        for e in entries {
            query = query
                .bind(e.org_id)
                .bind(e.user_id)
                .bind(e.kind.as_str())
                .bind(e.subject)
                .bind(now);
        }
        query.execute(&mut **tx).await?;
        if postgres {
            for org_id in orgs {
                // Delivered on commit, to every instance listening (see `Db::relay_changes_from_other_instances`).
                sqlx::query("SELECT pg_notify($1, $2)::text")
                    .bind(crate::db::CHANGES_CHANNEL)
                    .bind(org_id)
                    .execute(&mut **tx)
                    .await?;
            }
        }
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
}
