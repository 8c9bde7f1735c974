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

/// Makes each named `async fn(Backend)` of the calling module a test on SQLite and one on
/// PostgreSQL (`sqlite::name`, `postgres::name`), so a filter picks a backend. (Not every test
/// file runs on both backends.)
#[allow(unused_macros)]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(app::db::Backend::Sqlite).await })* }
        mod postgres { $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(app::db::Backend::Postgres).await })* }
    };
}
#[allow(unused_imports)]
pub(crate) use on_both_backends;
