//! The durable outbox: one row per (purpose, item, recipient), unique by `dedupe_key`, so an
//! email is planned at most once however often planning runs, on however many instances.
//!
//! Planning turns published items into rows for the recipients who should get email under
//! the rules (spec §3), and open actions into reminder rows as their due date nears. Claiming
//! leases due rows to one worker (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has a single
//! writer); a lease that runs out (a worker that died) makes the row claimable again.

use std::collections::BTreeMap;

use sqlx::AnyConnection;

use super::links::Links;
use super::render::{self, ItemEmail, ItemForEmail, Recipient, RenderedEmail};
use super::{EmailError, Purpose};
use crate::db::{Backend, Db, DbError};
use crate::items::{Category, DAY_MS, ItemId, LocalizedText, Workspace};
use crate::orgs::UserId;
use crate::preferences::rules::{EmailChoices, wants_email};
use crate::preferences::{Cadence, EmailSchedule, SCHEDULE_COLUMNS, ScheduleRow};

/// How long a claimed row belongs to its worker before another may take it.
pub const LEASE_MS: i64 = 2 * 60 * 1000;
/// After this many failed attempts a row is given up as `failed`.
pub const MAX_ATTEMPTS: i64 = 16;
/// Items or reminders planned per pass; the worker loops while there is more.
pub const PLAN_BATCH: i64 = 100;

/// An email ready for the outbox.
#[derive(Debug, Clone)]
pub struct Letter {
    pub dedupe_key: String,
    pub item_id: Option<crate::items::ItemId>,
    pub user_id: Option<crate::orgs::UserId>,
    pub purpose: Purpose,
    pub to: String,
    pub email: RenderedEmail,
}

/// Adds a letter unless one with its key exists; true when it was added.
pub async fn enqueue(conn: &mut AnyConnection, letter: &Letter, now: i64) -> Result<bool, DbError> {
    enqueue_at(conn, letter, now, now).await
}

/// `enqueue` for a letter that may not go before `send_at` (the recipient's quiet hours).
pub async fn enqueue_at(
    conn: &mut AnyConnection,
    letter: &Letter,
    now: i64,
    send_at: i64,
) -> Result<bool, DbError> {
    let headers = serde_json::to_string(&letter.email.headers).unwrap_or_else(|_| "{}".into());
    let done = sqlx::query(
        "INSERT INTO outbox (dedupe_key, item_id, user_id, purpose, to_address, subject, body_text, body_html, \
         headers, status, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', 0, $10, $11) ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(&letter.dedupe_key)
    .bind(letter.item_id.as_deref())
    .bind(letter.user_id.as_deref())
    .bind(letter.purpose.as_str())
    .bind(&letter.to)
    .bind(&letter.email.subject)
    .bind(&letter.email.text)
    .bind(&letter.email.html)
    .bind(headers)
    .bind(send_at.max(now))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Where a user's email goes: the notification address once verified, else the sign-in one.
pub fn address_of(sign_in: &str, chosen: Option<&str>, verified_at: Option<i64>) -> String {
    match (chosen, verified_at) {
        (Some(chosen), Some(_)) => chosen.to_string(),
        _ => sign_in.to_string(),
    }
}

/// `address_of` in SQL, over `users u` and `preferences p`.
pub const ADDRESS_SQL: &str = "CASE WHEN p.notification_email IS NOT NULL \
     AND p.notification_email_verified_at IS NOT NULL THEN p.notification_email ELSE u.email END";

/// SQL that is true when mail to `address` (an SQL expression) is known not to arrive: a letter
/// to it failed for good and none has been sent to it since.
pub fn bounced_sql(address: &str) -> String {
    format!(
        "EXISTS (SELECT 1 FROM outbox f WHERE f.to_address = {address} AND f.status = 'failed' \
         AND NOT EXISTS (SELECT 1 FROM outbox s WHERE s.to_address = f.to_address AND s.status = 'sent' AND s.id > f.id))"
    )
}

/// An item the planner sends email for, with when each reminder stage was settled.
#[derive(sqlx::FromRow)]
struct ItemRow {
    id: ItemId,
    category: String,
    workspace: Workspace,
    title: String,
    body: String,
    link: Option<String>,
    due_at: Option<i64>,
    created_at: i64,
    reminded_7d_at: Option<i64>,
    reminded_1d_at: Option<i64>,
    reminded_overdue_at: Option<i64>,
}

const ITEM_COLUMNS: &str = "id, category, workspace, title, body, link, due_at, created_at, \
     reminded_7d_at, reminded_1d_at, reminded_overdue_at";

/// The columns recording when each reminder stage was settled, in stage order.
const REMINDER_COLUMNS: [&str; 3] = ["reminded_7d_at", "reminded_1d_at", "reminded_overdue_at"];

struct PlannedItem {
    item: ItemForEmail,
    created_at: i64,
    reminded: [Option<i64>; 3],
}

fn planned_item(row: ItemRow) -> Option<PlannedItem> {
    let text = |json: &str| serde_json::from_str::<LocalizedText>(json).unwrap_or_default();
    Some(PlannedItem {
        item: ItemForEmail {
            id: row.id,
            category: Category::parse(&row.category)?,
            workspace: row.workspace,
            title: text(&row.title),
            body: text(&row.body),
            link: row.link,
            due_at: row.due_at,
        },
        created_at: row.created_at,
        reminded: [row.reminded_7d_at, row.reminded_1d_at, row.reminded_overdue_at],
    })
}

/// A recipient of an item with their address, language, what they turned off and when their
/// email may go.
#[derive(sqlx::FromRow)]
struct RecipientRow {
    id: UserId,
    email: String,
    display_name: String,
    email_language: String,
    notification_email: Option<String>,
    notification_email_verified_at: Option<i64>,
    category_off: i64,
    workspace_off: i64,
    archived: i64,
    #[sqlx(flatten)]
    schedule: ScheduleRow,
}

/// One current recipient of an item, as the planner sees them.
struct ItemRecipient {
    recipient: Recipient,
    address: String,
    choices: EmailChoices,
    /// They archived the item (a reminder would only nag).
    archived: bool,
    schedule: EmailSchedule,
}

/// The item's current recipients with what decides their email: address, language, the
/// opt-outs that apply to this item, and whether they archived it.
async fn recipients(conn: &mut AnyConnection, item: &ItemForEmail) -> Result<Vec<ItemRecipient>, DbError> {
    let rows: Vec<RecipientRow> = sqlx::query_as(&format!(
        "SELECT u.id, u.email, u.display_name, p.email_language, p.notification_email, {SCHEDULE_COLUMNS}, \
           p.notification_email_verified_at, \
           (SELECT COUNT(*) FROM email_category_optouts c WHERE c.user_id = u.id AND c.category = $2) AS category_off, \
           (SELECT COUNT(*) FROM workspace_email_optouts w WHERE w.user_id = u.id AND w.workspace = $3) AS workspace_off, \
           (SELECT COUNT(*) FROM item_states s WHERE s.user_id = u.id AND s.item_id = $1 AND s.archived_at IS NOT NULL) AS archived \
         FROM items i JOIN users u ON u.org_id = i.org_id JOIN preferences p ON p.user_id = u.id \
         LEFT JOIN email_schedules es ON es.user_id = u.id \
         WHERE i.id = $1 AND u.id IN ({}) ORDER BY u.id",
        crate::items::audience::recipient_ids_sql("$1")
    ))
    .bind(&item.id)
    .bind(item.category.as_str())
    .bind(&item.workspace)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |RecipientRow {
                 id,
                 email,
                 display_name: name,
                 email_language: language,
                 notification_email: chosen,
                 notification_email_verified_at: verified,
                 category_off: cat_off,
                 workspace_off: ws_off,
                 archived,
                 schedule,
             }| {
                let mut choices = EmailChoices::default();
                if cat_off > 0 {
                    match item.category {
                        Category::Transactional => choices.transactional = false,
                        Category::Promotional => choices.promotional = false,
                        Category::Mandatory | Category::Recommended => {}
                    }
                }
                if ws_off > 0 {
                    choices.workspaces_off.insert(item.workspace.clone());
                }
                ItemRecipient {
                    recipient: Recipient {
                        user_id: id,
                        display_name: name,
                        language,
                    },
                    address: address_of(&email, chosen.as_deref(), verified),
                    choices,
                    archived: archived > 0,
                    schedule: schedule.schedule(),
                }
            },
        )
        .collect())
}

fn item_letter(
    links: &Links,
    planned: &PlannedItem,
    recipient: &Recipient,
    to: &str,
    which: ItemEmail,
) -> Result<Letter, EmailError> {
    let purpose = match which {
        ItemEmail::New => Purpose::Item,
        ItemEmail::Reminder7d => Purpose::Reminder7d,
        ItemEmail::Reminder1d => Purpose::Reminder1d,
        ItemEmail::Overdue => Purpose::Overdue,
    };
    Ok(Letter {
        dedupe_key: format!("{}:{}:{}", purpose.as_str(), planned.item.id, recipient.user_id),
        item_id: Some(planned.item.id.clone()),
        user_id: Some(recipient.user_id.clone()),
        purpose,
        to: to.to_string(),
        email: render::item_email(links, &planned.item, recipient, which)?,
    })
}

/// Takes the row lock on PostgreSQL so concurrent planners skip an item another one holds;
/// returns false when the item is already taken or planned.
async fn lock_item(
    conn: &mut AnyConnection,
    backend: Backend,
    id: &str,
    condition: &str,
) -> Result<bool, DbError> {
    let lock = backend.skip_locked();
    let row: Option<(String,)> = sqlx::query_as(&format!(
        "SELECT id FROM items WHERE id = $1 AND {condition}{lock}"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.is_some())
}

/// Plans the email of newly published items; returns how many letters were added.
pub async fn plan_new_items(db: &Db, links: &Links, now: i64) -> Result<usize, EmailError> {
    let rows: Vec<ItemRow> = sqlx::query_as(&format!(
        "SELECT {ITEM_COLUMNS} FROM items WHERE emails_planned_at IS NULL ORDER BY created_at LIMIT $1"
    ))
    .bind(PLAN_BATCH)
    .fetch_all(db.pool())
    .await?;
    let mut added = 0;
    for row in rows {
        let id = row.id.clone();
        let mut tx = db.begin_write().await?;
        if !lock_item(&mut tx, db.backend(), &id, "emails_planned_at IS NULL").await? {
            continue;
        }
        // An action closed, or an item expired, before its email went out needs none.
        let open: Option<(String,)> = sqlx::query_as(
            "SELECT status FROM items WHERE id = $1 AND expired_at IS NULL AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(&id)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(planned) = planned_item(row)
            && open.is_some_and(|(s,)| s == "open")
        {
            let item = &planned.item;
            for r in recipients(&mut tx, item).await? {
                // A digest reader gets it in their next digest instead (see `digest`).
                let at_once = r.schedule.cadence(item.category) == Cadence::Immediate;
                if at_once && wants_email(&r.choices, item.category, &item.workspace) {
                    let letter = item_letter(links, &planned, &r.recipient, &r.address, ItemEmail::New)?;
                    let send_at = r.schedule.send_at(item.category, item.due_at, now);
                    added += usize::from(enqueue_at(&mut tx, &letter, now, send_at).await?);
                }
            }
        }
        sqlx::query("UPDATE items SET emails_planned_at = $1 WHERE id = $2")
            .bind(now)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(added)
}

/// When each reminder stage falls due: 7 days before the due date, 1 day before, and overdue
/// (the first millisecond after it).
fn stage_starts(due_at: i64) -> [i64; 3] {
    [due_at - 7 * DAY_MS, due_at - DAY_MS, due_at + 1]
}

/// The reminder an open action is due for at `now`, and which reminder stages are settled by
/// it (sent now, or skipped because a later one supersedes them or the action was published
/// too late for them). Stages: 7 days before, 1 day before, overdue.
pub fn reminder_due(
    due_at: i64,
    created_at: i64,
    reminded: [Option<i64>; 3],
    now: i64,
) -> (Option<ItemEmail>, [bool; 3]) {
    let starts = stage_starts(due_at);
    let Some(stage) = (0..3).rev().find(|&i| starts[i] <= now) else {
        return (None, [false; 3]);
    };
    let mut settle = [false; 3];
    for (i, done) in reminded.iter().enumerate().take(stage + 1) {
        settle[i] = done.is_none();
    }
    if reminded[stage].is_some() {
        return (None, settle);
    }
    // A reminder "7 days before" makes no sense for an action published 3 days before its due date.
    let which = [ItemEmail::Reminder7d, ItemEmail::Reminder1d, ItemEmail::Overdue][stage];
    let send = stage == 2 || created_at < starts[stage];
    (send.then_some(which), settle)
}

/// When the planner next has to look at an open action (`items.next_reminder_at`): the start
/// of its first unsettled reminder stage, or `None` once every stage is settled.
pub fn next_reminder_at(due_at: Option<i64>, reminded: [Option<i64>; 3]) -> Option<i64> {
    let due_at = due_at?;
    reminded
        .iter()
        .position(Option::is_none)
        .map(|stage| stage_starts(due_at)[stage])
}

/// Plans reminder email for open actions whose next reminder is due; returns letters added.
pub async fn plan_reminders(db: &Db, links: &Links, now: i64) -> Result<usize, EmailError> {
    // Answered from one partial index on next_reminder_at (migration 0007).
    let rows: Vec<ItemRow> = sqlx::query_as(&format!(
        "SELECT {ITEM_COLUMNS} FROM items WHERE kind = 'action' AND status = 'open' \
         AND next_reminder_at IS NOT NULL AND next_reminder_at <= $1 AND emails_planned_at IS NOT NULL \
         AND expired_at IS NULL AND (expires_at IS NULL OR expires_at > $1) \
         ORDER BY next_reminder_at LIMIT $2"
    ))
    .bind(now)
    .bind(PLAN_BATCH)
    .fetch_all(db.pool())
    .await?;
    let mut added = 0;
    for row in rows {
        let Some(planned) = planned_item(row) else {
            continue;
        };
        let due_at = planned.item.due_at;
        let (send, settle) = due_at.map_or((None, [false; 3]), |due_at| {
            reminder_due(due_at, planned.created_at, planned.reminded, now)
        });
        let mut reminded = planned.reminded;
        for (done, settle) in reminded.iter_mut().zip(settle) {
            if settle {
                *done = Some(now);
            }
        }
        let next = next_reminder_at(due_at, reminded);
        let mut tx = db.begin_write().await?;
        // Another worker that settled these stages first changed the row: leave it to that one.
        let unchanged = REMINDER_COLUMNS
            .iter()
            .zip(planned.reminded)
            .map(|(c, at)| match at {
                Some(at) => format!("{c} = {at}"),
                None => format!("{c} IS NULL"),
            })
            .collect::<Vec<_>>()
            .join(" AND ");
        if !lock_item(
            &mut tx,
            db.backend(),
            &planned.item.id,
            &format!("status = 'open' AND expired_at IS NULL AND {unchanged}"),
        )
        .await?
        {
            continue;
        }
        if let Some(which) = send {
            let item = &planned.item;
            for r in recipients(&mut tx, item).await? {
                // Action email cannot be turned off, but an archived recommendation needs no nudge.
                if !r.archived {
                    let letter = item_letter(links, &planned, &r.recipient, &r.address, which)?;
                    let send_at = r.schedule.send_at(item.category, item.due_at, now);
                    added += usize::from(enqueue_at(&mut tx, &letter, now, send_at).await?);
                }
            }
        }
        let mut update = sqlx::query(
            "UPDATE items SET reminded_7d_at = $1, reminded_1d_at = $2, reminded_overdue_at = $3, \
             next_reminder_at = $4 WHERE id = $5",
        );
        for at in reminded {
            update = update.bind(at);
        }
        update.bind(next).bind(&planned.item.id).execute(&mut *tx).await?;
        tx.commit().await?;
    }
    Ok(added)
}

/// A row leased to this worker for sending.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: i64,
    pub dedupe_key: String,
    pub purpose: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub headers: BTreeMap<String, String>,
    pub attempts: i64,
}

/// A leased row of the outbox, as `claim` returns it.
#[derive(sqlx::FromRow)]
struct ClaimRow {
    id: i64,
    dedupe_key: String,
    purpose: String,
    to_address: String,
    subject: String,
    body_text: String,
    body_html: String,
    headers: String,
    attempts: i64,
}

/// Leases up to `limit` rows that are due, counting the attempt.
pub async fn claim(db: &Db, now: i64, limit: i64) -> Result<Vec<Claimed>, DbError> {
    let lock = db.backend().skip_locked();
    let rows: Vec<ClaimRow> = sqlx::query_as(&format!(
        "UPDATE outbox SET locked_until = $1, attempts = attempts + 1 WHERE id IN ( \
           SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $2 \
           AND (locked_until IS NULL OR locked_until <= $2) ORDER BY next_attempt_at, id LIMIT $3{lock}) \
         RETURNING id, dedupe_key, purpose, to_address, subject, body_text, body_html, headers, attempts"
    ))
    .bind(now + LEASE_MS)
    .bind(now)
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    let mut claimed: Vec<Claimed> = rows
        .into_iter()
        .map(|row| Claimed {
            id: row.id,
            dedupe_key: row.dedupe_key,
            purpose: row.purpose,
            to: row.to_address,
            subject: row.subject,
            text: row.body_text,
            html: row.body_html,
            headers: serde_json::from_str(&row.headers).unwrap_or_default(),
            attempts: row.attempts,
        })
        .collect();
    claimed.sort_by_key(|c| c.id);
    Ok(claimed)
}

/// Marks rows sent, in one statement.
pub async fn mark_sent(db: &Db, ids: &[i64], now: i64) -> Result<(), DbError> {
    if ids.is_empty() {
        return Ok(());
    }
    // Ids are integers from the database: listing them inline is safe and keeps it one statement.
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    sqlx::query(&format!(
        "UPDATE outbox SET status = 'sent', sent_at = $1, locked_until = NULL, last_error = NULL WHERE id IN ({list})"
    ))
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Records a failed attempt: retried later with backoff, or given up after `MAX_ATTEMPTS`
/// or when the failure is permanent (the relay refused the message for good).
pub async fn mark_failed_attempt(
    db: &Db,
    claimed: &Claimed,
    error: &str,
    permanent: bool,
    now: i64,
) -> Result<bool, DbError> {
    let give_up = permanent || claimed.attempts >= MAX_ATTEMPTS;
    sqlx::query(
        "UPDATE outbox SET status = $1, next_attempt_at = $2, locked_until = NULL, last_error = $3 WHERE id = $4",
    )
    .bind(if give_up { "failed" } else { "pending" })
    .bind(now + backoff_ms(claimed.attempts, claimed.id))
    .bind(error.chars().take(1000).collect::<String>())
    .bind(claimed.id)
    .execute(db.pool())
    .await?;
    Ok(give_up)
}

/// 30 s after the first failure, doubling up to an hour, spread by up to a tenth so that rows
/// failed together do not all return together.
pub fn backoff_ms(attempts: i64, id: i64) -> i64 {
    let base = (30_000i64 << (attempts.clamp(1, 12) - 1)).min(3_600_000);
    base + base / 10 * (id.rem_euclid(10)) / 10
}

/// Outbox rows by status (for the CLI, tests and benchmarks).
pub async fn counts(db: &Db) -> Result<BTreeMap<String, i64>, DbError> {
    let rows: Vec<(String, i64)> = sqlx::query_as("SELECT status, COUNT(*) FROM outbox GROUP BY status")
        .fetch_all(db.pool())
        .await?;
    Ok(rows.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DUE: i64 = 100 * DAY_MS;

    #[test]
    fn each_reminder_stage_comes_once_and_in_order() {
        let created = DUE - 30 * DAY_MS;
        let none = [None; 3];
        assert_eq!(
            reminder_due(DUE, created, none, DUE - 8 * DAY_MS),
            (None, [false; 3])
        );
        assert_eq!(
            reminder_due(DUE, created, none, DUE - 7 * DAY_MS),
            (Some(ItemEmail::Reminder7d), [true, false, false])
        );
        let after_7 = [Some(1), None, None];
        assert_eq!(
            reminder_due(DUE, created, after_7, DUE - 3 * DAY_MS),
            (None, [false; 3])
        );
        assert_eq!(
            reminder_due(DUE, created, after_7, DUE - DAY_MS + 1),
            (Some(ItemEmail::Reminder1d), [false, true, false])
        );
        let after_1 = [Some(1), Some(2), None];
        assert_eq!(reminder_due(DUE, created, after_1, DUE), (None, [false; 3]));
        assert_eq!(
            reminder_due(DUE, created, after_1, DUE + 1),
            (Some(ItemEmail::Overdue), [false, false, true])
        );
        assert_eq!(
            reminder_due(DUE, created, [Some(1); 3], DUE + 5 * DAY_MS),
            (None, [false; 3])
        );
    }

    #[test]
    fn late_publication_and_downtime_skip_stale_reminders() {
        // Published 3 days before due: no "7 days" reminder, but the 1-day one still comes.
        let created = DUE - 3 * DAY_MS;
        assert_eq!(
            reminder_due(DUE, created, [None; 3], created + 1),
            (None, [true, false, false])
        );
        assert_eq!(
            reminder_due(DUE, created, [Some(1), None, None], DUE - DAY_MS),
            (Some(ItemEmail::Reminder1d), [false, true, false])
        );
        // A worker that was down until after the due date sends only the overdue reminder.
        assert_eq!(
            reminder_due(DUE, DUE - 30 * DAY_MS, [None; 3], DUE + DAY_MS),
            (Some(ItemEmail::Overdue), [true, true, true])
        );
    }

    #[test]
    fn next_reminder_at_is_when_the_planner_next_has_something_to_settle() {
        let created = DUE - 30 * DAY_MS;
        let stages = [
            [None, None, None],
            [Some(1), None, None],
            [Some(1), Some(2), None],
        ];
        for reminded in stages {
            let next = next_reminder_at(Some(DUE), reminded).unwrap();
            assert_eq!(reminder_due(DUE, created, reminded, next - 1).1, [false; 3]);
            assert!(reminder_due(DUE, created, reminded, next).1.contains(&true));
        }
        assert_eq!(next_reminder_at(Some(DUE), [Some(1); 3]), None);
        assert_eq!(next_reminder_at(None, [None; 3]), None);
    }

    /// Migration 0007 fills `next_reminder_at` for actions published before it, as the planner
    /// computes it.
    #[tokio::test]
    async fn the_migration_sets_next_reminder_at_of_existing_actions() {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let dir = std::env::temp_dir().join(format!("action-center-migration-{tag}"));
        let before = dir.join("migrations");
        std::fs::create_dir_all(&before).unwrap();
        let all = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite");
        for entry in std::fs::read_dir(all).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if name.as_str() < "0007" {
                std::fs::copy(&path, before.join(&name)).unwrap();
            }
        }
        let db = Db::connect(&format!("sqlite://{}/test.db", dir.display()))
            .await
            .unwrap();
        sqlx::migrate::Migrator::new(before.as_path())
            .await
            .unwrap()
            .run(db.pool())
            .await
            .unwrap();
        sqlx::query("INSERT INTO organisations (id, name, created_at) VALUES ('contoso', 'Contoso', 0)")
            .execute(db.pool())
            .await
            .unwrap();
        type Case = (&'static str, Option<i64>, [Option<i64>; 3]);
        let cases: [Case; 4] = [
            ("a", Some(DUE), [None; 3]),
            ("b", Some(DUE), [Some(1), None, None]),
            ("c", Some(DUE), [Some(1), Some(2), Some(3)]),
            ("d", None, [None; 3]),
        ];
        for (id, due_at, [r7, r1, ro]) in cases {
            let (kind, category) = match due_at {
                Some(_) => ("action", "mandatory"),
                None => ("notification", "promotional"),
            };
            sqlx::query(
                "INSERT INTO items (id, org_id, kind, category, workspace, title, body, due_at, \
                 created_at, updated_at, reminded_7d_at, reminded_1d_at, reminded_overdue_at) \
                 VALUES ($1, 'contoso', $2, $3, 'billing', '{}', '{}', $4, 0, 0, $5, $6, $7)",
            )
            .bind(id)
            .bind(kind)
            .bind(category)
            .bind(due_at)
            .bind(r7)
            .bind(r1)
            .bind(ro)
            .execute(db.pool())
            .await
            .unwrap();
        }
        db.migrate().await.unwrap();
        for (id, due_at, reminded) in cases {
            let (next,): (Option<i64>,) = sqlx::query_as("SELECT next_reminder_at FROM items WHERE id = $1")
                .bind(id)
                .fetch_one(db.pool())
                .await
                .unwrap();
            assert_eq!(next, next_reminder_at(due_at, reminded), "item {id}");
        }
        db.close().await;
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn backoff_grows_to_an_hour() {
        assert_eq!(backoff_ms(1, 0), 30_000);
        assert_eq!(backoff_ms(2, 0), 60_000);
        assert_eq!(backoff_ms(3, 0), 120_000);
        assert_eq!(backoff_ms(20, 0), 3_600_000);
        assert!(backoff_ms(1, 9) > backoff_ms(1, 0) && backoff_ms(1, 9) <= 33_000);
    }

    #[test]
    fn email_goes_to_the_verified_address_only() {
        assert_eq!(address_of("a@x.test", None, None), "a@x.test");
        assert_eq!(address_of("a@x.test", Some("b@y.test"), None), "a@x.test");
        assert_eq!(address_of("a@x.test", Some("b@y.test"), Some(1)), "b@y.test");
    }
}
