//! The database: one storage interface over SQLite (embedded default) and PostgreSQL.
//!
//! Queries are written once in the dialect both engines accept (`$1` placeholders, BIGINT
//! millisecond timestamps, TEXT ids) and run through sqlx's `Any` driver; only the migrations
//! are kept per backend, and the generated multi-row lists use `?` on SQLite
//! (`Backend::numbered` says why).

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::AnyPool;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;

pub mod dialect;
pub mod insert;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// One bound value, for statements whose placeholders are counted at run time.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'q> {
    Text(Option<Cow<'q, str>>),
    Int(Option<i64>),
}

impl<'q> From<&'q str> for Value<'q> {
    fn from(v: &'q str) -> Self {
        Value::Text(Some(Cow::Borrowed(v)))
    }
}

impl<'q> From<Option<&'q str>> for Value<'q> {
    fn from(v: Option<&'q str>) -> Self {
        Value::Text(v.map(Cow::Borrowed))
    }
}

impl From<String> for Value<'_> {
    fn from(v: String) -> Self {
        Value::Text(Some(Cow::Owned(v)))
    }
}

impl From<i64> for Value<'_> {
    fn from(v: i64) -> Self {
        Value::Int(Some(v))
    }
}

impl From<Option<i64>> for Value<'_> {
    fn from(v: Option<i64>) -> Self {
        Value::Int(v)
    }
}

/// The embedded default: a SQLite file under `./data`, created on first run.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/action-center.db";

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("DATABASE_URL must start with sqlite:// or postgres:// (got {0:?})")]
    UnsupportedUrl(String),
    #[error(
        "cannot open the database at {url}: {reason}. Check DATABASE_URL and that the database server is running"
    )]
    Unreachable { url: String, reason: String },
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0} already exists")]
    Duplicate(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("database error: {0}")]
    Query(sqlx::Error),
    /// One failure told to several callers (a batch of writes that failed as a whole).
    #[error("database error: {0}")]
    Failed(String),
    /// PostgreSQL ended the transaction to break a cycle of waits (it may succeed if tried again).
    #[error("database error: {0}")]
    Deadlock(String),
}

impl From<sqlx::Error> for DbError {
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                DbError::Duplicate(db.message().to_string())
            }
            sqlx::Error::Database(db) if db.code().as_deref() == Some("40P01") => {
                DbError::Deadlock(db.message().to_string())
            }
            _ => DbError::Query(err),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Result<Backend, DbError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(DbError::UnsupportedUrl(url.to_string()))
        }
    }
}

/// How often `Db::checkpoint_in_background` copies the SQLite write-ahead log back.
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(20);
/// How long the background checkpoint keeps going after the last write began; an idle server
/// runs no checkpoint queries at all.
pub const CHECKPOINT_QUIET_AFTER: Duration = Duration::from_secs(1);
/// Log size (pages) past which a SQLite writer checkpoints by itself even with the background
/// checkpoint running: about 40 MB, against SQLite's default of 1,000 pages.
pub const WRITER_CHECKPOINT_PAGES: u32 = 10_000;
/// A pooled connection idle this long is pinged before it is used again (a PostgreSQL server
/// may have closed it meanwhile, say in a restart); one in steady use is handed out unchecked.
pub const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// A handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    /// Where write transactions run (SQLite: one connection, so writers queue in order).
    writer: AnyPool,
    backend: Backend,
    /// Wakes live streams after a change to an organisation's event log (the org id, or
    /// `ALL_ORGS` when changes may have been missed).
    changes: tokio::sync::broadcast::Sender<Arc<str>>,
    /// The URL it was opened with (PostgreSQL: the change listener opens its own connection).
    url: Arc<str>,
    /// SQLite: write transactions begun and checkpoints run, so the background checkpoint
    /// works only while there is something to copy back.
    activity: Arc<WriteActivity>,
}

/// What the background checkpoint watches: a count of begun writes, a wake-up for when one
/// begins after a quiet spell, and (for tests and diagnostics) how many checkpoints ran.
#[derive(Debug, Default)]
struct WriteActivity {
    writes_begun: AtomicU64,
    write_begun: tokio::sync::Notify,
    checkpoints: AtomicU64,
}

/// Pooled connections when none are asked for. SQLite: eight readers (its queries run on
/// threads of this process, and the one writer has a connection of its own). PostgreSQL: two
/// per core of this machine, at least four, in line with PostgreSQL's own advice on pool sizes;
/// on 2 cores the read benchmark's p99 was 9.1-9.9 ms with 4 connections against 12.9-13.6 ms
/// with 16, whose server processes only took turns on the same cores (docs/benchmarks.md).
pub fn default_pool_size(backend: Backend) -> u32 {
    match backend {
        Backend::Sqlite => 8,
        Backend::Postgres => {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as u32;
            (2 * cores).max(4)
        }
    }
}

/// The PostgreSQL channel on which every instance hears about changes to event logs.
pub const CHANGES_CHANNEL: &str = "action_center_live";

/// Announced when changes may have been missed (the listener reconnected): every stream checks.
pub const ALL_ORGS: &str = "*";

impl Db {
    /// Opens the database (creating a SQLite file and its folder when needed).
    /// Fails fast, with a message that says what to fix, when it cannot be reached.
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        Db::connect_with(url, None).await
    }

    /// `connect` with a number of pooled connections for reads (and, on PostgreSQL, writes);
    /// `None` for the default (`default_pool_size`).
    pub async fn connect_with(url: &str, pool_size: Option<u32>) -> Result<Db, DbError> {
        install_default_drivers();
        let backend = Backend::of_url(url)?;
        let unreachable = |reason: String| DbError::Unreachable {
            url: redact(url),
            reason,
        };
        let given_url: Arc<str> = url.into();
        let url = match backend {
            Backend::Sqlite => {
                let path = sqlite_path(url);
                if let Some(parent) = Path::new(&path).parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| unreachable(format!("cannot create {}: {e}", parent.display())))?;
                }
                if url.contains('?') {
                    url.to_string()
                } else {
                    format!("{url}?mode=rwc")
                }
            }
            Backend::Postgres => url.to_string(),
        };
        let options = |max_connections| {
            AnyPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(5))
                // sqlx pings every connection it hands out by default: one more round trip per
                // query (SQLite: to the connection's worker thread; PostgreSQL: to the server).
                // Only a connection that sat idle for a while is checked.
                .test_before_acquire(false)
                .before_acquire(|conn, meta| {
                    Box::pin(async move {
                        if meta.idle_for >= PING_IF_IDLE_FOR {
                            sqlx::Connection::ping(conn).await?;
                        }
                        Ok(true)
                    })
                })
                .after_connect(move |conn, _| {
                    Box::pin(async move {
                        if backend == Backend::Sqlite {
                            sqlx::query("PRAGMA foreign_keys = ON")
                                .execute(&mut *conn)
                                .await?;
                            sqlx::query("PRAGMA busy_timeout = 5000")
                                .execute(&mut *conn)
                                .await?;
                            // A statement that writes many rows (a publish batch's INSERTs)
                            // keeps a journal of the pages it changed, to undo just itself; past
                            // 64 KiB SQLite spills it to a temporary file, whose writes then
                            // compete with the WAL's for the disk. Keep it, and the temporary
                            // tables of sorting and grouping, in memory.
                            sqlx::query("PRAGMA temp_store = MEMORY")
                                .execute(&mut *conn)
                                .await?;
                        }
                        Ok(())
                    })
                })
        };
        let pool = options(pool_size.unwrap_or_else(|| default_pool_size(backend)))
            .connect(&url)
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        if backend == Backend::Sqlite {
            // WAL lets readers proceed while the worker writes; it is a property of the file.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await
                .map_err(|e| unreachable(e.to_string()))?;
        }
        // SQLite has one writer at a time. Write transactions queue for one connection of their
        // own instead of each taking the lock with BEGIN IMMEDIATE and polling for it (SQLite's
        // busy handler sleeps up to 100 ms between tries, which made bursts of publishes slow).
        let writer = match backend {
            // One connection kept for good: `checkpoint_in_background` sets its checkpoint
            // threshold once, which a replaced connection would not have.
            Backend::Sqlite => options(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .acquire_timeout(Duration::from_secs(30))
                .connect(&url)
                .await
                .map_err(|e| unreachable(e.to_string()))?,
            Backend::Postgres => pool.clone(),
        };
        let (changes, _) = tokio::sync::broadcast::channel(4096);
        Ok(Db {
            pool,
            writer,
            backend,
            changes,
            url: given_url,
            activity: Arc::default(),
        })
    }

    pub async fn migrate(&self) -> Result<(), DbError> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock up front
    /// (`BEGIN IMMEDIATE`): a transaction that reads first and writes later would otherwise fail
    /// at once with "database is locked" when another writer is active, instead of waiting.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => {
                self.activity.writes_begun.fetch_add(1, Ordering::Relaxed);
                self.activity.write_begun.notify_one();
                self.writer.begin_with("BEGIN IMMEDIATE").await
            }
            Backend::Postgres => self.writer.begin().await,
        }
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Where a write of one statement runs without a transaction of its own: on SQLite the
    /// writer's connection, so it queues behind write transactions in order instead of retrying
    /// in SQLite's busy handler; on PostgreSQL the pool.
    pub fn writer(&self) -> &AnyPool {
        &self.writer
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Tells live streams that the organisation's event log grew (call after commit).
    pub fn announce_change(&self, org_id: &str) {
        let _ = self.changes.send(Arc::from(org_id));
    }

    /// On PostgreSQL, relays the changes other instances announce (`NOTIFY` on
    /// `CHANGES_CHANNEL`, sent by `live::append` on commit) to this instance's streams, so a
    /// publish through one instance reaches users connected to any other. It reconnects by
    /// itself; after a reconnect every stream checks, since notifications may have been lost.
    /// Does nothing on SQLite (one process owns the file).
    pub fn relay_changes_from_other_instances(&self) {
        if self.backend != Backend::Postgres {
            return;
        }
        let (url, changes) = (self.url.clone(), self.changes.clone());
        tokio::spawn(async move {
            let mut first = true;
            loop {
                let listener = async {
                    let mut listener = sqlx::postgres::PgListener::connect(&url).await?;
                    listener.listen(CHANGES_CHANNEL).await?;
                    Ok::<_, sqlx::Error>(listener)
                };
                match listener.await {
                    Ok(mut listener) => {
                        if !first {
                            let _ = changes.send(Arc::from(ALL_ORGS));
                        }
                        first = false;
                        loop {
                            match listener.try_recv().await {
                                Ok(Some(note)) => {
                                    let _ = changes.send(Arc::from(note.payload()));
                                }
                                // The connection dropped: notifications may be lost, so all check.
                                Ok(None) => {
                                    let _ = changes.send(Arc::from(ALL_ORGS));
                                }
                                Err(err) => {
                                    tracing::warn!(error = %err, "the change listener lost its connection");
                                    break;
                                }
                            }
                        }
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "cannot listen for changes from other instances")
                    }
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }

    /// On SQLite, copies the write-ahead log back into the database file from a task of its
    /// own, every `CHECKPOINT_EVERY` while writes go on, instead of in the writer after a
    /// commit. The writer is the one serial resource of a SQLite instance, and checkpointing
    /// (reading each new WAL frame, writing it to the file, syncing both) took a large part of
    /// its time under a stream of publishes; a passive checkpoint runs beside the writer without
    /// blocking it. The task sleeps once no write has begun for `CHECKPOINT_QUIET_AFTER`, and a
    /// write that begins wakes it. The writer still checkpoints itself once the log passes
    /// `WRITER_CHECKPOINT_PAGES`, so the log stays bounded if this task falls behind. Does
    /// nothing on PostgreSQL.
    pub async fn checkpoint_in_background(&self) -> Result<(), DbError> {
        if self.backend != Backend::Sqlite {
            return Ok(());
        }
        sqlx::query(&format!("PRAGMA wal_autocheckpoint = {WRITER_CHECKPOINT_PAGES}"))
            .execute(&self.writer)
            .await?;
        let (pool, activity) = (self.pool.clone(), self.activity.clone());
        let quiet_ticks = CHECKPOINT_QUIET_AFTER.as_millis() / CHECKPOINT_EVERY.as_millis();
        tokio::spawn(async move {
            let mut seen = 0;
            while !pool.is_closed() {
                activity.write_begun.notified().await;
                // A wake-up left over from writes the last round already covered.
                if activity.writes_begun.load(Ordering::Relaxed) == seen {
                    continue;
                }
                let mut quiet = 0;
                let first = tokio::time::Instant::now() + CHECKPOINT_EVERY;
                let mut ticks = tokio::time::interval_at(first, CHECKPOINT_EVERY);
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                while quiet < quiet_ticks && !pool.is_closed() {
                    ticks.tick().await;
                    match sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await {
                        Ok(_) => {
                            activity.checkpoints.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(err) => {
                            tracing::warn!(error = %err, "cannot checkpoint the write-ahead log; retrying");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                    let now = activity.writes_begun.load(Ordering::Relaxed);
                    quiet = if now == seen { quiet + 1 } else { 0 };
                    seen = now;
                }
            }
        });
        Ok(())
    }

    /// Organisation ids whose event log grew, as they are announced.
    pub fn subscribe_changes(&self) -> tokio::sync::broadcast::Receiver<Arc<str>> {
        self.changes.subscribe()
    }

    /// True when the database holds no organisation yet (a fresh install).
    pub async fn is_empty(&self) -> Result<bool, DbError> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM organisations")
            .fetch_one(&self.pool)
            .await?;
        Ok(n == 0)
    }

    pub async fn setting(&self, key: &str) -> Result<Option<String>, DbError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT value FROM settings WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.0))
    }

    pub async fn set_setting(&self, key: &str, value: &str) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }
}

/// The file path inside a `sqlite:` URL, without the query string.
fn sqlite_path(url: &str) -> String {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    rest.split('?').next().unwrap_or_default().to_string()
}

/// The URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Milliseconds since the Unix epoch: the one time representation in storage.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_every_value_once() {
        assert_eq!(Backend::Postgres.numbered(3, 2), "$3, $4");
        assert_eq!(Backend::Postgres.placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(Backend::Postgres.placeholders(0, 3), "");
        assert_eq!(Backend::Sqlite.numbered(3, 2), "?, ?");
        assert_eq!(Backend::Sqlite.placeholders(2, 2), "(?, ?), (?, ?)");
    }

    /// Two transactions that wait for each other: PostgreSQL ends one, and the error says so,
    /// so a publish batch can try again (`items::publish_all`).
    #[tokio::test]
    async fn a_deadlock_is_told_apart_from_other_failures() {
        let scratch = scratch::ScratchDb::new(Backend::Postgres).await;
        let lock = "SELECT pg_advisory_xact_lock($1)::text";
        let (mut a, mut b) = (
            scratch.db.pool().begin().await.unwrap(),
            scratch.db.pool().begin().await.unwrap(),
        );
        sqlx::query(lock).bind(1i64).execute(&mut *a).await.unwrap();
        sqlx::query(lock).bind(2i64).execute(&mut *b).await.unwrap();
        let (from_a, from_b) = tokio::join!(
            sqlx::query(lock).bind(2i64).execute(&mut *a),
            sqlx::query(lock).bind(1i64).execute(&mut *b),
        );
        let failed: Vec<DbError> = [from_a, from_b]
            .into_iter()
            .filter_map(Result::err)
            .map(DbError::from)
            .collect();
        assert!(matches!(failed.as_slice(), [DbError::Deadlock(_)]), "{failed:?}");
    }

    /// The rule of `app/migrations/README.md`: one history, written once per backend.
    #[test]
    fn both_backends_have_the_same_migrations() {
        let versions = |m: &Migrator| {
            m.iter()
                .map(|m| (m.version, m.description.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(versions(&SQLITE_MIGRATIONS), versions(&POSTGRES_MIGRATIONS));
        assert!(versions(&SQLITE_MIGRATIONS).len() >= 8);
    }

    #[tokio::test]
    async fn the_pool_takes_the_size_asked_for() {
        let db = Db::connect_with("sqlite::memory:", Some(3)).await.unwrap();
        assert_eq!(db.pool().options().get_max_connections(), 3);
        let db = Db::connect("sqlite::memory:").await.unwrap();
        assert_eq!(db.pool().options().get_max_connections(), 8);
        assert!(default_pool_size(Backend::Postgres) >= 4);
    }

    /// A publish batch's statement journal must not spill to a temporary file on disk.
    #[tokio::test]
    async fn sqlite_keeps_temporary_data_in_memory_on_every_connection() {
        let db = Db::connect("sqlite::memory:").await.unwrap();
        let reader: (i64,) = sqlx::query_as("PRAGMA temp_store")
            .fetch_one(db.pool())
            .await
            .unwrap();
        let writer: (i64,) = sqlx::query_as("PRAGMA temp_store")
            .fetch_one(&db.writer)
            .await
            .unwrap();
        // 2 is MEMORY (0 the compile-time default, 1 FILE).
        assert_eq!((reader.0, writer.0), (2, 2));
    }

    /// Written pages reach the database file without the writer checkpointing: its own
    /// threshold (`WRITER_CHECKPOINT_PAGES`) is far above what is written here.
    #[tokio::test]
    async fn the_background_checkpoint_copies_the_log_into_the_file() {
        let dir = std::env::temp_dir().join(format!("ac-checkpoint-{}", uuid::Uuid::new_v4()));
        let path = dir.join("ac.db");
        let db = Db::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        db.checkpoint_in_background().await.unwrap();
        let write = async |sql: &str| {
            let mut tx = db.begin_write().await.unwrap();
            sqlx::query(sql).execute(&mut *tx).await.unwrap();
            tx.commit().await.unwrap();
        };
        write("CREATE TABLE filler (x TEXT)").await;
        let before = std::fs::metadata(&path).unwrap().len();
        for _ in 0..20 {
            write("INSERT INTO filler (x) VALUES (hex(randomblob(50000)))").await;
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let grown = loop {
            let size = std::fs::metadata(&path).unwrap().len();
            if size >= before + 1_500_000 || std::time::Instant::now() > deadline {
                break size - before;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        db.pool().close().await;
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(grown >= 1_500_000, "the database file grew by {grown} bytes only");
    }

    /// The background checkpoint runs while writes go on and stops once they do, so an idle
    /// server sends SQLite no queries; the next write wakes it again.
    #[tokio::test]
    async fn the_background_checkpoint_sleeps_while_nothing_is_written() {
        let dir = std::env::temp_dir().join(format!("ac-checkpoint-{}", uuid::Uuid::new_v4()));
        let db = Db::connect(&format!("sqlite://{}", dir.join("ac.db").display()))
            .await
            .unwrap();
        db.checkpoint_in_background().await.unwrap();
        let checkpoints = || db.activity.checkpoints.load(Ordering::Relaxed);
        let write = async || {
            let mut tx = db.begin_write().await.unwrap();
            sqlx::query("CREATE TABLE IF NOT EXISTS filler (x TEXT)")
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
        };
        // Settles: the count stops moving for a while, within a generous deadline.
        let settled = async || {
            let deadline = std::time::Instant::now() + Duration::from_secs(15);
            let mut last = checkpoints();
            loop {
                tokio::time::sleep(Duration::from_millis(300)).await;
                let now = checkpoints();
                if now == last || std::time::Instant::now() > deadline {
                    return (last, now);
                }
                last = now;
            }
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        let idle_at_start = checkpoints();
        write().await;
        let (before, after) = settled().await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let still = checkpoints();
        write().await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let woken = checkpoints();
        db.pool().close().await;
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(idle_at_start, 0, "checkpoints ran before anything was written");
        assert!(before > 0, "no checkpoint ran after a write");
        assert_eq!(
            (before, after, still),
            (after, after, after),
            "checkpoints went on while idle"
        );
        assert!(woken > still, "a new write did not wake the checkpoint");
    }

    #[test]
    fn backend_follows_the_url_scheme() {
        assert_eq!(Backend::of_url("sqlite://data/x.db").unwrap(), Backend::Sqlite);
        assert_eq!(Backend::of_url("postgres://u@h/db").unwrap(), Backend::Postgres);
        assert!(Backend::of_url("mysql://h/db").is_err());
    }

    #[test]
    fn redact_hides_only_the_password() {
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("sqlite://data/x.db"), "sqlite://data/x.db");
    }

    #[test]
    fn sqlite_path_strips_scheme_and_query() {
        assert_eq!(sqlite_path("sqlite://data/a.db?mode=rwc"), "data/a.db");
        assert_eq!(sqlite_path("sqlite:data/a.db"), "data/a.db");
    }
}

/// Throw-away databases for tests: a SQLite file in a temp folder, or a fresh PostgreSQL
/// database on the server named by `TEST_POSTGRES_URL` (default: the local one). Only in test
/// builds (feature `test-util` for the other crates' tests), never in the server.
#[cfg(any(test, feature = "test-util"))]
pub mod scratch {
    use super::{Backend, Db};

    pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

    /// A migrated, empty database that is removed when dropped (PostgreSQL: best effort).
    pub struct ScratchDb {
        pub db: Db,
        pub url: String,
        cleanup: Cleanup,
    }

    enum Cleanup {
        File(std::path::PathBuf),
        Database { admin_url: String, name: String },
    }

    impl ScratchDb {
        pub async fn new(backend: Backend) -> ScratchDb {
            let tag = uuid::Uuid::new_v4().simple().to_string();
            let (url, cleanup) = match backend {
                Backend::Sqlite => {
                    let dir = std::env::temp_dir().join(format!("action-center-test-{tag}"));
                    let url = format!("sqlite://{}/test.db", dir.display());
                    (url, Cleanup::File(dir))
                }
                Backend::Postgres => {
                    let admin_url =
                        std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES_URL.into());
                    let name = format!("ac_test_{tag}");
                    let admin = Db::connect(&admin_url).await.unwrap_or_else(|e| {
                        panic!("PostgreSQL is needed for the contract tests ({e}); set TEST_POSTGRES_URL")
                    });
                    sqlx::query(&format!("CREATE DATABASE {name}"))
                        .execute(admin.pool())
                        .await
                        .expect("create a scratch database");
                    admin.close().await;
                    let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin_url);
                    (format!("{base}/{name}"), Cleanup::Database { admin_url, name })
                }
            };
            let db = Db::connect(&url).await.expect("open the scratch database");
            db.migrate().await.expect("migrate the scratch database");
            ScratchDb { db, url, cleanup }
        }
    }

    impl Drop for ScratchDb {
        fn drop(&mut self) {
            match &self.cleanup {
                Cleanup::File(dir) => {
                    let _ = std::fs::remove_dir_all(dir);
                }
                Cleanup::Database { admin_url, name } => {
                    // A connection of its own, off the test's runtime; FORCE ends the test's connections.
                    let (admin_url, name) = (admin_url.clone(), name.clone());
                    let _ = std::thread::spawn(move || {
                        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build();
                        if let Ok(rt) = rt {
                            rt.block_on(async move {
                                if let Ok(admin) = Db::connect(&admin_url).await {
                                    let _ =
                                        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                            .execute(admin.pool())
                                            .await;
                                    admin.close().await;
                                }
                            });
                        }
                    })
                    .join();
                }
            }
        }
    }
}
