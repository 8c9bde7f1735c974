//! Abuse and browser protections: a same-origin check on every state-changing request (CSRF),
//! security headers on every response, and rate limits on sign-in and the producer API that
//! answer `429 Too Many Requests` with `Retry-After`.
//!
//! The limits count in the database (`app::limits`), so several instances share them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app::db::{Db, DbError};
use app::limits::Limit;
pub use app::limits::{Rate, RetryAfter};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The policy for responses that set none of their own (pages set one with a nonce for the
/// hydration scripts: see `app::ui::shell`).
pub const DEFAULT_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The configured limits.
#[derive(Debug, Clone, Copy)]
pub struct LimitConfig {
    /// Sign-in attempts per email address.
    pub sign_in_per_email: Rate,
    /// Sign-in attempts per client address.
    pub sign_in_per_client: Rate,
    /// Producer API requests per API key.
    pub api_per_key: Rate,
    /// Longest a request may take to produce its response (live streams excepted).
    pub response_timeout: Duration,
}

impl Default for LimitConfig {
    fn default() -> Self {
        LimitConfig {
            // 10 failed tries, then one more every 30 s: slow enough to stop guessing, fine for typos.
            sign_in_per_email: Rate {
                burst: 10,
                per: Duration::from_secs(30),
            },
            sign_in_per_client: Rate {
                burst: 50,
                per: Duration::from_secs(2),
            },
            // Producers publish in bursts; 2,000 at once, then 1,000 a second.
            api_per_key: Rate {
                burst: 2_000,
                per: Duration::from_millis(1),
            },
            response_timeout: crate::web::RESPONSE_TIMEOUT,
        }
    }
}

/// The rate limits, counted in the database that every instance shares.
#[derive(Debug)]
pub struct Limits {
    db: Db,
    sign_in_per_email: Limit,
    sign_in_per_client: Limit,
    api_per_key: Limit,
    response_timeout: Duration,
}

impl Limits {
    pub fn new(db: Db, config: LimitConfig) -> Arc<Limits> {
        Arc::new(Limits {
            db,
            sign_in_per_email: Limit {
                name: "sign-in per email",
                rate: config.sign_in_per_email,
            },
            sign_in_per_client: Limit {
                name: "sign-in per client",
                rate: config.sign_in_per_client,
            },
            api_per_key: Limit {
                name: "api per key",
                rate: config.api_per_key,
            },
            response_timeout: config.response_timeout,
        })
    }

    /// Longest a request may take to produce its response (live streams excepted).
    pub fn response_timeout(&self) -> Duration {
        self.response_timeout
    }

    fn sign_in_keys(&self, email: &str, client: &str) -> [(Limit, String); 2] {
        [
            (self.sign_in_per_email, email.trim().to_lowercase()),
            (self.sign_in_per_client, client.to_string()),
        ]
    }

    /// Whether `email` may try to sign in from `client` now. Only failed attempts count, so
    /// someone who signs in often is never held up; guessing is.
    pub async fn sign_in_allowed(
        &self,
        email: &str,
        client: &str,
    ) -> Result<Result<(), RetryAfter>, DbError> {
        let mut longest: Option<RetryAfter> = None;
        for (limit, key) in self.sign_in_keys(email, client) {
            longest = longest.max(limit.check(&self.db, &key).await?.err());
        }
        Ok(longest.map_or(Ok(()), Err))
    }

    /// Counts a failed sign-in; once the allowance is used up, further attempts wait.
    pub async fn sign_in_failed(&self, email: &str, client: &str) -> Result<(), DbError> {
        for (limit, key) in self.sign_in_keys(email, client) {
            // Refused or not, the failure is counted; `sign_in_allowed` tells the wait.
            let _ = limit.take(&self.db, &key).await?;
        }
        Ok(())
    }

    /// One producer API request with the credential `key`.
    pub async fn api(&self, key: &str) -> Result<Result<(), RetryAfter>, DbError> {
        self.api_per_key.take(&self.db, key).await
    }

    /// Forgets counters that are back to a full allowance (called now and then).
    pub async fn forget_idle(&self) -> Result<u64, DbError> {
        app::limits::forget_drained(&self.db).await
    }
}

/// `Retry-After` for a refusal.
pub fn retry_after_header(wait: RetryAfter) -> (header::HeaderName, HeaderValue) {
    (header::RETRY_AFTER, HeaderValue::from(wait.seconds()))
}

/// The client's address as the connection reports it (no proxy headers are trusted).
pub fn client_of(req_extensions: &axum::http::Extensions) -> String {
    req_extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

/// Whether a state-changing browser request comes from this site. Browsers send
/// `Sec-Fetch-Site` (and `Origin`) on every POST; a request with neither is not from a
/// browser, so carries no ambient cookie risk from another site.
pub fn is_same_origin(headers: &HeaderMap, public_url: &str) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let origin = origin.trim_end_matches('/');
    if origin == public_url.trim_end_matches('/') {
        return true;
    }
    // The app reached under another name than PUBLIC_URL (a test, a second hostname).
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    !host.is_empty() && (origin == format!("http://{host}") || origin == format!("https://{host}"))
}

/// Refuses cross-site state-changing requests (CSRF). One-click unsubscribe is exempt: mail
/// providers POST it from their servers, and its signed token is its authority.
pub async fn same_origin_only(State(public_url): State<Arc<str>>, req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || req.uri().path().starts_with("/unsubscribe/") || is_same_origin(req.headers(), &public_url) {
        return next.run(req).await;
    }
    (
        StatusCode::FORBIDDEN,
        "This request came from another site and was refused. Reload the page and try again.",
    )
        .into_response()
}

/// Limits the producer API per credential (the bearer key, hashed; or the client address when
/// there is none), before the key is even looked up.
pub async fn api_rate_limit(State(limits): State<Arc<Limits>>, req: Request, next: Next) -> Response {
    use sha2::{Digest, Sha256};
    let key = match req.headers().get(header::AUTHORIZATION) {
        Some(value) => hex::encode(Sha256::digest(value.as_bytes())),
        None => client_of(req.extensions()),
    };
    match limits.api(&key).await {
        Ok(Ok(())) => next.run(req).await,
        Ok(Err(wait)) => crate::api::ApiError::rate_limited(wait),
        Err(err) => crate::api::ApiError::from(err).into_response(),
    }
}

/// Headers every response gets unless it set its own.
pub fn default_headers() -> [(header::HeaderName, HeaderValue); 5] {
    [
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DEFAULT_CSP),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (header::REFERRER_POLICY, HeaderValue::from_static("same-origin")),
        (
            header::HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (header::HeaderName::from_static(k), HeaderValue::from_static(v)))
            .collect()
    }

    #[test]
    fn only_same_origin_browser_requests_pass() {
        let url = "https://portal.example";
        assert!(is_same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            url
        ));
        assert!(is_same_origin(&headers(&[("sec-fetch-site", "none")]), url));
        assert!(!is_same_origin(
            &headers(&[("sec-fetch-site", "cross-site")]),
            url
        ));
        assert!(!is_same_origin(&headers(&[("sec-fetch-site", "same-site")]), url));
        assert!(is_same_origin(
            &headers(&[("origin", "https://portal.example")]),
            url
        ));
        assert!(!is_same_origin(
            &headers(&[("origin", "https://evil.example")]),
            url
        ));
        assert!(!is_same_origin(&headers(&[("origin", "null")]), url));
        assert!(is_same_origin(
            &headers(&[("origin", "http://127.0.0.1:3000"), ("host", "127.0.0.1:3000")]),
            url
        ));
        assert!(is_same_origin(&headers(&[]), url), "not a browser");
    }
}
