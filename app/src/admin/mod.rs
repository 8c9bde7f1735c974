//! Organisation administration (spec §1): account admins see their organisation's users with
//! their roles, grant and revoke roles, invite users, and read the audit trail. Everything is
//! scoped to the admin's own organisation.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::orgs::{Role, UserId};

#[cfg(feature = "ssr")]
pub mod invites;
#[cfg(feature = "ssr")]
mod store;
#[cfg(feature = "ssr")]
pub use store::*;

/// The role that administers an organisation.
pub const ADMIN_ROLE: &str = "account_admin";

/// A user of the organisation as the admin page lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    /// Invited and not yet signed in: no password set.
    pub invited: bool,
    pub setup_completed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Members {
    pub members: Vec<Member>,
    /// The role catalog, for the grant controls.
    pub roles: Vec<Role>,
}

/// One line of the audit trail, with names resolved for reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct AuditLine {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub subject: Option<String>,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub lines: Vec<AuditLine>,
    /// Pass as `before` to get the next (older) page.
    pub next_before: Option<i64>,
}

/// What the invite form sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub email: String,
    pub display_name: String,
    #[serde(default)]
    pub roles: Vec<Role>,
}

#[server(endpoint = "admin_members")]
pub async fn admin_members() -> Result<Members, AppError> {
    let (state, admin) = require_admin()?;
    Ok(members(&state.db, &admin.org_id).await?)
}

/// Grants (`granted = true`) or revokes a role of a user of the admin's organisation.
#[server(endpoint = "admin_set_role")]
pub async fn admin_set_role(user_id: UserId, role: Role, granted: bool) -> Result<Members, AppError> {
    let (state, admin) = require_admin()?;
    set_role(&state.db, &admin.org_id, &admin.email, &user_id, &role, granted).await?;
    Ok(members(&state.db, &admin.org_id).await?)
}

/// Invites a user (JSON: `{"invitation": {...}}`): API for scripts and tests; the admin page
/// posts `admin_invite_form`.
#[server(endpoint = "admin_invite", input = server_fn::codec::Json)]
pub async fn admin_invite(invitation: Invitation) -> Result<Members, AppError> {
    let (state, admin) = require_admin()?;
    invites::invite(&state.db, &state.links, &admin, &invitation).await?;
    Ok(members(&state.db, &admin.org_id).await?)
}

/// The invite form as a browser posts it (`roles[<role>]=on` for each role ticked); answers
/// with the address invited, and sends a browser that posted it itself back to the admin page,
/// which then names it.
#[server(endpoint = "admin_invite_form")]
pub async fn admin_invite_form(
    email: String,
    display_name: String,
    roles: Option<std::collections::BTreeMap<String, String>>,
) -> Result<String, AppError> {
    let (state, admin) = require_admin()?;
    let invitation = Invitation {
        email,
        display_name,
        roles: roles.unwrap_or_default().into_keys().map(Role::from).collect(),
    };
    let invited = invites::invite(&state.db, &state.links, &admin, &invitation).await?;
    let url = format!(
        "/admin?{}",
        crate::ui::query_string(&[("invited", invited.email.clone())])
    );
    crate::forms::redirect_browser(&url);
    Ok(invited.email)
}

#[server(endpoint = "admin_audit")]
pub async fn admin_audit(before: Option<i64>) -> Result<AuditPage, AppError> {
    let (state, admin) = require_admin()?;
    Ok(audit_page(&state.db, &admin.org_id, before).await?)
}

/// Per workspace of the catalog, whether the organisation's new users start with its
/// transactional and promotional email on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailDefault {
    pub workspace: crate::items::Workspace,
    pub on: bool,
}

#[server(endpoint = "admin_email_defaults")]
pub async fn admin_email_defaults() -> Result<Vec<EmailDefault>, AppError> {
    let (state, admin) = require_admin()?;
    let defaults = crate::preferences::org_defaults::workspace_defaults(&state.db, &admin.org_id).await?;
    Ok(defaults
        .into_iter()
        .map(|(workspace, on)| EmailDefault { workspace, on })
        .collect())
}

/// Sets whether new users get a workspace's transactional and promotional email, and answers
/// with the defaults as they now are.
#[server(endpoint = "admin_set_email_default")]
pub async fn admin_set_email_default(
    workspace: crate::items::Workspace,
    on: bool,
) -> Result<Vec<EmailDefault>, AppError> {
    let (state, admin) = require_admin()?;
    crate::preferences::org_defaults::set_workspace_default(
        &state.db,
        &admin.org_id,
        &workspace,
        on,
        &admin.email,
    )
    .await
    .map_err(store::AdminError::from)?;
    admin_email_defaults().await
}

/// What became of the organisation's newest items: reached, emailed, failed, read, archived.
#[server(endpoint = "admin_delivery")]
pub async fn admin_delivery() -> Result<Vec<crate::items::DeliveryLine>, AppError> {
    let (state, admin) = require_admin()?;
    let headers = use_context::<http::request::Parts>()
        .map(|p| p.headers)
        .unwrap_or_default();
    let reader = admin.reader_for(&headers);
    Ok(crate::items::delivery_lines(&state.db, &admin.org_id, &reader.language).await?)
}

/// The signed-in user, when they administer their organisation.
#[cfg(feature = "ssr")]
pub fn require_admin() -> Result<(crate::state::AppState, crate::auth::CurrentUser), AppError> {
    let (state, user) = crate::auth::session::require_user()?;
    if user.roles.iter().any(|r| r == ADMIN_ROLE) {
        Ok((state, user))
    } else {
        Err(AppError::Forbidden)
    }
}
