//! Administration: roles (never the last admin) and invitations.

use super::*;

on_both_backends!(
    admins_manage_roles_but_never_remove_the_last_admin,
    an_invited_user_chooses_a_password_once,
);

const FORM: &str = "application/x-www-form-urlencoded";

async fn admins_manage_roles_but_never_remove_the_last_admin(backend: Backend) {
    let (db, router) = app(backend).await;
    let admin = sign_in(&router, "admin@contoso.test").await;
    let dev = sign_in(&router, "dev@contoso.test").await;
    let (status, _) = call(&router, "admin_members", Some(&dev), FORM, String::new()).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "not an admin");
    let (status, list) = call(&router, "admin_members", Some(&admin), FORM, String::new()).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert!(
        list.contains("dev@contoso.test") && !list.contains("fabrikam"),
        "{list}"
    );

    let dev_user = app::orgs::find_user_by_email(&db.db, "dev@contoso.test")
        .await
        .unwrap()
        .unwrap();
    let admin_user = app::orgs::find_user_by_email(&db.db, "admin@contoso.test")
        .await
        .unwrap()
        .unwrap();
    let body = format!("user_id={}&role=billing_admin&granted=true", dev_user.id);
    let (status, answer) = call(&router, "admin_set_role", Some(&admin), FORM, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(
        app::orgs::roles_of(&db.db, &dev_user.id)
            .await
            .unwrap()
            .contains(&"billing_admin".into())
    );

    let body = format!("user_id={}&role=account_admin&granted=false", admin_user.id);
    let (status, answer) = call(&router, "admin_set_role", Some(&admin), FORM, body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(refusal(&answer), Refusal::LastAdmin, "{answer}");
    assert!(
        app::orgs::roles_of(&db.db, &admin_user.id)
            .await
            .unwrap()
            .contains(&"account_admin".into())
    );

    // With a second admin, the first may step down.
    let body = format!("user_id={}&role=account_admin&granted=true", dev_user.id);
    assert_eq!(
        call(&router, "admin_set_role", Some(&admin), FORM, body).await.0,
        StatusCode::OK
    );
    let body = format!("user_id={}&role=account_admin&granted=false", admin_user.id);
    assert_eq!(
        call(&router, "admin_set_role", Some(&admin), FORM, body).await.0,
        StatusCode::OK
    );

    // Another organisation's user is not there to change.
    let other = app::orgs::find_user_by_email(&db.db, "admin@fabrikam.test")
        .await
        .unwrap()
        .unwrap();
    let body = format!("user_id={}&role=billing_admin&granted=true", other.id);
    let (status, _) = call(&router, "admin_set_role", Some(&dev), FORM, body).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, trail) = call(&router, "admin_audit", Some(&dev), FORM, String::new()).await;
    assert_eq!(status, StatusCode::OK, "{trail}");
    assert!(
        trail.contains("role.grant") && trail.contains("role.revoke") && trail.contains("admin@contoso.test"),
        "{trail}"
    );
}

async fn an_invited_user_chooses_a_password_once(backend: Backend) {
    let (db, router) = app(backend).await;
    let admin = sign_in(&router, "admin@contoso.test").await;
    let body = serde_json::json!({ "invitation": {
        "email": "Invitee@Contoso.test", "display_name": "Ivy", "roles": ["billing_admin"]
    } })
    .to_string();
    let (status, answer) = call(
        &router,
        "admin_invite",
        Some(&admin),
        "application/json",
        body.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(answer.contains("invitee@contoso.test"), "{answer}");
    let (status, again) = call(&router, "admin_invite", Some(&admin), "application/json", body).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{again}");

    let (mail,): (String,) = sqlx::query_as("SELECT body_text FROM outbox WHERE purpose = 'invite'")
        .fetch_one(db.db.pool())
        .await
        .unwrap();
    let start = mail.find("/set-password/").unwrap();
    let path: String = mail[start..].split_whitespace().next().unwrap().to_string();
    // No password yet: signing in fails.
    let res = post_form(
        &router,
        "/sign-in",
        "email=invitee%40contoso.test&password=whatever1",
    )
    .await;
    assert!(session_cookie(&res).is_none());

    let page = get(&router, &path, None).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        text(page)
            .await
            .contains("Choose a password for invitee@contoso.test")
    );
    // In the language this browser chose for the UI (or asks for).
    let dutch = get(&router, &path, Some("i18n_pref_locale=nl")).await;
    let dutch = text(dutch).await;
    assert!(
        dutch.contains("Kies een wachtwoord voor invitee@contoso.test") && dutch.contains("lang=\"nl\""),
        "{dutch}"
    );
    let short = post_form(&router, &path, "password=short&repeat=short").await;
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text(short).await.contains("A password is 8 to 1024 characters."));
    let short = Request::post(path.as_str())
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ACCEPT_LANGUAGE, "nl-BE,nl;q=0.9,en;q=0.5")
        .body(Body::from("password=short&repeat=short"))
        .unwrap();
    let short = router.clone().oneshot(short).await.unwrap();
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text(short)
            .await
            .contains("Een wachtwoord heeft 8 tot 1024 tekens.")
    );
    let differ = post_form(&router, &path, "password=long+enough+1&repeat=long+enough+2").await;
    assert_eq!(differ.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let done = post_form(&router, &path, "password=long+enough+1&repeat=long+enough+1").await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&done), "/setup");
    assert!(session_cookie(&done).is_some(), "signed in");
    let reused = post_form(&router, &path, "password=another+one+2&repeat=another+one+2").await;
    assert_eq!(reused.status(), StatusCode::GONE);
    let res = post_form(
        &router,
        "/sign-in",
        "email=invitee%40contoso.test&password=long+enough+1",
    )
    .await;
    assert!(session_cookie(&res).is_some(), "the chosen password works");
}
