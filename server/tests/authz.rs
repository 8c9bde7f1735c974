//! Authorization as a matrix: every route the server registers (pages, server functions, the
//! plain routes, the producer API and the stream), against five callers, with the expected
//! status written down for each. A route missing from the matrix fails the test.

mod common;

use std::collections::BTreeSet;

use app::db::Backend;
use app::db::scratch::ScratchDb;
use app::items::payload::{Audience, ItemPayload, validate};
use app::state::AppState;
use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use server::security::{LimitConfig, Limits, Rate};
use tower::ServiceExt;

/// The callers, in the order of each row's expectations.
const WHO: [&str; 5] = ["anonymous", "other org", "no role", "role holder", "admin"];

/// Who each caller is: a user to sign in as, and (for the producer API) the key they hold.
/// The role holder holds `billing_admin`, which the test item targets; the admin holds
/// `account_admin` and not `billing_admin`; the other org's caller is Fabrikam's admin.
const USERS: [Option<&str>; 5] = [
    None,
    Some("admin@fabrikam.test"),
    Some("dev@contoso.test"),
    Some("finance@contoso.test"),
    Some("admin@contoso.test"),
];

struct Row {
    method: &'static str,
    /// The registered route this row exercises.
    route: &'static str,
    /// The request path: `{item}`, `{other_item}`, `{dev}` and `{who}` are filled in.
    path: &'static str,
    /// `form`, `json`, or nothing.
    body: Option<(&'static str, &'static str)>,
    expect: [u16; 5],
}

const fn row(
    method: &'static str,
    route: &'static str,
    path: &'static str,
    body: Option<(&'static str, &'static str)>,
    expect: [u16; 5],
) -> Row {
    Row {
        method,
        route,
        path,
        body,
        expect,
    }
}

const FORM: &str = "form";
const JSON: &str = "json";
const ANY_USER: [u16; 5] = [401, 200, 200, 200, 200];
const ITEM_HOLDER: [u16; 5] = [401, 404, 404, 200, 404];
const ADMIN_ONLY: [u16; 5] = [401, 200, 403, 403, 200];
const PUBLIC: [u16; 5] = [200; 5];
const PAGE: [u16; 5] = [303, 200, 200, 200, 200];
const API_KEY: [u16; 5] = [401, 403, 401, 200, 200];

fn matrix() -> Vec<Row> {
    vec![
        // Pages: anonymous visitors go to sign-in; the admin pages are for account admins.
        row("GET", "/", "/", None, [303; 5]),
        row("GET", "/sign-in", "/sign-in", None, [200, 303, 303, 303, 303]),
        row("GET", "/setup", "/setup", None, PAGE),
        row("GET", "/preferences", "/preferences", None, PAGE),
        row("GET", "/admin", "/admin", None, [303, 200, 403, 403, 200]),
        row(
            "GET",
            "/admin/audit",
            "/admin/audit",
            None,
            [303, 200, 403, 403, 200],
        ),
        row("GET", "/action-center", "/action-center", None, PAGE),
        row(
            "GET",
            "/action-center/actions",
            "/action-center/actions",
            None,
            PAGE,
        ),
        row(
            "GET",
            "/action-center/notifications",
            "/action-center/notifications",
            None,
            PAGE,
        ),
        row(
            "GET",
            "/action-center/archived",
            "/action-center/archived",
            None,
            PAGE,
        ),
        row("GET", "/bell", "/bell", None, PAGE),
        // Server functions.
        row(
            "POST",
            "/api/current_user",
            "/api/current_user",
            Some((FORM, "")),
            PUBLIC,
        ),
        row(
            "POST",
            "/api/items_list",
            "/api/items_list",
            Some((JSON, r#"{"filter":{}}"#)),
            ANY_USER,
        ),
        row(
            "POST",
            "/api/items_counts",
            "/api/items_counts",
            Some((FORM, "")),
            ANY_USER,
        ),
        row(
            "POST",
            "/api/items_workspaces",
            "/api/items_workspaces",
            Some((FORM, "")),
            ANY_USER,
        ),
        row(
            "POST",
            "/api/items_bell",
            "/api/items_bell",
            Some((FORM, "")),
            ANY_USER,
        ),
        row(
            "POST",
            "/api/items_overview",
            "/api/items_overview",
            Some((FORM, "")),
            ANY_USER,
        ),
        row(
            "POST",
            "/api/items_read",
            "/api/items_read",
            Some((FORM, "item_id={item}")),
            ITEM_HOLDER,
        ),
        row(
            "POST",
            "/api/items_archive",
            "/api/items_archive",
            Some((FORM, "item_id={item}")),
            ITEM_HOLDER,
        ),
        row(
            "POST",
            "/api/items_unarchive",
            "/api/items_unarchive",
            Some((FORM, "item_id={item}")),
            ITEM_HOLDER,
        ),
        row(
            "GET",
            "/api/items_open",
            "/api/items_open?item_id={item}",
            None,
            ITEM_HOLDER,
        ),
        row(
            "POST",
            "/api/items_mark_all_read",
            "/api/items_mark_all_read",
            Some((FORM, "kind=notification&search=nothing-matches-this")),
            ANY_USER,
        ),
        row(
            "POST",
            "/api/items_archive_all",
            "/api/items_archive_all",
            Some((FORM, "kind=notification&search=nothing-matches-this")),
            ANY_USER,
        ),
        row(
            "POST",
            "/api/items_archive_selected",
            "/api/items_archive_selected",
            Some((FORM, "item_ids%5B%5D={item}")),
            ITEM_HOLDER,
        ),
        row(
            "POST",
            "/api/items_snooze",
            "/api/items_snooze",
            Some((FORM, "item_id={item}&minutes=60")),
            ITEM_HOLDER,
        ),
        row(
            "POST",
            "/api/schedule_get",
            "/api/schedule_get",
            Some((FORM, "")),
            ANY_USER,
        ),
        row(
            "POST",
            "/api/schedule_save",
            "/api/schedule_save",
            Some((
                FORM,
                "time_zone=UTC&transactional=immediate&promotional=immediate",
            )),
            ANY_USER,
        ),
        row(
            "POST",
            "/api/preferences_get",
            "/api/preferences_get",
            Some((FORM, "")),
            ANY_USER,
        ),
        row(
            "POST",
            "/api/preferences_save",
            "/api/preferences_save",
            Some((
                JSON,
                r#"{"form":{"job_function":"x","email_language":"en","notification_email":"{email}"}}"#,
            )),
            ANY_USER,
        ),
        row(
            "POST",
            "/api/preferences_submit",
            "/api/preferences_submit",
            Some((
                FORM,
                "job_function=x&email_language=en&notification_email={email}",
            )),
            ANY_USER,
        ),
        // Every caller's address is verified already: a clear refusal, not a failure.
        row(
            "POST",
            "/api/preferences_resend_verification",
            "/api/preferences_resend_verification",
            Some((FORM, "")),
            [401, 422, 422, 422, 422],
        ),
        row(
            "POST",
            "/api/admin_members",
            "/api/admin_members",
            Some((FORM, "")),
            ADMIN_ONLY,
        ),
        row(
            "POST",
            "/api/admin_audit",
            "/api/admin_audit",
            Some((FORM, "")),
            ADMIN_ONLY,
        ),
        row(
            "POST",
            "/api/admin_delivery",
            "/api/admin_delivery",
            Some((FORM, "")),
            ADMIN_ONLY,
        ),
        row(
            "POST",
            "/api/admin_email_defaults",
            "/api/admin_email_defaults",
            Some((FORM, "")),
            ADMIN_ONLY,
        ),
        // Turning it on again changes nothing: the matrix leaves the demo as it found it.
        row(
            "POST",
            "/api/admin_set_email_default",
            "/api/admin_set_email_default",
            Some((FORM, "workspace=billing&on=true")),
            ADMIN_ONLY,
        ),
        // Fabrikam's admin cannot reach a Contoso user.
        row(
            "POST",
            "/api/admin_set_role",
            "/api/admin_set_role",
            Some((FORM, "user_id={dev}&role=sales_agent&granted=true")),
            [401, 404, 403, 403, 200],
        ),
        row(
            "POST",
            "/api/admin_invite",
            "/api/admin_invite",
            Some((
                JSON,
                r#"{"invitation":{"email":"invited-{who}@example.test","display_name":"New","roles":[]}}"#,
            )),
            ADMIN_ONLY,
        ),
        row(
            "POST",
            "/api/admin_invite_form",
            "/api/admin_invite_form",
            Some((FORM, "email=form-{who}%40example.test&display_name=New")),
            ADMIN_ONLY,
        ),
        // Plain routes.
        row("GET", "/healthz", "/healthz", None, PUBLIC),
        row("GET", "/api/live", "/api/live", None, [401, 200, 200, 200, 200]),
        row(
            "POST",
            "/sign-in",
            "/sign-in",
            Some((FORM, "email=x%40y.test&password=wrong")),
            [303; 5],
        ),
        row("POST", "/sign-out", "/sign-out", None, [303; 5]),
        row(
            "POST",
            "/sign-out-everywhere",
            "/sign-out-everywhere",
            None,
            [303; 5],
        ),
        row(
            "GET",
            "/verify-email/{token}",
            "/verify-email/abc",
            None,
            [404; 5],
        ),
        row(
            "POST",
            "/verify-email/{token}",
            "/verify-email/abc",
            None,
            [404; 5],
        ),
        row(
            "GET",
            "/unsubscribe/{token}",
            "/unsubscribe/abc.def",
            None,
            [404; 5],
        ),
        row(
            "POST",
            "/unsubscribe/{token}",
            "/unsubscribe/abc.def",
            None,
            [404; 5],
        ),
        // A token not signed by this instance: refused alike, signed in or not.
        row("GET", "/open/{token}", "/open/abc.def", None, [404; 5]),
        row("POST", "/open/{token}", "/open/abc.def", None, [404; 5]),
        row(
            "GET",
            "/set-password/{token}",
            "/set-password/abc",
            None,
            [404; 5],
        ),
        row(
            "POST",
            "/set-password/{token}",
            "/set-password/abc",
            None,
            [404; 5],
        ),
        // The producer API, with keys: none, Fabrikam's, a revoked one, Contoso's, a platform key.
        row(
            "GET",
            "/api/v1/openapi.json",
            "/api/v1/openapi.json",
            None,
            PUBLIC,
        ),
        row(
            "POST",
            "/api/v1/items",
            "/api/v1/items",
            Some((
                JSON,
                r#"{"kind":"notification","category":"transactional","org_id":"contoso","workspace":"billing",
                    "audience":{"roles":["billing_admin"],"user_ids":[]},"title":{"en":"Hello {who}"}}"#,
            )),
            [401, 403, 401, 201, 201],
        ),
        row("GET", "/api/v1/items/{id}", "/api/v1/items/{item}", None, API_KEY),
        row(
            "PATCH",
            "/api/v1/items/{id}",
            "/api/v1/items/{item}",
            Some((JSON, r#"{"title":{"en":"Renamed by {who}"}}"#)),
            API_KEY,
        ),
        row(
            "GET",
            "/api/v1/items/{id}/report",
            "/api/v1/items/{item}/report",
            None,
            API_KEY,
        ),
        row(
            "POST",
            "/api/v1/items/{id}/complete",
            "/api/v1/items/{item}/complete",
            None,
            API_KEY,
        ),
        row(
            "POST",
            "/api/v1/items/{id}/cancel",
            "/api/v1/items/{other_item}/cancel",
            None,
            API_KEY,
        ),
    ]
}

/// Every route the router serves, as the router's own parts list them.
async fn registered_routes(state: &AppState) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for listing in server::web::page_routes() {
        routes.insert(("GET".to_string(), listing.path().to_string()));
    }
    for (path, method) in server_fn::axum::server_fn_paths() {
        routes.insert((method.to_string(), path.to_string()));
    }
    for (path, handler) in server::web::plain_routes() {
        for method in methods_of(handler, state).await {
            routes.insert((method, path.to_string()));
        }
    }
    for (path, handler) in server::api::routes() {
        for method in methods_of(handler, state).await {
            routes.insert((method, format!("/api/v1{path}")));
        }
    }
    routes
}

/// The methods a route answers, found by asking it (axum does not list them).
async fn methods_of(handler: axum::routing::MethodRouter<AppState>, state: &AppState) -> Vec<String> {
    let probe: Router = Router::new().route("/", handler).with_state(state.clone());
    let mut methods = Vec::new();
    for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
        let req = Request::builder()
            .method(method)
            .uri("/")
            .body(Body::empty())
            .unwrap();
        if probe.clone().oneshot(req).await.unwrap().status() != StatusCode::METHOD_NOT_ALLOWED {
            methods.push(method.to_string());
        }
    }
    methods
}

async fn sign_in(router: &Router, email: &str) -> String {
    let res = router
        .clone()
        .oneshot(
            Request::post("/sign-in")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!("email={email}&password=actioncenter")))
                .unwrap(),
        )
        .await
        .unwrap();
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("ac_session=") && !c.contains("Max-Age=0"))
        .map(|c| c.split(';').next().unwrap().to_string())
        .expect("signed in")
}

async fn publish(db: &app::db::Db, title: &str) -> String {
    let payload = ItemPayload {
        kind: "action".into(),
        category: "recommended".into(),
        org_id: "contoso".into(),
        workspace: "billing".into(),
        audience: Audience {
            roles: vec!["billing_admin".into()],
            user_ids: vec![],
        },
        title: [("en".to_string(), title.to_string())].into(),
        body: Default::default(),
        link: None,
        due_at: Some("2031-01-01T00:00:00Z".into()),
        idempotency_key: None,
        expires_at: None,
    };
    let valid = validate(payload, &app::items::catalog(db).await.unwrap()).unwrap();
    app::items::publish(db, &valid, None, "test").await.unwrap().0.id
}

async fn the_matrix_holds_for_every_route(backend: Backend) {
    let scratch = ScratchDb::new(backend).await;
    let db = scratch.db.clone();
    app::demo::seed(&db).await.unwrap();
    let state = common::state(&db, "http://127.0.0.1:3000", true).await;
    let plenty = Rate {
        burst: 100_000,
        per: std::time::Duration::from_millis(1),
    };
    let router = server::web::router_with_limits(
        state.clone(),
        Limits::new(
            db.clone(),
            LimitConfig {
                sign_in_per_email: plenty,
                sign_in_per_client: plenty,
                api_per_key: plenty,
                ..LimitConfig::default()
            },
        ),
    );

    let matrix = matrix();
    let covered: BTreeSet<(String, String)> = matrix
        .iter()
        .map(|r| (r.method.to_string(), r.route.to_string()))
        .collect();
    let registered = registered_routes(&state).await;
    let missing: Vec<_> = registered.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "routes without a row in the matrix: {missing:?}"
    );
    let stale: Vec<_> = covered.difference(&registered).collect();
    assert!(stale.is_empty(), "rows for routes that do not exist: {stale:?}");

    let item = publish(&db, "For billing admins").await;
    let other_item = publish(&db, "Also for billing admins").await;
    let dev = app::orgs::find_user_by_email(&db, "dev@contoso.test")
        .await
        .unwrap()
        .unwrap()
        .id;
    let (_, fabrikam_key) = app::api_keys::create(
        &db,
        "fabrikam system",
        app::api_keys::Scope::Org("fabrikam".into()),
    )
    .await
    .unwrap();
    let (revoked, revoked_key) =
        app::api_keys::create(&db, "old", app::api_keys::Scope::Org("contoso".into()))
            .await
            .unwrap();
    sqlx::query("UPDATE api_keys SET revoked_at = 1 WHERE id = $1")
        .bind(&revoked.id)
        .execute(db.pool())
        .await
        .unwrap();
    let (_, contoso_key) =
        app::api_keys::create(&db, "contoso system", app::api_keys::Scope::Org("contoso".into()))
            .await
            .unwrap();
    let (_, platform_key) = app::api_keys::create(&db, "platform", app::api_keys::Scope::Platform)
        .await
        .unwrap();
    let keys = [
        None,
        Some(fabrikam_key),
        Some(revoked_key),
        Some(contoso_key),
        Some(platform_key),
    ];

    let mut failures = Vec::new();
    for row in &matrix {
        for (i, who) in WHO.iter().enumerate() {
            // A fresh session per request: sign-out rows must not end the next row's session.
            let cookie = match USERS[i] {
                Some(email) => Some(sign_in(&router, email).await),
                None => None,
            };
            let fill = |s: &str| {
                s.replace("{item}", &item)
                    .replace("{other_item}", &other_item)
                    .replace("{dev}", &dev)
                    .replace("{who}", &i.to_string())
                    .replace("{email}", USERS[i].unwrap_or("nobody@example.test"))
            };
            let mut req = Request::builder().method(row.method).uri(fill(row.path));
            if let Some(cookie) = &cookie {
                req = req.header(header::COOKIE, cookie);
            }
            if row.path.starts_with("/api/v1/")
                && let Some(key) = &keys[i]
            {
                req = req.header(header::AUTHORIZATION, format!("Bearer {key}"));
            }
            let body = match row.body {
                Some((kind, text)) => {
                    let content_type = if kind == JSON {
                        "application/json"
                    } else {
                        "application/x-www-form-urlencoded"
                    };
                    req = req.header(header::CONTENT_TYPE, content_type);
                    Body::from(fill(text))
                }
                None => Body::empty(),
            };
            let status = router
                .clone()
                .oneshot(req.body(body).unwrap())
                .await
                .unwrap()
                .status()
                .as_u16();
            if status != row.expect[i] {
                failures.push(format!(
                    "{} {} as {who}: expected {}, got {status}",
                    row.method, row.path, row.expect[i]
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn sqlite() {
    the_matrix_holds_for_every_route(Backend::Sqlite).await;
}

#[tokio::test]
async fn postgres() {
    the_matrix_holds_for_every_route(Backend::Postgres).await;
}
