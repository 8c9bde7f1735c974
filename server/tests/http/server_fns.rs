//! The server functions act only on items that reach the signed-in user.

use super::*;

on_both_backends!(server_functions_act_only_on_items_that_reach_the_user,);

async fn server_functions_act_only_on_items_that_reach_the_user(backend: Backend) {
    let (db, router) = app(backend).await;
    let form = "application/x-www-form-urlencoded";
    let (status, _) = call(&router, "items_counts", None, form, String::new()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let admin = sign_in(&router, "admin%40contoso.test").await;
    let fabrikam = sign_in(&router, "admin%40fabrikam.test").await;
    let tax = item_id(&db.db, "Update your tax profile").await;
    let verify = item_id(&db.db, "Complete your account verification").await;

    let (status, body) = call(
        &router,
        "items_archive",
        Some(&fabrikam),
        form,
        format!("item_id={tax}"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = call(
        &router,
        "items_archive",
        Some(&admin),
        form,
        format!("item_id={verify}"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refusal(&body), Refusal::MandatoryNotArchivable, "{body}");
    let pending = || async {
        let (status, body) = call(&router, "items_counts", Some(&admin), form, String::new()).await;
        assert_eq!(status, StatusCode::OK);
        let counts: serde_json::Value = serde_json::from_str(&body).unwrap();
        counts["pending_actions"].as_i64().unwrap()
    };
    let before = pending().await;
    let (status, body) = call(
        &router,
        "items_archive",
        Some(&admin),
        form,
        format!("item_id={tax}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let view: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(view["archived"], true);

    assert_eq!(pending().await, before - 1, "the tax profile no longer counts");

    let filter = r#"{"filter": {"archived": true}}"#.to_string();
    let (status, body) = call(&router, "items_list", Some(&admin), "application/json", filter).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
    let titles: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap())
        .collect();
    assert!(
        titles.contains(&"Update your tax profile") && titles.len() == 3,
        "{titles:?}"
    );
    let (status, body) = call(
        &router,
        "items_list",
        Some(&fabrikam),
        "application/json",
        r#"{"filter": {}}"#.into(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!body.contains("tax profile"), "never another org's items");
}
