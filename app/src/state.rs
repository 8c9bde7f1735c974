//! What every request handler and server function shares.

use std::ops::Deref;
use std::sync::Arc;

use crate::api_keys::TrustedKeys;
use crate::db::Db;
use crate::email::Links;
use crate::items::{Publisher, ReadCache};

/// A handle on the instance's shared parts. axum's extractors and middleware and Leptos'
/// context clone the state several times per request; one reference count is cheaper than
/// cloning each part (the pools, the publisher's queue, the public URL's string), which took
/// 9% of the server's CPU samples on the read path (docs/benchmarks.md).
#[derive(Clone, Debug)]
pub struct AppState(Arc<Instance>);

/// The parts of one running instance.
#[derive(Debug)]
pub struct Instance {
    pub db: Db,
    /// Absolute links (email, verification, unsubscribe), built from the public URL.
    pub links: Links,
    /// Whether the demo API key and demo sign-in hints are active (spec §7).
    pub demo_mode: bool,
    pub leptos_options: leptos::config::LeptosOptions,
    /// Readers' badge counts and list pages, reused until their organisation changes (see
    /// `ReadCache`).
    pub cache: ReadCache,
    /// Writes the producer API's publications in batches (see `Publisher`).
    pub publisher: Publisher,
    /// Producer API keys this instance found recently (see `TrustedKeys`).
    pub api_keys: TrustedKeys,
}

impl AppState {
    /// The state of an instance over `db`: starts its publisher, with empty caches.
    pub fn new(
        db: Db,
        links: Links,
        demo_mode: bool,
        leptos_options: leptos::config::LeptosOptions,
    ) -> AppState {
        AppState(Arc::new(Instance {
            publisher: Publisher::start(db.clone()),
            db,
            links,
            demo_mode,
            leptos_options,
            cache: ReadCache::default(),
            api_keys: TrustedKeys::default(),
        }))
    }

    /// Cookies are marked `Secure` when the app is served over TLS.
    pub fn secure_cookies(&self) -> bool {
        self.links.public_url().starts_with("https://")
    }
}

impl Deref for AppState {
    type Target = Instance;

    fn deref(&self) -> &Instance {
        &self.0
    }
}

impl axum::extract::FromRef<AppState> for leptos::config::LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
