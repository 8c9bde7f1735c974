//! What recent readers were answered, kept per server instance: their badge counts and the list
//! pages they asked for. Both change only when the organisation's event log moves (every
//! publish, status change, read, archive and role change appends to it in the same transaction);
//! counts also change when one of the org's open actions falls due. An answer is therefore reused
//! while the log's newest id and the reader's roles are those it was made with (and, for counts,
//! the clock has not passed the org's next due date): no query beyond the one that reads the
//! session and the log's position together. Several instances stay exact, because the log id is
//! read from the shared database, not from this instance's memory.

use std::hash::Hash;
use std::sync::Arc;

use quick_cache::sync::Cache;

use super::{Counts, ItemError, ItemFilter, ItemPage, Reader, counts_at, list_for, next_due_after};
use crate::db::{Db, DbError, now_ms};
use crate::live::LogPosition;

/// Readers whose counts are remembered at most; past it the least used are forgotten
/// (counting anew costs a few queries).
const COUNTS_CAPACITY: usize = 50_000;
/// List pages remembered at most (a page of 50 items takes some 20 KB).
const PAGES_CAPACITY: usize = 2_000;

#[derive(Debug)]
pub struct ReadCache {
    counts: Answers<crate::orgs::UserId, Counts>,
    pages: Answers<PageKey, Arc<ItemPage>>,
}

impl Default for ReadCache {
    fn default() -> Self {
        ReadCache {
            counts: Answers::new(COUNTS_CAPACITY),
            pages: Answers::new(PAGES_CAPACITY),
        }
    }
}

/// A page is the reader's, in their language, for one filter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PageKey {
    user_id: crate::orgs::UserId,
    language: String,
    filter: ItemFilter,
}

impl ReadCache {
    pub fn new() -> ReadCache {
        ReadCache::default()
    }

    /// The reader's counts (as `items::counts` makes them) for a reader holding `roles`.
    /// `seen` is where the org's log stood when the request began (read with its session);
    /// without it, the log's end is read here.
    pub async fn counts(
        &self,
        db: &Db,
        reader: &Reader,
        roles: &[crate::orgs::Role],
        seen: Option<LogPosition>,
    ) -> Result<Counts, DbError> {
        let log_id = position(db, reader, seen).await?;
        let now = now_ms();
        if let Some(counts) = self.counts.get(&reader.user_id, log_id, roles, now) {
            return Ok(counts);
        }
        let counts = counts_at(db, reader, roles, now).await?;
        let valid_until = next_due_after(db, &reader.org_id, now).await?.unwrap_or(i64::MAX);
        self.counts
            .put(reader.user_id.clone(), log_id, roles, valid_until, counts);
        Ok(counts)
    }

    /// A page of the reader's items (as `items::list_for` makes it). Pages do not depend on
    /// the clock: due states are worked out by whoever shows the items.
    pub async fn page(
        &self,
        db: &Db,
        reader: &Reader,
        roles: &[crate::orgs::Role],
        filter: &ItemFilter,
        seen: Option<LogPosition>,
    ) -> Result<Arc<ItemPage>, ItemError> {
        let log_id = position(db, reader, seen).await?;
        let key = PageKey {
            user_id: reader.user_id.clone(),
            language: reader.language.clone(),
            filter: filter.clone(),
        };
        if let Some(page) = self.pages.get(&key, log_id, roles, now_ms()) {
            return Ok(page);
        }
        let page = Arc::new(list_for(db, reader, roles, filter).await?);
        self.pages.put(key, log_id, roles, i64::MAX, page.clone());
        Ok(page)
    }
}

/// Read before answering: a change committed in between makes the answer's entry older than
/// what it holds, so it is only ever made again, never served stale.
async fn position(db: &Db, reader: &Reader, seen: Option<LogPosition>) -> Result<i64, DbError> {
    match seen {
        Some(LogPosition(id)) => Ok(id),
        None => crate::live::latest_id(db, &reader.org_id).await,
    }
}

/// Answers by key, each with what it was made under, in a bounded concurrent cache.
struct Answers<K, V> {
    entries: Cache<K, Arc<Remembered<V>>>,
}

impl<K: Eq + Hash, V> std::fmt::Debug for Answers<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answers")
            .field("remembered", &self.entries.len())
            .finish()
    }
}

#[derive(Debug)]
struct Remembered<V> {
    log_id: i64,
    roles: Vec<crate::orgs::Role>,
    /// From this time (ms) on the answer is out of date even if nothing was written.
    valid_until: i64,
    value: V,
}

impl<K: Eq + Hash, V: Clone> Answers<K, V> {
    fn new(capacity: usize) -> Self {
        Answers {
            entries: Cache::new(capacity),
        }
    }

    fn get(&self, key: &K, log_id: i64, roles: &[crate::orgs::Role], now: i64) -> Option<V> {
        self.entries
            .get(key)
            .filter(|r| r.log_id == log_id && r.roles == roles && now < r.valid_until)
            .map(|r| r.value.clone())
    }

    fn put(&self, key: K, log_id: i64, roles: &[crate::orgs::Role], valid_until: i64, value: V) {
        self.entries.insert(
            key,
            Arc::new(Remembered {
                log_id,
                roles: roles.to_vec(),
                valid_until,
                value,
            }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(names: &[&str]) -> Vec<crate::orgs::Role> {
        names.iter().map(|r| crate::orgs::Role::from(*r)).collect()
    }

    #[test]
    fn an_answer_is_reused_only_under_what_it_was_made_with() {
        let answers = Answers::new(10);
        let developer = roles(&["developer"]);
        answers.put("u1".to_string(), 7, &developer, 1_000, 42);
        assert_eq!(answers.get(&"u1".to_string(), 7, &developer, 999), Some(42));
        // The log moved, the roles changed, the clock passed a due date, or another reader.
        assert_eq!(answers.get(&"u1".to_string(), 8, &developer, 999), None);
        assert_eq!(
            answers.get(&"u1".to_string(), 7, &roles(&["billing_admin"]), 999),
            None
        );
        assert_eq!(answers.get(&"u1".to_string(), 7, &developer, 1_000), None);
        assert_eq!(answers.get(&"u2".to_string(), 7, &developer, 999), None);
    }

    #[test]
    fn answers_stay_within_their_bound() {
        let answers = Answers::new(100);
        for n in 0..10_000 {
            answers.put(n, 1, &[], i64::MAX, n);
        }
        assert!(answers.entries.len() <= 110, "{}", answers.entries.len());
        // The newest answer is kept.
        assert_eq!(answers.get(&9_999, 1, &[], 0), Some(9_999));
    }
}
