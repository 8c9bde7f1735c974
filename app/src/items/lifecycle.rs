//! What happens to items as time passes, apart from email: an item whose expiry has come is
//! retired from every view, and the organisation's account admins hear of a mandatory action
//! that reaches nobody who can receive it and of one that goes overdue (once each). Runs on
//! every instance; each step is guarded by the row it changes, and what it publishes carries an
//! idempotency key, so instances never do one twice.

use std::time::Duration;

use super::payload::ValidItem;
use super::publish::count_open;
use super::status::parse_text;
use super::{Category, DAY_MS, ItemError, LocalizedText, Status, localize, publish};
use crate::db::{Db, DbError, now_ms};
use crate::email::outbox::{ADDRESS_SQL, bounced_sql};
use crate::email::render::{Strings, format_due};
use crate::live::{self, LogKind};
use crate::orgs::Role;

/// Items each step handles per pass; the loop goes on at once while there are more.
pub const BATCH: i64 = 100;

/// An item stored before search existed (migration 0014), with its text.
#[derive(sqlx::FromRow)]
struct UnindexedRow {
    id: String,
    title: String,
    body: String,
}

/// Gives items stored before search existed the words a search finds them by, a batch per
/// pass. Returns how many it indexed.
pub async fn index_for_search(db: &Db) -> Result<usize, DbError> {
    // Answered from the partial index items_awaiting_search_words.
    let rows: Vec<UnindexedRow> =
        sqlx::query_as("SELECT id, title, body FROM items WHERE search_words IS NULL ORDER BY id LIMIT $1")
            .bind(BATCH)
            .fetch_all(db.pool())
            .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let mut tx = db.begin_write().await?;
    for row in &rows {
        let words = super::search::stored_words(&parse_text(&row.title), &parse_text(&row.body));
        // A revision since the read above wrote the words of its own text: those stay.
        sqlx::query("UPDATE items SET search_words = $1 WHERE id = $2 AND search_words IS NULL")
            .bind(words)
            .bind(&row.id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(rows.len())
}

/// A reader's snoozed item whose snooze is over.
#[derive(sqlx::FromRow)]
struct WakingRow {
    user_id: String,
    item_id: String,
    org_id: String,
}

/// Brings back the snoozed items whose time has come (as of `now`): no longer archived for
/// their reader, and back in that reader's open pages (a live `ItemAdded`). Returns how many.
pub async fn wake_snoozed(db: &Db, now: i64) -> Result<usize, DbError> {
    // Answered from the partial index item_states_snoozed.
    let rows: Vec<WakingRow> = sqlx::query_as(
        "SELECT s.user_id, s.item_id, i.org_id FROM item_states s JOIN items i ON i.id = s.item_id \
         WHERE s.snoozed_until IS NOT NULL AND s.snoozed_until <= $1 ORDER BY s.snoozed_until LIMIT $2",
    )
    .bind(now)
    .bind(BATCH)
    .fetch_all(db.pool())
    .await?;
    let mut woken = 0;
    for row in rows {
        let mut tx = db.begin_write().await?;
        // Guarded: an unarchive, archive or new snooze since the read above stands.
        let done = sqlx::query(
            "UPDATE item_states SET archived_at = NULL, snoozed_until = NULL \
             WHERE user_id = $1 AND item_id = $2 AND snoozed_until IS NOT NULL AND snoozed_until <= $3",
        )
        .bind(&row.user_id)
        .bind(&row.item_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            tx.rollback().await?;
            continue;
        }
        let subject = format!("unarchived:{}", row.item_id);
        live::append(
            &mut tx,
            db,
            &row.org_id,
            Some(&row.user_id),
            LogKind::UserState,
            &subject,
        )
        .await?;
        tx.commit().await?;
        db.announce_change(&row.org_id);
        woken += 1;
    }
    Ok(woken)
}

/// An item whose expiry has come.
#[derive(sqlx::FromRow)]
struct DueRow {
    id: String,
}

/// What retiring an item changes, read as it is retired.
#[derive(sqlx::FromRow)]
struct RetiredRow {
    org_id: String,
    category: String,
    status: String,
    audience_roles: String,
}

/// Retires the items whose expiry is at or before `now`: they leave the lists, the counts
/// and the bell (a live `ItemRemoved` with reason `expired`), and their pending email and
/// reminders are dropped. Returns how many were retired.
pub async fn expire_due(db: &Db, now: i64) -> Result<usize, DbError> {
    // Answered from the partial index items_awaiting_expiry (migration 0012).
    let due: Vec<DueRow> = sqlx::query_as(
        "SELECT id FROM items WHERE expires_at IS NOT NULL AND expired_at IS NULL AND expires_at <= $1 \
         ORDER BY expires_at LIMIT $2",
    )
    .bind(now)
    .bind(BATCH)
    .fetch_all(db.pool())
    .await?;
    let mut retired = 0;
    for DueRow { id } in due {
        let mut tx = db.begin_write().await?;
        // Reads the status as the retiring write leaves it, so an action completed a moment
        // ago is not taken off the open totals twice.
        let row: Option<RetiredRow> = sqlx::query_as(
            "UPDATE items SET expired_at = $1, next_reminder_at = NULL \
             WHERE id = $2 AND expired_at IS NULL AND expires_at <= $1 \
             RETURNING org_id, category, status, audience_roles",
        )
        .bind(now)
        .bind(&id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            continue;
        };
        if row.status == Status::Open.as_str() {
            let category = Category::parse(&row.category).unwrap_or(Category::Transactional);
            count_open(&mut tx, &row.org_id, &row.audience_roles, category, -1).await?;
            sqlx::query("UPDATE item_states SET item_open = 0 WHERE item_id = $1")
                .bind(&id)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "UPDATE outbox SET status = 'skipped', locked_until = NULL WHERE item_id = $1 AND status = 'pending'",
        )
        .bind(&id)
        .execute(&mut *tx)
        .await?;
        crate::audit::record_in(
            &mut tx,
            Some(&row.org_id),
            "system",
            "item.expire",
            Some(&id),
            &serde_json::json!({}),
        )
        .await?;
        live::append(&mut tx, db, &row.org_id, None, LogKind::StatusChanged, &id).await?;
        tx.commit().await?;
        db.announce_change(&row.org_id);
        if let Err(err) = settle_concerns(db, &row.org_id, &id, Status::Expired).await {
            tracing::warn!(error = %err, item = %id, "cannot close the admins' actions about an expired item");
        }
        retired += 1;
    }
    Ok(retired)
}

/// Who can receive a mandatory action: the users it reaches, and how many of them have an
/// address that takes mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct Reach {
    pub holders: i64,
    pub deliverable: i64,
}

/// Why the admins are told about a mandatory action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concern {
    /// Nobody in the organisation holds its roles (or is named).
    NoHolder,
    /// Everyone it reaches has an address whose mail fails.
    NoAddress,
    /// Its due date passed and it is still open.
    Overdue,
}

impl Concern {
    /// What a reach means for the admins, if anything.
    pub fn of_reach(reach: Reach) -> Option<Concern> {
        match reach {
            Reach { holders: 0, .. } => Some(Concern::NoHolder),
            Reach { deliverable: 0, .. } => Some(Concern::NoAddress),
            _ => None,
        }
    }

    /// The idempotency key of the admins' action about item `id`: one per item and concern.
    fn key(self, id: &str) -> String {
        match self {
            Concern::NoHolder | Concern::NoAddress => format!("reach:{id}"),
            Concern::Overdue => format!("overdue:{id}"),
        }
    }

    fn strings(self) -> (&'static str, &'static str) {
        match self {
            Concern::NoHolder => ("alert_unreachable_title", "alert_no_holder_body"),
            Concern::NoAddress => ("alert_unreachable_title", "alert_no_address_body"),
            Concern::Overdue => ("alert_overdue_title", "alert_overdue_body"),
        }
    }
}

/// The users a mandatory action reaches now, and how many of them can be emailed.
pub async fn reach(db: &Db, id: &str) -> Result<Reach, DbError> {
    let sql = format!(
        "SELECT CAST(COUNT(*) AS BIGINT) AS holders, \
           CAST(COALESCE(SUM(CASE WHEN {} THEN 0 ELSE 1 END), 0) AS BIGINT) AS deliverable \
         FROM items i JOIN users u ON u.org_id = i.org_id JOIN preferences p ON p.user_id = u.id \
         WHERE i.id = $1 AND u.id IN ({})",
        bounced_sql(ADDRESS_SQL),
        super::audience::recipient_ids_sql("$1")
    );
    Ok(sqlx::query_as(&sql).bind(id).fetch_one(db.pool()).await?)
}

/// A mandatory action as the admins' action about it needs it.
#[derive(sqlx::FromRow)]
struct MandatoryRow {
    id: String,
    org_id: String,
    status: String,
    workspace: String,
    title: String,
    due_at: Option<i64>,
    audience_roles: String,
}

const MANDATORY_COLUMNS: &str = "id, org_id, CASE WHEN expired_at IS NULL THEN status ELSE 'expired' END AS status, \
     workspace, title, due_at, audience_roles";

/// The account admins' action about a mandatory action: a recommendation in the same
/// workspace, in every email language, pointing at the Administration page, due with the
/// action (or in three days, for an overdue one). Keyed per item and concern, so publishing it
/// again gives the same item.
fn admins_action(row: &MandatoryRow, concern: Concern, now: i64) -> ValidItem {
    let (title_key, body_key) = concern.strings();
    let title = parse_text(&row.title);
    let roles = row.audience_roles.replace(',', ", ");
    let due = row.due_at.map(format_due).unwrap_or_default();
    let mut titles = LocalizedText::new();
    let mut bodies = LocalizedText::new();
    for language in crate::preferences::EMAIL_LANGUAGES {
        let s = Strings::for_language(language);
        // Room for the wording around it within the title limit.
        let original: String = localize(&title, language).chars().take(120).collect();
        let audience = match roles.is_empty() {
            true => s.get("alert_audience_named", &[]),
            false => s.get("alert_audience_roles", &[("roles", &roles)]),
        };
        let args = [
            ("title", original.as_str()),
            ("due", due.as_str()),
            ("audience", audience.as_str()),
        ];
        titles.insert(language.to_string(), s.get(title_key, &args));
        bodies.insert(language.to_string(), s.get(body_key, &args));
    }
    let due_at = match (concern, row.due_at) {
        (Concern::Overdue, _) | (_, None) => now + 3 * DAY_MS,
        (_, Some(due)) => due.max(now + DAY_MS),
    };
    ValidItem {
        org_id: row.org_id.as_str().into(),
        category: Category::Recommended,
        workspace: row.workspace.as_str().into(),
        roles: [Role::from("account_admin")].into(),
        user_ids: Vec::new(),
        title: titles,
        body: bodies,
        link: Some("/admin".into()),
        due_at: Some(due_at),
        expires_at: None,
        idempotency_key: Some(concern.key(&row.id)),
    }
}

/// Tells the admins about each mandatory action published since the last pass that reaches
/// nobody who can receive it. Returns how many were checked and how many raised an action.
pub async fn check_reach(db: &Db, now: i64) -> Result<(usize, usize), ItemError> {
    // Answered from the partial index items_awaiting_reach_check (migration 0013).
    let rows: Vec<MandatoryRow> = sqlx::query_as(&format!(
        "SELECT {MANDATORY_COLUMNS} FROM items WHERE category = 'mandatory' AND reach_checked_at IS NULL \
         ORDER BY created_at LIMIT $1"
    ))
    .bind(BATCH)
    .fetch_all(db.pool())
    .await?;
    let mut raised = 0;
    for row in &rows {
        // One closed within the second since it was published concerns nobody.
        let open = row.status == Status::Open.as_str();
        let concern = match open {
            true => Concern::of_reach(reach(db, &row.id).await?),
            false => None,
        };
        if let Some(concern) = concern {
            // Published before the check is recorded: a pass that dies in between publishes
            // again next time, which the idempotency key turns into the same item.
            publish(db, &admins_action(row, concern, now), None, "system").await?;
            raised += 1;
        }
    }
    record(db, Step::ReachChecked, &rows, now).await?;
    Ok((rows.len(), raised))
}

/// A step of the lifecycle that is done once per mandatory action, recorded on its row.
#[derive(Debug, Clone, Copy)]
enum Step {
    ReachChecked,
    Escalated,
}

impl Step {
    fn column(self) -> &'static str {
        match self {
            Step::ReachChecked => "reach_checked_at",
            Step::Escalated => "escalated_at",
        }
    }
}

/// Records `step` as done at `now` for a pass's rows in one statement: one write per pass, not
/// one per item, so a busy minute's mandatory actions do not each take the writer (SQLite has
/// one) away from publishing.
async fn record(db: &Db, step: Step, rows: &[MandatoryRow], now: i64) -> Result<(), DbError> {
    if rows.is_empty() {
        return Ok(());
    }
    let backend = db.backend();
    let column = step.column();
    let sql = format!(
        "UPDATE items SET {column} = {} WHERE {column} IS NULL AND id IN ({})",
        backend.numbered(1, 1),
        backend.numbered(2, rows.len())
    );
    let mut query = sqlx::query(&sql).bind(now);
    for row in rows {
        query = query.bind(&row.id);
    }
    query.execute(db.pool()).await?;
    Ok(())
}

/// Tells the admins about each mandatory action that is open past its due date, once.
/// Returns how many were escalated.
pub async fn escalate_overdue(db: &Db, now: i64) -> Result<usize, ItemError> {
    // Answered from the partial index items_awaiting_escalation (migration 0013).
    let rows: Vec<MandatoryRow> = sqlx::query_as(&format!(
        "SELECT {MANDATORY_COLUMNS} FROM items WHERE category = 'mandatory' AND status = 'open' \
         AND expired_at IS NULL AND escalated_at IS NULL AND due_at < $1 ORDER BY due_at LIMIT $2"
    ))
    .bind(now)
    .bind(BATCH)
    .fetch_all(db.pool())
    .await?;
    for row in &rows {
        publish(db, &admins_action(row, Concern::Overdue, now), None, "system").await?;
    }
    record(db, Step::Escalated, &rows, now).await?;
    Ok(rows.len())
}

/// Closes the admins' actions about item `id` now that it is closed: done when it was
/// completed, withdrawn (cancelled) when it was cancelled or expired.
pub(crate) async fn settle_concerns(
    db: &Db,
    org_id: &str,
    id: &str,
    closed: Status,
) -> Result<(), ItemError> {
    let to = match closed {
        Status::Open => return Ok(()),
        Status::Completed => Status::Completed,
        Status::Cancelled | Status::Expired => Status::Cancelled,
    };
    let keys = [Concern::NoHolder.key(id), Concern::Overdue.key(id)];
    let concerns: Vec<(String,)> = sqlx::query_as(
        "SELECT id FROM items WHERE org_id = $1 AND idempotency_key IN ($2, $3) \
         AND status = 'open' AND expired_at IS NULL",
    )
    .bind(org_id)
    .bind(&keys[0])
    .bind(&keys[1])
    .fetch_all(db.pool())
    .await?;
    for (concern,) in concerns {
        match super::status::close(db, &concern, to, "system").await {
            // Closed by someone else meanwhile: nothing left to do.
            Ok(_) | Err(ItemError::AlreadyClosed(_)) => {}
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

/// What one pass of the lifecycle did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pass {
    pub indexed: usize,
    pub woken: usize,
    pub expired: usize,
    pub reach_checked: usize,
    pub alerted: usize,
    pub escalated: usize,
}

impl Pass {
    /// Whether a step had a full batch, so more may be waiting.
    fn full(&self) -> bool {
        let batch = BATCH as usize;
        self.indexed >= batch
            || self.woken >= batch
            || self.expired >= batch
            || self.reach_checked >= batch
            || self.escalated >= batch
    }
}

/// One pass at time `now`: index old items for search, bring back snoozed items, retire what
/// expired, then check the reach of new mandatory actions,
/// then escalate overdue ones.
pub async fn run_once(db: &Db, now: i64) -> Result<Pass, ItemError> {
    let indexed = index_for_search(db).await?;
    let woken = wake_snoozed(db, now).await?;
    let expired = expire_due(db, now).await?;
    let (reach_checked, alerted) = check_reach(db, now).await?;
    let escalated = escalate_overdue(db, now).await?;
    Ok(Pass {
        indexed,
        woken,
        expired,
        reach_checked,
        alerted,
        escalated,
    })
}

/// Runs the lifecycle until the process ends: a pass every second, at once again while a pass
/// had a full batch.
pub async fn run(db: Db) {
    loop {
        let full = match run_once(&db, now_ms()).await {
            Ok(pass) => pass.full(),
            Err(err) => {
                tracing::warn!(error = %err, "item lifecycle pass failed; trying again");
                false
            }
        };
        if !full {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}
