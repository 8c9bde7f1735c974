//! Several instances on one PostgreSQL (spec §5): a publish through one instance reaches a
//! stream held by another at once (LISTEN/NOTIFY), and a session opened on one works on the other.

mod common;

use std::time::Duration;

use app::db::scratch::ScratchDb;
use app::db::{Backend, Db};
use futures_util::StreamExt;

/// One instance: its own connection pool and broadcast, on the shared database.
async fn instance(url: &str) -> (String, Db) {
    let db = Db::connect(url).await.unwrap();
    db.relay_changes_from_other_instances();
    let state = common::state(&db, "http://127.0.0.1", true).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, server::web::router(state)).await.unwrap() });
    (base, db)
}

#[tokio::test]
async fn a_publish_through_one_instance_reaches_a_stream_on_another() {
    let scratch = ScratchDb::new(Backend::Postgres).await;
    app::demo::seed(&scratch.db).await.unwrap();
    let (a, _a_db) = instance(&scratch.url).await;
    let (b, _b_db) = instance(&scratch.url).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // Signed in through A, streaming from B: the session lives in the shared database.
    let res = http
        .post(format!("{a}/sign-in"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=admin%40contoso.test&password=actioncenter")
        .send()
        .await
        .unwrap();
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("ac_session="))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let stream = http
        .get(format!("{b}/api/live"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let mut stream = stream.bytes_stream();
    // Let the stream subscribe before the publish.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let body = serde_json::json!({
        "kind": "notification", "category": "transactional", "org_id": "contoso", "workspace": "billing",
        "audience": {"roles": ["account_admin"], "user_ids": []}, "title": {"en": "Published through A"}
    });
    let started = tokio::time::Instant::now();
    let res = http
        .post(format!("{a}/api/v1/items"))
        .bearer_auth(app::api_keys::DEMO_PLATFORM_KEY)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    // Well under the streams' 30 s safety poll: only the notification can have woken B.
    let mut seen = String::new();
    let arrived = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(chunk)) = stream.next().await {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            if seen.contains("Published through A") {
                return;
            }
        }
    })
    .await;
    assert!(arrived.is_ok(), "no event on instance B within 5 s; got {seen:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}
