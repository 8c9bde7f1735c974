//! The badge and overview counts of a reader, from the org's per-role-key totals (see
//! `tally`), without a scan of the items.

use sqlx::FromRow;

use super::audience::key_reaches;
use super::tally::{ItemFacts, Tally};
use super::{Category, Counts, Reader, Status};
use crate::db::{Db, DbError, now_ms};

/// An item as the counts see it: its role key and the reader's state of it.
#[derive(FromRow)]
struct FactsRow {
    category: String,
    status: String,
    due_at: Option<i64>,
    audience_roles: String,
    read_at: Option<i64>,
    archived_at: Option<i64>,
}

impl FactsRow {
    fn facts(&self, now: i64) -> ItemFacts {
        ItemFacts {
            read: self.read_at.is_some(),
            archived: self.archived_at.is_some(),
            ..untouched_facts(&self.category, &self.status, self.due_at, now)
        }
    }
}

/// An item's facts, as stored, for a reader who has not touched it.
pub(crate) fn untouched_facts(category: &str, status: &str, due_at: Option<i64>, now: i64) -> ItemFacts {
    ItemFacts {
        category: Category::parse(category).unwrap_or(Category::Transactional),
        open: status == Status::Open.as_str(),
        overdue: due_at.is_some_and(|d| d < now),
        read: false,
        archived: false,
    }
}

/// The reader's read or archived open items that share a role key, category and state.
#[derive(FromRow)]
struct TouchedGroup {
    audience_roles: String,
    category: String,
    was_read: i64,
    was_archived: i64,
    late: i64,
    items: i64,
}

/// The badge and overview counts of the reader (archived items never count): the org's
/// totals of the role keys that reach them, plus the items that name them, corrected by what
/// they read or archived. Reads a few dozen rows, however many items the org has.
pub async fn counts(db: &Db, reader: &Reader) -> Result<Counts, DbError> {
    let roles = crate::orgs::roles_of(db, &reader.user_id).await?;
    counts_at(db, reader, &roles, now_ms()).await
}

/// `counts` as they stand at `now` for a reader holding `roles`.
pub async fn counts_at(
    db: &Db,
    reader: &Reader,
    roles: &[crate::orgs::Role],
    now: i64,
) -> Result<Counts, DbError> {
    let mut tally = Tally::default();
    let totals: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT audience_roles, category, open_items FROM audience_counts WHERE org_id = $1")
            .bind(&reader.org_id)
            .fetch_all(db.pool())
            .await?;
    for (key, category, n) in totals {
        if let (true, Some(category)) = (key_reaches(&key, roles), Category::parse(&category)) {
            tally.add_open(category, n);
        }
    }
    let overdue: Vec<(String, i64)> = sqlx::query_as(
        "SELECT audience_roles, COUNT(*) FROM items \
         WHERE org_id = $1 AND kind = 'action' AND status = 'open' AND expired_at IS NULL AND due_at < $2 \
         GROUP BY audience_roles",
    )
    .bind(&reader.org_id)
    .bind(now)
    .fetch_all(db.pool())
    .await?;
    for (key, n) in overdue {
        if key_reaches(&key, roles) {
            tally.add_overdue(n);
        }
    }
    let named: Vec<FactsRow> = sqlx::query_as(
        "SELECT i.category, i.status, i.due_at, i.audience_roles, s.read_at, s.archived_at \
         FROM item_audience_users au JOIN items i ON i.id = au.item_id \
         LEFT JOIN item_states s ON s.item_id = i.id AND s.user_id = au.user_id \
         WHERE au.user_id = $1 AND i.org_id = $2 AND i.status = 'open' AND i.expired_at IS NULL",
    )
    .bind(&reader.user_id)
    .bind(&reader.org_id)
    .fetch_all(db.pool())
    .await?;
    for row in named.iter().filter(|r| !key_reaches(&r.audience_roles, roles)) {
        tally.add_item(row.facts(now), 1);
    }
    // The user's own read and archived open items, grouped: one index range, a few dozen rows.
    let touched: Vec<TouchedGroup> = sqlx::query_as(
        "SELECT audience_roles, category, \
           CAST(CASE WHEN read_at IS NULL THEN 0 ELSE 1 END AS BIGINT) AS was_read, \
           CAST(CASE WHEN archived_at IS NULL THEN 0 ELSE 1 END AS BIGINT) AS was_archived, \
           CAST(CASE WHEN due_at < $2 THEN 1 ELSE 0 END AS BIGINT) AS late, COUNT(*) AS items \
         FROM item_states WHERE user_id = $1 AND item_open = 1 \
           AND (archived_at IS NOT NULL OR (read_at IS NOT NULL AND category IN ('transactional', 'promotional'))) \
         GROUP BY audience_roles, category, was_read, was_archived, late",
    )
    .bind(&reader.user_id)
    .bind(now)
    .fetch_all(db.pool())
    .await?;
    for group in touched {
        let Some(category) = Category::parse(&group.category) else {
            continue;
        };
        if key_reaches(&group.audience_roles, roles) {
            let facts = ItemFacts {
                category,
                open: true,
                overdue: group.late == 1,
                read: group.was_read == 1,
                archived: group.was_archived == 1,
            };
            tally.correct(facts, group.items);
        }
    }
    Ok(tally.counts())
}

/// The first due date after `now` among the organisation's open actions: until then no
/// action of the org becomes overdue, so counts made at `now` keep their overdue figure.
pub async fn next_due_after(db: &Db, org_id: &str, now: i64) -> Result<Option<i64>, DbError> {
    let (due,): (Option<i64>,) = sqlx::query_as(
        "SELECT MIN(due_at) FROM items WHERE org_id = $1 AND kind = 'action' AND status = 'open' \
         AND expired_at IS NULL AND due_at >= $2",
    )
    .bind(org_id)
    .bind(now)
    .fetch_one(db.pool())
    .await?;
    Ok(due)
}
