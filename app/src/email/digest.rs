//! Digests: a user who chose a daily or weekly digest for an optional category gets that
//! category's notifications in one email at the digest moment (08:00 in their time zone, on
//! Mondays for the weekly one), in their email language, leaving out what they already read or
//! archived and what their opt-outs turn off. The immediate email is skipped for them
//! (`outbox::plan_new_items`).

use sqlx::FromRow;

use super::outbox::{Letter, enqueue_at};
use super::render::{self, DigestLine, Recipient};
use super::{EmailError, Links, Purpose};
use crate::db::Db;
use crate::items::{Category, ItemFilter, Kind, Reader, visit_list};
use crate::orgs::UserId;
use crate::preferences::rules::wants_email;
use crate::preferences::schedule::DIGEST_ITEMS;
use crate::preferences::{Cadence, SCHEDULE_COLUMNS, ScheduleRow};

/// Users whose digests the planner looks at per pass.
const USERS_PER_PASS: i64 = 100;

/// A user whose next digest moment has come.
#[derive(FromRow)]
struct DueUser {
    user_id: UserId,
    org_id: String,
    display_name: String,
    daily_until: Option<i64>,
    weekly_until: Option<i64>,
    next_digest_at: i64,
    #[sqlx(flatten)]
    schedule: ScheduleRow,
}

/// Plans the digests whose moment has come by `now`; returns how many letters were added.
pub async fn plan_digests(db: &Db, links: &Links, now: i64) -> Result<usize, EmailError> {
    // Answered from the partial index email_schedules_next_digest.
    let due: Vec<DueUser> = sqlx::query_as(&format!(
        "SELECT es.user_id, u.org_id, u.display_name, es.daily_until, es.weekly_until, es.next_digest_at, \
           {SCHEDULE_COLUMNS} FROM email_schedules es JOIN users u ON u.id = es.user_id \
         WHERE es.next_digest_at IS NOT NULL AND es.next_digest_at <= $1 ORDER BY es.next_digest_at LIMIT $2"
    ))
    .bind(now)
    .bind(USERS_PER_PASS)
    .fetch_all(db.pool())
    .await?;
    let mut added = 0;
    for user in due {
        added += plan_for(db, links, user, now).await?;
    }
    Ok(added)
}

/// The digests of one user whose moment has come.
async fn plan_for(db: &Db, links: &Links, user: DueUser, now: i64) -> Result<usize, EmailError> {
    let schedule = user.schedule.schedule();
    let Some(prefs) = crate::preferences::load(db, &user.user_id).await? else {
        return Ok(0);
    };
    let roles = crate::orgs::roles_of(db, &user.user_id).await?;
    let reader = Reader {
        user_id: user.user_id.clone(),
        org_id: user.org_id.clone().into(),
        language: prefs.email_language.clone(),
    };
    let recipient = Recipient {
        user_id: user.user_id.clone(),
        display_name: user.display_name.clone(),
        language: prefs.email_language.clone(),
    };
    let address = match prefs.notification_email_verified {
        true => prefs.notification_email.clone(),
        false => prefs.sign_in_email.clone(),
    };
    let mut covered = [
        (Cadence::Daily, user.daily_until),
        (Cadence::Weekly, user.weekly_until),
    ];
    let mut letters = Vec::new();
    for (cadence, until) in covered.iter_mut() {
        let (Some(since), Some(moment)) = (*until, schedule.last_digest(*cadence, now)) else {
            continue;
        };
        if !schedule.uses(*cadence) || moment <= since {
            continue;
        }
        let categories: Vec<Category> = [Category::Transactional, Category::Promotional]
            .into_iter()
            .filter(|c| schedule.cadence(*c) == *cadence)
            .collect();
        let mut lines = Vec::new();
        let unread = ItemFilter {
            kind: Some(Kind::Notification),
            unread: true,
            ..Default::default()
        };
        // Newest first: walk back to what the last digest covered.
        visit_list(db, &reader, &roles, &unread, |item| {
            if item.created_at <= since {
                return false;
            }
            if item.created_at <= moment
                && categories.contains(&item.category)
                && wants_email(&prefs.email, item.category, &item.workspace)
            {
                lines.push(DigestLine {
                    id: item.id,
                    title: item.title,
                    category: item.category,
                });
            }
            true
        })
        .await?;
        if !lines.is_empty() {
            let more = lines.len().saturating_sub(DIGEST_ITEMS);
            lines.truncate(DIGEST_ITEMS);
            letters.push(Letter {
                dedupe_key: format!("digest_{}:{}:{moment}", cadence.as_str(), user.user_id),
                item_id: None,
                user_id: Some(user.user_id.clone()),
                purpose: Purpose::Digest,
                to: address.clone(),
                email: render::digest_email(links, &recipient, *cadence, &lines, more)?,
            });
        }
        *until = Some(moment);
    }
    let next = schedule.next_digest_at(covered[0].1, covered[1].1);
    let mut tx = db.begin_write().await?;
    // Guarded: another instance that planned this user's digests first moved the row on.
    let moved = sqlx::query(
        "UPDATE email_schedules SET daily_until = $1, weekly_until = $2, next_digest_at = $3 \
         WHERE user_id = $4 AND next_digest_at = $5",
    )
    .bind(covered[0].1)
    .bind(covered[1].1)
    .bind(next)
    .bind(&user.user_id)
    .bind(user.next_digest_at)
    .execute(&mut *tx)
    .await?;
    if moved.rows_affected() == 0 {
        tx.rollback().await?;
        return Ok(0);
    }
    let send_at = schedule.quiet_until(now).unwrap_or(now);
    let mut added = 0;
    for letter in &letters {
        added += usize::from(enqueue_at(&mut tx, letter, now, send_at).await?);
    }
    tx.commit().await?;
    Ok(added)
}

/// When the planner next looks at a user's digests, as stored.
pub async fn next_digest_at(db: &Db, user_id: &str) -> Result<Option<i64>, EmailError> {
    let row: Option<(Option<i64>,)> =
        sqlx::query_as("SELECT next_digest_at FROM email_schedules WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(db.pool())
            .await?;
    Ok(row.and_then(|r| r.0))
}
