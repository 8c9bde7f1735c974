//! The producer REST API and the live stream over real HTTP, against the server on a
//! loopback port, on SQLite and on PostgreSQL.

mod common;

use std::time::Duration;

use app::db::Backend;
use app::db::scratch::ScratchDb;
use common::on_both_backends;
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};

struct Server {
    base: String,
    scratch: ScratchDb,
    http: reqwest::Client,
}

async fn start(backend: Backend, demo_mode: bool) -> Server {
    let scratch = ScratchDb::new(backend).await;
    app::demo::seed(&scratch.db).await.unwrap();
    let state = common::state(&scratch.db, "http://127.0.0.1", demo_mode).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, server::web::router(state)).await.unwrap() });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Server { base, scratch, http }
}

impl Server {
    async fn org_key(&self, org: &str) -> String {
        app::api_keys::create(&self.scratch.db, "test", app::api_keys::Scope::Org(org.into()))
            .await
            .unwrap()
            .1
    }

    async fn post(&self, path: &str, key: Option<&str>, body: String) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, key, body).await
    }

    async fn patch(&self, path: &str, key: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.send(reqwest::Method::PATCH, path, key, body.to_string())
            .await
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        key: Option<&str>,
        body: String,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .body(body);
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str, key: Option<&str>) -> (StatusCode, Value) {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn item_count(&self) -> i64 {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM items")
            .fetch_one(self.scratch.db.pool())
            .await
            .unwrap();
        n
    }

    async fn session(&self, email: &str) -> String {
        let res = self
            .http
            .post(format!("{}/sign-in", self.base))
            .form(&[("email", email), ("password", "actioncenter")])
            .send()
            .await
            .unwrap();
        res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string()
    }
}

fn action(org: &str) -> Value {
    json!({
        "kind": "action", "category": "mandatory", "org_id": org, "workspace": "account_settings",
        "audience": {"roles": ["account_admin"], "user_ids": []},
        "title": {"en": "Complete your account verification", "nl": "Voltooi de verificatie van uw account"},
        "body": {"en": "…"}, "link": "https://partner.example/verification",
        "due_at": "2026-12-31T23:59:59Z", "idempotency_key": "verif-2026"
    })
}

fn with(mut v: Value, path: &[&str], new: Value) -> Value {
    let mut at = &mut v;
    for p in &path[..path.len() - 1] {
        at = &mut at[*p];
    }
    at[path[path.len() - 1]] = new;
    v
}

fn error_of(v: &Value) -> (String, Option<String>) {
    let e = &v["error"];
    assert!(
        e["message"].as_str().is_some_and(|m| !m.is_empty()),
        "error JSON has a message: {v}"
    );
    (
        e["code"].as_str().unwrap_or_default().to_string(),
        e["field"].as_str().map(String::from),
    )
}

on_both_backends!(
    keys_authenticate_and_scope,
    publishing_is_idempotent,
    invalid_input_is_422_naming_the_field_and_writes_nothing,
    bodies_over_the_limit_are_413,
    complete_and_cancel_apply_to_actions_only,
    producers_update_text_due_dates_and_expiry,
    the_delivery_report_counts_reach_email_reads_and_archives,
    the_openapi_document_describes_the_api,
    the_stream_replays_exactly_what_a_reconnecting_client_missed,
    the_stream_needs_a_session,
    streams_of_one_org_share_each_publication_and_see_only_theirs,
);

async fn keys_authenticate_and_scope(backend: Backend) {
    let s = start(backend, false).await;
    let body = action("contoso").to_string();
    let (status, v) = s.post("/api/v1/items", None, body.clone()).await;
    assert_eq!(
        (status, error_of(&v).0.as_str()),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    let (status, _) = s.post("/api/v1/items", Some("ack_not_a_key"), body.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = s
        .post(
            "/api/v1/items",
            Some(app::api_keys::DEMO_PLATFORM_KEY),
            body.clone(),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the demo key works in demo mode only"
    );

    let contoso = s.org_key("contoso").await;
    let (status, v) = s
        .post("/api/v1/items", Some(&contoso), action("fabrikam").to_string())
        .await;
    assert_eq!(
        (status, error_of(&v).0.as_str()),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    let fabrikam = s.org_key("fabrikam").await;
    let (status, created) = s
        .post("/api/v1/items", Some(&fabrikam), action("fabrikam").to_string())
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = created["id"].as_str().unwrap();
    let (status, _) = s.get(&format!("/api/v1/items/{id}"), Some(&contoso)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, got) = s.get(&format!("/api/v1/items/{id}"), Some(&fabrikam)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, created);
    let (status, v) = s.get("/api/v1/items/does-not-exist", Some(&fabrikam)).await;
    assert_eq!(
        (status, error_of(&v).0.as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let (status, v) = s.get("/api/v1/nothing-here", Some(&fabrikam)).await;
    assert_eq!(
        (status, error_of(&v).0.as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );

    let demo = start(backend, true).await;
    let (status, _) = demo
        .post("/api/v1/items", Some(app::api_keys::DEMO_PLATFORM_KEY), body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "platform key, demo mode");
}

async fn publishing_is_idempotent(backend: Backend) {
    let s = start(backend, false).await;
    let key = s.org_key("contoso").await;
    let (status, first) = s
        .post("/api/v1/items", Some(&key), action("contoso").to_string())
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(first["status"], "open");
    assert_eq!(first["kind"], "action");
    assert_eq!(first["due_at"], "2026-12-31T23:59:59Z");
    let (status, again) = s
        .post("/api/v1/items", Some(&key), action("contoso").to_string())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["id"], first["id"]);
    let changed = with(action("contoso"), &["title", "en"], json!("Something else"));
    let (status, v) = s.post("/api/v1/items", Some(&key), changed.to_string()).await;
    assert_eq!(
        (status, error_of(&v).0.as_str()),
        (StatusCode::CONFLICT, "conflict")
    );
    let before = s.item_count().await;
    let no_key = with(action("contoso"), &["idempotency_key"], Value::Null);
    assert_eq!(
        s.post("/api/v1/items", Some(&key), no_key.to_string()).await.0,
        StatusCode::CREATED
    );
    assert_eq!(s.item_count().await, before + 1);
}

async fn invalid_input_is_422_naming_the_field_and_writes_nothing(backend: Backend) {
    let s = start(backend, false).await;
    let key = s.org_key("contoso").await;
    let before = s.item_count().await;
    let cases: Vec<(String, &str)> = vec![
        (
            with(action("contoso"), &["link"], json!("javascript:alert(1)")).to_string(),
            "link",
        ),
        (
            with(action("contoso"), &["link"], json!("http://partner.example")).to_string(),
            "link",
        ),
        (
            with(
                action("contoso"),
                &["audience", "roles"],
                json!(["account_admin", "emperor"]),
            )
            .to_string(),
            "audience.roles[1]",
        ),
        (
            with(
                action("contoso"),
                &["audience"],
                json!({"roles": [], "user_ids": []}),
            )
            .to_string(),
            "audience",
        ),
        (
            with(action("contoso"), &["workspace"], json!("moon")).to_string(),
            "workspace",
        ),
        (
            with(action("contoso"), &["title", "en"], json!("x".repeat(201))).to_string(),
            "title.en",
        ),
        (
            with(action("contoso"), &["title", "en_GB"], json!("Hi")).to_string(),
            "title.en_GB",
        ),
        (
            with(action("contoso"), &["category"], json!("promotional")).to_string(),
            "category",
        ),
        (
            with(action("contoso"), &["due_at"], Value::Null).to_string(),
            "due_at",
        ),
        (
            with(action("contoso"), &["due_at"], json!("next week")).to_string(),
            "due_at",
        ),
        (
            with(
                with(action("contoso"), &["kind"], json!("notification")),
                &["category"],
                json!("transactional"),
            )
            .to_string(),
            "due_at",
        ),
        (
            with(
                action("contoso"),
                &["audience", "user_ids"],
                json!(["no-such-user"]),
            )
            .to_string(),
            "audience.user_ids[0]",
        ),
        (
            with(action("contoso"), &["audience", "roles"], json!("account_admin")).to_string(),
            "audience.roles",
        ),
        (
            with(action("contoso"), &["surprise"], json!(1)).to_string(),
            "surprise",
        ),
        ("{not json".to_string(), "body"),
        (String::new(), "body"),
    ];
    for (body, field) in cases {
        let (status, v) = s.post("/api/v1/items", Some(&key), body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let (code, got_field) = error_of(&v);
        assert_eq!(code, "invalid");
        assert_eq!(got_field.as_deref(), Some(field), "{body} -> {v}");
    }
    assert_eq!(s.item_count().await, before, "no partial writes");
}

async fn bodies_over_the_limit_are_413(backend: Backend) {
    let s = start(backend, false).await;
    let key = s.org_key("contoso").await;
    let huge = with(
        action("contoso"),
        &["body", "en"],
        json!("x".repeat(2 * 1024 * 1024)),
    );
    let (status, v) = s.post("/api/v1/items", Some(&key), huge.to_string()).await;
    assert_eq!(
        (status, error_of(&v).0.as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
}

async fn complete_and_cancel_apply_to_actions_only(backend: Backend) {
    let s = start(backend, false).await;
    let key = s.org_key("contoso").await;
    let (_, item) = s
        .post("/api/v1/items", Some(&key), action("contoso").to_string())
        .await;
    let id = item["id"].as_str().unwrap();
    let (status, done) = s
        .post(&format!("/api/v1/items/{id}/complete"), Some(&key), String::new())
        .await;
    assert_eq!(
        (status, done["status"].as_str()),
        (StatusCode::OK, Some("completed"))
    );
    let (status, _) = s
        .post(&format!("/api/v1/items/{id}/complete"), Some(&key), String::new())
        .await;
    assert_eq!(status, StatusCode::OK, "repeating is harmless");
    let (status, v) = s
        .post(&format!("/api/v1/items/{id}/cancel"), Some(&key), String::new())
        .await;
    assert_eq!(
        (status, error_of(&v).0.as_str()),
        (StatusCode::CONFLICT, "conflict")
    );
    let note = json!({"kind": "notification", "category": "promotional", "org_id": "contoso", "workspace": "incentives",
        "audience": {"roles": ["incentives_admin"]}, "title": {"en": "News"}});
    let (status, note) = s.post("/api/v1/items", Some(&key), note.to_string()).await;
    assert_eq!(status, StatusCode::CREATED);
    let nid = note["id"].as_str().unwrap();
    let (status, v) = s
        .post(&format!("/api/v1/items/{nid}/cancel"), Some(&key), String::new())
        .await;
    assert_eq!(
        (status, error_of(&v).0.as_str()),
        (StatusCode::CONFLICT, "not_an_action")
    );
    let (status, _) = s
        .post("/api/v1/items/nope/complete", Some(&key), String::new())
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let other = s.org_key("fabrikam").await;
    let (status, _) = s
        .post(&format!("/api/v1/items/{id}/cancel"), Some(&other), String::new())
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn the_openapi_document_describes_the_api(backend: Backend) {
    let s = start(backend, false).await;
    let (status, doc) = s.get("/api/v1/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/items",
        "/api/v1/items/{id}",
        "/api/v1/items/{id}/complete",
        "/api/v1/items/{id}/cancel",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
        for (method, operation) in doc["paths"][path].as_object().unwrap() {
            for status in ["500", "503"] {
                assert_eq!(
                    operation["responses"][status]["content"]["application/json"]["schema"]["$ref"],
                    json!("#/components/schemas/ErrorBody"),
                    "{method} {path} documents {status}"
                );
            }
        }
    }
    let schemas = &doc["components"]["schemas"];
    assert!(schemas["ItemPayload"]["properties"]["audience"].is_object());
    assert!(doc["components"]["securitySchemes"]["api_key"].is_object());
    // The document states the limits validation enforces (utoipa takes literals, so this
    // keeps the two from drifting apart).
    use app::items::payload::{
        MAX_IDEMPOTENCY_KEY_CHARS, MAX_LINK_CHARS, MAX_ORG_ID_CHARS, MAX_ROLES, MAX_USER_IDS,
    };
    let payload = &schemas["ItemPayload"]["properties"];
    assert_eq!(schemas["Kind"]["enum"], json!(["action", "notification"]));
    assert_eq!(
        schemas["Category"]["enum"],
        json!(["mandatory", "recommended", "transactional", "promotional"])
    );
    assert_eq!(
        schemas["Status"]["enum"],
        json!(["open", "completed", "cancelled", "expired"])
    );
    assert_eq!(payload["org_id"]["minLength"], json!(1));
    assert_eq!(payload["org_id"]["maxLength"], json!(MAX_ORG_ID_CHARS));
    assert_eq!(payload["idempotency_key"]["minLength"], json!(1));
    assert_eq!(payload["link"]["maxLength"], json!(MAX_LINK_CHARS));
    assert_eq!(
        payload["idempotency_key"]["maxLength"],
        json!(MAX_IDEMPOTENCY_KEY_CHARS)
    );
    let audience = &schemas["Audience"]["properties"];
    assert_eq!(audience["roles"]["maxItems"], json!(MAX_ROLES));
    assert_eq!(audience["user_ids"]["maxItems"], json!(MAX_USER_IDS));
}

/// Reads SSE frames (id, data) from a response until `n` data frames arrived or time ran out.
async fn frames(
    res: &mut (impl futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin),
    n: usize,
    wait: Duration,
) -> Vec<(i64, Value)> {
    let mut buf = String::new();
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    while out.len() < n {
        let chunk = match tokio::time::timeout_at(deadline, res.next()).await {
            Ok(Some(Ok(chunk))) => chunk,
            _ => break,
        };
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            let mut id = None;
            let mut data = None;
            for line in frame.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = v.trim().parse().ok();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data = serde_json::from_str(v.trim()).ok();
                }
            }
            if let (Some(id), Some(data)) = (id, data) {
                out.push((id, data));
            }
        }
    }
    out
}

async fn open_stream(
    s: &Server,
    cookie: &str,
    last_id: Option<i64>,
) -> impl futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Unpin {
    let mut req = s
        .http
        .get(format!("{}/api/live", s.base))
        .header("cookie", cookie);
    if let Some(id) = last_id {
        req = req.header("last-event-id", id.to_string());
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    Box::pin(res.bytes_stream())
}

async fn the_stream_replays_exactly_what_a_reconnecting_client_missed(backend: Backend) {
    let s = start(backend, false).await;
    // A second account admin, so that revoking the first one's role below is allowed.
    let finance = app::orgs::find_user_by_email(&s.scratch.db, "finance@contoso.test")
        .await
        .unwrap()
        .unwrap();
    app::orgs::grant_role(&s.scratch.db, &finance, &"account_admin".into(), "test")
        .await
        .unwrap();
    let key = s.org_key("contoso").await;
    let cookie = s.session("admin@contoso.test").await;
    let s = &s;
    let publish = |title: &str| {
        let body = with(
            with(action("contoso"), &["title", "en"], json!(title)),
            &["idempotency_key"],
            Value::Null,
        )
        .to_string();
        let key = key.clone();
        async move { s.post("/api/v1/items", Some(&key), body).await }
    };

    let mut stream = open_stream(s, &cookie, None).await;
    let hello = frames(&mut stream, 1, Duration::from_secs(5)).await;
    assert_eq!(hello.len(), 1, "a new stream starts with the counts");
    let pending = hello[0].1["counts"]["pending_actions"].as_i64().unwrap();
    assert_eq!(publish("First").await.0, StatusCode::CREATED);
    let first = frames(&mut stream, 1, Duration::from_secs(5)).await;
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].1["changes"][0]["type"], "item_added");
    assert_eq!(first[0].1["changes"][0]["item"]["title"], "First");
    assert_eq!(
        first[0].1["counts"]["pending_actions"].as_i64(),
        Some(pending + 1)
    );
    drop(stream);

    publish("Second").await;
    publish("Third").await;
    let mut resumed = open_stream(s, &cookie, Some(first[0].0)).await;
    let missed = frames(&mut resumed, 3, Duration::from_secs(3)).await;
    let titles: Vec<&str> = missed
        .iter()
        .map(|(_, m)| m["changes"][0]["item"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        ["Second", "Third"],
        "exactly the two missed events, in order"
    );
    assert!(missed[0].0 < missed[1].0);
    assert_eq!(
        missed[1].1["counts"]["pending_actions"].as_i64(),
        Some(pending + 3)
    );

    // A role revoked elsewhere removes the items live.
    let admin = app::orgs::find_user_by_email(&s.scratch.db, "admin@contoso.test")
        .await
        .unwrap()
        .unwrap();
    app::orgs::revoke_role(&s.scratch.db, &admin, &"account_admin".into(), "test")
        .await
        .unwrap();
    let revoked = frames(&mut resumed, 1, Duration::from_secs(5)).await;
    let changes = revoked[0].1["changes"].as_array().unwrap();
    assert!(
        !changes.is_empty()
            && changes
                .iter()
                .all(|c| c["type"] == "item_removed" && c["reason"] == "role_revoked")
    );
    assert_eq!(revoked[0].1["counts"]["pending_actions"].as_i64(), Some(0));

    // A resume point the log no longer covers asks the client to reload.
    let mut stale = open_stream(s, &cookie, Some(i64::MAX / 2)).await;
    let resync = frames(&mut stale, 1, Duration::from_secs(5)).await;
    assert_eq!(resync[0].1["changes"][0]["type"], "resync");
}

async fn the_stream_needs_a_session(backend: Backend) {
    let s = start(backend, false).await;
    let res = s.http.get(format!("{}/api/live", s.base)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

/// Several streams of one org, on one shared reader: each gets exactly the publications that
/// reach its user (by role or by name), and its counts match a fresh count from the database.
async fn streams_of_one_org_share_each_publication_and_see_only_theirs(backend: Backend) {
    let s = start(backend, false).await;
    let key = s.org_key("contoso").await;
    let db = &s.scratch.db;
    let user =
        |email: &'static str| async move { app::orgs::find_user_by_email(db, email).await.unwrap().unwrap() };
    let (admin, dev, finance) = (
        user("admin@contoso.test").await,
        user("dev@contoso.test").await,
        user("finance@contoso.test").await,
    );
    let watchers = [&admin, &dev, &finance, &dev];
    let mut cookies = Vec::new();
    for u in watchers {
        cookies.push(s.session(&u.email).await);
    }
    let mut streams = Vec::new();
    for (u, cookie) in watchers.into_iter().zip(&cookies) {
        let mut stream = open_stream(&s, cookie, None).await;
        assert_eq!(frames(&mut stream, 1, Duration::from_secs(5)).await.len(), 1);
        streams.push((u, stream));
    }
    // (title, roles, named users): who each reaches is in `expected` below.
    let publications: [(&str, &[&str], Vec<&str>); 4] = [
        ("For billing", &["billing_admin"], vec![]),
        ("For developers", &["marketplace_developer"], vec![]),
        ("Billing and named dev", &["billing_admin"], vec![dev.id.as_str()]),
        ("For admins", &["account_admin"], vec![]),
    ];
    for (title, roles, named) in &publications {
        let body = with(
            with(
                with(action("contoso"), &["title", "en"], json!(title)),
                &["audience"],
                json!({"roles": roles, "user_ids": named}),
            ),
            &["idempotency_key"],
            Value::Null,
        );
        assert_eq!(
            s.post("/api/v1/items", Some(&key), body.to_string()).await.0,
            StatusCode::CREATED
        );
    }
    let expected = |u: &app::orgs::User| -> Vec<&str> {
        if u.id == admin.id {
            vec!["For admins"]
        } else if u.id == dev.id {
            vec!["For developers", "Billing and named dev"]
        } else {
            vec!["For billing", "Billing and named dev"]
        }
    };
    for (u, stream) in &mut streams {
        let want = expected(u);
        let got = frames(stream, want.len(), Duration::from_secs(5)).await;
        let titles: Vec<&str> = got
            .iter()
            .map(|(_, m)| m["changes"][0]["item"]["title"].as_str().unwrap())
            .collect();
        assert_eq!(titles, want, "stream of {}", u.email);
        assert!(
            frames(stream, 1, Duration::from_millis(300)).await.is_empty(),
            "nothing else for {}",
            u.email
        );
        let reader = app::items::Reader {
            user_id: u.id.clone(),
            org_id: "contoso".into(),
            language: "en".into(),
        };
        let fresh = app::items::counts(db, &reader).await.unwrap();
        assert_eq!(
            got.last().unwrap().1["counts"],
            serde_json::to_value(fresh).unwrap(),
            "counts of {}",
            u.email
        );
    }
}

/// PATCH changes what it names and leaves the rest; bad input is 422 naming the field and
/// changes nothing; closed, expired and other organisations' items are refused; an expiry
/// that passes takes the item out of every reader's view while the API still answers for it.
async fn producers_update_text_due_dates_and_expiry(backend: Backend) {
    use app::items::{ItemFilter, Reader};
    let s = start(backend, false).await;
    let db = &s.scratch.db;
    let key = s.org_key("contoso").await;
    let (_, item) = s
        .post("/api/v1/items", Some(&key), action("contoso").to_string())
        .await;
    let id = item["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/items/{id}");
    let (status, updated) = s
        .patch(
            &path,
            Some(&key),
            json!({"title": {"en": "Verify your account now", "nl": "Verifieer uw account nu"},
                "due_at": "2027-01-15T12:00:00Z", "expires_at": "2099-02-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["title"]["en"], "Verify your account now");
    assert_eq!(updated["due_at"], "2027-01-15T12:00:00Z");
    assert_eq!(updated["expires_at"], "2099-02-01T00:00:00Z");
    assert_eq!(updated["body"], item["body"], "what is left out stays");
    assert_eq!(updated["status"], "open");
    assert_eq!(s.get(&path, Some(&key)).await.1, updated);
    let (_, cleared) = s.patch(&path, Some(&key), json!({"expires_at": null})).await;
    assert_eq!(cleared["expires_at"], Value::Null, "null removes the expiry");
    assert_eq!(cleared["due_at"], "2027-01-15T12:00:00Z");

    let admin = app::orgs::find_user_by_email(db, "admin@contoso.test")
        .await
        .unwrap()
        .unwrap();
    let reader = Reader {
        user_id: admin.id,
        org_id: admin.org_id,
        language: "nl".into(),
    };
    let shown = app::items::view(db, &reader, &id).await.unwrap().unwrap();
    assert_eq!(shown.title, "Verifieer uw account nu");

    for (body, field) in [
        (json!({}), "body"),
        (json!({"title": {"nl": "Alleen Nederlands"}}), "title.en"),
        (json!({"title": {"en": " "}}), "title"),
        (json!({"due_at": "next week"}), "due_at"),
        (json!({"expires_at": "later"}), "expires_at"),
        (json!({"status": "completed"}), "status"),
    ] {
        let (status, v) = s.patch(&path, Some(&key), body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(error_of(&v), ("invalid".into(), Some(field.into())), "{body}");
    }
    assert_eq!(
        s.get(&path, Some(&key)).await.1,
        cleared,
        "refusals change nothing"
    );

    let note = json!({"kind": "notification", "category": "transactional", "org_id": "contoso",
        "workspace": "billing", "audience": {"roles": ["account_admin"]}, "title": {"en": "Invoice ready"}});
    let (_, note) = s.post("/api/v1/items", Some(&key), note.to_string()).await;
    let note_path = format!("/api/v1/items/{}", note["id"].as_str().unwrap());
    let (status, v) = s
        .patch(&note_path, Some(&key), json!({"due_at": "2027-01-15T12:00:00Z"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_of(&v).1.as_deref(), Some("due_at"));
    let (status, _) = s
        .patch(
            &note_path,
            Some(&s.org_key("fabrikam").await),
            json!({"title": {"en": "Mine"}}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = s
        .patch("/api/v1/items/nope", Some(&key), json!({"title": {"en": "Gone"}}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // An expiry in the past at publication is refused; set later, it retires the item.
    let (status, v) = s
        .post(
            "/api/v1/items",
            Some(&key),
            with(action("contoso"), &["expires_at"], json!("2020-01-01T00:00:00Z")).to_string(),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_of(&v).1.as_deref(), Some("expires_at"));
    let (status, _) = s
        .patch(
            &note_path,
            Some(&key),
            json!({"expires_at": "2020-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        app::items::lifecycle::expire_due(db, app::db::now_ms())
            .await
            .unwrap(),
        1
    );
    let (_, expired) = s.get(&note_path, Some(&key)).await;
    assert_eq!(expired["status"], "expired");
    assert_eq!(expired["expires_at"], "2020-01-01T00:00:00Z");
    let listed = app::items::list(db, &reader, &ItemFilter::default())
        .await
        .unwrap();
    assert!(listed.items.iter().all(|i| i.id != note["id"].as_str().unwrap()));
    let (status, v) = s
        .patch(&note_path, Some(&key), json!({"title": {"en": "Back again"}}))
        .await;
    assert_eq!(
        (status, error_of(&v).0.as_str()),
        (StatusCode::CONFLICT, "conflict")
    );

    let (status, _) = s
        .post(&format!("{path}/complete"), Some(&key), String::new())
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, v) = s
        .patch(&path, Some(&key), json!({"title": {"en": "Too late"}}))
        .await;
    assert_eq!(
        (status, error_of(&v).0.as_str()),
        (StatusCode::CONFLICT, "conflict")
    );
}

/// The report counts the item's reach in its own organisation (Fabrikam's account admin holds
/// the role too), the email the worker sent and what readers did; other organisations' keys
/// cannot see it.
async fn the_delivery_report_counts_reach_email_reads_and_archives(backend: Backend) {
    use app::items::{Reader, UserAction};
    let s = start(backend, false).await;
    let db = &s.scratch.db;
    let key = s.org_key("contoso").await;
    let note = json!({"kind": "notification", "category": "promotional", "org_id": "contoso", "workspace": "billing",
        "audience": {"roles": ["account_admin", "billing_admin"]}, "title": {"en": "Quarterly billing news"}});
    let (status, item) = s.post("/api/v1/items", Some(&key), note.to_string()).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = item["id"].as_str().unwrap().to_string();
    let report = |key: String| {
        let path = format!("/api/v1/items/{id}/report");
        let s = &s;
        async move { s.get(&path, Some(&key)).await }
    };
    let (status, r) = report(key.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        r,
        json!({"reached": 2, "emailed": 0, "failed": 0, "read": 0, "archived": 0})
    );

    // The worker sends the email (to a folder, as the demo does).
    let mail = tempfile_dir();
    let links = app::email::Links::new(
        "http://127.0.0.1",
        app::email::SigningKey::load_or_create(db).await.unwrap(),
    );
    let transport = app::email::transport::Transport::from_config(None, &mail).unwrap();
    let worker = app::email::worker::Worker::new(db.clone(), links, transport, "ac@portal.example").unwrap();
    worker.run_once(app::db::now_ms()).await.unwrap();
    worker.run_once(app::db::now_ms()).await.unwrap();
    assert_eq!(report(key.clone()).await.1["emailed"], 2);

    let reader = |email: &'static str| async move {
        let user = app::orgs::find_user_by_email(db, email).await.unwrap().unwrap();
        Reader {
            user_id: user.id,
            org_id: user.org_id,
            language: "en".into(),
        }
    };
    let (finance, admin) = (
        reader("finance@contoso.test").await,
        reader("admin@contoso.test").await,
    );
    app::items::apply(db, &finance, &id, UserAction::Read)
        .await
        .unwrap();
    app::items::apply(db, &admin, &id, UserAction::Archive)
        .await
        .unwrap();
    // The admin's email failed for good after all (as the worker records it).
    sqlx::query("UPDATE outbox SET status = 'failed' WHERE item_id = $1 AND user_id = $2")
        .bind(&id)
        .bind(&admin.user_id)
        .execute(db.pool())
        .await
        .unwrap();
    assert_eq!(
        report(key.clone()).await.1,
        json!({"reached": 2, "emailed": 1, "failed": 1, "read": 1, "archived": 1})
    );

    let (status, _) = report(s.org_key("fabrikam").await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, v) = s.get("/api/v1/items/nope/report", Some(&key)).await;
    assert_eq!(
        (status, error_of(&v).0.as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    std::fs::remove_dir_all(&mail).ok();
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ac-report-mail-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
