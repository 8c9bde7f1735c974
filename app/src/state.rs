//! What every request handler and server function shares.

use std::sync::Arc;

use crate::api_keys::TrustedKeys;
use crate::db::Db;
use crate::email::Links;
use crate::items::{Publisher, ReadCache};

#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    /// Absolute links (email, verification, unsubscribe), built from the public URL.
    pub links: Links,
    /// Whether the demo API key and demo sign-in hints are active (spec §7).
    pub demo_mode: bool,
    pub leptos_options: leptos::config::LeptosOptions,
    /// Readers' badge counts and list pages, reused until their organisation changes (see
    /// `ReadCache`).
    pub cache: Arc<ReadCache>,
    /// Writes the producer API's publications in batches (see `Publisher`).
    pub publisher: Publisher,
    /// Producer API keys this instance found recently (see `TrustedKeys`).
    pub api_keys: Arc<TrustedKeys>,
}

impl AppState {
    /// Cookies are marked `Secure` when the app is served over TLS.
    pub fn secure_cookies(&self) -> bool {
        self.links.public_url().starts_with("https://")
    }
}

impl axum::extract::FromRef<AppState> for leptos::config::LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
