//! The badge counts of recent readers, kept per server instance. Counts change only when the
//! organisation's event log moves (every publish, status change, read, archive and role change
//! appends to it in the same transaction) or when one of its open actions falls due. A reader's
//! counts are therefore reused while the log's newest id and the reader's roles are those they
//! were made with, and the clock has not passed the org's next due date: one indexed lookup
//! instead of the counting queries. Several instances stay exact, because the log id is read from
//! the shared database, not from this instance's memory.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{Counts, Reader, counts_at, next_due_after};
use crate::db::{Db, DbError, now_ms};
use crate::live::LogPosition;

/// Readers remembered at most; past it the cache starts empty again (a bound, not an LRU:
/// counting anew costs a few queries).
const CAPACITY: usize = 50_000;

#[derive(Debug, Default)]
pub struct CountsCache {
    readers: Mutex<HashMap<String, Remembered>>,
}

#[derive(Debug)]
struct Remembered {
    log_id: i64,
    roles: Vec<String>,
    counts: Counts,
    /// The org's next due date when the counts were made: from then on, one more is overdue.
    valid_until: i64,
}

impl CountsCache {
    pub fn new() -> CountsCache {
        CountsCache::default()
    }

    /// The reader's counts (as `items::counts` makes them) for a reader holding `roles`.
    /// `seen` is where the org's log stood when the request began (read with its session);
    /// without it, the log's end is read here.
    pub async fn counts(
        &self,
        db: &Db,
        reader: &Reader,
        roles: &[String],
        seen: Option<LogPosition>,
    ) -> Result<Counts, DbError> {
        // Read before counting: a change committed in between makes the entry older than what
        // it holds, so it is only ever counted again, never served stale.
        let log_id = match seen {
            Some(LogPosition(id)) => id,
            None => crate::live::latest_id(db, &reader.org_id).await?,
        };
        let now = now_ms();
        if let Some(counts) = self.lookup(&reader.user_id, log_id, roles, now) {
            return Ok(counts);
        }
        let counts = counts_at(db, reader, roles, now).await?;
        let valid_until = next_due_after(db, &reader.org_id, now).await?.unwrap_or(i64::MAX);
        let mut readers = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        if readers.len() >= CAPACITY {
            readers.clear();
        }
        readers.insert(
            reader.user_id.clone(),
            Remembered {
                log_id,
                roles: roles.to_vec(),
                counts,
                valid_until,
            },
        );
        Ok(counts)
    }

    fn lookup(&self, user_id: &str, log_id: i64, roles: &[String], now: i64) -> Option<Counts> {
        let readers = self.readers.lock().unwrap_or_else(|e| e.into_inner());
        readers
            .get(user_id)
            .filter(|r| r.log_id == log_id && r.roles == roles && now < r.valid_until)
            .map(|r| r.counts)
    }
}
