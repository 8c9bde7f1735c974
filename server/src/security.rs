//! Abuse and browser protections: a same-origin check on every state-changing request (CSRF),
//! security headers on every response, and rate limits on sign-in and the producer API that
//! answer `429 Too Many Requests` with `Retry-After`.
//!
//! Limits are kept per instance in memory; with several instances each enforces its own.

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// The policy for responses that set none of their own (pages set one with a nonce for the
/// hydration scripts: see `app::ui::shell`).
pub const DEFAULT_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// How many attempts are allowed, per key.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    /// Attempts allowed at once.
    pub burst: u32,
    /// One more attempt is allowed after each period.
    pub per: Duration,
}

impl Rate {
    fn quota(self) -> Quota {
        Quota::with_period(self.per.max(Duration::from_nanos(1)))
            .expect("a positive period")
            .allow_burst(NonZeroU32::new(self.burst.max(1)).expect("at least one"))
    }
}

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

/// The rate limiters of one instance.
pub struct Limits {
    sign_in_per_email: DefaultKeyedRateLimiter<String>,
    sign_in_per_client: DefaultKeyedRateLimiter<String>,
    api_per_key: DefaultKeyedRateLimiter<String>,
    /// Emails and clients whose failed sign-ins used up their allowance, until when.
    sign_in_blocked: std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>,
    response_timeout: Duration,
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Limits")
    }
}

/// When a limit is hit: how long until the next attempt is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl Limits {
    pub fn new(config: LimitConfig) -> Arc<Limits> {
        Arc::new(Limits {
            sign_in_per_email: RateLimiter::keyed(config.sign_in_per_email.quota()),
            sign_in_per_client: RateLimiter::keyed(config.sign_in_per_client.quota()),
            api_per_key: RateLimiter::keyed(config.api_per_key.quota()),
            sign_in_blocked: Default::default(),
            response_timeout: config.response_timeout,
        })
    }

    /// Longest a request may take to produce its response (live streams excepted).
    pub fn response_timeout(&self) -> Duration {
        self.response_timeout
    }

    fn check(limiter: &DefaultKeyedRateLimiter<String>, key: String) -> Result<(), RetryAfter> {
        limiter
            .check_key(&key)
            .map_err(|not_until| RetryAfter(not_until.wait_time_from(DefaultClock::default().now())))
    }

    fn sign_in_keys(email: &str, client: &str) -> [String; 2] {
        [
            format!("email:{}", email.trim().to_lowercase()),
            format!("client:{client}"),
        ]
    }

    /// Whether `email` may try to sign in from `client` now. Only failed attempts count, so
    /// someone who signs in often is never held up; guessing is.
    pub fn sign_in_allowed(&self, email: &str, client: &str) -> Result<(), RetryAfter> {
        let now = std::time::Instant::now();
        let mut blocked = self.sign_in_blocked.lock().unwrap_or_else(|e| e.into_inner());
        blocked.retain(|_, until| *until > now);
        let wait = Self::sign_in_keys(email, client)
            .iter()
            .filter_map(|k| blocked.get(k).map(|until| *until - now))
            .max();
        wait.map_or(Ok(()), |w| Err(RetryAfter(w)))
    }

    /// Counts a failed sign-in; when it uses up an allowance, further attempts wait.
    pub fn sign_in_failed(&self, email: &str, client: &str) {
        let [email_key, client_key] = Self::sign_in_keys(email, client);
        for (limiter, key) in [
            (&self.sign_in_per_email, email_key),
            (&self.sign_in_per_client, client_key),
        ] {
            if let Err(wait) = Self::check(limiter, key.clone()) {
                let until = std::time::Instant::now() + wait.0;
                self.sign_in_blocked
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(key, until);
            }
        }
    }

    /// One producer API request with the key `key_id`.
    pub fn api(&self, key_id: &str) -> Result<(), RetryAfter> {
        Self::check(&self.api_per_key, key_id.to_string())
    }

    /// Forgets keys that are back to full allowance (called now and then).
    pub fn forget_idle(&self) {
        self.sign_in_per_email.retain_recent();
        self.sign_in_per_client.retain_recent();
        self.api_per_key.retain_recent();
    }
}

impl RetryAfter {
    /// Whole seconds, rounded up, at least 1.
    pub fn seconds(self) -> u64 {
        self.0.as_millis().div_ceil(1000).max(1) as u64
    }

    pub fn header(self) -> (header::HeaderName, HeaderValue) {
        (header::RETRY_AFTER, HeaderValue::from(self.seconds()))
    }
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
    match limits.api(&key) {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            let body = serde_json::json!({ "error": {
                "code": "rate_limited",
                "message": format!("too many requests with this key; retry after {} s", wait.seconds()),
            } });
            let mut response = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
            let (name, value) = wait.header();
            response.headers_mut().insert(name, value);
            response
        }
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

    #[test]
    fn limits_refuse_with_a_wait() {
        let limits = Limits::new(LimitConfig {
            sign_in_per_email: Rate {
                burst: 2,
                per: Duration::from_secs(60),
            },
            ..LimitConfig::default()
        });
        for _ in 0..2 {
            assert!(limits.sign_in_allowed("a@x.test", "1.2.3.4").is_ok());
            limits.sign_in_failed("A@x.test ", "1.2.3.4");
        }
        assert!(
            limits.sign_in_allowed("a@x.test", "1.2.3.4").is_ok(),
            "two failures are allowed"
        );
        limits.sign_in_failed("a@x.test", "1.2.3.4");
        let wait = limits.sign_in_allowed("a@x.test", "1.2.3.4").unwrap_err();
        assert!(wait.seconds() > 50 && wait.seconds() <= 60, "{wait:?}");
        assert!(limits.sign_in_allowed("b@x.test", "1.2.3.4").is_ok(), "per email");
    }
}
