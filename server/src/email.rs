//! The pages behind email links, which work without signing in: verifying a notification
//! address, one-click unsubscribe (RFC 8058) and the deep link that opens an item. A GET only
//! shows what will happen (mail scanners follow links); the POST does it. The one exception is
//! the deep link followed in the browser of the user it was signed for, who is signed in there:
//! it opens the item at once.

use app::admin::invites;
use app::auth::CurrentUser;
use app::db::DbError;
use app::email::render::{Back, Page, Strings, page};
use app::email::{Links, UnsubscribeTarget};
use app::items::{ACTION_CENTER, ItemError, ItemId, Reader, UserAction};
use app::orgs::UserId;
use app::preferences::verification::{self, LinkState};
use app::state::AppState;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get};

/// The pages behind email links, by path.
pub fn routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![
        ("/verify-email/{token}", get(verify_page).post(verify)),
        ("/unsubscribe/{token}", get(unsubscribe_page).post(unsubscribe)),
        ("/set-password/{token}", get(password_page).post(set_password)),
        ("/open/{token}", get(open_item_page).post(open_item)),
    ]
}

/// The language of a page reached from an email link by someone who may not be signed in: the
/// UI language they chose in this browser, else their browser's.
fn reader_language(headers: &HeaderMap) -> Strings {
    Strings::for_language(&app::auth::session::ui_language(headers).unwrap_or_default())
}

fn password_form(s: &Strings, token: &str, email: &str, problem: Option<&str>) -> Response {
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    html(
        status,
        page(&Page {
            language: s.lang().into(),
            title: s.get("page_password_title", &[]),
            message: problem
                .map(str::to_string)
                .unwrap_or_else(|| s.get("page_password_for", &[("email", email)])),
            failed: problem.is_some(),
            password_form: Some((
                format!("/set-password/{token}"),
                s.get("page_password_new", &[]),
                s.get("page_password_repeat", &[]),
            )),
            button: s.get("page_password_button", &[]),
            ..Page::default()
        }),
    )
}

fn invite_link_page(s: &Strings, link: &invites::InviteLink) -> Response {
    let (key, status) = match link {
        invites::InviteLink::Used => ("page_link_used", StatusCode::GONE),
        invites::InviteLink::Expired => ("page_link_expired", StatusCode::GONE),
        _ => ("page_link_invalid", StatusCode::NOT_FOUND),
    };
    failure(s, status, "page_password_title", key, Back::Preferences)
}

/// A page that says, in words, why a link did not work.
fn failure(s: &Strings, status: StatusCode, title: &str, message: &str, back: Back) -> Response {
    html(
        status,
        page(&Page {
            language: s.lang().into(),
            title: s.get(title, &[]),
            message: s.get(message, &[]),
            failed: true,
            back,
            ..Page::default()
        }),
    )
}

async fn password_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let s = reader_language(&headers);
    if !plausible(&token) {
        return invite_link_page(&s, &invites::InviteLink::Invalid);
    }
    match invites::inspect(&state.db, &token).await {
        Ok(invites::InviteLink::Valid { email, .. }) => password_form(&s, &token, &email, None),
        Ok(other) => invite_link_page(&s, &other),
        Err(err) => crate::web::unavailable(err),
    }
}

/// Sets the invitee's password, then signs them in and sends them to first-run setup.
async fn set_password(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let s = reader_language(&headers);
    if !plausible(&token) {
        return invite_link_page(&s, &invites::InviteLink::Invalid);
    }
    let form: std::collections::HashMap<String, String> =
        serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let (password, repeat) = (
        form.get("password").cloned().unwrap_or_default(),
        form.get("repeat").cloned().unwrap_or_default(),
    );
    let email = match invites::inspect(&state.db, &token).await {
        Ok(invites::InviteLink::Valid { email, .. }) => email,
        Ok(other) => return invite_link_page(&s, &other),
        Err(err) => return crate::web::unavailable(err),
    };
    if !(8..=1024).contains(&password.chars().count()) {
        return password_form(&s, &token, &email, Some(&s.get("page_password_length", &[])));
    }
    if password != repeat {
        return password_form(&s, &token, &email, Some(&s.get("page_password_mismatch", &[])));
    }
    let hash = app::auth::password::hash(&password);
    match invites::set_password(&state.db, &token, &hash).await {
        Ok(invites::InviteLink::Valid { user_id, .. }) => {
            match app::auth::session::open(&state.db, &user_id).await {
                Ok(session) => {
                    let mut response = axum::response::Redirect::to("/setup").into_response();
                    if let Ok(cookie) = header::HeaderValue::from_str(&app::auth::session::set_cookie(
                        &session,
                        state.secure_cookies(),
                    )) {
                        response.headers_mut().append(header::SET_COOKIE, cookie);
                    }
                    response
                }
                Err(err) => crate::web::unavailable(err),
            }
        }
        Ok(other) => invite_link_page(&s, &other),
        Err(err) => crate::web::unavailable(err),
    }
}

fn html(status: StatusCode, body: String) -> Response {
    // These pages carry secrets in their URL: keep them out of caches and referrers.
    (
        status,
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        Html(body),
    )
        .into_response()
}

fn link_page(state: &LinkState, token: &str, confirming: bool) -> Response {
    let (language, message, failed, status) = match state {
        LinkState::Valid { email, language } => {
            let s = Strings::for_language(language);
            if confirming {
                let body = page(&Page {
                    language: language.clone(),
                    title: s.get("page_verify_title", &[]),
                    message: s.get("page_verify_question", &[("email", email)]),
                    form: Some((format!("/verify-email/{token}"), vec![])),
                    button: s.get("page_verify_button", &[]),
                    ..Page::default()
                });
                return html(StatusCode::OK, body);
            }
            (
                language.clone(),
                s.get("page_verified", &[("email", email)]),
                false,
                StatusCode::OK,
            )
        }
        LinkState::Used { language } => (
            language.clone(),
            key(language, "page_link_used"),
            true,
            StatusCode::GONE,
        ),
        LinkState::Expired { language } => (
            language.clone(),
            key(language, "page_link_expired"),
            true,
            StatusCode::GONE,
        ),
        LinkState::Stale { language } => (
            language.clone(),
            key(language, "page_link_stale"),
            true,
            StatusCode::GONE,
        ),
        LinkState::Invalid => (
            "en".into(),
            key("en", "page_link_invalid"),
            true,
            StatusCode::NOT_FOUND,
        ),
    };
    let s = Strings::for_language(&language);
    let body = page(&Page {
        language,
        title: s.get("page_verify_title", &[]),
        message,
        failed,
        ..Page::default()
    });
    html(status, body)
}

fn key(language: &str, key: &str) -> String {
    Strings::for_language(language).get(key, &[])
}

/// A token is hex; anything else is not one of ours (and never reaches the database).
fn plausible(token: &str) -> bool {
    (1..=200).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

async fn verify_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    if !plausible(&token) {
        return link_page(&LinkState::Invalid, &token, true);
    }
    match verification::inspect(&state.db, &token).await {
        Ok(link) => link_page(&link, &token, true),
        Err(err) => crate::web::unavailable(err),
    }
}

async fn verify(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    if !plausible(&token) {
        return link_page(&LinkState::Invalid, &token, false);
    }
    match verification::confirm(&state.db, &token).await {
        Ok(link) => link_page(&link, &token, false),
        Err(err) => crate::web::unavailable(err),
    }
}

fn what(links_language: &str, target: &UnsubscribeTarget) -> String {
    let s = Strings::for_language(links_language);
    match target {
        UnsubscribeTarget::Category(c) => s.get(&format!("category_{c}"), &[]),
        UnsubscribeTarget::Workspace(w) => s.get("what_workspace", &[("workspace", &s.workspace(w))]),
    }
}

fn invalid_unsubscribe() -> Response {
    let s = Strings::for_language("en");
    failure(
        &s,
        StatusCode::NOT_FOUND,
        "page_unsubscribe_title",
        "page_link_invalid",
        Back::Preferences,
    )
}

async fn language_of(state: &AppState, user_id: &app::orgs::UserId) -> String {
    app::preferences::load(&state.db, user_id)
        .await
        .ok()
        .flatten()
        .map(|p| p.email_language)
        .unwrap_or_else(|| "en".into())
}

async fn unsubscribe_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let Some(request) = check(&state.links, &token) else {
        return invalid_unsubscribe();
    };
    let language = language_of(&state, &request.user_id).await;
    let s = Strings::for_language(&language);
    let what = what(&language, &request.target);
    html(
        StatusCode::OK,
        page(&Page {
            language,
            title: s.get("page_unsubscribe_title", &[]),
            message: s.get("page_unsubscribe_question", &[("what", &what)]),
            form: Some((
                format!("/unsubscribe/{token}"),
                vec![("List-Unsubscribe".into(), "One-Click".into())],
            )),
            button: s.get("page_unsubscribe_button", &[]),
            ..Page::default()
        }),
    )
}

/// RFC 8058: the mail client POSTs `List-Unsubscribe=One-Click` to the header's URL; the page's
/// button sends the same. The signed token is the authority; no session is involved.
async fn unsubscribe(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let Some(request) = check(&state.links, &token) else {
        return invalid_unsubscribe();
    };
    match app::preferences::unsubscribe(&state.db, &request.user_id, &request.target).await {
        Ok(language) => {
            let s = Strings::for_language(&language);
            let what = what(&language, &request.target);
            html(
                StatusCode::OK,
                page(&Page {
                    language,
                    title: s.get("page_unsubscribe_title", &[]),
                    message: s.get("page_unsubscribed", &[("what", &what)]),
                    ..Page::default()
                }),
            )
        }
        Err(app::preferences::SaveError::Db(app::db::DbError::NotFound(_)))
        | Err(app::preferences::SaveError::Invalid(_)) => invalid_unsubscribe(),
        Err(err) => crate::web::unavailable(err),
    }
}

fn check(links: &Links, token: &str) -> Option<app::email::links::Unsubscribe> {
    plausible(token).then(|| links.check_unsubscribe(token)).flatten()
}

/// The user and item an open-item token was signed for, if it is one.
fn check_open(links: &Links, token: &str) -> Option<(UserId, ItemId)> {
    plausible(token).then(|| links.check_open_item(token)).flatten()
}

/// The user the link was signed for as a reader of their items (the language does not matter:
/// nothing is shown in it but the title on the confirming page, in the email's language).
async fn reader_of(state: &AppState, user_id: &UserId, language: &str) -> Result<Option<Reader>, DbError> {
    Ok(app::orgs::find_user(&state.db, user_id)
        .await?
        .map(|user| Reader {
            user_id: user.id,
            org_id: user.org_id,
            language: language.to_string(),
        }))
}

/// `GET /open/{token}`, the deep link of an item's email: in the browser where its user is
/// signed in it opens the item and marks it read; anywhere else it asks first (a button that
/// POSTs), so a mail scanner following the link does not mark anything read.
async fn open_item_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    signed_in: Option<Extension<CurrentUser>>,
    headers: HeaderMap,
) -> Response {
    let Some((user_id, item_id)) = check_open(&state.links, &token) else {
        return link_invalid(&reader_language(&headers));
    };
    if signed_in.is_some_and(|Extension(user)| user.id == user_id) {
        return open(&state, &user_id, &item_id).await;
    }
    let language = language_of(&state, &user_id).await;
    let s = Strings::for_language(&language);
    let item = match reader_of(&state, &user_id, &language).await {
        Ok(Some(reader)) => app::items::view(&state.db, &reader, &item_id).await,
        Ok(None) => Ok(None),
        Err(err) => Err(err),
    };
    match item {
        Ok(Some(item)) => html(
            StatusCode::OK,
            page(&Page {
                language,
                title: s.get("page_open_title", &[]),
                message: s.get("page_open_question", &[("title", &item.title)]),
                form: Some((format!("/open/{token}"), Vec::new())),
                button: s.get("page_open_button", &[]),
                back: Back::ActionCenter,
                ..Page::default()
            }),
        ),
        // The item no longer reaches them (a role was revoked): the Action Center instead.
        Ok(None) => Redirect::to(ACTION_CENTER).into_response(),
        Err(err) => crate::web::unavailable(err),
    }
}

/// `POST /open/{token}`: marks the item read for the user the link was signed for and goes on
/// to the item's own link, or to the Action Center when it has none.
async fn open_item(State(state): State<AppState>, Path(token): Path<String>, headers: HeaderMap) -> Response {
    match check_open(&state.links, &token) {
        Some((user_id, item_id)) => open(&state, &user_id, &item_id).await,
        None => link_invalid(&reader_language(&headers)),
    }
}

async fn open(state: &AppState, user_id: &UserId, item_id: &ItemId) -> Response {
    let reader = match reader_of(state, user_id, "en").await {
        Ok(Some(reader)) => reader,
        Ok(None) => return Redirect::to(ACTION_CENTER).into_response(),
        Err(err) => return crate::web::unavailable(err),
    };
    match app::items::apply(&state.db, &reader, item_id, UserAction::Read).await {
        Ok(item) => Redirect::to(item.destination()).into_response(),
        Err(ItemError::NotFound) => Redirect::to(ACTION_CENTER).into_response(),
        Err(err) => crate::web::unavailable(err),
    }
}

fn link_invalid(s: &Strings) -> Response {
    failure(
        s,
        StatusCode::NOT_FOUND,
        "page_open_title",
        "page_link_invalid",
        Back::ActionCenter,
    )
}
