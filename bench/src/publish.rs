//! The publish path: items accepted per second through the REST API, and the time from a
//! `201 Created` to the event at every connected live stream.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use app::api_keys::{self, Scope};
use app::db::Db;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpSocket;
use tokio::sync::{Semaphore, mpsc};

use crate::readers::{Arrival, OnEvent, Reader, Received, read_at_once, read_in_rounds, stamp_arrivals};
use crate::{CATEGORIES, ROLES, WORKSPACES, gather, percentile};

/// Producers publish with their own keys; the API's rate limit is per key.
const KEYS: usize = 8;
/// The text every benchmark item's title starts with, followed by its number.
pub const MARK: &str = "Bench mark ";
/// Loopback source addresses used in turn, so more streams fit than one address has ports.
const STREAMS_PER_SOURCE: usize = 20_000;

async fn producer_keys(db: &Db) -> Vec<String> {
    let mut keys = Vec::new();
    for k in 0..KEYS {
        let (_, secret) = api_keys::create(db, &format!("bench producer {k}"), Scope::Platform)
            .await
            .unwrap();
        keys.push(secret);
    }
    keys
}

/// A valid item for `org` with the given title, reaching every role of the org.
fn item(rng: &mut StdRng, org: &str, title: &str, everyone: bool) -> serde_json::Value {
    let category = CATEGORIES[rng.gen_range(0..4)];
    let action = matches!(category, "mandatory" | "recommended");
    let roles: Vec<&str> = if everyone {
        ROLES.to_vec()
    } else {
        vec![ROLES[rng.gen_range(0..ROLES.len())]]
    };
    let mut body = serde_json::json!({
        "kind": if action { "action" } else { "notification" },
        "category": category,
        "org_id": org,
        "workspace": WORKSPACES[rng.gen_range(0..WORKSPACES.len())],
        "audience": {"roles": roles, "user_ids": []},
        "title": {"en": title, "nl": title},
        "body": {"en": "Published by the benchmark."},
        "link": "/action-center",
    });
    if action {
        body["due_at"] = "2031-01-01T00:00:00Z".into();
    }
    body
}

fn http_client(concurrency: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap()
}

/// `concurrency` producers publish to random organisations for `seconds`.
pub async fn throughput(url: &str, database_url: &str, seconds: u64, concurrency: usize, orgs: usize) {
    let db = Db::connect(database_url).await.unwrap();
    let keys = producer_keys(&db).await;
    let http = http_client(concurrency);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for c in 0..concurrency {
        let (http, url, key) = (http.clone(), url.to_string(), keys[c % KEYS].clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(c as u64);
            let mut times = Vec::new();
            let mut n = 0;
            while Instant::now() < deadline {
                let org = format!("org{}", rng.gen_range(0..orgs));
                let body = item(&mut rng, &org, &format!("Published {c}-{n}"), false);
                n += 1;
                let t = Instant::now();
                let res = http
                    .post(format!("{url}/api/v1/items"))
                    .bearer_auth(&key)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(
                    res.status().as_u16(),
                    201,
                    "{}",
                    res.text().await.unwrap_or_default()
                );
                let _ = res.bytes().await;
                times.push(t.elapsed());
            }
            times
        }));
    }
    let (times, elapsed) = gather(tasks).await;
    println!(
        "{}",
        serde_json::json!({"bench": "publish", "concurrency": concurrency, "keys": KEYS,
            "items": times.len(), "seconds": elapsed, "items_per_second": times.len() as f64 / elapsed,
            "p50_ms": percentile(&times, 0.5), "p99_ms": percentile(&times, 0.99)})
    );
}

/// Resident memory of a process, in bytes.
fn resident_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0)
        * 1024
}

/// CPU time the process has used so far (user and system), from `/proc`.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // utime and stime are fields 14 and 15 of stat(5), 12 and 13 after the name.
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    // SAFETY: sysconf only reads a configuration value.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_micros(ticks * 1_000_000 / per_second)
}

/// Pages fetched again at once when events make the streams' pages reload: about as many as
/// the server has cores times its request concurrency, so they queue at the load generator.
const REFETCH_CONCURRENCY: usize = 64;

/// How often the load generator reads its streams when it reads in rounds.
const READ_ROUND: Duration = Duration::from_millis(1);

/// Opens `streams` live streams as the users of the first organisation, measures the server's
/// memory once they are all idle, then publishes `publishes` items to that organisation (one at
/// a time) and times each from its `201` to its arrival at every stream.
pub async fn streams(
    url: &str,
    database_url: &str,
    server_pid: u32,
    streams: usize,
    publishes: usize,
    reader: Reader,
    on_event: OnEvent,
) {
    let db = Db::connect(database_url).await.unwrap();
    let users: Vec<(String,)> = sqlx::query_as("SELECT id FROM users WHERE org_id = 'org0' ORDER BY id")
        .fetch_all(db.pool())
        .await
        .unwrap();
    let mut cookies = Vec::new();
    for (user,) in &users {
        let token = app::auth::session::open(&db, user).await.unwrap();
        cookies.push(format!("ac_session={token}"));
    }
    let server: SocketAddr = url
        .trim_start_matches("http://")
        .parse()
        .expect("the url is http://IP:PORT");
    let before = resident_bytes(server_pid);

    let ready = Arc::new(AtomicUsize::new(0));
    let (arrivals_tx, mut arrivals) = mpsc::unbounded_channel::<Arrival>();
    let rounds = match reader {
        Reader::Rounds => Some(read_in_rounds(READ_ROUND)),
        Reader::AtOnce => None,
    };
    let opening = Arc::new(Semaphore::new(256));
    let open_started = Instant::now();
    // A fresh block of loopback sources per run: the ports of an earlier run's streams may
    // still be in TIME_WAIT.
    let block = 1 + (std::process::id() % 250) as u8;
    for s in 0..streams {
        let source = IpAddr::V4(Ipv4Addr::new(127, block, (s / STREAMS_PER_SOURCE) as u8, 1));
        let cookie = cookies[s % cookies.len()].clone();
        let (opening, rounds) = (opening.clone(), rounds.clone());
        let mut received = Received::new(s, ready.clone(), arrivals_tx.clone());
        tokio::spawn(async move {
            received.permit = Some(opening.acquire_owned().await.unwrap());
            let socket = TcpSocket::new_v4().unwrap();
            socket.set_reuseaddr(true).unwrap();
            stamp_arrivals(socket.as_raw_fd()).expect("receive timestamps on a stream");
            socket
                .bind(SocketAddr::new(source, 0))
                .expect("a local port for a stream");
            let mut conn = socket.connect(server).await.expect("connect a stream");
            let request = format!(
                "GET /api/live HTTP/1.1\r\nHost: {server}\r\nAccept: text/event-stream\r\nCookie: {cookie}\r\n\r\n"
            );
            conn.write_all(request.as_bytes()).await.unwrap();
            let Ok(conn) = conn.into_std() else { return };
            match rounds {
                Some(rounds) => {
                    let _ = rounds.send((conn, received));
                }
                None => read_at_once(conn, received).await,
            }
        });
    }
    drop(arrivals_tx);
    let wait_until = Instant::now() + Duration::from_secs(120);
    while ready.load(Ordering::SeqCst) < streams && Instant::now() < wait_until {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let open_seconds = open_started.elapsed().as_secs_f64();
    let held = ready.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = resident_bytes(server_pid);

    // The server's CPU while nothing happens (keep-alives), to take out of what an event costs.
    let idle_cpu_from = (Instant::now(), cpu_time(server_pid));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_cpu_rate =
        (cpu_time(server_pid) - idle_cpu_from.1).as_secs_f64() / idle_cpu_from.0.elapsed().as_secs_f64();

    let keys = producer_keys(&db).await;
    let http = http_client(1);
    let mut rng = StdRng::seed_from_u64(11);
    let mut accepted = HashMap::new();
    let cpu_from = (Instant::now(), cpu_time(server_pid));
    // Pages fetched again, as each open page of the islands UI did on every change.
    let refetch_client = http_client(REFETCH_CONCURRENCY);
    let refetching = Arc::new(Semaphore::new(REFETCH_CONCURRENCY));
    let mut refetches = tokio::task::JoinSet::new();
    for mark in 0..publishes {
        let body = item(&mut rng, "org0", &format!("{MARK}{mark}"), true);
        let res = http
            .post(format!("{url}/api/v1/items"))
            .bearer_auth(&keys[0])
            .json(&body)
            .send()
            .await
            .unwrap();
        let at = SystemTime::now();
        assert_eq!(res.status().as_u16(), 201);
        accepted.insert(mark, at);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let (mut read, mut arrived) = (Vec::new(), Vec::new());
    let expected = held * publishes;
    let give_up = Instant::now() + Duration::from_secs(60);
    while read.len() < expected {
        let Ok(Some(arrival)) = tokio::time::timeout_at(give_up.into(), arrivals.recv()).await else {
            break;
        };
        if let Some(sent) = accepted.get(&arrival.mark) {
            let since = |t: SystemTime| t.duration_since(*sent).unwrap_or_default();
            read.push(since(arrival.read_at));
            arrived.extend(arrival.arrived.map(since));
            if on_event == OnEvent::RefetchPage {
                let (client, permit) = (refetch_client.clone(), refetching.clone().acquire_owned());
                let (page, cookie) = (
                    format!("{url}/action-center"),
                    cookies[arrival.stream % cookies.len()].clone(),
                );
                refetches.spawn(async move {
                    let _permit = permit.await.unwrap();
                    let res = client.get(page).header("cookie", cookie).send().await;
                    match res {
                        Ok(res) if res.status().is_success() => {
                            res.bytes().await.map(|b| b.len()).unwrap_or(0)
                        }
                        _ => 0,
                    }
                });
            }
        }
    }
    let mut refetched = (0usize, 0usize);
    while let Some(done) = refetches.join_next().await {
        let bytes = done.unwrap_or(0);
        refetched.0 += usize::from(bytes > 0);
        refetched.1 += bytes;
    }
    // What the server did for the events: its CPU from the first publish until every stream
    // had the events (and every page fetched again was sent), less its idle rate.
    let cpu_seconds = (cpu_time(server_pid) - cpu_from.1).as_secs_f64()
        - idle_cpu_rate * cpu_from.0.elapsed().as_secs_f64();
    read.sort();
    arrived.sort();
    let last = |d: &[Duration]| d.last().map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0);
    println!(
        "{}",
        serde_json::json!({"bench": "streams", "reader": reader.name(), "on_event": on_event.name(), "streams": streams, "held": held, "users": users.len(),
            "server_cpu_ms_per_event": cpu_seconds * 1000.0 / publishes.max(1) as f64,
            "pages_refetched": refetched.0, "page_bytes": refetched.1,
            "open_seconds": open_seconds, "rss_before": before, "rss_idle": idle,
            "bytes_per_stream": (idle.saturating_sub(before)) as f64 / held.max(1) as f64,
            "publishes": publishes, "deliveries": read.len(), "expected": expected, "stamped": arrived.len(),
            "p50_ms": percentile(&arrived, 0.5), "p99_ms": percentile(&arrived, 0.99), "max_ms": last(&arrived),
            "read_p50_ms": percentile(&read, 0.5), "read_p99_ms": percentile(&read, 0.99), "read_max_ms": last(&read)})
    );
}
