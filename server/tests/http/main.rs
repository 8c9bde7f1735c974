//! The HTTP surface over the real router, on SQLite and on PostgreSQL, one module per part of
//! it; the helpers here drive the router as a browser would. Plus the binary's start-up errors
//! and CLI.

#[path = "../common/mod.rs"]
mod common;

mod admin;
mod cli;
mod no_script;
mod preferences;
mod security;
mod server_fns;
mod session;
mod setup;

use app::db::Backend;
use app::db::scratch::ScratchDb;
use app::error::{AppError, Refusal};
use axum::Router;
use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use common::on_both_backends;
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

/// A sign-in form post with `body`.
fn form(body: &str) -> Request<Body> {
    form_to("/sign-in", body)
}

/// A form post of `body` to `path`, as a browser sends it without script.
fn form_to(path: &str, body: &str) -> Request<Body> {
    Request::post(path)
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

async fn prefs_of(db: &app::db::Db, email: &str) -> app::preferences::Preferences {
    let user = app::orgs::find_user_by_email(db, email).await.unwrap().unwrap();
    app::preferences::load(db, &user.id).await.unwrap().unwrap()
}

async fn post_form(router: &Router, path: &str, body: &str) -> Response<Body> {
    router.clone().oneshot(form_to(path, body)).await.unwrap()
}
