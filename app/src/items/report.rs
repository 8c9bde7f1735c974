//! Delivery reports: what became of an item, counted from the audience, the outbox and the
//! recipients' own states, so they are never out of step with what happened.

use super::audience::recipient_ids_sql;
use super::status::parse_text;
use super::{Category, DeliveryLine, DeliveryReport, ItemId, localize};
use crate::db::{Db, DbError};
use crate::orgs::OrgId;

/// How many lines the admin's report shows: the organisation's newest items.
pub const REPORT_LINES: i64 = 20;

/// The report of item `item_id` (all zeros for an item that does not exist). Every count is of
/// the users the item reaches now, in its own organisation.
pub async fn delivery_report(db: &Db, item_id: &str) -> Result<DeliveryReport, DbError> {
    // Who it reaches is worked out once (`reached`), and every count is of those users.
    let sql = format!(
        "WITH reached AS ( \
           SELECT u.id FROM users u JOIN items i ON i.id = $1 AND u.org_id = i.org_id \
           WHERE u.id IN ({recipients})) \
         SELECT \
           (SELECT COUNT(*) FROM reached) AS reached, \
           (SELECT COUNT(DISTINCT o.user_id) FROM outbox o WHERE o.item_id = $1 AND o.status = 'sent' \
              AND o.user_id IN (SELECT id FROM reached)) AS emailed, \
           (SELECT COUNT(DISTINCT o.user_id) FROM outbox o WHERE o.item_id = $1 AND o.status = 'failed' \
              AND o.user_id IN (SELECT id FROM reached)) AS failed, \
           (SELECT COUNT(*) FROM item_states s WHERE s.item_id = $1 AND s.read_at IS NOT NULL \
              AND s.user_id IN (SELECT id FROM reached)) AS read, \
           (SELECT COUNT(*) FROM item_states s WHERE s.item_id = $1 AND s.archived_at IS NOT NULL \
              AND s.user_id IN (SELECT id FROM reached)) AS archived",
        recipients = recipient_ids_sql("$1")
    );
    Ok(sqlx::query_as(&sql).bind(item_id).fetch_one(db.pool()).await?)
}

/// The reports of the organisation's newest items, titles in `language`.
pub async fn delivery_lines(db: &Db, org_id: &OrgId, language: &str) -> Result<Vec<DeliveryLine>, DbError> {
    let items: Vec<(ItemId, String, String, i64)> = sqlx::query_as(
        "SELECT id, title, category, created_at FROM items WHERE org_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT $2",
    )
    .bind(org_id)
    .bind(REPORT_LINES)
    .fetch_all(db.pool())
    .await?;
    let mut lines = Vec::with_capacity(items.len());
    for (id, title, category, created_at) in items {
        lines.push(DeliveryLine {
            report: delivery_report(db, &id).await?,
            title: localize(&parse_text(&title), language).to_string(),
            category: Category::parse(&category).unwrap_or(Category::Transactional),
            created_at,
            id,
        });
    }
    Ok(lines)
}
