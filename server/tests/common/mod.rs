//! Shared by the server's test files.

use app::db::Db;
use app::state::{AppState, Instance};

/// The app's state over `db`, as `serve` builds it (demo mode as asked).
pub async fn state(db: &Db, public_url: &str, demo_mode: bool) -> AppState {
    AppState::new(Instance {
        db: db.clone(),
        links: app::email::Links::new(
            public_url,
            app::email::SigningKey::load_or_create(db).await.unwrap(),
        ),
        demo_mode,
        leptos_options: leptos::config::get_configuration(None).unwrap().leptos_options,
        cache: Default::default(),
        api_keys: Default::default(),
        publisher: app::items::Publisher::start(db.clone()),
    })
}
