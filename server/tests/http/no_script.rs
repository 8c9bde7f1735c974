//! The forms without script: every form posts and the browser is sent back.

use super::*;

on_both_backends!(the_forms_work_without_script,);

/// A form post the way a browser sends it without script: it accepts HTML and names the page
/// it came from.
async fn browser_post(router: &Router, cookie: &str, path: &str, from: &str, body: &str) -> Response<Body> {
    within(
        &format!("POST {path}"),
        router.clone().oneshot(
            Request::post(path)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::ACCEPT, "text/html,application/xhtml+xml")
                .header(header::ORIGIN, "http://127.0.0.1:3000")
                .header(header::REFERER, format!("http://127.0.0.1:3000{from}"))
                .header(header::COOKIE, cookie)
                .body(Body::from(body.to_string()))
                .unwrap(),
        ),
    )
    .await
    .unwrap()
}

/// The page a redirect names, as the browser would load it next.
async fn follow(router: &Router, res: &Response<Body>, cookie: &str) -> String {
    assert_eq!(res.status(), StatusCode::FOUND, "a redirect");
    // A browser keeps the fragment to itself.
    let to = location(res).trim_start_matches("http://127.0.0.1:3000");
    let to = to.split('#').next().unwrap_or_default().to_string();
    text(get(router, &to, Some(cookie)).await).await
}

/// The UI's forms post to server functions that send the browser back: archive, a refused
/// archive with its reason on the page, bulk archive, opening an item, and preferences.
async fn the_forms_work_without_script(backend: Backend) {
    let (db, router) = app(backend).await;
    let admin = sign_in(&router, "admin%40contoso.test").await;
    let screenshots = item_id(&db.db, "Add screenshots to your offer listing").await;
    let verify = item_id(&db.db, "Complete your account verification").await;
    let from = "/action-center/actions?category=recommended";

    let res = browser_post(
        &router,
        &admin,
        "/api/items_archive",
        from,
        &format!("item_id={screenshots}"),
    )
    .await;
    // Back where the form was, at the list (only the Referer's path and query: never off site).
    assert_eq!(location(&res), format!("{from}#item-list"));
    let page = follow(&router, &res, &admin).await;
    assert!(
        !page.contains("Add screenshots to your offer listing"),
        "archived, so not listed"
    );
    let archived = text(get(&router, "/action-center/archived", Some(&admin)).await).await;
    assert!(archived.contains("Add screenshots to your offer listing"));
    assert!(!page.contains("role=\"alert\""), "no error shown: {page}");

    let res = browser_post(
        &router,
        &admin,
        "/api/items_archive",
        from,
        &format!("item_id={verify}"),
    )
    .await;
    assert!(location(&res).contains("__err="), "{}", location(&res));
    let page = follow(&router, &res, &admin).await;
    assert!(
        page.contains("Could not archive") && page.contains("A mandatory action cannot be archived."),
        "the reason is on the page"
    );

    let res = browser_post(
        &router,
        &admin,
        "/api/items_unarchive",
        "/action-center/archived",
        &format!("item_id={screenshots}"),
    )
    .await;
    assert_eq!(location(&res), "/action-center/archived#item-list");
    let page = follow(&router, &res, &admin).await;
    assert!(
        !page.contains("Add screenshots to your offer listing"),
        "back in the list, not the archive"
    );

    // Bulk: what can be archived is; the page names what could not be.
    let both = format!("item_ids%5B%5D={screenshots}&item_ids%5B%5D={verify}");
    let res = browser_post(&router, &admin, "/api/items_archive_selected", from, &both).await;
    let page = follow(&router, &res, &admin).await;
    assert!(page.contains("1 of 2 could not be archived"), "{page}");
    let archived = text(get(&router, "/action-center/archived", Some(&admin)).await).await;
    assert!(archived.contains("Add screenshots to your offer listing"));
    let res = browser_post(&router, &admin, "/api/items_archive_selected", from, "").await;
    assert!(
        follow(&router, &res, &admin)
            .await
            .contains("Select the items to archive first.")
    );
    // The refusal is a code: each reader gets it in the language they read the UI in.
    let dutch = format!("{admin}; i18n_pref_locale=nl");
    let res = browser_post(&router, &dutch, "/api/items_archive_selected", from, "").await;
    assert!(
        follow(&router, &res, &dutch)
            .await
            .contains("Selecteer eerst de items die u wilt archiveren.")
    );

    // The whole list, as filtered: archived but for the mandatory actions, which stay.
    let res = browser_post(
        &router,
        &admin,
        "/api/items_archive_all",
        "/action-center/actions",
        "kind=action",
    )
    .await;
    assert_eq!(location(&res), "/action-center/actions#item-list");
    let page = follow(&router, &res, &admin).await;
    assert!(
        page.contains("Complete your account verification"),
        "mandatory: stays"
    );
    let archived = text(get(&router, "/action-center/archived", Some(&admin)).await).await;
    assert!(archived.contains("Update your tax profile"));
    let listed = |filter: &'static str| {
        let router = router.clone();
        let admin = admin.clone();
        async move {
            let body = format!(r#"{{"filter":{filter}}}"#);
            let (_, answer) = call(&router, "items_list", Some(&admin), "application/json", body).await;
            let page: serde_json::Value = serde_json::from_str(&answer).unwrap();
            page["items"].as_array().unwrap().clone()
        }
    };
    let field = |item: &serde_json::Value, name: &str| item[name].as_str().unwrap_or_default().to_string();
    let actions: Vec<String> = listed(r#"{"kind":"action","limit":100}"#)
        .await
        .iter()
        .map(|i| field(i, "category"))
        .collect();
    assert_eq!(actions, ["mandatory", "mandatory"]);
    // "Mark all read" of a search: the matching notifications only.
    let res = browser_post(
        &router,
        &admin,
        "/api/items_mark_all_read",
        "/action-center/notifications?q=published",
        "kind=notification&search=published",
    )
    .await;
    assert_eq!(
        location(&res),
        "/action-center/notifications?q=published#item-list"
    );
    let page = follow(&router, &res, &admin).await;
    assert!(
        page.contains("Your offer was published to the marketplace"),
        "searched: {page}"
    );
    assert!(
        !page.contains("A customer accepted your referral"),
        "not searched for"
    );
    let notes = listed(r#"{"kind":"notification","limit":100}"#).await;
    let read: Vec<(String, bool)> = notes
        .iter()
        .map(|i| (field(i, "title"), i["read"].as_bool().unwrap()))
        .collect();
    assert!(
        read.iter()
            .all(|(title, read)| *read == title.contains("published")),
        "{read:?}"
    );

    // Opening a notification's link marks it read on the way.
    let finance = sign_in(&router, "finance%40contoso.test").await;
    let note = item_id(&db.db, "New incentive programme for cloud partners").await;
    let unread = |body: String| {
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        v["unread_notifications"].as_i64().unwrap()
    };
    let form = "application/x-www-form-urlencoded";
    let before = unread(
        call(&router, "items_counts", Some(&finance), form, String::new())
            .await
            .1,
    );
    let res = within(
        "opening an item",
        router.clone().oneshot(
            Request::get(format!("/api/items_open?item_id={note}"))
                .header(header::ACCEPT, "text/html")
                .header(header::COOKIE, &finance)
                .body(Body::empty())
                .unwrap(),
        ),
    )
    .await
    .unwrap();
    assert_eq!((res.status(), location(&res)), (StatusCode::FOUND, "/"));
    let after = unread(
        call(&router, "items_counts", Some(&finance), form, String::new())
            .await
            .1,
    );
    assert_eq!(after, before - 1);

    // Preferences: the switches that are on are sent; the page says it saved.
    let res = browser_post(
        &router,
        &finance,
        "/api/preferences_submit",
        "/preferences",
        "job_function=Controller&email_language=nl&notification_email=finance%40contoso.test&transactional=on&workspaces%5Bbilling%5D=on",
    )
    .await;
    assert_eq!(location(&res), "/preferences?saved=1");
    assert!(follow(&router, &res, &finance).await.contains("Saved."));
    let prefs = prefs_of(&db.db, "finance@contoso.test").await;
    assert_eq!(
        (prefs.job_function.as_str(), prefs.email_language.as_str()),
        ("Controller", "nl")
    );
    assert!(prefs.email.transactional && !prefs.email.promotional);
    assert!(
        !prefs.email.workspaces_off.contains("billing") && prefs.email.workspaces_off.contains("referrals")
    );
    let res = browser_post(
        &router,
        &finance,
        "/api/preferences_submit",
        "/preferences",
        "job_function=&email_language=en&notification_email=not-an-address",
    )
    .await;
    let page = follow(&router, &res, &finance).await;
    assert!(
        page.contains("role=\"alert\"") && !page.contains("Saved."),
        "refused, and said so"
    );
    assert_eq!(
        prefs_of(&db.db, "finance@contoso.test").await.email_language,
        "nl",
        "nothing changed"
    );

    // The email schedule: saved, and said so; a time zone the database does not know is refused.
    let res = browser_post(
        &router,
        &finance,
        "/api/schedule_save",
        "/preferences",
        "time_zone=Europe%2FAmsterdam&quiet_from=22&quiet_to=7&transactional=daily&promotional=weekly",
    )
    .await;
    assert_eq!(location(&res), "/preferences?schedule_saved=1#email-schedule");
    let page = follow(&router, &res, &finance).await;
    assert!(
        page.contains("Saved.") && page.contains("When email arrives"),
        "{page}"
    );
    assert!(
        page.contains(r#"<option value="Europe/Amsterdam" selected"#),
        "the saved zone is chosen"
    );
    let res = browser_post(
        &router,
        &finance,
        "/api/schedule_save",
        "/preferences",
        "time_zone=Mars%2FOlympus&quiet_from=&quiet_to=&transactional=daily&promotional=weekly",
    )
    .await;
    let page = follow(&router, &res, &finance).await;
    assert!(page.contains("Choose a time zone from the list."), "{page}");
    let user = app::orgs::find_user_by_email(&db.db, "finance@contoso.test")
        .await
        .unwrap()
        .unwrap();
    let kept = app::preferences::load_schedule(&db.db, &user.id).await.unwrap();
    assert_eq!(
        (kept.time_zone.as_str(), kept.quiet_hours()),
        ("Europe/Amsterdam", Some((22, 7))),
        "the refused form changed nothing"
    );
}
