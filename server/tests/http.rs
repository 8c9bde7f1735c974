//! The HTTP surface over the real router, on SQLite and on PostgreSQL: sign-in, the
//! session cookie, the page guard and sign-out. Plus the binary's start-up errors and CLI.

mod common;

use app::db::Backend;
use app::db::scratch::ScratchDb;
use app::error::{AppError, Refusal};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

async fn app(backend: Backend) -> (ScratchDb, Router) {
    app_at(backend, "http://127.0.0.1:3000").await
}

async fn app_at(backend: Backend, public_url: &str) -> (ScratchDb, Router) {
    let scratch = ScratchDb::new(backend).await;
    app::demo::seed(&scratch.db).await.unwrap();
    let state = common::state(&scratch.db, public_url, true).await;
    (scratch, server::web::router(state))
}

fn form(body: &str) -> Request<Body> {
    Request::post("/sign-in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn location(res: &Response<Body>) -> &str {
    res.headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

fn session_cookie(res: &Response<Body>) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("ac_session=") && !c.contains("Max-Age=0"))
        .map(|c| c.split(';').next().unwrap_or_default().to_string())
}

/// The refusal a server function answered with (its error body is the `AppError` as JSON).
fn refusal(body: &str) -> Refusal {
    match serde_json::from_str::<AppError>(body) {
        Ok(AppError::Invalid(refusal)) => refusal,
        other => panic!("not a refusal: {other:?} from {body}"),
    }
}

async fn text(res: Response<Body>) -> String {
    let body = within("reading a response body", res.into_body().collect()).await;
    String::from_utf8_lossy(&body.unwrap().to_bytes()).into_owned()
}

/// Awaits one step of a test, failing it with a message naming the step if it hangs.
async fn within<T>(step: &str, future: impl std::future::IntoFuture<Output = T>) -> T {
    tokio::time::timeout(std::time::Duration::from_secs(30), future)
        .await
        .unwrap_or_else(|_| panic!("{step} took more than 30 s"))
}

async fn get(router: &Router, path: &str, cookie: Option<&str>) -> Response<Body> {
    let mut req = Request::get(path);
    if let Some(cookie) = cookie {
        req = req.header(header::COOKIE, cookie);
    }
    within(
        &format!("GET {path}"),
        router.clone().oneshot(req.body(Body::empty()).unwrap()),
    )
    .await
    .unwrap()
}

async fn sign_in(router: &Router, email: &str) -> String {
    let res = within(
        "signing in",
        router
            .clone()
            .oneshot(form(&format!("email={email}&password=actioncenter"))),
    )
    .await
    .unwrap();
    session_cookie(&res).expect("a session cookie")
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(app::db::Backend::Sqlite).await })* }
        mod postgres { $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn $name() { super::$name(app::db::Backend::Postgres).await })* }
    };
}

on_both_backends!(
    pages_need_a_session,
    sign_in_sets_a_safe_cookie_and_shows_the_user,
    every_bad_sign_in_gets_the_same_answer_and_no_session,
    sign_out_ends_the_session,
    signing_in_again_replaces_the_old_session,
    behind_tls_the_cookie_is_secure,
    server_functions_act_only_on_items_that_reach_the_user,
    setup_comes_first_until_it_is_done,
    a_crafted_request_cannot_turn_off_locked_email,
    a_verification_link_verifies_once,
    one_click_unsubscribe_turns_off_what_the_link_names,
    admins_manage_roles_but_never_remove_the_last_admin,
    an_invited_user_chooses_a_password_once,
    cross_site_posts_are_refused,
    responses_carry_security_headers,
    sign_in_and_the_api_are_rate_limited,
    sign_out_everywhere_ends_every_session,
    a_request_that_stalls_gets_503_and_loses_nothing,
    the_forms_work_without_script,
);

async fn setup_comes_first_until_it_is_done(backend: Backend) {
    let (_db, router) = app(backend).await;
    let newcomer = sign_in(&router, "new%40contoso.test").await;
    for path in [
        "/",
        "/action-center",
        "/action-center/actions",
        "/action-center/archived?category=promotional",
    ] {
        assert_eq!(
            location(&get(&router, path, Some(&newcomer)).await),
            "/setup",
            "{path}"
        );
    }
    let res = get(&router, "/setup", Some(&newcomer)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = text(res).await;
    assert!(
        page.contains("value=\"new@contoso.test\""),
        "the notification email is prefilled"
    );
    let json = "application/json";
    let form = |job: &str, language: &str, email: &str| {
        serde_json::json!({ "form": { "job_function": job, "email_language": language, "notification_email": email } })
            .to_string()
    };
    let body = form("Partner manager", "nl", "new@contoso.test");
    let (status, saved) = call(&router, "preferences_save", Some(&newcomer), json, body).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert!(
        saved.contains("\"setup_completed\":true") && saved.contains("\"notification_email_verified\":true"),
        "{saved}"
    );
    assert_eq!(
        get(&router, "/action-center", Some(&newcomer)).await.status(),
        StatusCode::OK
    );
    let (status, body) = call(
        &router,
        "preferences_save",
        Some(&newcomer),
        json,
        form("x", "xx", "nope"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let changed = form("x", "en", "other@contoso.test");
    let (_, body) = call(&router, "preferences_save", Some(&newcomer), json, changed).await;
    assert!(
        body.contains("\"notification_email_verified\":false"),
        "a new address starts unverified: {body}"
    );
}

async fn item_id(db: &app::db::Db, english_title: &str) -> String {
    let (id,): (String,) = sqlx::query_as("SELECT id FROM items WHERE title LIKE $1")
        .bind(format!("%\"en\":\"{english_title}\"%"))
        .fetch_one(db.pool())
        .await
        .unwrap();
    id
}

async fn call(
    router: &Router,
    endpoint: &str,
    cookie: Option<&str>,
    content_type: &str,
    body: String,
) -> (StatusCode, String) {
    let mut req = Request::post(format!("/api/{endpoint}")).header(header::CONTENT_TYPE, content_type);
    if let Some(cookie) = cookie {
        req = req.header(header::COOKIE, cookie);
    }
    let res = router
        .clone()
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = res.status();
    (status, text(res).await)
}

async fn server_functions_act_only_on_items_that_reach_the_user(backend: Backend) {
    let (db, router) = app(backend).await;
    let form = "application/x-www-form-urlencoded";
    let (status, _) = call(&router, "items_counts", None, form, String::new()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let admin = sign_in(&router, "admin%40contoso.test").await;
    let fabrikam = sign_in(&router, "admin%40fabrikam.test").await;
    let tax = item_id(&db.db, "Update your tax profile").await;
    let verify = item_id(&db.db, "Complete your account verification").await;

    let (status, body) = call(
        &router,
        "items_archive",
        Some(&fabrikam),
        form,
        format!("item_id={tax}"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = call(
        &router,
        "items_archive",
        Some(&admin),
        form,
        format!("item_id={verify}"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refusal(&body), Refusal::MandatoryNotArchivable, "{body}");
    let (status, body) = call(
        &router,
        "items_archive",
        Some(&admin),
        form,
        format!("item_id={tax}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let view: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(view["archived"], true);

    let (status, body) = call(&router, "items_counts", Some(&admin), form, String::new()).await;
    assert_eq!(status, StatusCode::OK);
    let counts: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        counts["pending_actions"], 3,
        "the tax profile no longer counts: {counts}"
    );

    let filter = r#"{"filter": {"archived": true}}"#.to_string();
    let (status, body) = call(&router, "items_list", Some(&admin), "application/json", filter).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
    let titles: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert!(
        titles.contains(&"Update your tax profile") && titles.len() == 3,
        "{titles:?}"
    );
    let (status, body) = call(
        &router,
        "items_list",
        Some(&fabrikam),
        "application/json",
        r#"{"filter": {}}"#.into(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!body.contains("tax profile"), "never another org's items");
}

async fn behind_tls_the_cookie_is_secure(backend: Backend) {
    let (_db, router) = app_at(backend, "https://partner.example").await;
    let res = router
        .clone()
        .oneshot(form("email=dev%40contoso.test&password=actioncenter"))
        .await
        .unwrap();
    let cookie = res.headers().get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
}

async fn pages_need_a_session(backend: Backend) {
    let (_db, router) = app(backend).await;
    let res = get(&router, "/", None).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/sign-in");
    let res = get(&router, "/sign-in", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = text(res).await;
    for label in [">Email<", ">Password<", ">Sign in<"] {
        assert!(page.contains(label), "sign-in page lacks {label}");
    }
    assert_eq!(get(&router, "/healthz", None).await.status(), StatusCode::OK);
}

async fn sign_in_sets_a_safe_cookie_and_shows_the_user(backend: Backend) {
    let (_db, router) = app(backend).await;
    let res = router
        .clone()
        .oneshot(form("email=Admin%40Contoso.test&password=actioncenter"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/action-center");
    let full = res
        .headers()
        .get(header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        full.contains("HttpOnly") && full.contains("SameSite=Lax") && full.contains("Path=/"),
        "{full}"
    );
    assert!(!full.contains("Secure"), "plain http on loopback");
    let pair = session_cookie(&res).unwrap();

    let res = get(&router, "/action-center", Some(&pair)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = text(res).await;
    assert!(
        page.contains("Ada Admin") && page.contains("admin@contoso.test"),
        "the header names the user"
    );
    assert!(page.contains("aria-label=\"Notifications\""));
    // A signed-in user is not shown the sign-in form again, and starts in the Action Center.
    assert_eq!(
        location(&get(&router, "/sign-in", Some(&pair)).await),
        "/action-center"
    );
    assert_eq!(location(&get(&router, "/", Some(&pair)).await), "/action-center");
}

async fn every_bad_sign_in_gets_the_same_answer_and_no_session(backend: Backend) {
    let (_db, router) = app(backend).await;
    let long = format!("email=admin%40contoso.test&password={}", "x".repeat(5000));
    let cases: Vec<Request<Body>> = vec![
        form("email=admin%40contoso.test&password=wrong"),
        form("email=nobody%40contoso.test&password=actioncenter"),
        form("email=admin%40contoso.test"),
        form("password=actioncenter"),
        form("%%%&&&==="),
        form(""),
        form(&long),
        Request::post("/sign-in")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                r#"{"email":"admin@contoso.test","password":"actioncenter"}"#,
            ))
            .unwrap(),
        Request::post("/sign-in")
            .body(Body::from(vec![0xff, 0xfe, 0x00]))
            .unwrap(),
    ];
    for req in cases {
        let res = router.clone().oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), "/sign-in?error=credentials");
        assert!(session_cookie(&res).is_none());
    }
    let res = get(&router, "/sign-in?error=credentials", None).await;
    assert!(text(res).await.contains("The email or password is not correct."));
    // A body over the limit is refused before it is read, not with a server error.
    let huge = form(&format!("email=a&password={}", "x".repeat(100 * 1024)));
    let res = router.clone().oneshot(huge).await.unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

async fn sign_out_ends_the_session(backend: Backend) {
    let (_db, router) = app(backend).await;
    let pair = sign_in(&router, "dev%40contoso.test").await;
    let out = Request::post("/sign-out")
        .header(header::COOKIE, &pair)
        .body(Body::empty())
        .unwrap();
    let res = router.clone().oneshot(out).await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/sign-in");
    let cleared = res.headers().get(header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(cleared.starts_with("ac_session=;") && cleared.contains("Max-Age=0"));
    let res = get(&router, "/", Some(&pair)).await;
    assert_eq!(location(&res), "/sign-in", "the old cookie opens nothing");
}

async fn signing_in_again_replaces_the_old_session(backend: Backend) {
    let (_db, router) = app(backend).await;
    let old = sign_in(&router, "dev%40contoso.test").await;
    let mut again = form("email=dev%40contoso.test&password=actioncenter");
    again.headers_mut().insert(header::COOKIE, old.parse().unwrap());
    let res = router.clone().oneshot(again).await.unwrap();
    let new = session_cookie(&res).unwrap();
    assert_ne!(old, new);
    assert_eq!(location(&get(&router, "/", Some(&old)).await), "/sign-in");
    assert_eq!(
        get(&router, "/action-center", Some(&new)).await.status(),
        StatusCode::OK
    );
}

fn binary() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_action-center"))
}

#[test]
fn an_unreachable_database_stops_the_binary_with_one_line() {
    let out = binary()
        .args(["migrate"])
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: cannot open the database") && stderr.contains("DATABASE_URL"),
        "{stderr}"
    );
}

#[test]
fn an_unsupported_database_url_is_named() {
    let out = binary()
        .args(["migrate"])
        .env("DATABASE_URL", "")
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("DATABASE_URL must start with sqlite:// or postgres://"),
        "{stderr}"
    );
}

#[test]
fn the_cli_manages_orgs_users_roles_and_keys() {
    let dir = std::env::temp_dir().join(format!("ac-cli-{}", uuid::Uuid::new_v4().simple()));
    let url = format!("sqlite://{}/cli.db", dir.display());
    let run = |args: &[&str], stdin: &str| {
        use std::io::Write;
        let mut child = binary()
            .args(args)
            .env("DATABASE_URL", &url)
            .env("RUST_LOG", "off")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        (out.status.code(), text)
    };
    assert_eq!(run(&["migrate"], "").0, Some(0));
    assert_eq!(
        run(&["org", "create", "northwind", "--name", "Northwind"], "").0,
        Some(0)
    );
    let (code, out) = run(&["org", "create", "northwind", "--name", "Again"], "");
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("already exists"), "{out}");
    let (code, out) = run(
        &[
            "user",
            "create",
            "--org",
            "northwind",
            "--email",
            "ann@northwind.test",
            "--name",
            "Ann",
            "--password-stdin",
            "--role",
            "billing_admin",
        ],
        "a long password\n",
    );
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = run(
        &[
            "role",
            "grant",
            "--email",
            "ann@northwind.test",
            "--role",
            "account_admin",
        ],
        "",
    );
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = run(
        &["role", "grant", "--email", "ann@northwind.test", "--role", "king"],
        "",
    );
    assert_eq!(code, Some(2));
    assert!(out.contains("unknown role"), "{out}");
    let (code, out) = run(
        &[
            "role",
            "revoke",
            "--email",
            "ann@northwind.test",
            "--role",
            "billing_admin",
        ],
        "",
    );
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = run(
        &[
            "api-key",
            "create",
            "--name",
            "billing system",
            "--org",
            "northwind",
        ],
        "",
    );
    assert_eq!(code, Some(0), "{out}");
    let secret = out.lines().last().unwrap().trim().to_string();
    assert!(secret.starts_with("ack_"), "{out}");

    // The legacy preferences import: bad rows by line, the rest applied, idempotent.
    let export = dir.join("legacy.csv");
    std::fs::write(
        &export,
        "email,job_function,email_language,promotional_email\n\
         ann@northwind.test,Controller,nl,no\n\
         ghost@northwind.test,,en,\n\
         ann@northwind.test,,en,perhaps\n",
    )
    .unwrap();
    let file = export.to_str().unwrap();
    let (code, out) = run(&["preferences", "import", file], "");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("1 applied, 0 unchanged, 2 rejected"), "{out}");
    assert!(
        out.contains(&format!(
            "{file}:3: skipped: no user with email ghost@northwind.test"
        )),
        "{out}"
    );
    assert!(out.contains(&format!("{file}:4: skipped:")), "{out}");
    let (_, out) = run(&["preferences", "import", file], "");
    assert!(out.contains("0 applied, 1 unchanged, 2 rejected"), "{out}");
    let (code, out) = run(&["preferences", "import", "/no/such/file.csv"], "");
    assert_eq!(code, Some(2));
    assert!(out.contains("cannot read /no/such/file.csv"), "{out}");
    let (code, out) = run(&["outbox", "status"], "");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("pending") && out.contains("sent"), "{out}");

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let db = app::db::Db::connect(&url).await.unwrap();
        let ann = app::orgs::find_user_by_email(&db, "ann@northwind.test")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            app::orgs::roles_of(&db, &ann.id).await.unwrap(),
            vec!["account_admin"]
        );
        assert!(
            app::auth::session::authenticate(&db, "ann@northwind.test", "a long password")
                .await
                .is_ok()
        );
        let key = app::api_keys::authenticate(&db, &secret, false)
            .await
            .unwrap()
            .unwrap();
        assert!(key.may_act_on("northwind") && !key.may_act_on("contoso"));
        db.close().await;
    });
    let _ = std::fs::remove_dir_all(dir);
}

fn json_form(job: &str, email: &str, switches: serde_json::Value) -> String {
    serde_json::json!({ "form": {
        "job_function": job, "email_language": "en", "notification_email": email, "switches": switches
    } })
    .to_string()
}

async fn prefs_of(db: &app::db::Db, email: &str) -> app::preferences::Preferences {
    let user = app::orgs::find_user_by_email(db, email).await.unwrap().unwrap();
    app::preferences::load(db, &user.id).await.unwrap().unwrap()
}

async fn a_crafted_request_cannot_turn_off_locked_email(backend: Backend) {
    let (db, router) = app(backend).await;
    let admin = sign_in(&router, "admin@contoso.test").await;
    let json = "application/json";
    let before = prefs_of(&db.db, "admin@contoso.test").await;
    for (switches, expected) in [
        (
            serde_json::json!({ "categories": { "mandatory": false } }),
            Refusal::ActionEmailLocked {
                category: "mandatory".into(),
            },
        ),
        (
            serde_json::json!({ "categories": { "recommended": false, "promotional": false } }),
            Refusal::ActionEmailLocked {
                category: "recommended".into(),
            },
        ),
        (serde_json::json!({ "in_app": false }), Refusal::InAppLocked),
        (
            serde_json::json!({ "workspaces": { "moon": false } }),
            Refusal::UnknownWorkspace { name: "moon".into() },
        ),
    ] {
        // The rest of the form changes too: none of it may be stored.
        let body = json_form("Changed", "changed@contoso.test", switches);
        let (status, answer) = call(&router, "preferences_save", Some(&admin), json, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(refusal(&answer), expected, "{answer}");
        assert_eq!(prefs_of(&db.db, "admin@contoso.test").await, before);
    }
    let body = json_form(
        "Changed",
        "admin@contoso.test",
        serde_json::json!({ "in_app": true, "categories": { "mandatory": true, "promotional": false }, "workspaces": { "billing": false } }),
    );
    let (status, answer) = call(&router, "preferences_save", Some(&admin), json, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let after = prefs_of(&db.db, "admin@contoso.test").await;
    assert!(after.email.transactional && !after.email.promotional);
    assert_eq!(after.email.workspaces_off, ["billing".to_string()].into());
    let trail = app::audit::recent(&db.db, "contoso", 5).await.unwrap();
    let entry = trail
        .iter()
        .find(|e| e.action == "preferences.update")
        .expect("an audit entry");
    assert_eq!(entry.actor, "admin@contoso.test");
    assert!(
        entry.detail.contains("promotional") && entry.detail.contains("billing"),
        "{}",
        entry.detail
    );
}

/// The verification token as the outbox holds it in the email's text.
async fn verification_token(db: &app::db::Db, to: &str) -> String {
    let (text,): (String,) = sqlx::query_as(
        "SELECT body_text FROM outbox WHERE purpose = 'verify' AND to_address = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(to)
    .fetch_one(db.pool())
    .await
    .unwrap();
    let start = text.find("/verify-email/").expect("a link") + "/verify-email/".len();
    text[start..].split_whitespace().next().unwrap().to_string()
}

async fn post_form(router: &Router, path: &str, body: &str) -> Response<Body> {
    router
        .clone()
        .oneshot(
            Request::post(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
        .unwrap()
}

async fn a_verification_link_verifies_once(backend: Backend) {
    let (db, router) = app(backend).await;
    let dev = sign_in(&router, "dev@contoso.test").await;
    let json = "application/json";
    let body = json_form("Developer", "dev.alerts@contoso.test", serde_json::json!({}));
    let (status, answer) = call(&router, "preferences_save", Some(&dev), json, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let token = verification_token(&db.db, "dev.alerts@contoso.test").await;
    // Only the hash is stored.
    let (stored,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM email_verifications WHERE token_hash = $1")
        .bind(&token)
        .fetch_one(db.db.pool())
        .await
        .unwrap();
    assert_eq!(stored, 0);

    // Looking at the link changes nothing (mail scanners follow links).
    let page = get(&router, &format!("/verify-email/{token}"), None).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        text(page)
            .await
            .contains("Use dev.alerts@contoso.test for Action Center email?")
    );
    assert!(
        !prefs_of(&db.db, "dev@contoso.test")
            .await
            .notification_email_verified
    );

    let res = post_form(&router, &format!("/verify-email/{token}"), "").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(text(res).await.contains("is verified"));
    let prefs = prefs_of(&db.db, "dev@contoso.test").await;
    assert!(prefs.notification_email_verified);
    assert_eq!(prefs.notification_email, "dev.alerts@contoso.test");

    let again = post_form(&router, &format!("/verify-email/{token}"), "").await;
    assert_eq!(again.status(), StatusCode::GONE);
    assert!(text(again).await.contains("already used"));
    let forged = post_form(&router, &format!("/verify-email/{}", "0".repeat(64)), "").await;
    assert_eq!(forged.status(), StatusCode::NOT_FOUND);
    assert!(text(forged).await.contains("not valid"));
    let junk = get(&router, "/verify-email/%3Cscript%3E", None).await;
    assert_eq!(junk.status(), StatusCode::NOT_FOUND);

    // A second change, a link left for more than 24 hours: expired, and nothing verified.
    let body = json_form("Developer", "dev.late@contoso.test", serde_json::json!({}));
    call(&router, "preferences_save", Some(&dev), json, body).await;
    let late = verification_token(&db.db, "dev.late@contoso.test").await;
    sqlx::query("UPDATE email_verifications SET expires_at = $1 WHERE used_at IS NULL")
        .bind(app::db::now_ms() - 1)
        .execute(db.db.pool())
        .await
        .unwrap();
    let res = post_form(&router, &format!("/verify-email/{late}"), "").await;
    assert_eq!(res.status(), StatusCode::GONE);
    assert!(text(res).await.contains("expired"));
    assert!(
        !prefs_of(&db.db, "dev@contoso.test")
            .await
            .notification_email_verified
    );

    // "Send verification email" again: a new link, but not twice a minute.
    let (status, answer) = call(
        &router,
        "preferences_resend_verification",
        Some(&dev),
        "application/x-www-form-urlencoded",
        String::new(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the first link is less than a minute old: {answer}"
    );
    assert_eq!(refusal(&answer), Refusal::VerificationTooSoon);
    sqlx::query("UPDATE email_verifications SET created_at = $1")
        .bind(app::db::now_ms() - 120_000)
        .execute(db.db.pool())
        .await
        .unwrap();
    let (status, answer) = call(
        &router,
        "preferences_resend_verification",
        Some(&dev),
        "application/x-www-form-urlencoded",
        String::new(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let fresh = verification_token(&db.db, "dev.late@contoso.test").await;
    assert_ne!(fresh, late);
    // The older link was replaced by the new one.
    assert_eq!(
        post_form(&router, &format!("/verify-email/{late}"), "")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        post_form(&router, &format!("/verify-email/{fresh}"), "")
            .await
            .status(),
        StatusCode::OK
    );
    assert!(
        prefs_of(&db.db, "dev@contoso.test")
            .await
            .notification_email_verified
    );
}

async fn one_click_unsubscribe_turns_off_what_the_link_names(backend: Backend) {
    use app::email::{Links, SigningKey, UnsubscribeTarget};
    let (db, router) = app(backend).await;
    let links = Links::new(
        "http://127.0.0.1:3000",
        SigningKey::load_or_create(&db.db).await.unwrap(),
    );
    let user = app::orgs::find_user_by_email(&db.db, "finance@contoso.test")
        .await
        .unwrap()
        .unwrap();
    let promotional = links.unsubscribe_token(&user.id, &UnsubscribeTarget::Category("promotional".into()));
    let billing = links.unsubscribe_token(&user.id, &UnsubscribeTarget::Workspace("billing".into()));

    let page = get(&router, &format!("/unsubscribe/{promotional}"), None).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(text(page).await.contains("Turn off promotional email?"));
    assert!(
        prefs_of(&db.db, "finance@contoso.test").await.email.promotional,
        "a GET changes nothing"
    );

    for _ in 0..2 {
        let res = post_form(
            &router,
            &format!("/unsubscribe/{promotional}"),
            "List-Unsubscribe=One-Click",
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            text(res)
                .await
                .contains("You will no longer receive promotional email")
        );
    }
    let res = post_form(
        &router,
        &format!("/unsubscribe/{billing}"),
        "List-Unsubscribe=One-Click",
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let prefs = prefs_of(&db.db, "finance@contoso.test").await;
    assert!(!prefs.email.promotional && prefs.email.transactional);
    assert_eq!(prefs.email.workspaces_off, ["billing".to_string()].into());
    let trail = app::audit::recent(&db.db, "contoso", 10).await.unwrap();
    assert_eq!(
        trail
            .iter()
            .filter(|e| e.actor == "finance@contoso.test (unsubscribe link)")
            .count(),
        2,
        "one entry per change, none for the repeat"
    );

    // A token signed by another key, or naming another user, is refused.
    let other = Links::new(
        "http://127.0.0.1:3000",
        SigningKey::load_or_create(&ScratchDb::new(backend).await.db)
            .await
            .unwrap(),
    );
    let forged = other.unsubscribe_token(&user.id, &UnsubscribeTarget::Category("transactional".into()));
    let res = post_form(
        &router,
        &format!("/unsubscribe/{forged}"),
        "List-Unsubscribe=One-Click",
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let mandatory = links.unsubscribe_token(&user.id, &UnsubscribeTarget::Category("mandatory".into()));
    let res = post_form(
        &router,
        &format!("/unsubscribe/{mandatory}"),
        "List-Unsubscribe=One-Click",
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "action email cannot be unsubscribed from"
    );
    assert!(prefs_of(&db.db, "finance@contoso.test").await.email.transactional);
}

const FORM: &str = "application/x-www-form-urlencoded";

async fn admins_manage_roles_but_never_remove_the_last_admin(backend: Backend) {
    let (db, router) = app(backend).await;
    let admin = sign_in(&router, "admin@contoso.test").await;
    let dev = sign_in(&router, "dev@contoso.test").await;
    let (status, _) = call(&router, "admin_members", Some(&dev), FORM, String::new()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "not an admin");
    let (status, list) = call(&router, "admin_members", Some(&admin), FORM, String::new()).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert!(
        list.contains("dev@contoso.test") && !list.contains("fabrikam"),
        "{list}"
    );

    let dev_user = app::orgs::find_user_by_email(&db.db, "dev@contoso.test")
        .await
        .unwrap()
        .unwrap();
    let admin_user = app::orgs::find_user_by_email(&db.db, "admin@contoso.test")
        .await
        .unwrap()
        .unwrap();
    let body = format!("user_id={}&role=billing_admin&granted=true", dev_user.id);
    let (status, answer) = call(&router, "admin_set_role", Some(&admin), FORM, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(
        app::orgs::roles_of(&db.db, &dev_user.id)
            .await
            .unwrap()
            .contains(&"billing_admin".to_string())
    );

    let body = format!("user_id={}&role=account_admin&granted=false", admin_user.id);
    let (status, answer) = call(&router, "admin_set_role", Some(&admin), FORM, body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(refusal(&answer), Refusal::LastAdmin, "{answer}");
    assert!(
        app::orgs::roles_of(&db.db, &admin_user.id)
            .await
            .unwrap()
            .contains(&"account_admin".to_string())
    );

    // With a second admin, the first may step down.
    let body = format!("user_id={}&role=account_admin&granted=true", dev_user.id);
    assert_eq!(
        call(&router, "admin_set_role", Some(&admin), FORM, body).await.0,
        StatusCode::OK
    );
    let body = format!("user_id={}&role=account_admin&granted=false", admin_user.id);
    assert_eq!(
        call(&router, "admin_set_role", Some(&admin), FORM, body).await.0,
        StatusCode::OK
    );

    // Another organisation's user is not there to change.
    let other = app::orgs::find_user_by_email(&db.db, "admin@fabrikam.test")
        .await
        .unwrap()
        .unwrap();
    let body = format!("user_id={}&role=billing_admin&granted=true", other.id);
    let (status, _) = call(&router, "admin_set_role", Some(&dev), FORM, body).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, trail) = call(&router, "admin_audit", Some(&dev), FORM, String::new()).await;
    assert_eq!(status, StatusCode::OK, "{trail}");
    assert!(
        trail.contains("role.grant") && trail.contains("role.revoke") && trail.contains("admin@contoso.test"),
        "{trail}"
    );
}

async fn an_invited_user_chooses_a_password_once(backend: Backend) {
    let (db, router) = app(backend).await;
    let admin = sign_in(&router, "admin@contoso.test").await;
    let body = serde_json::json!({ "invitation": {
        "email": "Invitee@Contoso.test", "display_name": "Ivy", "roles": ["billing_admin"]
    } })
    .to_string();
    let (status, answer) = call(
        &router,
        "admin_invite",
        Some(&admin),
        "application/json",
        body.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(answer.contains("invitee@contoso.test"), "{answer}");
    let (status, again) = call(&router, "admin_invite", Some(&admin), "application/json", body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{again}");

    let (mail,): (String,) = sqlx::query_as("SELECT body_text FROM outbox WHERE purpose = 'invite'")
        .fetch_one(db.db.pool())
        .await
        .unwrap();
    let start = mail.find("/set-password/").unwrap();
    let path: String = mail[start..].split_whitespace().next().unwrap().to_string();
    // No password yet: signing in fails.
    let res = router
        .clone()
        .oneshot(form("email=invitee%40contoso.test&password=whatever1"))
        .await
        .unwrap();
    assert!(session_cookie(&res).is_none());

    let page = get(&router, &path, None).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        text(page)
            .await
            .contains("Choose a password for invitee@contoso.test")
    );
    // In the language this browser chose for the UI (or asks for).
    let dutch = get(&router, &path, Some("i18n_pref_locale=nl")).await;
    let dutch = text(dutch).await;
    assert!(
        dutch.contains("Kies een wachtwoord voor invitee@contoso.test") && dutch.contains("lang=\"nl\""),
        "{dutch}"
    );
    let short = post_form(&router, &path, "password=short&repeat=short").await;
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(short).await.contains("A password is 8 to 1024 characters."));
    let short = Request::post(path.as_str())
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT_LANGUAGE, "nl-BE,nl;q=0.9,en;q=0.5")
        .body(Body::from("password=short&repeat=short"))
        .unwrap();
    let short = router.clone().oneshot(short).await.unwrap();
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text(short)
            .await
            .contains("Een wachtwoord heeft 8 tot 1024 tekens.")
    );
    let differ = post_form(&router, &path, "password=long+enough+1&repeat=long+enough+2").await;
    assert_eq!(differ.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let done = post_form(&router, &path, "password=long+enough+1&repeat=long+enough+1").await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&done), "/setup");
    assert!(session_cookie(&done).is_some(), "signed in");
    let reused = post_form(&router, &path, "password=another+one+2&repeat=another+one+2").await;
    assert_eq!(reused.status(), StatusCode::GONE);
    let res = router
        .clone()
        .oneshot(form("email=invitee%40contoso.test&password=long+enough+1"))
        .await
        .unwrap();
    assert!(session_cookie(&res).is_some(), "the chosen password works");
}

async fn post_with(
    router: &Router,
    path: &str,
    cookie: Option<&str>,
    headers: &[(&str, &str)],
) -> Response<Body> {
    let mut req = Request::post(path).header(header::CONTENT_TYPE, "application/json");
    if let Some(cookie) = cookie {
        req = req.header(header::COOKIE, cookie);
    }
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let body = serde_json::json!({ "form": {
        "job_function": "", "email_language": "en", "notification_email": "admin@contoso.test"
    } });
    router
        .clone()
        .oneshot(req.body(Body::from(body.to_string())).unwrap())
        .await
        .unwrap()
}

async fn cross_site_posts_are_refused(backend: Backend) {
    let (_db, router) = app(backend).await;
    let admin = sign_in(&router, "admin@contoso.test").await;
    let save = "/api/preferences_save";
    for evil in [
        &[("origin", "https://evil.example")][..],
        &[("sec-fetch-site", "cross-site")][..],
        &[
            ("sec-fetch-site", "same-site"),
            ("origin", "https://sub.127.0.0.1"),
        ][..],
        &[("origin", "null")][..],
    ] {
        let res = post_with(&router, save, Some(&admin), evil).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{evil:?}");
    }
    let res = post_with(
        &router,
        save,
        Some(&admin),
        &[
            ("sec-fetch-site", "same-origin"),
            ("origin", "http://127.0.0.1:3000"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = router
        .clone()
        .oneshot(
            Request::post("/sign-out")
                .header(header::COOKIE, &admin)
                .header("sec-fetch-site", "cross-site")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "not even sign-out");
}

async fn responses_carry_security_headers(backend: Backend) {
    let (_db, router) = app(backend).await;
    let res = get(&router, "/sign-in", None).await;
    let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("'wasm-unsafe-eval'"),
        "{csp}"
    );
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap()
        .to_string();
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(res.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(res.headers()[header::X_FRAME_OPTIONS], "DENY");
    let page = text(res).await;
    // Every inline script with something in it carries the nonce.
    for script in page
        .split("<script")
        .skip(1)
        .filter(|s| !s.starts_with("></script>"))
    {
        let tag = script.split('>').next().unwrap();
        assert!(
            tag.contains(" src=") || tag.contains(&format!("nonce=\"{nonce}\"")),
            "<script{tag}> in {page}"
        );
    }
    let again = get(&router, "/sign-in", None).await;
    assert!(
        !again.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains(&nonce),
        "a fresh nonce each time"
    );
    let api = get(&router, "/api/v1/openapi.json", None).await;
    assert_eq!(
        api.headers()[header::CONTENT_SECURITY_POLICY],
        server::security::DEFAULT_CSP
    );
    assert_eq!(api.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
}

async fn sign_in_and_the_api_are_rate_limited(backend: Backend) {
    use server::security::{LimitConfig, Limits, Rate};
    let scratch = ScratchDb::new(backend).await;
    app::demo::seed(&scratch.db).await.unwrap();
    let state = common::state(&scratch.db, "http://127.0.0.1:3000", true).await;
    let minute = std::time::Duration::from_secs(60);
    let limits = Limits::new(LimitConfig {
        sign_in_per_email: Rate {
            burst: 3,
            per: minute,
        },
        sign_in_per_client: Rate {
            burst: 100,
            per: minute,
        },
        api_per_key: Rate {
            burst: 2,
            per: minute,
        },
        ..LimitConfig::default()
    });
    let router = server::web::router_with_limits(state, limits);
    // Successful sign-ins do not count; failed ones do.
    for _ in 0..5 {
        let res = router
            .clone()
            .oneshot(form("email=dev%40contoso.test&password=actioncenter"))
            .await
            .unwrap();
        assert!(session_cookie(&res).is_some());
    }
    for _ in 0..4 {
        let res = router
            .clone()
            .oneshot(form("email=dev%40contoso.test&password=wrong"))
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    // Even the right password waits now.
    let res = router
        .clone()
        .oneshot(form("email=dev%40contoso.test&password=actioncenter"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = res.headers()[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(text(res).await.contains("Too many sign-in attempts"));
    let mut dutch = form("email=dev%40contoso.test&password=actioncenter");
    dutch
        .headers_mut()
        .insert(header::COOKIE, "i18n_pref_locale=nl".parse().unwrap());
    let res = router.clone().oneshot(dutch).await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(text(res).await.contains("Te veel inlogpogingen"));
    // Another account is not held up.
    let res = router
        .clone()
        .oneshot(form("email=admin%40contoso.test&password=actioncenter"))
        .await
        .unwrap();
    assert!(session_cookie(&res).is_some());

    let api = |key: &'static str| {
        let router = router.clone();
        async move {
            router
                .oneshot(
                    Request::get("/api/v1/items/nope")
                        .header(header::AUTHORIZATION, format!("Bearer {key}"))
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap()
        }
    };
    assert_eq!(api("demo-platform-key").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(api("demo-platform-key").await.status(), StatusCode::NOT_FOUND);
    let limited = api("demo-platform-key").await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key(header::RETRY_AFTER));
    assert!(text(limited).await.contains("\"code\":\"rate_limited\""));
    assert_eq!(
        api("another-key").await.status(),
        StatusCode::UNAUTHORIZED,
        "per key"
    );
}

async fn sign_out_everywhere_ends_every_session(backend: Backend) {
    let (_db, router) = app(backend).await;
    let laptop = sign_in(&router, "dev@contoso.test").await;
    let phone = sign_in(&router, "dev@contoso.test").await;
    let other = sign_in(&router, "admin@contoso.test").await;
    let res = router
        .clone()
        .oneshot(
            Request::post("/sign-out-everywhere")
                .header(header::COOKIE, &laptop)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(location(&res), "/sign-in");
    for gone in [&laptop, &phone] {
        assert_eq!(
            location(&get(&router, "/action-center", Some(gone)).await),
            "/sign-in"
        );
    }
    assert_eq!(
        get(&router, "/action-center", Some(&other)).await.status(),
        StatusCode::OK
    );
}

/// Every database connection is taken (by this test, standing in for a database that stopped
/// answering): a sign-in and an API request wait for one, and the response timeout answers
/// for them with 503 and words. Once connections are free again the same sign-in works.
async fn a_request_that_stalls_gets_503_and_loses_nothing(backend: Backend) {
    use server::security::{LimitConfig, Limits};
    let scratch = ScratchDb::new(backend).await;
    app::demo::seed(&scratch.db).await.unwrap();
    let state = common::state(&scratch.db, "http://127.0.0.1:3000", true).await;
    let router = server::web::router_with_limits(
        state,
        Limits::new(LimitConfig {
            response_timeout: std::time::Duration::from_millis(300),
            ..LimitConfig::default()
        }),
    );
    let pool = scratch.db.pool();
    let mut held = Vec::new();
    for _ in 0..pool.options().get_max_connections() {
        held.push(within("taking a connection", pool.acquire()).await.unwrap());
    }
    let res = within(
        "a stalled sign-in",
        router
            .clone()
            .oneshot(form("email=dev%40contoso.test&password=actioncenter")),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(session_cookie(&res).is_none());
    // The timeout answered, not the sign-in giving up on the pool after its 5 s (that 503
    // says "The service is temporarily unavailable").
    assert_eq!(
        text(res).await,
        "The server took too long to answer. Please try again."
    );
    // A producer gets the API's error JSON.
    let res = within(
        "a stalled API request",
        router.clone().oneshot(
            Request::get("/api/v1/items/nope")
                .header(header::AUTHORIZATION, "Bearer demo-platform-key")
                .body(Body::empty())
                .unwrap(),
        ),
    )
    .await
    .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = serde_json::from_str(&text(res).await).unwrap();
    assert_eq!(body["error"]["code"], "unavailable", "{body}");

    drop(held);
    let cookie = sign_in(&router, "dev%40contoso.test").await;
    let res = get(&router, "/action-center", Some(&cookie)).await;
    assert_eq!(res.status(), StatusCode::OK);
}

/// A form post the way a browser sends it without script: it accepts HTML and names the page
/// it came from.
async fn browser_post(router: &Router, cookie: &str, path: &str, from: &str, body: &str) -> Response<Body> {
    within(
        &format!("POST {path}"),
        router.clone().oneshot(
            Request::post(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "text/html,application/xhtml+xml")
                .header(header::ORIGIN, "http://127.0.0.1:3000")
                .header(header::REFERER, format!("http://127.0.0.1:3000{from}"))
                .header(header::COOKIE, cookie)
                .body(Body::from(body.to_string()))
                .unwrap(),
        ),
    )
    .await
    .unwrap()
}

/// The page a redirect names, as the browser would load it next.
async fn follow(router: &Router, res: &Response<Body>, cookie: &str) -> String {
    assert_eq!(res.status(), StatusCode::FOUND, "a redirect");
    // A browser keeps the fragment to itself.
    let to = location(res).trim_start_matches("http://127.0.0.1:3000");
    let to = to.split('#').next().unwrap_or_default().to_string();
    text(get(router, &to, Some(cookie)).await).await
}

/// The UI's forms post to server functions that send the browser back: archive, a refused
/// archive with its reason on the page, bulk archive, opening an item, and preferences.
async fn the_forms_work_without_script(backend: Backend) {
    let (db, router) = app(backend).await;
    let admin = sign_in(&router, "admin%40contoso.test").await;
    let screenshots = item_id(&db.db, "Add screenshots to your offer listing").await;
    let verify = item_id(&db.db, "Complete your account verification").await;
    let from = "/action-center/actions?category=recommended";

    let res = browser_post(
        &router,
        &admin,
        "/api/items_archive",
        from,
        &format!("item_id={screenshots}"),
    )
    .await;
    // Back where the form was, at the list (only the Referer's path and query: never off site).
    assert_eq!(location(&res), format!("{from}#item-list"));
    let page = follow(&router, &res, &admin).await;
    assert!(
        !page.contains("Add screenshots to your offer listing"),
        "archived, so not listed"
    );
    let archived = text(get(&router, "/action-center/archived", Some(&admin)).await).await;
    assert!(archived.contains("Add screenshots to your offer listing"));
    assert!(!page.contains("role=\"alert\""), "no error shown: {page}");

    let res = browser_post(
        &router,
        &admin,
        "/api/items_archive",
        from,
        &format!("item_id={verify}"),
    )
    .await;
    assert!(location(&res).contains("__err="), "{}", location(&res));
    let page = follow(&router, &res, &admin).await;
    assert!(
        page.contains("Could not archive") && page.contains("A mandatory action cannot be archived."),
        "the reason is on the page"
    );

    let res = browser_post(
        &router,
        &admin,
        "/api/items_unarchive",
        "/action-center/archived",
        &format!("item_id={screenshots}"),
    )
    .await;
    assert_eq!(location(&res), "/action-center/archived#item-list");
    let page = follow(&router, &res, &admin).await;
    assert!(
        !page.contains("Add screenshots to your offer listing"),
        "back in the list, not the archive"
    );

    // Bulk: what can be archived is; the page names what could not be.
    let both = format!("item_ids%5B%5D={screenshots}&item_ids%5B%5D={verify}");
    let res = browser_post(&router, &admin, "/api/items_archive_selected", from, &both).await;
    let page = follow(&router, &res, &admin).await;
    assert!(page.contains("1 of 2 could not be archived"), "{page}");
    let archived = text(get(&router, "/action-center/archived", Some(&admin)).await).await;
    assert!(archived.contains("Add screenshots to your offer listing"));
    let res = browser_post(&router, &admin, "/api/items_archive_selected", from, "").await;
    assert!(
        follow(&router, &res, &admin)
            .await
            .contains("Select the items to archive first.")
    );
    // The refusal is a code: each reader gets it in the language they read the UI in.
    let dutch = format!("{admin}; i18n_pref_locale=nl");
    let res = browser_post(&router, &dutch, "/api/items_archive_selected", from, "").await;
    assert!(
        follow(&router, &res, &dutch)
            .await
            .contains("Selecteer eerst de items die u wilt archiveren.")
    );

    // Opening a notification's link marks it read on the way.
    let finance = sign_in(&router, "finance%40contoso.test").await;
    let note = item_id(&db.db, "New incentive programme for cloud partners").await;
    let unread = |body: String| {
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        v["unread_notifications"].as_i64().unwrap()
    };
    let form = "application/x-www-form-urlencoded";
    let before = unread(
        call(&router, "items_counts", Some(&finance), form, String::new())
            .await
            .1,
    );
    let res = within(
        "opening an item",
        router.clone().oneshot(
            Request::get(format!("/api/items_open?item_id={note}"))
                .header(header::ACCEPT, "text/html")
                .header(header::COOKIE, &finance)
                .body(Body::empty())
                .unwrap(),
        ),
    )
    .await
    .unwrap();
    assert_eq!((res.status(), location(&res)), (StatusCode::FOUND, "/"));
    let after = unread(
        call(&router, "items_counts", Some(&finance), form, String::new())
            .await
            .1,
    );
    assert_eq!(after, before - 1);

    // Preferences: the switches that are on are sent; the page says it saved.
    let res = browser_post(
        &router,
        &finance,
        "/api/preferences_submit",
        "/preferences",
        "job_function=Controller&email_language=nl&notification_email=finance%40contoso.test&transactional=on&workspaces%5Bbilling%5D=on",
    )
    .await;
    assert_eq!(location(&res), "/preferences?saved=1");
    assert!(follow(&router, &res, &finance).await.contains("Saved."));
    let prefs = prefs_of(&db.db, "finance@contoso.test").await;
    assert_eq!(
        (prefs.job_function.as_str(), prefs.email_language.as_str()),
        ("Controller", "nl")
    );
    assert!(prefs.email.transactional && !prefs.email.promotional);
    assert!(
        !prefs.email.workspaces_off.contains("billing") && prefs.email.workspaces_off.contains("referrals")
    );
    let res = browser_post(
        &router,
        &finance,
        "/api/preferences_submit",
        "/preferences",
        "job_function=&email_language=en&notification_email=not-an-address",
    )
    .await;
    let page = follow(&router, &res, &finance).await;
    assert!(
        page.contains("role=\"alert\"") && !page.contains("Saved."),
        "refused, and said so"
    );
    assert_eq!(
        prefs_of(&db.db, "finance@contoso.test").await.email_language,
        "nl",
        "nothing changed"
    );
}
