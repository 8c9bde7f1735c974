//! Sign-in, the session cookie, the page guard and sign-out.

use super::*;

on_both_backends!(
    behind_tls_the_cookie_is_secure,
    pages_need_a_session,
    sign_in_sets_a_safe_cookie_and_shows_the_user,
    every_bad_sign_in_gets_the_same_answer_and_no_session,
    sign_out_ends_the_session,
    signing_in_again_replaces_the_old_session,
    sign_out_everywhere_ends_every_session,
);

async fn behind_tls_the_cookie_is_secure(backend: Backend) {
    let (_db, router) = app_at(backend, "https://partner.example").await;
    let res = post_form(
        &router,
        "/sign-in",
        "email=dev%40contoso.test&password=actioncenter",
    )
    .await;
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
    let res = post_form(
        &router,
        "/sign-in",
        "email=Admin%40Contoso.test&password=actioncenter",
    )
    .await;
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
