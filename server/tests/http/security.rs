//! Cross-site posts, security headers, rate limits and a database that stops answering.

use super::*;

on_both_backends!(
    cross_site_posts_are_refused,
    responses_carry_security_headers,
    sign_in_and_the_api_are_rate_limited,
    instances_share_one_allowance,
    a_request_that_stalls_gets_503_and_loses_nothing,
);

/// A producer's request for an item that does not exist, with the bearer key `key`.
async fn api_request(router: &Router, key: &str) -> Response<Body> {
    router
        .clone()
        .oneshot(
            Request::get("/api/v1/items/nope")
                .header(header::AUTHORIZATION, format!("Bearer {key}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap()
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
    let limits = Limits::new(
        scratch.db.clone(),
        LimitConfig {
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
        },
    );
    let router = server::web::router_with_limits(state, limits);
    // Successful sign-ins do not count; failed ones do.
    for _ in 0..5 {
        let res = post_form(
            &router,
            "/sign-in",
            "email=dev%40contoso.test&password=actioncenter",
        )
        .await;
        assert!(session_cookie(&res).is_some());
    }
    for _ in 0..4 {
        let res = post_form(&router, "/sign-in", "email=dev%40contoso.test&password=wrong").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    // Even the right password waits now.
    let res = post_form(
        &router,
        "/sign-in",
        "email=dev%40contoso.test&password=actioncenter",
    )
    .await;
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
    let res = post_form(
        &router,
        "/sign-in",
        "email=admin%40contoso.test&password=actioncenter",
    )
    .await;
    assert!(session_cookie(&res).is_some());

    let api = |key| api_request(&router, key);
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

/// Two instances of the server on one database: failed sign-ins counted by one hold the
/// guesser up at the other, and an API key's allowance is one for both.
async fn instances_share_one_allowance(backend: Backend) {
    use server::security::{LimitConfig, Limits, Rate};
    let scratch = ScratchDb::new(backend).await;
    app::demo::seed(&scratch.db).await.unwrap();
    let minute = std::time::Duration::from_secs(60);
    let config = LimitConfig {
        sign_in_per_email: Rate {
            burst: 2,
            per: minute,
        },
        api_per_key: Rate {
            burst: 3,
            per: minute,
        },
        ..LimitConfig::default()
    };
    let mut instances = Vec::new();
    for _ in 0..2 {
        let db = app::db::Db::connect(&scratch.url).await.unwrap();
        let state = common::state(&db, "http://127.0.0.1:3000", true).await;
        instances.push(server::web::router_with_limits(state, Limits::new(db, config)));
    }
    let (first, second) = (&instances[0], &instances[1]);
    for router in [first, second, first] {
        let res = post_form(router, "/sign-in", "email=dev%40contoso.test&password=wrong").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    let res = post_form(
        second,
        "/sign-in",
        "email=dev%40contoso.test&password=actioncenter",
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "held up at the other instance"
    );

    for router in [first, second, first] {
        assert_eq!(
            api_request(router, "demo-platform-key").await.status(),
            StatusCode::NOT_FOUND
        );
    }
    assert_eq!(
        api_request(second, "demo-platform-key").await.status(),
        StatusCode::TOO_MANY_REQUESTS
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
        Limits::new(
            scratch.db.clone(),
            LimitConfig {
                response_timeout: std::time::Duration::from_millis(300),
                ..LimitConfig::default()
            },
        ),
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
