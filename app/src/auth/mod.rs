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
    pub id: String,
    pub org_id: String,
    pub org_name: String,
    pub email: String,
    pub display_name: String,
    pub roles: Vec<String>,
    pub setup_completed: bool,
    /// The user's language (BCP 47), for item text.
    pub language: String,
}

#[cfg(feature = "ssr")]
impl CurrentUser {
    pub fn reader(&self) -> crate::items::Reader {
        crate::items::Reader {
            user_id: self.id.clone(),
            org_id: self.org_id.clone(),
            language: self.language.clone(),
        }
    }
}

/// The signed-in user of this request, or `None`.
#[server(endpoint = "current_user")]
pub async fn get_current_user() -> Result<Option<CurrentUser>, AppError> {
    Ok(session::from_request())
}
