//! Preferences and email links over HTTP: locked email, address verification, one-click
//! unsubscribe and the deep link that opens an item.

use super::*;

on_both_backends!(
    a_crafted_request_cannot_turn_off_locked_email,
    a_verification_link_verifies_once,
    one_click_unsubscribe_turns_off_what_the_link_names,
    an_email_deep_link_opens_the_item_and_marks_it_read,
);

fn json_form(job: &str, email: &str, switches: serde_json::Value) -> String {
    serde_json::json!({ "form": {
        "job_function": job, "email_language": "en", "notification_email": email, "switches": switches
    } })
    .to_string()
}

async fn a_crafted_request_cannot_turn_off_locked_email(backend: Backend) {
    let (db, router) = app(backend).await;
    let admin = sign_in(&router, "admin@contoso.test").await;
    let json = "application/json";
    let before = prefs_of(&db.db, "admin@contoso.test").await;
    for (switches, expected) in [
        (
            serde_json::json!({ "categories": { "mandatory": false } }),
            Refusal::ActionEmailLocked {
                category: "mandatory".into(),
            },
        ),
        (
            serde_json::json!({ "categories": { "recommended": false, "promotional": false } }),
            Refusal::ActionEmailLocked {
                category: "recommended".into(),
            },
        ),
        (serde_json::json!({ "in_app": false }), Refusal::InAppLocked),
        (
            serde_json::json!({ "workspaces": { "moon": false } }),
            Refusal::UnknownWorkspace { name: "moon".into() },
        ),
    ] {
        // The rest of the form changes too: none of it may be stored.
        let body = json_form("Changed", "changed@contoso.test", switches);
        let (status, answer) = call(&router, "preferences_save", Some(&admin), json, body).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(refusal(&answer), expected, "{answer}");
        assert_eq!(prefs_of(&db.db, "admin@contoso.test").await, before);
    }
    let body = json_form(
        "Changed",
        "admin@contoso.test",
        serde_json::json!({ "in_app": true, "categories": { "mandatory": true, "promotional": false }, "workspaces": { "billing": false } }),
    );
    let (status, answer) = call(&router, "preferences_save", Some(&admin), json, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let after = prefs_of(&db.db, "admin@contoso.test").await;
    assert!(after.email.transactional && !after.email.promotional);
    assert_eq!(
        after.email.workspaces_off,
        [app::items::Workspace::from("billing")].into()
    );
    let trail = app::audit::recent(&db.db, &"contoso".into(), 5).await.unwrap();
    let entry = trail
        .iter()
        .find(|e| e.action == "preferences.update")
        .expect("an audit entry");
    assert_eq!(entry.actor, "admin@contoso.test");
    assert!(
        entry.detail.contains("promotional") && entry.detail.contains("billing"),
        "{}",
        entry.detail
    );
}

/// The verification token as the outbox holds it in the email's text.
async fn verification_token(db: &app::db::Db, to: &str) -> String {
    let (text,): (String,) = sqlx::query_as(
        "SELECT body_text FROM outbox WHERE purpose = 'verify' AND to_address = $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(to)
    .fetch_one(db.pool())
    .await
    .unwrap();
    let start = text.find("/verify-email/").expect("a link") + "/verify-email/".len();
    text[start..].split_whitespace().next().unwrap().to_string()
}

async fn a_verification_link_verifies_once(backend: Backend) {
    let (db, router) = app(backend).await;
    let dev = sign_in(&router, "dev@contoso.test").await;
    let json = "application/json";
    let body = json_form("Developer", "dev.alerts@contoso.test", serde_json::json!({}));
    let (status, answer) = call(&router, "preferences_save", Some(&dev), json, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let token = verification_token(&db.db, "dev.alerts@contoso.test").await;
    // Only the hash is stored.
    let (stored,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM email_verifications WHERE token_hash = $1")
        .bind(&token)
        .fetch_one(db.db.pool())
        .await
        .unwrap();
    assert_eq!(stored, 0);

    // Looking at the link changes nothing (mail scanners follow links).
    let page = get(&router, &format!("/verify-email/{token}"), None).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(
        text(page)
            .await
            .contains("Use dev.alerts@contoso.test for Action Center email?")
    );
    assert!(
        !prefs_of(&db.db, "dev@contoso.test")
            .await
            .notification_email_verified
    );

    let res = post_form(&router, &format!("/verify-email/{token}"), "").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(text(res).await.contains("is verified"));
    let prefs = prefs_of(&db.db, "dev@contoso.test").await;
    assert!(prefs.notification_email_verified);
    assert_eq!(prefs.notification_email, "dev.alerts@contoso.test");

    let again = post_form(&router, &format!("/verify-email/{token}"), "").await;
    assert_eq!(again.status(), StatusCode::GONE);
    assert!(text(again).await.contains("already used"));
    let forged = post_form(&router, &format!("/verify-email/{}", "0".repeat(64)), "").await;
    assert_eq!(forged.status(), StatusCode::NOT_FOUND);
    assert!(text(forged).await.contains("not valid"));
    let junk = get(&router, "/verify-email/%3Cscript%3E", None).await;
    assert_eq!(junk.status(), StatusCode::NOT_FOUND);

    // A second change, a link left for more than 24 hours: expired, and nothing verified.
    let body = json_form("Developer", "dev.late@contoso.test", serde_json::json!({}));
    call(&router, "preferences_save", Some(&dev), json, body).await;
    let late = verification_token(&db.db, "dev.late@contoso.test").await;
    sqlx::query("UPDATE email_verifications SET expires_at = $1 WHERE used_at IS NULL")
        .bind(app::db::now_ms() - 1)
        .execute(db.db.pool())
        .await
        .unwrap();
    let res = post_form(&router, &format!("/verify-email/{late}"), "").await;
    assert_eq!(res.status(), StatusCode::GONE);
    assert!(text(res).await.contains("expired"));
    assert!(
        !prefs_of(&db.db, "dev@contoso.test")
            .await
            .notification_email_verified
    );

    // "Send verification email" again: a new link, but not twice a minute.
    let (status, answer) = call(
        &router,
        "preferences_resend_verification",
        Some(&dev),
        "application/x-www-form-urlencoded",
        String::new(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the first link is less than a minute old: {answer}"
    );
    assert_eq!(refusal(&answer), Refusal::VerificationTooSoon);
    sqlx::query("UPDATE email_verifications SET created_at = $1")
        .bind(app::db::now_ms() - 120_000)
        .execute(db.db.pool())
        .await
        .unwrap();
    let (status, answer) = call(
        &router,
        "preferences_resend_verification",
        Some(&dev),
        "application/x-www-form-urlencoded",
        String::new(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let fresh = verification_token(&db.db, "dev.late@contoso.test").await;
    assert_ne!(fresh, late);
    // The older link was replaced by the new one.
    assert_eq!(
        post_form(&router, &format!("/verify-email/{late}"), "")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        post_form(&router, &format!("/verify-email/{fresh}"), "")
            .await
            .status(),
        StatusCode::OK
    );
    assert!(
        prefs_of(&db.db, "dev@contoso.test")
            .await
            .notification_email_verified
    );
}

/// The instance's email links (signed with its key, as the router's are) and the user `email`.
async fn links_for(db: &app::db::Db, email: &str) -> (app::email::Links, app::orgs::User) {
    let links = app::email::Links::new(
        "http://127.0.0.1:3000",
        app::email::SigningKey::load_or_create(db).await.unwrap(),
    );
    let user = app::orgs::find_user_by_email(db, email).await.unwrap().unwrap();
    (links, user)
}

async fn one_click_unsubscribe_turns_off_what_the_link_names(backend: Backend) {
    use app::email::{Links, SigningKey, UnsubscribeTarget};
    let (db, router) = app(backend).await;
    let (links, user) = links_for(&db.db, "finance@contoso.test").await;
    let promotional = links.unsubscribe_token(&user.id, &UnsubscribeTarget::Category("promotional".into()));
    let billing = links.unsubscribe_token(&user.id, &UnsubscribeTarget::Workspace("billing".into()));

    let page = get(&router, &format!("/unsubscribe/{promotional}"), None).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(text(page).await.contains("Turn off promotional email?"));
    assert!(
        prefs_of(&db.db, "finance@contoso.test").await.email.promotional,
        "a GET changes nothing"
    );

    for _ in 0..2 {
        let res = post_form(
            &router,
            &format!("/unsubscribe/{promotional}"),
            "List-Unsubscribe=One-Click",
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            text(res)
                .await
                .contains("You will no longer receive promotional email")
        );
    }
    let res = post_form(
        &router,
        &format!("/unsubscribe/{billing}"),
        "List-Unsubscribe=One-Click",
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let prefs = prefs_of(&db.db, "finance@contoso.test").await;
    assert!(!prefs.email.promotional && prefs.email.transactional);
    assert_eq!(
        prefs.email.workspaces_off,
        [app::items::Workspace::from("billing")].into()
    );
    let trail = app::audit::recent(&db.db, &"contoso".into(), 10).await.unwrap();
    assert_eq!(
        trail
            .iter()
            .filter(|e| e.actor == "finance@contoso.test (unsubscribe link)")
            .count(),
        2,
        "one entry per change, none for the repeat"
    );

    // A token signed by another key, or naming another user, is refused.
    let other = Links::new(
        "http://127.0.0.1:3000",
        SigningKey::load_or_create(&ScratchDb::new(backend).await.db)
            .await
            .unwrap(),
    );
    let forged = other.unsubscribe_token(&user.id, &UnsubscribeTarget::Category("transactional".into()));
    let res = post_form(
        &router,
        &format!("/unsubscribe/{forged}"),
        "List-Unsubscribe=One-Click",
    )
    .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let mandatory = links.unsubscribe_token(&user.id, &UnsubscribeTarget::Category("mandatory".into()));
    let res = post_form(
        &router,
        &format!("/unsubscribe/{mandatory}"),
        "List-Unsubscribe=One-Click",
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "action email cannot be unsubscribed from"
    );
    assert!(prefs_of(&db.db, "finance@contoso.test").await.email.transactional);
}

async fn an_email_deep_link_opens_the_item_and_marks_it_read(backend: Backend) {
    use app::items::{ItemFilter, Reader};
    let (db, router) = app(backend).await;
    let (links, user) = links_for(&db.db, "finance@contoso.test").await;
    let reader = Reader {
        user_id: user.id.clone(),
        org_id: user.org_id.clone(),
        language: "en".into(),
    };
    let unread: Vec<_> = app::items::list(&db.db, &reader, &ItemFilter::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter(|i| !i.read)
        .collect();
    assert!(unread.len() >= 2, "the demo gives finance unread items");
    let is_read = |id: app::items::ItemId| {
        let (db, reader) = (db.db.clone(), reader.clone());
        async move { app::items::view(&db, &reader, &id).await.unwrap().unwrap().read }
    };
    let item = &unread[0];
    let path = format!("/open/{}", links.open_item_token(&user.id, &item.id));

    // Followed without the user's session (a mail scanner, another browser), it only asks.
    let page = get(&router, &path, None).await;
    assert_eq!(page.status(), StatusCode::OK, "{}", location(&page));
    let page = text(page).await.replace("&#x2f;", "/");
    assert!(
        page.contains("and mark it as read?") && page.contains(&format!("action=\"{path}\"")),
        "{page}"
    );
    assert!(
        page.contains("href=\"/action-center\">Go to the Action Center</a>"),
        "{page}"
    );
    let someone_else = sign_in(&router, "dev@contoso.test").await;
    assert_eq!(
        get(&router, &path, Some(&someone_else)).await.status(),
        StatusCode::OK
    );
    assert!(!is_read(item.id.clone()).await, "a GET changed nothing");

    // Its button posts: read, and on to the item.
    let res = post_form(&router, &path, "").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), item.link.as_deref().unwrap_or("/action-center"));
    assert!(is_read(item.id.clone()).await);

    // In the user's own signed-in browser the link opens the item at once.
    let second = &unread[1];
    let path = format!("/open/{}", links.open_item_token(&user.id, &second.id));
    let me = sign_in(&router, "finance@contoso.test").await;
    let res = get(&router, &path, Some(&me)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(is_read(second.id.clone()).await);

    // A token signed for another user's item, or altered, opens nothing.
    let dev = app::orgs::find_user_by_email(&db.db, "dev@contoso.test")
        .await
        .unwrap()
        .unwrap();
    let mut altered = links.open_item_token(&dev.id, &item.id);
    altered.pop();
    for path in [format!("/open/{altered}"), "/open/abc.def".to_string()] {
        let res = get(&router, &path, None).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert!(text(res).await.contains("This link is not valid"));
        assert_eq!(
            post_form(&router, &path, "").await.status(),
            StatusCode::NOT_FOUND
        );
    }
}
