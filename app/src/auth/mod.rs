//! Sign-in with email and password, server-side sessions, and the signed-in user.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

#[cfg(feature = "ssr")]
pub mod password;
#[cfg(feature = "ssr")]
pub mod session;

/// The one message for every failed sign-in, so it never tells whether an email exists.
pub const BAD_CREDENTIALS: &str = "The email or password is not correct.";

/// The signed-in user as the UI sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: crate::orgs::UserId,
    pub org_id: crate::orgs::OrgId,
    pub org_name: String,
    pub email: String,
    pub display_name: String,
    pub roles: Vec<crate::orgs::Role>,
    pub setup_completed: bool,
    /// The user's language (BCP 47), for item text.
    pub language: String,
}

#[cfg(feature = "ssr")]
impl CurrentUser {
    /// The user as a reader of items, in the language of their UI (see `session::ui_language`),
    /// falling back to their email language.
    pub fn reader_for(&self, headers: &http::HeaderMap) -> crate::items::Reader {
        crate::items::Reader {
            user_id: self.id.clone(),
            org_id: self.org_id.clone(),
            language: session::ui_language(headers).unwrap_or_else(|| self.language.clone()),
        }
    }
}

/// The signed-in user of this request, or `None`.
#[server(endpoint = "current_user")]
pub async fn get_current_user() -> Result<Option<CurrentUser>, AppError> {
    Ok(session::from_request())
}
