//! Shared by the contract test files: run each test on SQLite and on PostgreSQL.

/// Declares `sqlite::NAME` and `postgres::NAME` tests that call `NAME(&Db)` on a scratch database.
#[macro_export]
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() {
                let scratch = app::db::scratch::ScratchDb::new(app::db::Backend::Sqlite).await;
                super::$name(&scratch.db).await;
            })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() {
                let scratch = app::db::scratch::ScratchDb::new(app::db::Backend::Postgres).await;
                super::$name(&scratch.db).await;
            })*
        }
    };
}
