//! Benchmarks, each printing one JSON line of results for `bench/run.sh` to collect:
//!
//! - `seed`: fills a database with organisations, users with a spread of roles, and items.
//! - `read`: the read path over HTTP: one user's list page (50 items) plus badge counts.
//! - `email`: the outbox drained over SMTP to a loopback sink.
//! - `publish`: items accepted per second through the REST API.
//! - `streams`: idle live streams held and their memory, and publish-to-delivery time.
//! - `baseline`: counts and list without HTTP, against one inbox row per recipient.
//! - `explain`: the query plans of the read path.

mod baseline;
mod publish;
mod readers;

use std::time::{Duration, Instant};

use app::db::{Db, now_ms};
use clap::{Parser, Subcommand};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const ROLES: [&str; 7] = [
    "account_admin",
    "marketplace_owner",
    "marketplace_developer",
    "referrals_admin",
    "incentives_admin",
    "billing_admin",
    "sales_agent",
];
const WORKSPACES: [&str; 7] = [
    "account_settings",
    "marketplace_offers",
    "referrals",
    "incentives",
    "membership",
    "billing",
    "customers",
];
const CATEGORIES: [&str; 4] = ["mandatory", "recommended", "transactional", "promotional"];
/// Every benchmark user's password.
pub const PASSWORD: &str = "bench-password";

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Seed a fresh database: `orgs` organisations, `users` users and `items` items in all.
    Seed {
        #[arg(long)]
        database_url: String,
        #[arg(long, default_value_t = 1_000_000)]
        items: usize,
        #[arg(long, default_value_t = 10_000)]
        users: usize,
        #[arg(long, default_value_t = 100)]
        orgs: usize,
    },
    /// Load a running server: each client signs in and repeats list page + counts.
    Read {
        #[arg(long)]
        url: String,
        #[arg(long, default_value = "user0@org0.bench")]
        email: String,
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
    },
    /// Producers publish items through the REST API for `seconds`.
    Publish {
        #[arg(long)]
        url: String,
        #[arg(long)]
        database_url: String,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 16)]
        concurrency: usize,
        #[arg(long, default_value_t = 100)]
        orgs: usize,
    },
    /// Hold `streams` live streams, measure the server's memory, then time `publishes` items
    /// from their `201` to every stream.
    Streams {
        #[arg(long)]
        url: String,
        #[arg(long)]
        database_url: String,
        #[arg(long)]
        server_pid: u32,
        #[arg(long, default_value_t = 10_000)]
        streams: usize,
        #[arg(long, default_value_t = 10)]
        publishes: usize,
        /// How the load generator reads the streams (see `readers`).
        #[arg(long, value_enum, default_value_t = readers::Reader::Rounds)]
        reader: readers::Reader,
        /// What a stream's page does with an event (see `readers::OnEvent`).
        #[arg(long, value_enum, default_value_t = readers::OnEvent::Apply)]
        on_event: readers::OnEvent,
    },
    /// Times counts and list in-process against a one-row-per-recipient inbox.
    Baseline {
        #[arg(long)]
        database_url: String,
        #[arg(long, default_value_t = 500)]
        runs: usize,
    },
    /// Prints the query plans of the read path's statements.
    Explain {
        #[arg(long)]
        database_url: String,
    },
    /// Fill the outbox with `count` emails and drain it to a loopback SMTP sink.
    Email {
        #[arg(long)]
        database_url: String,
        #[arg(long, default_value_t = 5_000)]
        count: usize,
    },
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    match cli.command {
        Command::Seed {
            database_url,
            items,
            users,
            orgs,
        } => seed(&database_url, items, users, orgs).await,
        Command::Read {
            url,
            email,
            seconds,
            concurrency,
        } => read(&url, &email, seconds, concurrency).await,
        Command::Email { database_url, count } => email(&database_url, count).await,
        Command::Baseline { database_url, runs } => baseline::compare(&database_url, runs).await,
        Command::Explain { database_url } => baseline::explain(&database_url).await,
        Command::Publish {
            url,
            database_url,
            seconds,
            concurrency,
            orgs,
        } => publish::throughput(&url, &database_url, seconds, concurrency, orgs).await,
        Command::Streams {
            url,
            database_url,
            server_pid,
            streams,
            publishes,
            reader,
            on_event,
        } => {
            publish::streams(
                &url,
                &database_url,
                server_pid,
                streams,
                publishes,
                reader,
                on_event,
            )
            .await
        }
    }
}

async fn seed(url: &str, items: usize, users: usize, orgs: usize) {
    let started = Instant::now();
    let db = Db::connect(url).await.unwrap();
    db.migrate().await.unwrap();
    let mut rng = StdRng::seed_from_u64(7);
    let hash = app::auth::password::hash(PASSWORD);
    let now = now_ms();
    for o in 0..orgs {
        sqlx::query("INSERT INTO organisations (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(format!("org{o}"))
            .bind(format!("Org {o}"))
            .bind(now)
            .execute(db.pool())
            .await
            .unwrap();
    }
    let mut user_rows = Vec::new();
    let mut pref_rows: Vec<Vec<String>> = Vec::new();
    let mut grant_rows = Vec::new();
    for u in 0..users {
        let org = u % orgs;
        let id = format!("u{u}");
        user_rows.push(vec![
            id.clone(),
            format!("org{org}"),
            format!("user{}@org{org}.bench", u / orgs),
            format!("User {u}"),
            hash.clone(),
        ]);
        pref_rows.push(vec![id.clone()]);
        // A realistic spread: most users hold one or two roles, a few hold more; one admin per org.
        let n = if u < orgs {
            7
        } else {
            1 + rng.gen_range(0..100).min(97) / 40
        };
        let mut roles: Vec<&str> = ROLES.to_vec();
        for _ in 0..n {
            let i = rng.gen_range(0..roles.len());
            grant_rows.push(vec![id.clone(), roles.remove(i).to_string()]);
        }
    }
    let mut tx = db.pool().begin().await.unwrap();
    for chunk in user_rows.chunks(500) {
        for row in chunk {
            sqlx::query(
                "INSERT INTO users (id, org_id, email, display_name, password_hash, created_at, setup_completed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $6)",
            )
            .bind(&row[0])
            .bind(&row[1])
            .bind(&row[2])
            .bind(&row[3])
            .bind(&row[4])
            .bind(now)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
    }
    for row in &pref_rows {
        sqlx::query("INSERT INTO preferences (user_id, updated_at) VALUES ($1, $2)")
            .bind(&row[0])
            .bind(now)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    for row in &grant_rows {
        sqlx::query(
            "INSERT INTO role_grants (user_id, role, granted_by, granted_at) VALUES ($1, $2, 'bench', $3)",
        )
        .bind(&row[0])
        .bind(&row[1])
        .bind(now)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();

    // Items: spread over orgs, categories, workspaces and one or two target roles each; all
    // already "emailed", reach-checked, escalated and indexed for search, as a database in
    // service is: a server started on it neither mails a million items nor spends the run
    // catching up in the lifecycle (items::lifecycle), whose writes would compete with what is
    // measured. Multi-row INSERTs: 250 items (10 values each) per statement.
    const ROWS: usize = 250;
    let mut tx = db.pool().begin().await.unwrap();
    for start in (0..items).step_by(ROWS) {
        let end = (start + ROWS).min(items);
        let mut sql = String::from(
            "INSERT INTO items (id, org_id, kind, category, workspace, title, body, due_at, status, created_at, \
             updated_at, emails_planned_at, reminded_7d_at, reminded_1d_at, reminded_overdue_at, audience_roles, \
             reach_checked_at, escalated_at, search_words) VALUES ",
        );
        let mut audience_sql = String::from("INSERT INTO item_audience_roles (item_id, role) VALUES ");
        let mut rows = Vec::new();
        let mut audience = Vec::new();
        for i in start..end {
            let category = CATEGORIES[rng.gen_range(0..4)];
            let kind = if matches!(category, "mandatory" | "recommended") {
                "action"
            } else {
                "notification"
            };
            let due = (kind == "action").then(|| now + rng.gen_range(-10i64..60) * 86_400_000);
            let created = now - (items - i) as i64 * 1000;
            let first = rng.gen_range(0..7);
            let mut targets = vec![ROLES[first].to_string()];
            if rng.gen_bool(0.3) {
                targets.push(ROLES[(first + 1) % 7].to_string());
            }
            for role in &targets {
                audience.push((format!("i{i}"), role.clone()));
            }
            rows.push((
                format!("i{i}"),
                format!("org{}", i % orgs),
                kind,
                category,
                WORKSPACES[rng.gen_range(0..7)],
                due,
                created,
                app::items::audience::audience_key(&targets),
            ));
        }
        for (r, _) in rows.iter().enumerate() {
            let b = r * 10;
            if r > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${}, '{{}}', ${}, 'open', ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 7,
                b + 8,
                b + 8,
                b + 8,
                b + 8,
                b + 8,
                b + 8,
                b + 9,
                b + 8,
                b + 8,
                b + 10
            ));
        }
        let mut query = sqlx::query(&sql);
        for (id, org, kind, category, workspace, due, created, key) in &rows {
            // The title is stored and indexed for search from one value, as publishing does.
            let title: app::items::LocalizedText = [("en".to_string(), format!("Item {id}"))].into();
            query = query
                .bind(id.clone())
                .bind(org.clone())
                .bind(*kind)
                .bind(*category)
                .bind(*workspace)
                .bind(serde_json::to_string(&title).unwrap())
                .bind(*due)
                .bind(*created)
                .bind(key.clone())
                .bind(app::items::search::stored_words(
                    &title,
                    &app::items::LocalizedText::new(),
                ));
        }
        query.execute(&mut *tx).await.unwrap();
        for (a, _) in audience.iter().enumerate() {
            if a > 0 {
                audience_sql.push(',');
            }
            audience_sql.push_str(&format!("(${}, ${})", a * 2 + 1, a * 2 + 2));
        }
        let mut query = sqlx::query(&audience_sql);
        for (id, role) in &audience {
            query = query.bind(id.clone()).bind(role.clone());
        }
        query.execute(&mut *tx).await.unwrap();
        if end.is_multiple_of(50_000) {
            tx.commit().await.unwrap();
            tx = db.pool().begin().await.unwrap();
        }
    }
    tx.commit().await.unwrap();
    app::items::recount_audiences(&db).await.unwrap();
    seed_reading(&db).await;
    // PostgreSQL: VACUUM too, as autovacuum would after a load this size; until the visibility
    // map is set, index-only scans (the overdue count's) still visit the table.
    let analyze = match db.backend() {
        app::db::Backend::Postgres => "VACUUM ANALYZE",
        app::db::Backend::Sqlite => "ANALYZE",
    };
    sqlx::query(analyze).execute(db.pool()).await.unwrap();
    println!(
        "{}",
        serde_json::json!({"bench": "seed", "items": items, "users": users, "orgs": orgs,
            "grants": grant_rows.len(), "seconds": started.elapsed().as_secs_f64()})
    );
}

/// Every user of the first organisation has read about a third of the notifications that reach
/// them and archived one in fifty of their archivable items: the per-user corrections of the
/// counts are then realistic, not empty.
async fn seed_reading(db: &Db) {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO item_states (user_id, item_id, read_at, archived_at, category, audience_roles, due_at, item_open) \
         SELECT g.user_id, i.id, $1, CASE WHEN i.category <> 'mandatory' AND (i.created_at / 1000) % 50 = 0 THEN $1 END, \
           i.category, i.audience_roles, i.due_at, 1 \
         FROM users u JOIN role_grants g ON g.user_id = u.id \
         JOIN item_audience_roles ar ON ar.role = g.role JOIN items i ON i.id = ar.item_id AND i.org_id = u.org_id \
         WHERE u.org_id = 'org0' AND ((i.kind = 'notification' AND (i.created_at / 1000) % 3 = 0) \
           OR (i.category <> 'mandatory' AND (i.created_at / 1000) % 50 = 0)) \
         ON CONFLICT (user_id, item_id) DO NOTHING",
    )
    .bind(now)
    .execute(db.pool())
    .await
    .unwrap();
}

/// Every client's timings, sorted, and the seconds the clients ran.
async fn gather(tasks: Vec<tokio::task::JoinHandle<Vec<Duration>>>) -> (Vec<Duration>, f64) {
    let started = Instant::now();
    let mut times = Vec::new();
    for task in tasks {
        times.extend(task.await.unwrap());
    }
    times.sort();
    (times, started.elapsed().as_secs_f64())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

async fn read(url: &str, email: &str, seconds: u64, concurrency: usize) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let res = http
        .post(format!("{url}/sign-in"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("email={}&password={PASSWORD}", email.replace('@', "%40")))
        .send()
        .await
        .unwrap();
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("ac_session="))
        .expect("signed in")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    // One request first: the page must really hold 50 items.
    let first: serde_json::Value = http
        .post(format!("{url}/api/items_list"))
        .header("cookie", &cookie)
        .json(&serde_json::json!({"filter": {"limit": 50}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let page_items = first["items"].as_array().map(|a| a.len()).unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, cookie, url) = (http.clone(), cookie.clone(), url.to_string());
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                let list = http
                    .post(format!("{url}/api/items_list"))
                    .header("cookie", &cookie)
                    .json(&serde_json::json!({"filter": {"limit": 50}}))
                    .send();
                let counts = http
                    .post(format!("{url}/api/items_counts"))
                    .header("cookie", &cookie)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .send();
                let (list, counts) = tokio::join!(list, counts);
                let (list, counts) = (list.unwrap(), counts.unwrap());
                assert!(list.status().is_success() && counts.status().is_success());
                let _ = (list.bytes().await, counts.bytes().await);
                times.push(t.elapsed());
            }
            times
        }));
    }
    let (times, elapsed) = gather(tasks).await;
    println!(
        "{}",
        serde_json::json!({"bench": "read", "page_items": page_items, "concurrency": concurrency,
            "requests": times.len(), "seconds": elapsed,
            "pairs_per_second": times.len() as f64 / elapsed,
            "p50_ms": percentile(&times, 0.5), "p99_ms": percentile(&times, 0.99)})
    );
}

async fn email(url: &str, count: usize) {
    let db = Db::connect(url).await.unwrap();
    db.migrate().await.unwrap();
    let sink = smtp_sink::SmtpSink::start("127.0.0.1:0", None).await.unwrap();
    let links = app::email::Links::new(
        "https://bench.example",
        app::email::SigningKey::load_or_create(&db).await.unwrap(),
    );
    let transport =
        app::email::Transport::from_config(Some(&sink.url()), std::path::Path::new("unused")).unwrap();
    let worker = app::email::Worker::new(db.clone(), links, transport, "bench@bench.example").unwrap();
    let now = now_ms();
    let mut conn = db.pool().acquire().await.unwrap();
    for i in 0..count {
        let letter = app::email::outbox::Letter {
            dedupe_key: format!("bench:{i}:{}", uuid::Uuid::new_v4()),
            item_id: None,
            user_id: None,
            purpose: app::email::Purpose::Item,
            to: format!("r{i}@bench.example"),
            email: app::email::render::RenderedEmail {
                subject: format!("Bench {i}"),
                text: "Hello,\n\nA benchmark email.\n".repeat(10),
                html: "<p>Hello,</p><p>A benchmark email.</p>".repeat(10),
                headers: Default::default(),
            },
        };
        app::email::outbox::enqueue(&mut conn, &letter, now)
            .await
            .unwrap();
    }
    drop(conn);
    let started = Instant::now();
    let mut sent = 0;
    while sent < count {
        let t = worker.run_once(now_ms()).await.unwrap();
        assert_eq!(t.failed + t.retrying, 0);
        sent += t.sent;
        if t.sent == 0 {
            break;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let received = sink.wait_for(count, Duration::from_secs(10)).await.len();
    println!(
        "{}",
        serde_json::json!({"bench": "email", "emails": sent, "received": received, "seconds": elapsed,
            "emails_per_second": sent as f64 / elapsed})
    );
}
