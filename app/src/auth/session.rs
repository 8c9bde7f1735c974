//! Server-side sessions: the cookie carries a random token, the database keeps its SHA-256.

use leptos::prelude::*;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::{CurrentUser, password};
use crate::db::{Db, DbError, now_ms};
use crate::live::LogPosition;
use crate::orgs::{self, OrgId, Role, UserId};

pub const COOKIE_NAME: &str = "ac_session";
/// A session lasts 14 days from its last use.
pub const IDLE_LIFETIME_MS: i64 = 14 * 24 * 60 * 60 * 1000;

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{}", super::BAD_CREDENTIALS)]
    BadCredentials,
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A fresh random token (256 bits, hex) and the hash stored for it.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Checks email and password; the same error for an unknown email and a wrong password.
pub async fn authenticate(db: &Db, email: &str, password_input: &str) -> Result<orgs::User, AuthError> {
    let Some(user) = orgs::find_user_by_email(db, email).await? else {
        password::verify_against_dummy(password_input);
        return Err(AuthError::BadCredentials);
    };
    let Some(stored) = orgs::password_hash_of(db, &user.id).await? else {
        password::verify_against_dummy(password_input);
        return Err(AuthError::BadCredentials);
    };
    let candidate = password_input.to_string();
    // argon2 is deliberately slow: keep it off the async executor.
    let ok = tokio::task::spawn_blocking(move || password::verify(&candidate, &stored))
        .await
        .unwrap_or(false);
    if ok {
        Ok(user)
    } else {
        Err(AuthError::BadCredentials)
    }
}

/// Opens a session for the user and returns the cookie token.
pub async fn open(db: &Db, user_id: &str) -> Result<String, DbError> {
    let (token, hash) = new_token();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $3, $4)",
    )
    .bind(hash)
    .bind(user_id)
    .bind(now)
    .bind(now + IDLE_LIFETIME_MS)
    .execute(db.pool())
    .await?;
    Ok(token)
}

/// A live session's row: its user, their organisation, roles and the org's log position.
#[derive(sqlx::FromRow)]
struct SessionRow {
    id: UserId,
    org_id: OrgId,
    org_name: String,
    email: String,
    display_name: String,
    setup_completed_at: Option<i64>,
    expires_at: i64,
    last_seen_at: i64,
    email_language: Option<String>,
    roles: Option<String>,
    log_id: Option<i64>,
}

/// The user a session token belongs to, if the session is live; extends its lifetime.
/// One query and one row: the session, its user, their roles (joined by commas, in order; role
/// names have none) and where the org's event log stands. A row per role would make the
/// database driver copy every column once per role, on every request. (`string_agg` with
/// `ORDER BY` needs SQLite 3.44 or later; sqlx bundles 3.46.)
pub async fn resolve(db: &Db, token: &str) -> Result<Option<(CurrentUser, LogPosition)>, DbError> {
    let hash = token_hash(token);
    let now = now_ms();
    let row: Option<SessionRow> = sqlx::query_as(
        "SELECT u.id, u.org_id, o.name AS org_name, u.email, u.display_name, u.setup_completed_at, \
         s.expires_at, s.last_seen_at, p.email_language, \
         (SELECT string_agg(g.role, ',' ORDER BY g.role) FROM role_grants g WHERE g.user_id = u.id) AS roles, \
         (SELECT MAX(e.id) FROM live_events e WHERE e.org_id = u.org_id) AS log_id \
         FROM sessions s JOIN users u ON u.id = s.user_id JOIN organisations o ON o.id = u.org_id \
         LEFT JOIN preferences p ON p.user_id = u.id WHERE s.token_hash = $1",
    )
    .bind(&hash)
    .fetch_optional(db.pool())
    .await?;
    let Some(SessionRow {
        id,
        org_id,
        org_name,
        email,
        display_name,
        setup_completed_at: setup,
        expires_at,
        last_seen_at,
        email_language: language,
        roles,
        log_id,
    }) = row
    else {
        return Ok(None);
    };
    let roles: Vec<Role> = roles.iter().flat_map(|r| r.split(',')).map(Role::from).collect();
    if expires_at <= now {
        close(db, token).await?;
        return Ok(None);
    }
    // Sliding expiry, written at most once a minute to keep reads cheap.
    if now - last_seen_at > 60_000 {
        sqlx::query("UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE token_hash = $3")
            .bind(now)
            .bind(now + IDLE_LIFETIME_MS)
            .bind(&hash)
            .execute(db.pool())
            .await?;
    }
    let user = CurrentUser {
        id,
        org_id,
        org_name,
        email,
        display_name,
        roles,
        setup_completed: setup.is_some(),
        language: language.unwrap_or_else(|| "en".into()),
    };
    Ok(Some((user, LogPosition(log_id.unwrap_or(0)))))
}

pub async fn close(db: &Db, token: &str) -> Result<(), DbError> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash(token))
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Ends every session of the session's user ("sign out everywhere"); returns how many.
pub async fn close_all(db: &Db, token: &str) -> Result<u64, DbError> {
    let done = sqlx::query(
        "DELETE FROM sessions WHERE user_id = (SELECT user_id FROM sessions WHERE token_hash = $1)",
    )
    .bind(token_hash(token))
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected())
}

/// The value of the cookie `name` in a `Cookie` header, if any.
fn cookie_value(header: &str, name: &str) -> Option<String> {
    cookie::Cookie::split_parse(header)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// The session token in a `Cookie` header, if any.
pub fn token_from_cookie_header(header: &str) -> Option<String> {
    cookie_value(header, COOKIE_NAME).filter(|v| v.len() == 64 && v.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The session cookie with `value`, kept `max_age` seconds: sent to every path, never to
/// script, not on cross-site posts, and only over TLS when the site is served over TLS.
fn session_cookie(value: &str, max_age: i64, secure: bool) -> String {
    cookie::Cookie::build((COOKIE_NAME, value))
        .path("/")
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .max_age(cookie::time::Duration::seconds(max_age))
        .secure(secure)
        .build()
        .to_string()
}

/// The `Set-Cookie` value that stores a session (`secure` behind TLS).
pub fn set_cookie(token: &str, secure: bool) -> String {
    session_cookie(token, IDLE_LIFETIME_MS / 1000, secure)
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(secure: bool) -> String {
    session_cookie("", 0, secure)
}

/// The app state, the signed-in reader of the current request and their roles as the session
/// read them, or `Unauthenticated`.
pub fn require_reader()
-> Result<(crate::state::AppState, crate::items::Reader, Vec<Role>), crate::error::AppError> {
    let (state, user) = require_user()?;
    let headers = use_context::<http::request::Parts>()
        .map(|p| p.headers)
        .unwrap_or_default();
    let reader = user.reader_for(&headers);
    Ok((state, reader, user.roles))
}

/// The app state and the signed-in user of the current request, or `Unauthenticated`.
pub fn require_user() -> Result<(crate::state::AppState, CurrentUser), crate::error::AppError> {
    let user = from_request().ok_or(crate::error::AppError::Unauthenticated)?;
    let state = use_context::<crate::state::AppState>().ok_or(crate::error::AppError::Internal)?;
    Ok((state, user))
}

/// The cookie in which the UI keeps the chosen language (the name leptos_i18n gave it, kept so
/// earlier choices still count).
pub const UI_LANGUAGE_COOKIE: &str = "i18n_pref_locale";

/// The language the person reads the UI in: the switcher's cookie, else the browser's first
/// `Accept-Language` tag. Item text in the UI follows it (email follows the email language).
pub fn ui_language(headers: &http::HeaderMap) -> Option<String> {
    let from_cookie = ui_language_cookie(headers);
    let from_browser = || {
        headers
            .get(http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(|tag| tag.split(';').next().unwrap_or_default().trim().to_string())
    };
    from_cookie.or_else(from_browser).filter(|tag| {
        !tag.is_empty() && tag.len() <= 35 && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}

/// The language the switcher's cookie names, as written (it may name no UI language).
pub fn ui_language_cookie(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| cookie_value(h, UI_LANGUAGE_COOKIE))
}

/// The signed-in user of the current request, put there by the server's session layer.
pub fn from_request() -> Option<CurrentUser> {
    use_context::<http::request::Parts>().and_then(|parts| parts.extensions.get::<CurrentUser>().cloned())
}

/// Where the user's organisation's event log stood when this request's session was read.
pub fn log_position() -> Option<LogPosition> {
    use_context::<http::request::Parts>().and_then(|parts| parts.extensions.get::<LogPosition>().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_only_their_hash_is_kept() {
        let (a, ha) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(ha, token_hash(&a));
        assert_ne!(ha, a);
    }

    #[test]
    fn the_cookie_header_yields_only_a_well_formed_token() {
        let (t, _) = new_token();
        assert_eq!(
            token_from_cookie_header(&format!("a=1; {COOKIE_NAME}={t}; b=2")),
            Some(t)
        );
        assert_eq!(token_from_cookie_header(&format!("{COOKIE_NAME}=short")), None);
        assert_eq!(token_from_cookie_header("other=1"), None);
    }

    #[test]
    fn the_ui_language_comes_from_the_switcher_then_the_browser() {
        let mut headers = http::HeaderMap::new();
        assert_eq!(ui_language(&headers), None);
        headers.insert(
            http::header::ACCEPT_LANGUAGE,
            "nl-BE,nl;q=0.9,en;q=0.8".parse().unwrap(),
        );
        assert_eq!(ui_language(&headers).as_deref(), Some("nl-BE"));
        headers.insert(
            http::header::COOKIE,
            format!("a=1; {UI_LANGUAGE_COOKIE}=en").parse().unwrap(),
        );
        assert_eq!(ui_language(&headers).as_deref(), Some("en"));
        headers.insert(
            http::header::COOKIE,
            format!("{UI_LANGUAGE_COOKIE}=<script>").parse().unwrap(),
        );
        assert_eq!(ui_language(&headers), None, "junk is ignored");
    }

    #[test]
    fn session_cookies_are_http_only_and_lax() {
        let c = set_cookie("abc", false);
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && !c.contains("Secure"));
        assert!(set_cookie("abc", true).contains("; Secure"));
        assert!(c.contains("Path=/") && c.contains(&format!("Max-Age={}", IDLE_LIFETIME_MS / 1000)));
        assert!(clear_cookie(false).contains("Max-Age=0"));
    }
}
