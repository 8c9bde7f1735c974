//! The HTTP server: Leptos pages and server functions, sign-in and sign-out, static assets.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use app::auth::session;
use app::db::{Backend, DEFAULT_DATABASE_URL, Db};
use app::demo::{self, DemoError};
use app::email::{Links, SigningKey, Transport, Worker};
use app::state::AppState;
use app::{App, shell};
use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use leptos::prelude::*;
use leptos_axum::{AxumRouteListing, LeptosRoutes, generate_route_list};
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::security::{LimitConfig, Limits, api_rate_limit, default_headers, same_origin_only};

use crate::cli::{CliError, ServeArgs};

/// Where a signed-in user lands.
const START_PAGE: &str = app::items::ACTION_CENTER;

/// The signed-in user's live event stream.
const LIVE_STREAM: &str = "/api/live";

/// Largest request body the web app accepts (forms and server functions).
const BODY_LIMIT: usize = 64 * 1024;

/// Longest a request may take to produce its response (live streams excepted), unless the
/// limits say otherwise: a page whose rendering stalls answers 503 rather than leaving the
/// browser waiting.
pub const RESPONSE_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn serve(db: Db, database_url: &str, args: ServeArgs) -> Result<(), CliError> {
    let embedded_default = database_url == DEFAULT_DATABASE_URL && db.backend() == Backend::Sqlite;
    let demo_mode = if args.demo || (embedded_default && db.is_empty().await?) {
        match demo::seed(&db).await {
            Ok(()) => tracing::info!("seeded the demo into the empty database"),
            Err(DemoError::NotEmpty) => {
                if !demo::is_demo_database(&db).await? {
                    return Err(CliError::Usage(
                        "--demo needs an empty database or one seeded with the demo; this one holds other data".into(),
                    ));
                }
            }
            Err(e) => return Err(e.into()),
        }
        true
    } else {
        embedded_default && demo::is_demo_database(&db).await?
    };

    let mut leptos_options = leptos_options()?;
    leptos_options.site_addr = args.listen_addr;
    leptos_options.site_root = args.site_root.to_string_lossy().as_ref().into();
    if !args.site_root.join(leptos_options.site_pkg_dir.as_ref()).is_dir() {
        tracing::warn!(
            site_root = %args.site_root.display(),
            "the built site is missing: pages render, but without styles or interactivity (build with `cargo leptos build --release`)"
        );
    }

    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", args.listen_addr))
        .trim_end_matches('/')
        .to_string();
    tokio::spawn(prune_live_log(db.clone()));
    tokio::spawn(app::items::lifecycle::run(db.clone()));
    db.relay_changes_from_other_instances();
    db.checkpoint_in_background().await?;
    let links = Links::new(&public_url, SigningKey::load_or_create(&db).await?);
    if !public_url.starts_with("https://") {
        tracing::warn!(%public_url, "PUBLIC_URL is not https: mail clients only offer one-click unsubscribe for https links");
    }
    let transport = Transport::from_config(args.smtp_url.as_deref(), &args.mail_dir)?;
    let mail_to = transport.describe();
    if !args.no_email_worker {
        tokio::spawn(Worker::new(db.clone(), links.clone(), transport, &args.mail_from)?.run());
    }
    let state = AppState::new(db, links, demo_mode, leptos_options);
    let limits = Limits::new(state.db.clone(), LimitConfig::default());
    tokio::spawn({
        let limits = limits.clone();
        async move {
            let mut every = tokio::time::interval(Duration::from_secs(60));
            loop {
                every.tick().await;
                if let Err(err) = limits.forget_idle().await {
                    tracing::warn!(%err, "cannot forget drained rate-limit counters; trying again in a minute");
                }
            }
        }
    });
    let app = router_with_limits(state, limits);

    let listener = tokio::net::TcpListener::bind(args.listen_addr)
        .await
        .map_err(|e| {
            CliError::Usage(format!(
                "cannot listen on {}: {e}. Set LISTEN_ADDR to a free address",
                args.listen_addr
            ))
        })?;
    println!("Action Center is running at {public_url}");
    if args.no_email_worker {
        println!("Email: this instance does not send (--no-email-worker)");
    } else {
        println!("Email: sent to {mail_to}");
    }
    if demo_mode {
        println!(
            "Demo: sign in as admin@contoso.test (or dev@, finance@, new@contoso.test, admin@fabrikam.test) with password {}",
            demo::DEMO_PASSWORD
        );
    }
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    Ok(())
}

/// The renderer's settings: `Leptos.toml` in the working directory when there is one,
/// otherwise the `LEPTOS_*` environment (as cargo-leptos sets it).
fn leptos_options() -> Result<LeptosOptions, CliError> {
    let file = std::path::Path::new("Leptos.toml");
    let conf = if file.is_file() {
        get_configuration(Some("Leptos.toml"))
    } else {
        get_configuration(None)
    };
    conf.map(|c| c.leptos_options).map_err(|e| {
        CliError::Usage(format!(
            "invalid Leptos configuration (Leptos.toml or LEPTOS_* variables): {e}"
        ))
    })
}

/// The whole HTTP surface of the app, with the default rate limits.
pub fn router(state: AppState) -> Router {
    let limits = Limits::new(state.db.clone(), LimitConfig::default());
    router_with_limits(state, limits)
}

/// The whole HTTP surface of the app.
pub fn router_with_limits(state: AppState, limits: Arc<Limits>) -> Router {
    let public_url: Arc<str> = state.links.public_url().into();
    let routes = page_routes();
    let pkg_dir = std::path::Path::new(state.leptos_options.site_root.as_ref())
        .join(state.leptos_options.site_pkg_dir.as_ref());
    let context_state = state.clone();
    let response_timeout = limits.response_timeout();
    let hub = crate::live::Hub::new(state.db.clone());
    let (streams, plain): (Vec<_>, Vec<_>) = plain_routes()
        .into_iter()
        .partition(|(path, _)| *path == LIVE_STREAM);
    let router_of = |routes: Vec<(&'static str, MethodRouter<AppState>)>| {
        routes.into_iter().fold(Router::new(), |router, (path, handler)| {
            router.route(path, handler)
        })
    };
    let app = router_of(plain)
        .nest_service(
            "/pkg",
            ServeDir::new(pkg_dir).precompressed_br().precompressed_gzip(),
        )
        .leptos_routes_with_context(&state, routes, move || provide_context(context_state.clone()), {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn(server_fn_status))
        .layer(middleware::from_fn_with_state(state.clone(), session_layer))
        .layer(middleware::from_fn_with_state(public_url, same_origin_only))
        .layer(axum::Extension(limits.clone()))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        // Added after the layers above: the producer API has its own limits and no session.
        .nest(
            "/api/v1",
            crate::api::router().layer(middleware::from_fn_with_state(limits, api_rate_limit)),
        )
        .layer(
            tower::ServiceBuilder::new()
                .layer(HandleErrorLayer::new(timed_out))
                .timeout(response_timeout),
        )
        .layer(CompressionLayer::new());
    // Live streams stay outside compression: event streams are never compressed, and the
    // layer's body wrapper, sized for a brotli encoder (5.8 KB), would stay allocated for as
    // long as each stream is open. A GET with no body needs neither the origin check nor the
    // body limit.
    let live = router_of(streams)
        .layer(middleware::from_fn_with_state(state.clone(), session_layer))
        .layer(axum::Extension(hub));
    let app = app.merge(live).layer(TraceLayer::new_for_http());
    let app = default_headers().into_iter().fold(app, |app, (name, value)| {
        app.layer(SetResponseHeaderLayer::if_not_present(name, value))
    });
    app.with_state(state)
}

/// The app's page routes, worked out once per process. Leptos lists them by rendering the app
/// with resource loading suppressed, and that switch is global: a page rendered by another
/// router of the same process meanwhile (as in the tests, which build a router each) would wait
/// for ever on a resource that never starts.
pub fn page_routes() -> Vec<AxumRouteListing> {
    static ROUTES: LazyLock<Vec<AxumRouteListing>> = LazyLock::new(|| generate_route_list(App));
    ROUTES.clone()
}

/// The routes served outside Leptos (besides `/pkg` and the producer API), listed once so
/// the authorization tests can check that every one of them is in their matrix.
pub fn plain_routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    let mut routes: Vec<(&'static str, MethodRouter<AppState>)> = vec![
        ("/sign-in", post(sign_in)),
        ("/sign-out", post(sign_out)),
        ("/sign-out-everywhere", post(sign_out_everywhere)),
        ("/healthz", get(|| async { "ok" })),
        (LIVE_STREAM, get(crate::live::stream)),
    ];
    routes.extend(crate::email::routes());
    routes
}

/// Paths an anonymous visitor may request; every other page sends them to sign-in.
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/sign-in" | "/sign-out" | "/healthz" | "/favicon.ico" | "/favicon.svg" | "/manifest.webmanifest"
    ) || path.starts_with("/pkg/")
        || path.starts_with("/api/")
        || path.starts_with("/verify-email/")
        || path.starts_with("/unsubscribe/")
        || path.starts_with("/set-password/")
        || path.starts_with("/open/")
}

/// Resolves the session cookie to the signed-in user (a request extension the app reads)
/// and keeps anonymous visitors out of the app's pages.
async fn session_layer(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let (user, log_position) = match cookie_token(req.headers()) {
        Some(token) => match session::resolve(&state.db, &token).await {
            Ok(Some((user, position))) => (Some(user), Some(position)),
            Ok(None) => (None, None),
            Err(err) => return unavailable(err),
        },
        None => (None, None),
    };
    let path = req.uri().path();
    let is_page_view = matches!(*req.method(), Method::GET | Method::HEAD);
    if is_page_view && user.is_none() && !is_public(path) {
        return Redirect::to("/sign-in").into_response();
    }
    if is_page_view && let Some(user) = &user {
        // The start page is the Action Center; until first-run setup is done, setup is.
        let setup_pending = !user.setup_completed && path.starts_with("/action-center");
        if setup_pending || (!user.setup_completed && matches!(path, "/" | "/sign-in")) {
            return Redirect::to("/setup").into_response();
        }
        if matches!(path, "/" | "/sign-in") {
            return Redirect::to(START_PAGE).into_response();
        }
    }
    if let Some(user) = user {
        req.extensions_mut().insert(user);
    }
    if let Some(position) = log_position {
        req.extensions_mut().insert(position);
    }
    next.run(req).await
}

/// Server functions answer every failure with 500; this gives each `AppError` its own status
/// (401, 403, 404, 422…), including a malformed request that never reached the function.
async fn server_fn_status(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !response
            .headers()
            .contains_key(server_fn::error::SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "").into_response();
    };
    if let Ok(err) = serde_json::from_slice::<app::error::AppError>(&bytes)
        && let Ok(status) = StatusCode::from_u16(err.status())
    {
        parts.status = status;
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// `POST /sign-in` (a form): opens a session on success; every failure, including a malformed
/// form, returns to the form with the same message.
async fn sign_in(
    State(state): State<AppState>,
    axum::Extension(limits): axum::Extension<Arc<Limits>>,
    req: Request,
) -> Response {
    let client = crate::security::client_of(req.extensions());
    let (parts, body) = req.into_parts();
    let headers = parts.headers;
    let Ok(body) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.").into_response();
    };
    let form: HashMap<String, String> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let failed = || Redirect::to("/sign-in?error=credentials").into_response();
    let (Some(email), Some(password)) = (form.get("email"), form.get("password")) else {
        return failed();
    };
    if password.len() > 1024 || email.len() > 254 {
        return failed();
    }
    // Checked before the password is: once the failures used up the allowance, even the right
    // password waits, so guessing cannot tell.
    let allowed = match limits.sign_in_allowed(email, &client).await {
        Ok(allowed) => allowed,
        Err(err) => return unavailable(err),
    };
    if let Err(wait) = allowed {
        let s =
            app::email::render::Strings::for_language(&session::ui_language(&headers).unwrap_or_default());
        let seconds = wait.seconds().to_string();
        let page = app::email::render::page(&app::email::render::Page {
            language: s.lang().into(),
            title: s.get("page_sign_in_title", &[]),
            message: s.get("page_sign_in_throttled", &[("seconds", &seconds)]),
            failed: true,
            ..Default::default()
        });
        let mut response = (StatusCode::TOO_MANY_REQUESTS, axum::response::Html(page)).into_response();
        let (name, value) = crate::security::retry_after_header(wait);
        response.headers_mut().insert(name, value);
        return response;
    }
    let user = match session::authenticate(&state.db, email, password).await {
        Ok(user) => user,
        Err(session::AuthError::BadCredentials) => {
            if let Err(err) = limits.sign_in_failed(email, &client).await {
                return unavailable(err);
            }
            return failed();
        }
        Err(session::AuthError::Db(err)) => return unavailable(err),
    };
    // A new session on every sign-in: an old token (possibly planted) is never promoted.
    if let Err(response) = close_presented_session(&state, &headers).await {
        return response;
    }
    match session::open(&state.db, &user.id).await {
        Ok(token) => with_cookie(
            Redirect::to(START_PAGE),
            &session::set_cookie(&token, state.secure_cookies()),
        ),
        Err(err) => unavailable(err),
    }
}

/// `POST /sign-out`: ends the session and clears the cookie.
async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Err(response) = close_presented_session(&state, &headers).await {
        return response;
    }
    with_cookie(
        Redirect::to("/sign-in"),
        &session::clear_cookie(state.secure_cookies()),
    )
}

/// `POST /sign-out-everywhere`: ends every session of the user, on every device.
async fn sign_out_everywhere(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = cookie_token(&headers)
        && let Err(err) = session::close_all(&state.db, &token).await
    {
        return unavailable(err);
    }
    with_cookie(
        Redirect::to("/sign-in"),
        &session::clear_cookie(state.secure_cookies()),
    )
}

/// Ends the session whose cookie came with the request, if there is one.
async fn close_presented_session(state: &AppState, headers: &HeaderMap) -> Result<(), Response> {
    match cookie_token(headers) {
        Some(token) => session::close(&state.db, &token).await.map_err(unavailable),
        None => Ok(()),
    }
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(session::token_from_cookie_header)
}

fn with_cookie(redirect: Redirect, cookie: &str) -> Response {
    let mut response = redirect.into_response();
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// A request that had no response within the limit (the only error the timeout layer raises
/// over the app, whose own errors are responses): a sentence for a person, the API's error
/// JSON for a producer.
async fn timed_out(uri: Uri, _elapsed: tower::BoxError) -> Response {
    if uri.path().starts_with("/api/") {
        crate::api::ApiError::timed_out().into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "The server took too long to answer. Please try again.",
        )
            .into_response()
    }
}

pub(crate) fn unavailable(err: impl std::fmt::Display) -> Response {
    tracing::error!(error = %err, "storage failed");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "The service is temporarily unavailable. Please try again.",
    )
        .into_response()
}

/// Keeps the live event log bounded (spec §5: replay covers the recent past only).
async fn prune_live_log(db: Db) {
    let mut every = tokio::time::interval(Duration::from_secs(600));
    loop {
        every.tick().await;
        match app::live::prune(&db).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "pruned the live event log"),
            Err(err) => tracing::warn!(error = %err, "cannot prune the live event log"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    // Give in-flight requests a moment; long-lived streams end with the process.
    tokio::time::sleep(Duration::from_millis(50)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sign_in_assets_and_apis_are_public() {
        for public in [
            "/sign-in",
            "/pkg/action-center.wasm",
            "/api/current_user",
            "/healthz",
            "/favicon.svg",
            "/manifest.webmanifest",
        ] {
            assert!(is_public(public), "{public}");
        }
        for private in ["/", "/action-center", "/preferences", "/sign-in-x"] {
            assert!(!is_public(private), "{private}");
        }
    }
}
