//! Reading and changing the organisation for the admin page.

use super::{AuditLine, AuditPage, Member, Members};
use crate::db::{Db, DbError};
use crate::error::AppError;
use crate::orgs::{self, OrgError, OrgId, Role, UserId};

/// Audit lines per page.
pub const AUDIT_PAGE: i64 = 50;

pub async fn members(db: &Db, org_id: &OrgId) -> Result<Members, DbError> {
    type Row = (UserId, String, String, Option<String>, Option<i64>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, email, display_name, password_hash, setup_completed_at FROM users WHERE org_id = $1 ORDER BY email",
    )
    .bind(org_id)
    .fetch_all(db.pool())
    .await?;
    let grants: Vec<(UserId, Role)> = sqlx::query_as(
        "SELECT g.user_id, g.role FROM role_grants g JOIN users u ON u.id = g.user_id WHERE u.org_id = $1 ORDER BY g.role",
    )
    .bind(org_id)
    .fetch_all(db.pool())
    .await?;
    let members = rows
        .into_iter()
        .map(|(id, email, display_name, password, setup)| Member {
            roles: grants
                .iter()
                .filter(|(u, _)| *u == id)
                .map(|(_, r)| r.clone())
                .collect(),
            id,
            email,
            display_name,
            invited: password.is_none(),
            setup_completed: setup.is_some(),
        })
        .collect();
    Ok(Members {
        members,
        roles: orgs::role_catalog(db).await?,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("This user is not in your organisation.")]
    NotAMember,
    #[error(transparent)]
    Org(#[from] OrgError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<AdminError> for AppError {
    fn from(err: AdminError) -> Self {
        match err {
            AdminError::NotAMember => AppError::NotFound,
            AdminError::Org(OrgError::Db(e)) | AdminError::Db(e) => e.into(),
            AdminError::Org(OrgError::Input(e)) => AppError::Invalid(e.into()),
        }
    }
}

/// Grants or revokes a role of a user in `org_id` (never another organisation's user).
pub async fn set_role(
    db: &Db,
    org_id: &OrgId,
    actor: &str,
    user_id: &UserId,
    role: &Role,
    granted: bool,
) -> Result<bool, AdminError> {
    let user = orgs::find_user(db, user_id)
        .await?
        .filter(|u| &u.org_id == org_id)
        .ok_or(AdminError::NotAMember)?;
    Ok(if granted {
        orgs::grant_role(db, &user, role, actor).await?
    } else {
        orgs::revoke_role(db, &user, role, actor).await?
    })
}

/// The organisation's audit trail, newest first, `AUDIT_PAGE` lines at a time.
pub async fn audit_page(db: &Db, org_id: &OrgId, before: Option<i64>) -> Result<AuditPage, DbError> {
    let rows: Vec<AuditLine> = sqlx::query_as(
        "SELECT id, at, actor, action, subject, detail FROM audit_log WHERE org_id = $1 AND id < $2 \
         ORDER BY id DESC LIMIT $3",
    )
    .bind(org_id)
    .bind(before.unwrap_or(i64::MAX))
    .bind(AUDIT_PAGE + 1)
    .fetch_all(db.pool())
    .await?;
    let more = rows.len() as i64 > AUDIT_PAGE;
    let mut lines: Vec<AuditLine> = rows.into_iter().take(AUDIT_PAGE as usize).collect();
    // Item lines name the item by id; show its title too.
    for line in &mut lines {
        if line.action.starts_with("item.")
            && let Some(id) = line.subject.clone()
        {
            let title: Option<(String,)> =
                sqlx::query_as("SELECT title FROM items WHERE id = $1 AND org_id = $2")
                    .bind(&id)
                    .bind(org_id)
                    .fetch_optional(db.pool())
                    .await?;
            if let Some((json,)) = title {
                let text: crate::items::LocalizedText = serde_json::from_str(&json).unwrap_or_default();
                line.subject = Some(format!("{} ({id})", crate::items::localize(&text, "en")));
            }
        }
    }
    let next_before = if more { lines.last().map(|l| l.id) } else { None };
    Ok(AuditPage { lines, next_before })
}
