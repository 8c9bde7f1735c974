//! Shared by the server's test files.

use app::db::Db;
use app::state::AppState;

/// The app's state over `db`, as `serve` builds it (demo mode as asked).
pub async fn state(db: &Db, public_url: &str, demo_mode: bool) -> AppState {
    AppState::new(
        db.clone(),
        app::email::Links::new(
            public_url,
            app::email::SigningKey::load_or_create(db).await.unwrap(),
        ),
        demo_mode,
        leptos::config::get_configuration(None).unwrap().leptos_options,
    )
}
