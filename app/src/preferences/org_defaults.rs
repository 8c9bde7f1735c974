//! An organisation's email defaults for its new users: per workspace, whether transactional and
//! promotional email starts on. Account admins set them; a user created afterwards starts with
//! the workspaces that are off as their own opt-outs, and changes them as they like. Action
//! email is never affected: its categories stay locked on.

use sqlx::{Any, Transaction};

use crate::db::{Db, DbError, now_ms};
use crate::items::Workspace;
use crate::orgs::{OrgError, OrgId, UserId};

/// One workspace of the catalog and whether new users of the organisation get its email.
pub async fn workspace_defaults(db: &Db, org_id: &OrgId) -> Result<Vec<(Workspace, bool)>, DbError> {
    let rows: Vec<(Workspace, i64)> = sqlx::query_as(
        "SELECT w.name, (SELECT COUNT(*) FROM org_workspace_email_off o \
            WHERE o.org_id = $1 AND o.workspace = w.name) \
         FROM workspaces w ORDER BY w.name",
    )
    .bind(org_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(|(w, off)| (w, off == 0)).collect())
}

/// Sets whether new users of the organisation get `workspace`'s transactional and promotional
/// email, with an audit entry; setting what is already set changes nothing. Returns whether it
/// changed.
pub async fn set_workspace_default(
    db: &Db,
    org_id: &OrgId,
    workspace: &Workspace,
    on: bool,
    actor: &str,
) -> Result<bool, OrgError> {
    if !crate::orgs::workspace_catalog(db).await?.contains(workspace) {
        return Err(OrgError::Input(crate::orgs::InputError::UnknownWorkspace(
            workspace.to_string(),
        )));
    }
    let mut tx = db.begin_write().await.map_err(DbError::from)?;
    let done = if on {
        sqlx::query("DELETE FROM org_workspace_email_off WHERE org_id = $1 AND workspace = $2")
            .bind(org_id)
            .bind(workspace)
            .execute(&mut *tx)
            .await
    } else {
        sqlx::query(
            "INSERT INTO org_workspace_email_off (org_id, workspace, set_by, set_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (org_id, workspace) DO NOTHING",
        )
        .bind(org_id)
        .bind(workspace)
        .bind(actor)
        .bind(now_ms())
        .execute(&mut *tx)
        .await
    }
    .map_err(DbError::from)?;
    let changed = done.rows_affected() == 1;
    if changed {
        let detail = serde_json::json!({ "workspace": workspace, "new_users_get_email": on });
        crate::audit::record_in(&mut tx, Some(org_id), actor, "org.email_default", None, &detail).await?;
    }
    tx.commit().await.map_err(DbError::from)?;
    Ok(changed)
}

/// Gives a user who was just created the organisation's defaults, inside their creation.
pub(crate) async fn apply_to_new_user(
    tx: &mut Transaction<'_, Any>,
    org_id: &OrgId,
    user_id: &UserId,
    now: i64,
) -> Result<(), DbError> {
    sqlx::query(
        "INSERT INTO workspace_email_optouts (user_id, workspace, created_at) \
         SELECT $1, workspace, $2 FROM org_workspace_email_off WHERE org_id = $3",
    )
    .bind(user_id)
    .bind(now)
    .bind(org_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
