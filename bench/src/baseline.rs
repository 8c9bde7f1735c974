//! The read path without HTTP, against a simple baseline measured in the same run: one inbox
//! row per recipient (fan-out on write) against this app's fan-out on read. Also the query
//! plans of the read path's statements, for docs/benchmarks.md.

use std::time::{Duration, Instant};

use app::db::{Backend, Db, now_ms};
use app::items::{self, ItemFilter, Reader};

/// The benchmark user: the first organisation's admin, whom every item of the org reaches.
const USER: &str = "u0";
const ORG: &str = "org0";

fn reader() -> Reader {
    Reader {
        user_id: USER.into(),
        org_id: ORG.into(),
        language: "en".into(),
    }
}

async fn time<F, Fut>(runs: usize, mut f: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    f().await;
    let started = Instant::now();
    for _ in 0..runs {
        f().await;
    }
    started.elapsed() / runs as u32
}

/// Builds the baseline's inbox for the first organisation and times both designs.
pub async fn compare(database_url: &str, runs: usize) {
    let db = Db::connect(database_url).await.unwrap();
    let pool = db.pool();
    sqlx::query("DROP TABLE IF EXISTS bench_inbox")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "CREATE TABLE bench_inbox (user_id TEXT NOT NULL, item_id TEXT NOT NULL, category TEXT NOT NULL, \
         status TEXT NOT NULL, due_at BIGINT, created_at BIGINT NOT NULL, read_at BIGINT, archived_at BIGINT, \
         PRIMARY KEY (user_id, item_id))",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("CREATE INDEX bench_inbox_newest ON bench_inbox (user_id, status, created_at)")
        .execute(pool)
        .await
        .unwrap();
    // Fan-out on write: what publishing would have to store, one row per item and recipient.
    let started = Instant::now();
    let written = sqlx::query(
        "INSERT INTO bench_inbox (user_id, item_id, category, status, due_at, created_at, read_at, archived_at) \
         SELECT DISTINCT g.user_id, i.id, i.category, i.status, i.due_at, i.created_at, s.read_at, s.archived_at \
         FROM items i JOIN item_audience_roles ar ON ar.item_id = i.id JOIN role_grants g ON g.role = ar.role \
         JOIN users u ON u.id = g.user_id AND u.org_id = i.org_id \
         LEFT JOIN item_states s ON s.item_id = i.id AND s.user_id = g.user_id WHERE i.org_id = $1",
    )
    .bind(ORG)
    .execute(pool)
    .await
    .unwrap()
    .rows_affected();
    let fan_out_seconds = started.elapsed().as_secs_f64();
    let (org_items,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM items WHERE org_id = $1")
        .bind(ORG)
        .fetch_one(pool)
        .await
        .unwrap();

    let r = reader();
    let counts_on_read = time(runs, || async {
        items::counts(&db, &r).await.unwrap();
    })
    .await;
    let list_on_read = time(runs, || async {
        let filter = ItemFilter {
            limit: Some(50),
            ..Default::default()
        };
        items::list(&db, &r, &filter).await.unwrap();
    })
    .await;
    let now = now_ms();
    let counts_inbox = time(runs, || async {
        let _: Vec<(String, i64, i64, i64)> = sqlx::query_as(
            "SELECT category, COUNT(*), \
             SUM(CASE WHEN due_at < $2 THEN 1 ELSE 0 END), SUM(CASE WHEN read_at IS NULL THEN 1 ELSE 0 END) \
             FROM bench_inbox WHERE user_id = $1 AND status = 'open' AND archived_at IS NULL GROUP BY category",
        )
        .bind(USER)
        .bind(now)
        .fetch_all(pool)
        .await
        .unwrap();
    })
    .await;
    let list_inbox = time(runs, || async {
        let _: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT i.id, i.title, i.body FROM bench_inbox b JOIN items i ON i.id = b.item_id \
             WHERE b.user_id = $1 AND b.status = 'open' AND b.archived_at IS NULL \
             ORDER BY b.created_at DESC, b.item_id DESC LIMIT 51",
        )
        .bind(USER)
        .fetch_all(pool)
        .await
        .unwrap();
    })
    .await;
    sqlx::query("DROP TABLE bench_inbox").execute(pool).await.unwrap();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "{}",
        serde_json::json!({"bench": "baseline", "runs": runs, "org_items": org_items,
            "inbox_rows": written, "inbox_rows_per_item": written as f64 / org_items.max(1) as f64,
            "fan_out_seconds": fan_out_seconds,
            "counts_on_read_us": us(counts_on_read), "counts_inbox_us": us(counts_inbox),
            "list_on_read_us": us(list_on_read), "list_inbox_us": us(list_inbox)})
    );
}

/// The plans of the read path's statements, as the store issues them for the benchmark user.
pub async fn explain(database_url: &str) {
    let db = Db::connect(database_url).await.unwrap();
    let keys: Vec<(String,)> =
        sqlx::query_as("SELECT DISTINCT audience_roles FROM audience_counts WHERE org_id = $1")
            .bind(ORG)
            .fetch_all(db.pool())
            .await
            .unwrap();
    let keys = keys
        .iter()
        .map(|k| format!("'{}'", k.0.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ");
    let now = now_ms();
    let list = |filter: &str, order: &str| {
        format!(
            "SELECT i.id, i.title, s.read_at FROM items i \
             LEFT JOIN item_states s ON s.item_id = i.id AND s.user_id = '{USER}' \
             WHERE i.org_id = '{ORG}' AND (i.audience_roles IN ({keys}) OR \
             EXISTS (SELECT 1 FROM item_audience_users au WHERE au.item_id = i.id AND au.user_id = '{USER}')) \
             AND (s.archived_at IS NULL) AND i.status = 'open' {filter} ORDER BY {order} LIMIT 51"
        )
    };
    let statements = [
        (
            "counts: the org's totals per role key",
            format!(
                "SELECT audience_roles, category, open_items FROM audience_counts WHERE org_id = '{ORG}'"
            ),
        ),
        (
            "counts: overdue actions per role key",
            format!(
                "SELECT audience_roles, COUNT(*) FROM items WHERE org_id = '{ORG}' AND kind = 'action' \
                 AND status = 'open' AND due_at < {now} GROUP BY audience_roles"
            ),
        ),
        (
            "counts: the user's read and archived items",
            format!(
                "SELECT audience_roles, category, \
                   CAST(CASE WHEN read_at IS NULL THEN 0 ELSE 1 END AS BIGINT) AS was_read, \
                   CAST(CASE WHEN archived_at IS NULL THEN 0 ELSE 1 END AS BIGINT) AS was_archived, \
                   CAST(CASE WHEN due_at < {now} THEN 1 ELSE 0 END AS BIGINT) AS late, COUNT(*) \
                 FROM item_states WHERE user_id = '{USER}' AND item_open = 1 \
                   AND (archived_at IS NOT NULL OR (read_at IS NOT NULL AND category IN ('transactional', 'promotional'))) \
                 GROUP BY audience_roles, category, was_read, was_archived, late"
            ),
        ),
        (
            "list: newest first, 50 items",
            list("", "i.created_at DESC, i.id DESC"),
        ),
        (
            "list: actions by due date, 50 items",
            list(
                "AND i.kind = 'action'",
                "COALESCE(i.due_at, 9000000000000000000) ASC, i.id ASC",
            ),
        ),
    ];
    let mut plans = serde_json::Map::new();
    for (name, sql) in statements {
        let plan = match db.backend() {
            Backend::Sqlite => {
                let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
                    .fetch_all(db.pool())
                    .await
                    .unwrap();
                rows.into_iter().map(|r| r.3).collect::<Vec<_>>().join("\n")
            }
            Backend::Postgres => {
                let rows: Vec<(String,)> =
                    sqlx::query_as(&format!("EXPLAIN (ANALYZE, COSTS OFF, BUFFERS OFF) {sql}"))
                        .fetch_all(db.pool())
                        .await
                        .unwrap();
                rows.into_iter().map(|r| r.0).collect::<Vec<_>>().join("\n")
            }
        };
        plans.insert(name.into(), plan.into());
    }
    println!("{}", serde_json::json!({"bench": "explain", "plans": plans}));
}
