//! The audit trail: who did what, when (role changes, preference changes, publishes).

use serde::{Deserialize, Serialize};
use sqlx::{Any, Transaction};

use crate::db::insert::{Insert, insert_all};
use crate::db::{Db, DbError, now_ms};
use crate::orgs::OrgId;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub org_id: Option<OrgId>,
    pub actor: String,
    pub action: String,
    pub subject: Option<String>,
    pub detail: String,
    pub at: i64,
}

/// Records an entry inside the caller's transaction, so the change and its trail commit together.
pub async fn record_in(
    tx: &mut Transaction<'_, Any>,
    org_id: Option<&str>,
    actor: &str,
    action: &str,
    subject: Option<&str>,
    detail: &serde_json::Value,
) -> Result<(), DbError> {
    let entry = NewAuditEntry {
        org_id,
        actor,
        action,
        subject,
        detail: detail.to_string(),
    };
    record_all_in(tx, std::slice::from_ref(&entry)).await
}

/// One entry to record.
pub struct NewAuditEntry<'a> {
    pub org_id: Option<&'a str>,
    pub actor: &'a str,
    pub action: &'a str,
    pub subject: Option<&'a str>,
    /// JSON.
    pub detail: String,
}

/// `record_in` for several entries at once (one statement).
pub async fn record_all_in(
    tx: &mut Transaction<'_, Any>,
    entries: &[NewAuditEntry<'_>],
) -> Result<(), DbError> {
    insert_all(tx, vec![rows(entries)]).await
}

/// The entries as rows to insert, to write together with other tables' rows (`insert_all`).
pub fn rows<'q>(entries: &'q [NewAuditEntry<'q>]) -> Insert<'q> {
    let mut insert = Insert::new(
        "INSERT INTO audit_log (org_id, actor, action, subject, detail, at)",
        6,
    );
    let now = now_ms();
    for e in entries {
        insert.row([
            e.org_id.into(),
            e.actor.into(),
            e.action.into(),
            e.subject.into(),
            e.detail.as_str().into(),
            now.into(),
        ]);
    }
    insert
}

/// The newest entries of an organisation, newest first.
pub async fn recent(db: &Db, org_id: &OrgId, limit: i64) -> Result<Vec<AuditEntry>, DbError> {
    Ok(sqlx::query_as(
        "SELECT id, org_id, actor, action, subject, detail, at FROM audit_log \
         WHERE org_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(org_id)
    .bind(limit)
    .fetch_all(db.pool())
    .await?)
}
