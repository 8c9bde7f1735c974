//! First-run setup comes before everything else.

use super::*;

on_both_backends!(setup_comes_first_until_it_is_done,);

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
