//! The items contract on SQLite and PostgreSQL: publishing with idempotency, delivery by role
//! at read time, per-user state, listing, counts and the live event log.

mod common;

use app::auth::{password, session};
use app::db::{Db, now_ms};
use app::items::payload::{Audience, ItemPayload, ValidItem, ValidUpdate, validate};
use app::items::{
    self, Category, DAY_MS, DueState, ItemError, ItemFilter, Kind, Order, ReadCache, Reader, Status,
    UserAction,
};
use app::live::{self, Change, Removal};
use app::orgs::{self, NewUser, User};

contract!(
    publishing_is_idempotent_per_key,
    audience_users_must_belong_to_the_org,
    delivery_follows_current_roles_and_never_crosses_orgs,
    completing_closes_the_action_for_everyone,
    mandatory_actions_cannot_be_archived_and_others_can,
    lists_filter_order_and_paginate,
    counts_feed_the_badge_and_overview,
    the_live_log_tells_each_user_what_changed_for_them,
    counts_and_lists_agree_with_a_scan_of_every_item,
    cached_counts_follow_the_clock,
    a_batch_gives_each_item_what_publishing_it_alone_gives,
    many_concurrent_publishes_all_land,
    item_ids_follow_publication_order,
    a_batch_naming_many_users_is_written_whole,
    a_revised_item_changes_for_every_reader,
    expired_items_leave_every_view,
    admins_hear_once_of_unreachable_and_overdue_mandatory_actions,
    readers_search_their_own_language_and_act_on_whole_lists,
    snoozed_items_leave_every_view_and_come_back,
);

async fn member(db: &Db, org: &str, email: &str, roles: &[&str]) -> (User, Reader) {
    if orgs::find_org(db, &org.into()).await.unwrap().is_none() {
        orgs::create_org(db, org, org).await.unwrap();
    }
    let hash = password::hash("irrelevant");
    let user = orgs::create_user(
        db,
        NewUser {
            org_id: &org.into(),
            email,
            display_name: email,
            password_hash: Some(&hash),
            setup_completed: true,
        },
    )
    .await
    .unwrap();
    for role in roles {
        orgs::grant_role(db, &user, &orgs::Role::from(*role), "test")
            .await
            .unwrap();
    }
    let reader = Reader {
        user_id: user.id.clone(),
        org_id: org.into(),
        language: "en".into(),
    };
    (user, reader)
}

fn payload(org: &str, category: &str, roles: &[&str], title: &str) -> ItemPayload {
    let kind = if matches!(category, "mandatory" | "recommended") {
        "action"
    } else {
        "notification"
    };
    ItemPayload {
        kind: kind.into(),
        category: category.into(),
        org_id: org.into(),
        workspace: "billing".into(),
        audience: Audience {
            roles: roles.iter().map(|r| r.to_string()).collect(),
            user_ids: vec![],
        },
        title: [
            ("en".to_string(), title.to_string()),
            ("nl".to_string(), format!("NL {title}")),
        ]
        .into(),
        body: Default::default(),
        link: Some("/x".into()),
        due_at: (kind == "action").then(|| "2030-01-01T00:00:00Z".to_string()),
        idempotency_key: None,
        expires_at: None,
    }
}

async fn valid(db: &Db, p: ItemPayload) -> ValidItem {
    validate(p, &items::catalog(db).await.unwrap()).unwrap()
}

async fn publish(db: &Db, p: ItemPayload) -> String {
    let v = valid(db, p).await;
    items::publish(db, &v, None, "test").await.unwrap().0.id
}

async fn publishing_is_idempotent_per_key(db: &Db) {
    member(db, "contoso", "a@contoso.test", &["billing_admin"]).await;
    let p = ItemPayload {
        idempotency_key: Some("k1".into()),
        ..payload("contoso", "mandatory", &["billing_admin"], "Pay")
    };
    let (first, created) = items::publish(db, &valid(db, p.clone()).await, None, "test")
        .await
        .unwrap();
    assert!(created);
    assert_eq!(first.status, Status::Open);
    assert_eq!(first.due_at.as_deref(), Some("2030-01-01T00:00:00Z"));
    let (again, created) = items::publish(db, &valid(db, p.clone()).await, None, "test")
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again, first);
    let changed = ItemPayload {
        link: Some("/y".into()),
        ..p.clone()
    };
    let err = items::publish(db, &valid(db, changed).await, None, "test")
        .await
        .unwrap_err();
    assert!(matches!(err, ItemError::IdempotencyConflict));
    // The same key in another org is another item.
    member(db, "fabrikam", "f@fabrikam.test", &[]).await;
    let other = ItemPayload {
        org_id: "fabrikam".into(),
        ..p
    };
    assert!(
        items::publish(db, &valid(db, other).await, None, "test")
            .await
            .unwrap()
            .1
    );
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM items")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(n, 2);
    let trail = app::audit::recent(db, &"contoso".into(), 10).await.unwrap();
    assert!(
        trail
            .iter()
            .any(|e| e.action == "item.publish" && e.subject.as_deref() == Some(first.id.as_str()))
    );
}

async fn audience_users_must_belong_to_the_org(db: &Db) {
    let (ada, _) = member(db, "contoso", "a@contoso.test", &[]).await;
    let (fay, _) = member(db, "fabrikam", "f@fabrikam.test", &[]).await;
    let mut p = payload("contoso", "transactional", &[], "Hi");
    p.audience.user_ids = vec![ada.id.to_string(), fay.id.to_string()];
    let err = items::publish(db, &valid(db, p).await, None, "test")
        .await
        .unwrap_err();
    match err {
        ItemError::Invalid(e) => assert_eq!(e.field, "audience.user_ids[1]"),
        other => panic!("{other:?}"),
    }
    let unknown_org = payload("nowhere", "transactional", &["billing_admin"], "Hi");
    match items::publish(db, &valid(db, unknown_org).await, None, "test")
        .await
        .unwrap_err()
    {
        ItemError::Invalid(e) => assert_eq!(e.field, "org_id"),
        other => panic!("{other:?}"),
    }
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM items")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(n, 0, "nothing half-written");
}

async fn delivery_follows_current_roles_and_never_crosses_orgs(db: &Db) {
    let (ada, ada_r) = member(db, "contoso", "a@contoso.test", &[]).await;
    let (_fay, fay_r) = member(db, "fabrikam", "f@fabrikam.test", &["billing_admin"]).await;
    let id = publish(db, payload("contoso", "mandatory", &["billing_admin"], "Pay")).await;
    publish(
        db,
        payload("fabrikam", "mandatory", &["billing_admin"], "Fabrikam pays"),
    )
    .await;
    let visible = |r: &Reader| {
        let r = r.clone();
        async move { items::list(db, &r, &ItemFilter::default()).await.unwrap().items }
    };
    assert!(visible(&ada_r).await.is_empty());
    orgs::grant_role(db, &ada, &"billing_admin".into(), "t")
        .await
        .unwrap();
    let seen = visible(&ada_r).await;
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].id, id);
    assert_eq!(seen[0].title, "Pay");
    let dutch = Reader {
        language: "nl-BE".into(),
        ..ada_r.clone()
    };
    assert_eq!(visible(&dutch).await[0].title, "NL Pay");
    let fay_sees: Vec<String> = visible(&fay_r).await.into_iter().map(|i| i.title).collect();
    assert_eq!(fay_sees, vec!["Fabrikam pays"]);
    assert!(
        items::view(db, &fay_r, &id).await.unwrap().is_none(),
        "never another org's item"
    );
    assert!(matches!(
        items::apply(db, &fay_r, &id, UserAction::Read).await,
        Err(ItemError::NotFound)
    ));
    orgs::revoke_role(db, &ada, &"billing_admin".into(), "t")
        .await
        .unwrap();
    assert!(visible(&ada_r).await.is_empty());
    let mut direct = payload("contoso", "promotional", &[], "Just you");
    direct.audience.user_ids = vec![ada.id.to_string()];
    publish(db, direct).await;
    assert_eq!(visible(&ada_r).await.len(), 1, "named directly");
    assert_eq!(items::recipients(db, &id).await.unwrap().len(), 0);
}

async fn completing_closes_the_action_for_everyone(db: &Db) {
    let (_, a) = member(db, "contoso", "a@contoso.test", &["billing_admin"]).await;
    let (_, b) = member(db, "contoso", "b@contoso.test", &["billing_admin"]).await;
    let id = publish(
        db,
        payload("contoso", "recommended", &["billing_admin"], "Update"),
    )
    .await;
    assert_eq!(items::recipients(db, &id).await.unwrap().len(), 2);
    let done = items::set_status(db, &id, Status::Completed, "producer")
        .await
        .unwrap();
    assert_eq!(done.status, Status::Completed);
    assert_eq!(
        items::set_status(db, &id, Status::Completed, "producer")
            .await
            .unwrap()
            .status,
        Status::Completed
    );
    assert!(matches!(
        items::set_status(db, &id, Status::Cancelled, "p").await,
        Err(ItemError::AlreadyClosed("completed"))
    ));
    for r in [&a, &b] {
        assert!(
            items::list(db, r, &ItemFilter::default())
                .await
                .unwrap()
                .items
                .is_empty()
        );
        assert_eq!(items::counts(db, r).await.unwrap().pending_actions, 0);
        let all = ItemFilter {
            include_closed: true,
            ..Default::default()
        };
        assert_eq!(
            items::list(db, r, &all).await.unwrap().items[0].due_state(now_ms()),
            None
        );
    }
    let note = publish(db, payload("contoso", "transactional", &["billing_admin"], "FYI")).await;
    assert!(matches!(
        items::set_status(db, &note, Status::Completed, "p").await,
        Err(ItemError::NotAnAction)
    ));
    assert!(matches!(
        items::set_status(db, "nope", Status::Completed, "p").await,
        Err(ItemError::NotFound)
    ));
}

async fn mandatory_actions_cannot_be_archived_and_others_can(db: &Db) {
    let (_, r) = member(db, "contoso", "a@contoso.test", &["billing_admin"]).await;
    let must = publish(db, payload("contoso", "mandatory", &["billing_admin"], "Must")).await;
    let may = publish(db, payload("contoso", "recommended", &["billing_admin"], "May")).await;
    let fyi = publish(db, payload("contoso", "promotional", &["billing_admin"], "Promo")).await;
    assert!(matches!(
        items::apply(db, &r, &must, UserAction::Archive).await,
        Err(ItemError::MandatoryCannotBeArchived)
    ));
    assert!(
        items::apply(db, &r, &may, UserAction::Archive)
            .await
            .unwrap()
            .archived
    );
    assert!(
        items::apply(db, &r, &fyi, UserAction::Archive)
            .await
            .unwrap()
            .archived
    );
    let listed: Vec<String> = items::list(db, &r, &ItemFilter::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|i| i.id.into_string())
        .collect();
    assert_eq!(listed, vec![must.clone()]);
    let archived = ItemFilter {
        archived: true,
        ..Default::default()
    };
    assert_eq!(items::list(db, &r, &archived).await.unwrap().items.len(), 2);
    assert!(
        !items::apply(db, &r, &may, UserAction::Unarchive)
            .await
            .unwrap()
            .archived
    );
    assert_eq!(items::counts(db, &r).await.unwrap().pending_actions, 2);
    let read = items::apply(db, &r, &fyi, UserAction::Read).await.unwrap();
    assert!(read.read && read.archived, "reading keeps it archived");
}

async fn lists_filter_order_and_paginate(db: &Db) {
    let (_, r) = member(db, "contoso", "a@contoso.test", &["billing_admin"]).await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let mut p = payload(
            "contoso",
            if i % 2 == 0 { "mandatory" } else { "promotional" },
            &["billing_admin"],
            &format!("n{i}"),
        );
        if p.kind == "action" {
            p.due_at = Some(format!("2030-01-{:02}T00:00:00Z", 20 - i));
        }
        if i == 3 {
            p.workspace = "referrals".into();
        }
        ids.push(publish(db, p).await);
    }
    let mut seen = Vec::new();
    let mut filter = ItemFilter {
        limit: Some(3),
        ..Default::default()
    };
    loop {
        let page = items::list(db, &r, &filter).await.unwrap();
        seen.extend(page.items.into_iter().map(|i| i.id));
        match page.next_cursor {
            Some(c) => filter.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7, "every item exactly once");
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 7);
    let actions = ItemFilter {
        kind: Some(Kind::Action),
        order: Order::DueDate,
        ..Default::default()
    };
    let due: Vec<String> = items::list(db, &r, &actions)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|i| i.title)
        .collect();
    assert_eq!(due, vec!["n6", "n4", "n2", "n0"], "soonest due first");
    let promo = ItemFilter {
        category: Some(Category::Promotional),
        ..Default::default()
    };
    assert_eq!(items::list(db, &r, &promo).await.unwrap().items.len(), 3);
    let referrals = ItemFilter {
        workspace: Some("referrals".into()),
        ..Default::default()
    };
    assert_eq!(items::list(db, &r, &referrals).await.unwrap().items.len(), 1);
    let bogus = ItemFilter {
        cursor: Some("garbage!".into()),
        ..Default::default()
    };
    assert!(matches!(
        items::list(db, &r, &bogus).await,
        Err(ItemError::Invalid(_))
    ));
}

async fn counts_feed_the_badge_and_overview(db: &Db) {
    let (_, r) = member(db, "contoso", "a@contoso.test", &["billing_admin"]).await;
    let mut overdue = payload("contoso", "mandatory", &["billing_admin"], "Late");
    overdue.due_at = Some("2020-01-01T00:00:00Z".into());
    let late = publish(db, overdue).await;
    publish(db, payload("contoso", "recommended", &["billing_admin"], "Later")).await;
    let note = publish(db, payload("contoso", "transactional", &["billing_admin"], "FYI")).await;
    publish(db, payload("contoso", "promotional", &["billing_admin"], "Promo")).await;
    let c = items::counts(db, &r).await.unwrap();
    assert_eq!(
        (c.pending_actions, c.overdue_actions, c.mandatory, c.recommended),
        (2, 1, 1, 1)
    );
    assert_eq!(
        (c.transactional, c.promotional, c.unread_notifications),
        (1, 1, 2)
    );
    items::apply(db, &r, &note, UserAction::Read).await.unwrap();
    assert_eq!(items::counts(db, &r).await.unwrap().unread_notifications, 1);
    let view = items::view(db, &r, &late).await.unwrap().unwrap();
    assert_eq!(view.due_state(now_ms()), Some(DueState::Overdue));
    assert!(view.due_at.unwrap() < now_ms() - 365 * DAY_MS);
}

async fn the_live_log_tells_each_user_what_changed_for_them(db: &Db) {
    let (ada, a) = member(db, "contoso", "a@contoso.test", &["billing_admin"]).await;
    let (_, b) = member(db, "contoso", "b@contoso.test", &["account_admin"]).await;
    let start = live::latest_id(db, "contoso").await.unwrap();
    let before = items::counts(db, &a).await.unwrap();
    let mut changes = db.subscribe_changes();
    let id = publish(db, payload("contoso", "recommended", &["billing_admin"], "Tax")).await;
    assert_eq!(&*changes.recv().await.unwrap(), "contoso", "streams are woken");
    let entries = live::entries_after(db, "contoso", &a.user_id, start, 100)
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    let msg = live::live_message(db, &a, &entries[0]).await.unwrap().unwrap();
    assert!(matches!(&msg.changes[..], [Change::ItemAdded { item }] if item.id == id));
    assert_eq!(msg.counts.pending_actions, 1);
    assert!(
        live::live_message(db, &b, &entries[0]).await.unwrap().is_none(),
        "not b's item"
    );
    // Streams build this message from the item's shared JSON and their last counts: it must
    // say what the stream's own query says, in an email language and in any other.
    let shared = live::published_item(db, &id).await.unwrap().unwrap();
    let roles = [orgs::Role::from("billing_admin")];
    for language in ["en", "nl", "pt"] {
        let reader = items::Reader {
            language: language.into(),
            ..a.clone()
        };
        let own = live::live_message(db, &reader, &entries[0])
            .await
            .unwrap()
            .unwrap();
        let (counts, json) = live::published_message_json(&shared, &reader, &roles, before).unwrap();
        assert_eq!(counts, own.counts);
        assert_eq!(
            serde_json::from_str::<live::LiveMessage>(&json).unwrap(),
            own,
            "{language}"
        );
    }
    assert!(live::published_message_json(&shared, &b, &["account_admin".into()], before).is_none());

    items::apply(db, &a, &id, UserAction::Archive).await.unwrap();
    let last = entries[0].id;
    let entries = live::entries_after(db, "contoso", &b.user_id, last, 100)
        .await
        .unwrap();
    assert!(entries.is_empty(), "a's archive is a's business");
    let entries = live::entries_after(db, "contoso", &a.user_id, last, 100)
        .await
        .unwrap();
    let msg = live::live_message(db, &a, &entries[0]).await.unwrap().unwrap();
    assert!(matches!(
        &msg.changes[..],
        [Change::ItemRemoved {
            reason: Removal::Archived,
            ..
        }]
    ));
    assert_eq!(msg.counts.pending_actions, 0);
    items::apply(db, &a, &id, UserAction::Unarchive).await.unwrap();

    let before_revoke = live::latest_id(db, "contoso").await.unwrap();
    orgs::revoke_role(db, &ada, &"billing_admin".into(), "admin")
        .await
        .unwrap();
    let entries = live::entries_after(db, "contoso", &a.user_id, before_revoke, 100)
        .await
        .unwrap();
    let msg = live::live_message(db, &a, &entries[0]).await.unwrap().unwrap();
    assert!(
        matches!(&msg.changes[..], [Change::ItemRemoved { reason: Removal::RoleRevoked, item_id }] if *item_id == id)
    );
    orgs::grant_role(db, &ada, &"billing_admin".into(), "admin")
        .await
        .unwrap();
    let entries = live::entries_after(db, "contoso", &a.user_id, before_revoke, 100)
        .await
        .unwrap();
    let msg = live::live_message(db, &a, &entries[1]).await.unwrap().unwrap();
    assert!(matches!(&msg.changes[..], [Change::ItemAdded { .. }]));

    let before_done = live::latest_id(db, "contoso").await.unwrap();
    items::set_status(db, &id, Status::Completed, "producer")
        .await
        .unwrap();
    let entries = live::entries_after(db, "contoso", &a.user_id, before_done, 100)
        .await
        .unwrap();
    let msg = live::live_message(db, &a, &entries[0]).await.unwrap().unwrap();
    assert!(matches!(
        &msg.changes[..],
        [Change::ItemRemoved {
            reason: Removal::Completed,
            ..
        }]
    ));
    assert!(live::oldest_id(db, "contoso").await.unwrap().unwrap() <= before_done);
    assert_eq!(live::prune(db).await.unwrap(), 0, "well under the bound");
}

/// The condition "item `i` reaches user `$1`", written directly over the audience tables: the
/// oracle the role-key totals and the list walk are checked against.
const REACHES: &str = "(EXISTS (SELECT 1 FROM item_audience_roles ar JOIN role_grants g ON g.role = ar.role \
     WHERE ar.item_id = i.id AND g.user_id = $1) \
     OR EXISTS (SELECT 1 FROM item_audience_users au WHERE au.item_id = i.id AND au.user_id = $1))";

async fn scanned_counts(db: &Db, r: &Reader) -> items::Counts {
    let open_action = "i.kind = 'action' AND i.status = 'open'";
    let sql = format!(
        "SELECT \
           COALESCE(SUM(CASE WHEN {open_action} THEN 1 ELSE 0 END), 0), \
           COALESCE(SUM(CASE WHEN {open_action} AND i.due_at < $3 THEN 1 ELSE 0 END), 0), \
           COALESCE(SUM(CASE WHEN {open_action} AND i.category = 'mandatory' THEN 1 ELSE 0 END), 0), \
           COALESCE(SUM(CASE WHEN {open_action} AND i.category = 'recommended' THEN 1 ELSE 0 END), 0), \
           COALESCE(SUM(CASE WHEN i.category = 'transactional' THEN 1 ELSE 0 END), 0), \
           COALESCE(SUM(CASE WHEN i.category = 'promotional' THEN 1 ELSE 0 END), 0), \
           COALESCE(SUM(CASE WHEN i.kind = 'notification' AND s.read_at IS NULL THEN 1 ELSE 0 END), 0) \
         FROM items i LEFT JOIN item_states s ON s.item_id = i.id AND s.user_id = $1 \
         WHERE i.org_id = $2 AND {REACHES} AND s.archived_at IS NULL"
    );
    let row: (i64, i64, i64, i64, i64, i64, i64) = sqlx::query_as(&sql)
        .bind(&r.user_id)
        .bind(&r.org_id)
        .bind(now_ms())
        .fetch_one(db.pool())
        .await
        .unwrap();
    items::Counts {
        pending_actions: row.0,
        overdue_actions: row.1,
        mandatory: row.2,
        recommended: row.3,
        transactional: row.4,
        promotional: row.5,
        unread_notifications: row.6,
    }
}

async fn scanned_list(db: &Db, r: &Reader, filter: &ItemFilter) -> Vec<String> {
    let sort = match filter.order {
        Order::Newest => "i.created_at DESC, i.id DESC",
        Order::DueDate => "COALESCE(i.due_at, 9000000000000000000) ASC, i.id ASC",
    };
    let archived = if filter.archived { "IS NOT NULL" } else { "IS NULL" };
    let open = if filter.include_closed {
        ""
    } else {
        "AND i.status = 'open'"
    };
    let sql = format!(
        "SELECT i.id FROM items i LEFT JOIN item_states s ON s.item_id = i.id AND s.user_id = $1 \
         WHERE i.org_id = $2 AND {REACHES} AND s.archived_at {archived} {open} ORDER BY {sort}"
    );
    let rows: Vec<(String,)> = sqlx::query_as(&sql)
        .bind(&r.user_id)
        .bind(&r.org_id)
        .fetch_all(db.pool())
        .await
        .unwrap();
    rows.into_iter().map(|r| r.0).collect()
}

async fn listed(db: &Db, r: &Reader, filter: &ItemFilter) -> Vec<String> {
    listed_items(db, r, filter)
        .await
        .into_iter()
        .map(|i| i.id.into_string())
        .collect()
}

async fn listed_items(db: &Db, r: &Reader, filter: &ItemFilter) -> Vec<items::ItemView> {
    let mut found = Vec::new();
    let mut filter = ItemFilter {
        limit: Some(7),
        ..filter.clone()
    };
    loop {
        let page = items::list(db, r, &filter).await.unwrap();
        found.extend(page.items);
        match page.next_cursor {
            Some(c) => filter.cursor = Some(c),
            None => return found,
        }
    }
}

/// Counts, the counts cache (kept across moments, as a server keeps it) and lists agree with a
/// scan.
async fn agree(db: &Db, cache: &ReadCache, readers: &[Reader], moment: &str) {
    for r in readers {
        let scanned = scanned_counts(db, r).await;
        assert_eq!(
            items::counts(db, r).await.unwrap(),
            scanned,
            "counts of {} {moment}",
            r.user_id
        );
        let roles = orgs::roles_of(db, &r.user_id).await.unwrap();
        // As a request sees it: the log's position read with the session, then the counts.
        let token = session::open(db, &r.user_id).await.unwrap();
        let (user, seen) = session::resolve(db, &token).await.unwrap().unwrap();
        assert_eq!(user.roles, roles, "the session's roles of {}", r.user_id);
        for (pass, seen) in [
            ("made", Some(seen)),
            ("remembered", Some(seen)),
            ("read here", None),
        ] {
            assert_eq!(
                cache.counts(db, r, &roles, seen).await.unwrap(),
                scanned,
                "cached counts ({pass}) of {} {moment}",
                r.user_id
            );
        }
        for order in [Order::Newest, Order::DueDate] {
            for (archived, include_closed) in [(false, false), (false, true), (true, false)] {
                let filter = ItemFilter {
                    order,
                    archived,
                    include_closed,
                    ..Default::default()
                };
                let scanned = scanned_list(db, r, &filter).await;
                assert_eq!(
                    listed(db, r, &filter).await,
                    scanned,
                    "list of {} {moment} ({filter:?})",
                    r.user_id
                );
                // Pages of 7, so that cursors are cached too.
                let mut filter = ItemFilter {
                    limit: Some(7),
                    ..filter
                };
                loop {
                    let fresh = items::list_for(db, r, &roles, &filter).await.unwrap();
                    for pass in ["made", "remembered"] {
                        let cached = cache.page(db, r, &roles, &filter, Some(seen)).await.unwrap();
                        assert_eq!(
                            *cached, fresh,
                            "cached page ({pass}) of {} {moment} ({filter:?})",
                            r.user_id
                        );
                    }
                    match fresh.next_cursor {
                        Some(c) => filter.cursor = Some(c),
                        None => break,
                    }
                }
            }
        }
        browser_rules_agree(db, r, moment).await;
    }
}

/// The rules by which the browser follows live changes (`ItemFilter::admits` and `order_of`)
/// pick and order, from every item the reader has, what each list's query gives.
async fn browser_rules_agree(db: &Db, r: &Reader, moment: &str) {
    let mut all = Vec::new();
    for archived in [false, true] {
        let every = ItemFilter {
            archived,
            include_closed: true,
            ..Default::default()
        };
        all.extend(listed_items(db, r, &every).await);
    }
    let kinds = [None, Some(Kind::Action), Some(Kind::Notification)];
    let categories = [None, Some(Category::Recommended), Some(Category::Promotional)];
    for order in [Order::Newest, Order::DueDate] {
        for (archived, include_closed) in [(false, false), (false, true), (true, false)] {
            for (kind, category) in kinds
                .iter()
                .flat_map(|k| categories.iter().map(move |c| (*k, *c)))
            {
                let filter = ItemFilter {
                    order,
                    archived,
                    include_closed,
                    kind,
                    category,
                    workspace: Some("billing".into()).filter(|_| category.is_some()),
                    ..Default::default()
                };
                let mut picked: Vec<&items::ItemView> = all.iter().filter(|i| filter.admits(i)).collect();
                picked.sort_by(|a, b| filter.order_of(a, b));
                let picked: Vec<String> = picked.into_iter().map(|i| i.id.to_string()).collect();
                assert_eq!(
                    picked,
                    listed(db, r, &filter).await,
                    "the browser's rules for {} {moment} ({filter:?})",
                    r.user_id
                );
            }
        }
    }
    // Unread only, and searches, for a reader of each language: the query gives what the
    // rules and the search's own matching give for the text that reader is shown.
    for language in ["en", "nl"] {
        let r = Reader {
            language: language.into(),
            ..r.clone()
        };
        let mut shown = Vec::new();
        for archived in [false, true] {
            let every = ItemFilter {
                archived,
                include_closed: true,
                ..Default::default()
            };
            shown.extend(listed_items(db, &r, &every).await);
        }
        let searches = [
            None,
            Some("item 1"),
            Some("ITEM 2"),
            Some("nl"),
            Some("tem"),
            Some(" "),
        ];
        for kind in [None, Some(Kind::Notification)] {
            for unread in [false, true] {
                for search in searches {
                    let filter = ItemFilter {
                        kind,
                        unread,
                        search: search.map(str::to_string),
                        ..Default::default()
                    };
                    let mut picked: Vec<&items::ItemView> = shown
                        .iter()
                        .filter(|i| filter.admits(i))
                        .filter(|i| search.is_none_or(|q| items::search::matches(q, &i.title, &i.body)))
                        .collect();
                    picked.sort_by(|a, b| filter.order_of(a, b));
                    let picked: Vec<String> = picked.into_iter().map(|i| i.id.to_string()).collect();
                    assert_eq!(
                        picked,
                        listed(db, &r, &filter).await,
                        "search and unread for {} in {language} {moment} ({filter:?})",
                        r.user_id
                    );
                }
            }
        }
    }
}

/// Random audiences, states and closings: the totals kept per role key, the per-user
/// corrections and the list walk give what a scan of every item gives.
async fn counts_and_lists_agree_with_a_scan_of_every_item(db: &Db) {
    let roles = ["billing_admin", "sales_agent", "account_admin"];
    let (ua, a) = member(db, "fabrikam", "a@fabrikam.test", &["billing_admin"]).await;
    let (_, b) = member(
        db,
        "fabrikam",
        "b@fabrikam.test",
        &["billing_admin", "sales_agent"],
    )
    .await;
    let (uc, c) = member(db, "fabrikam", "c@fabrikam.test", &[]).await;
    let (_, d) = member(db, "fabrikam", "d@fabrikam.test", &["account_admin"]).await;
    let (_, elsewhere) = member(db, "tailspin", "e@tailspin.test", &roles).await;
    publish(db, payload("tailspin", "mandatory", &roles, "Not ours")).await;
    let readers = [a, b, c, d, elsewhere];
    let users = [&ua.id, &readers[1].user_id, &uc.id, &readers[3].user_id];
    // A fixed linear congruential sequence: varied, and the same on every run.
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    let mut published = Vec::new();
    for n in 0..48 {
        let category = ["mandatory", "recommended", "transactional", "promotional"][next(4) as usize];
        let targets: Vec<&str> = roles.iter().copied().filter(|_| next(3) == 0).collect();
        let mut p = payload("fabrikam", category, &targets, &format!("Item {n}"));
        if targets.is_empty() || next(4) == 0 {
            p.audience.user_ids.push(users[next(4) as usize].to_string());
        }
        if p.due_at.is_some() && next(2) == 0 {
            p.due_at = Some("2021-06-01T00:00:00Z".into());
        }
        let (stored, _) = items::publish(db, &valid(db, p).await, None, "test")
            .await
            .unwrap();
        assert_eq!(
            Some(&stored),
            items::get(db, &stored.id).await.unwrap().as_ref(),
            "as read back"
        );
        published.push((stored.id, category));
    }
    let cache = ReadCache::new();
    agree(db, &cache, &readers, "after publishing").await;
    for (id, category) in &published {
        let r = &readers[next(4) as usize];
        let action = [UserAction::Read, UserAction::Archive, UserAction::Unarchive][next(3) as usize];
        let refused = action == UserAction::Archive && *category == "mandatory";
        match items::apply(db, r, id, action).await {
            Ok(_) => assert!(!refused),
            Err(ItemError::NotFound | ItemError::MandatoryCannotBeArchived) => {}
            Err(e) => panic!("{e}"),
        }
        if matches!(*category, "mandatory" | "recommended") && next(4) == 0 {
            let to = if next(2) == 0 {
                Status::Completed
            } else {
                Status::Cancelled
            };
            items::set_status(db, id, to, "test").await.unwrap();
        }
    }
    agree(db, &cache, &readers, "after reading, archiving and closing").await;
    orgs::grant_role(db, &uc, &"sales_agent".into(), "test")
        .await
        .unwrap();
    orgs::revoke_role(db, &ua, &"billing_admin".into(), "test")
        .await
        .unwrap();
    agree(db, &cache, &readers, "after role changes").await;
}

/// Remembered counts are not served past the moment an open action of the org falls due, even
/// though nothing was written then.
async fn cached_counts_follow_the_clock(db: &Db) {
    let (_, r) = member(db, "contoso", "a@contoso.test", &["billing_admin"]).await;
    let roles = vec![orgs::Role::from("billing_admin")];
    let cache = ReadCache::new();
    let mut soon = payload("contoso", "mandatory", &["billing_admin"], "Due in a moment");
    let due = now_ms() + 1500;
    soon.due_at = Some(items::payload::format_time(due));
    publish(db, soon).await;
    let before = cache.counts(db, &r, &roles, None).await.unwrap();
    assert_eq!((before.pending_actions, before.overdue_actions), (1, 0));
    assert_eq!(cache.counts(db, &r, &roles, None).await.unwrap(), before);
    tokio::time::sleep(std::time::Duration::from_millis(
        (due - now_ms()).max(0) as u64 + 50,
    ))
    .await;
    let after = cache.counts(db, &r, &roles, None).await.unwrap();
    assert_eq!((after.pending_actions, after.overdue_actions), (1, 1));
    assert_eq!(after, items::counts(db, &r).await.unwrap());
}

/// More concurrent publishes than the pool has connections: each holds its write transaction
/// on one connection and needs no second one, so none waits for the pool to time out. Through
/// the publisher's queue, a burst is written in batches and every item lands once.
async fn many_concurrent_publishes_all_land(db: &Db) {
    let (_, r) = member(db, "northwind", "a@northwind.test", &["billing_admin"]).await;
    let v = valid(
        db,
        payload("northwind", "transactional", &["billing_admin"], "Burst"),
    )
    .await;
    let publishes = (0..40).map(|_| items::publish(db, &v, None, "test"));
    for result in futures_util::future::join_all(publishes).await {
        assert!(result.unwrap().1, "created");
    }
    assert_eq!(items::counts(db, &r).await.unwrap().transactional, 40);

    let publisher = items::Publisher::start(db.clone());
    let queued = (0..200).map(|n| {
        let mut item = v.clone();
        // The last 50 repeat keys of the first 150: one item per key, however the batches fall.
        item.idempotency_key = Some(format!("burst-{}", n % 150));
        publisher.publish(items::Publication {
            item,
            api_key_id: None,
            actor: "test".into(),
        })
    });
    let results: Vec<_> = futures_util::future::join_all(queued)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let created = results.iter().filter(|(_, created)| *created).count();
    let ids: std::collections::BTreeSet<&str> = results.iter().map(|(item, _)| item.id.as_str()).collect();
    assert_eq!((created, ids.len()), (150, 150), "one item per key");
    for n in 150..200 {
        assert_eq!(results[n].0.id, results[n - 150].0.id, "key burst-{}", n - 150);
    }
    assert_eq!(items::counts(db, &r).await.unwrap().transactional, 190);
}

/// A batch (one transaction) gives each publication the answer it would get on its own after
/// the ones before it: refusals do not fail the rest, keys repeated within the batch or from
/// the database give the item they name, and the counts, lists and log follow.
async fn a_batch_gives_each_item_what_publishing_it_alone_gives(db: &Db) {
    let (ada, a) = member(db, "contoso", "a@contoso.test", &["billing_admin"]).await;
    let (fay, _) = member(db, "fabrikam", "f@fabrikam.test", &["billing_admin"]).await;
    let keyed = |key: &str, title: &str| ItemPayload {
        idempotency_key: Some(key.into()),
        ..payload("contoso", "mandatory", &["billing_admin"], title)
    };
    let before = items::publish(db, &valid(db, keyed("old", "Old")).await, None, "test")
        .await
        .unwrap()
        .0;
    let start = live::latest_id(db, "contoso").await.unwrap();
    let mut named = payload("contoso", "transactional", &[], "For Ada");
    named.audience.user_ids = vec![ada.id.to_string()];
    let mut stranger = payload("contoso", "transactional", &[], "For Fay");
    stranger.audience.user_ids = vec![fay.id.to_string()];
    let batch = [
        keyed("k1", "First"),
        keyed("old", "Old"),
        keyed("k1", "First"),
        keyed("k1", "Not the first"),
        payload("nowhere", "promotional", &["billing_admin"], "Lost"),
        stranger,
        named,
        payload("fabrikam", "recommended", &["billing_admin"], "Fabrikam's"),
    ];
    let mut publications = Vec::new();
    for p in batch {
        publications.push(items::Publication {
            item: valid(db, p).await,
            api_key_id: None,
            actor: "test".into(),
        });
    }
    let results = items::publish_all(db, &publications).await;
    assert_eq!(results.len(), 8);
    let first = results[0].as_ref().unwrap();
    assert!(first.1, "created");
    assert_eq!(results[1].as_ref().unwrap(), &(before.clone(), false));
    assert_eq!(results[2].as_ref().unwrap(), &(first.0.clone(), false));
    assert!(matches!(results[3], Err(ItemError::IdempotencyConflict)));
    assert!(matches!(&results[4], Err(ItemError::Invalid(e)) if e.field == "org_id"));
    assert!(matches!(&results[5], Err(ItemError::Invalid(e)) if e.field == "audience.user_ids[0]"));
    let for_ada = results[6].as_ref().unwrap();
    let elsewhere = results[7].as_ref().unwrap();
    for (created, _) in [first, for_ada, elsewhere] {
        assert_eq!(
            Some(created),
            items::get(db, &created.id).await.unwrap().as_ref(),
            "as read back"
        );
    }
    let mut listed: Vec<String> = items::list(db, &a, &ItemFilter::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|i| i.title)
        .collect();
    listed.sort();
    assert_eq!(listed, vec!["First", "For Ada", "Old"]);
    assert_eq!(items::counts(db, &a).await.unwrap(), scanned_counts(db, &a).await);
    let logged: Vec<String> = live::entries_after(db, "contoso", &a.user_id, start, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.subject)
        .collect();
    assert_eq!(logged, vec![first.0.id.clone(), for_ada.0.id.clone()]);
    let (audited,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action = 'item.publish'")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(audited, 4, "one entry per item created");
}

/// Ids are time-ordered (UUIDv7), so a publish appends to the id indexes of a large table
/// instead of writing into random pages of them.
async fn item_ids_follow_publication_order(db: &Db) {
    member(db, "contoso", "a@contoso.test", &["billing_admin"]).await;
    let mut ids = Vec::new();
    for title in ["One", "Two", "Three"] {
        ids.push(publish(db, payload("contoso", "promotional", &["billing_admin"], title)).await);
    }
    let mut batch = Vec::new();
    for title in ["Four", "Five"] {
        batch.push(items::Publication {
            item: valid(db, payload("contoso", "promotional", &["billing_admin"], title)).await,
            api_key_id: None,
            actor: "test".into(),
        });
    }
    ids.extend(
        items::publish_all(db, &batch)
            .await
            .into_iter()
            .map(|r| r.unwrap().0.id),
    );
    for id in &ids {
        assert_eq!(uuid::Uuid::parse_str(id).unwrap().get_version_num(), 7, "{id}");
    }
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(sorted, ids);
}

/// A full batch may name tens of thousands of users, more values than one statement can bind
/// (SQLite takes 32,766, PostgreSQL 65,535); it is looked up and written in pieces, all in the
/// batch's one transaction, and each item reaches the users it names.
async fn a_batch_naming_many_users_is_written_whole(db: &Db) {
    const ITEMS: usize = 64;
    const USERS: usize = 16_000;
    const PER_ITEM: usize = 1_000;
    orgs::create_org(db, "contoso", "Contoso").await.unwrap();
    let users: Vec<String> = (0..USERS).map(|n| format!("u{n:05}")).collect();
    // Directly, in one transaction: creating each user through `orgs` would take minutes.
    let mut tx = db.begin_write().await.unwrap();
    for chunk in users.chunks(1_000) {
        let mut rows = app::db::insert::Insert::new(
            "INSERT INTO users (id, org_id, email, display_name, created_at)",
            5,
        );
        for id in chunk {
            rows.row([
                id.as_str().into(),
                "contoso".into(),
                format!("{id}@contoso.test").into(),
                id.as_str().into(),
                0i64.into(),
            ]);
        }
        app::db::insert::insert_all(&mut tx, vec![rows]).await.unwrap();
    }
    tx.commit().await.unwrap();

    let catalog = items::catalog(db).await.unwrap();
    let publications: Vec<items::Publication> = (0..ITEMS)
        .map(|n| {
            let mut p = payload("contoso", "transactional", &[], &format!("Named {n}"));
            let from = n * PER_ITEM % USERS;
            p.audience.user_ids = users[from..from + PER_ITEM].to_vec();
            items::Publication {
                item: validate(p, &catalog).unwrap(),
                api_key_id: None,
                actor: "test".into(),
            }
        })
        .collect();
    let results = items::publish_all(db, &publications).await;
    let created: Vec<_> = results.into_iter().map(|r| r.unwrap()).collect();
    assert!(created.iter().all(|(_, created)| *created));
    let read_back = items::get(db, &created[5].0.id).await.unwrap().unwrap();
    assert_eq!(read_back.audience.user_ids, users[5_000..6_000].to_vec());
    let (named,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM item_audience_users")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(named as usize, ITEMS * PER_ITEM);
    // Each user is named by every 16th item of the batch.
    let reader = Reader {
        user_id: users[USERS - 1].clone().into(),
        org_id: "contoso".into(),
        language: "en".into(),
    };
    let page = items::list(db, &reader, &ItemFilter::default()).await.unwrap();
    assert_eq!(page.items.len(), ITEMS * PER_ITEM / USERS);
    assert_eq!(items::counts(db, &reader).await.unwrap().transactional, 4);
}

fn english(text: &str) -> Option<app::items::LocalizedText> {
    Some([("en".to_string(), text.to_string())].into())
}

/// The readers' own states carry the due date for their counts: a due date moved into the
/// past makes the action overdue for everyone, and an archiver's counts stay right.
async fn a_revised_item_changes_for_every_reader(db: &Db) {
    let (_, a) = member(db, "contoso", "a@contoso.test", &["billing_admin"]).await;
    let (_, b) = member(db, "contoso", "b@contoso.test", &["billing_admin"]).await;
    let id = publish(db, payload("contoso", "recommended", &["billing_admin"], "Old")).await;
    items::apply(db, &b, &id, UserAction::Archive).await.unwrap();
    let start = live::latest_id(db, "contoso").await.unwrap();
    let past = now_ms() - DAY_MS;
    let change = ValidUpdate {
        title: english("New"),
        due_at: Some(past),
        ..Default::default()
    };
    let item = items::update(db, &id, &change, "producer").await.unwrap();
    assert_eq!(item.title, english("New").unwrap(), "the English only now");
    assert_eq!(item.body, Default::default());
    let shown = items::view(db, &a, &id).await.unwrap().unwrap();
    assert_eq!((shown.title.as_str(), shown.due_at), ("New", Some(past)));
    assert_eq!(shown.due_state(now_ms()), Some(DueState::Overdue));
    let counts = items::counts(db, &a).await.unwrap();
    assert_eq!((counts.pending_actions, counts.overdue_actions), (1, 1));
    let counts = items::counts(db, &b).await.unwrap();
    assert_eq!(
        (counts.pending_actions, counts.overdue_actions),
        (0, 0),
        "archived: counted nowhere"
    );
    let entries = live::entries_after(db, "contoso", &a.user_id, start, 100)
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    let msg = live::live_message(db, &a, &entries[0]).await.unwrap().unwrap();
    assert!(matches!(&msg.changes[..], [Change::ItemChanged { item }] if item.title == "New"));
    assert_eq!(msg.counts.overdue_actions, 1);
    let msg = live::live_message(db, &b, &entries[0]).await.unwrap().unwrap();
    assert!(
        matches!(&msg.changes[..], [Change::ItemChanged { item }] if item.archived),
        "the Archived view follows too"
    );

    let note = publish(db, payload("contoso", "transactional", &["billing_admin"], "FYI")).await;
    let dated = ValidUpdate {
        due_at: Some(past),
        ..Default::default()
    };
    assert!(matches!(
        items::update(db, &note, &dated, "producer").await,
        Err(ItemError::Invalid(e)) if e.field == "due_at"
    ));
    items::set_status(db, &id, Status::Completed, "producer")
        .await
        .unwrap();
    assert!(matches!(
        items::update(db, &id, &change, "producer").await,
        Err(ItemError::AlreadyClosed("completed"))
    ));
    assert!(matches!(
        items::update(db, "nope", &change, "producer").await,
        Err(ItemError::NotFound)
    ));
}

async fn expired_items_leave_every_view(db: &Db) {
    let (_, a) = member(db, "contoso", "a@contoso.test", &["billing_admin"]).await;
    let action = publish(db, payload("contoso", "recommended", &["billing_admin"], "Gone")).await;
    let note = publish(
        db,
        payload("contoso", "transactional", &["billing_admin"], "Old news"),
    )
    .await;
    let kept = publish(db, payload("contoso", "mandatory", &["billing_admin"], "Kept")).await;
    items::apply(db, &a, &note, UserAction::Archive).await.unwrap();
    let now = now_ms();
    let expire_at = |at: Option<i64>| ValidUpdate {
        expires_at: Some(at),
        ..Default::default()
    };
    // A later expiry, removed again before it comes, retires nothing.
    items::update(db, &kept, &expire_at(Some(now + DAY_MS)), "producer")
        .await
        .unwrap();
    let unset = items::update(db, &kept, &expire_at(None), "producer")
        .await
        .unwrap();
    assert_eq!(unset.expires_at, None);
    for id in [&action, &note] {
        items::update(db, id, &expire_at(Some(now - 1)), "producer")
            .await
            .unwrap();
    }
    let start = live::latest_id(db, "contoso").await.unwrap();
    assert_eq!(
        items::lifecycle::expire_due(db, now + 2 * DAY_MS).await.unwrap(),
        2
    );
    assert_eq!(
        items::lifecycle::expire_due(db, now + 2 * DAY_MS).await.unwrap(),
        0,
        "once"
    );

    let ids = |page: items::ItemPage| {
        page.items
            .into_iter()
            .map(|i| i.id.to_string())
            .collect::<Vec<_>>()
    };
    let everything = ItemFilter {
        include_closed: true,
        ..Default::default()
    };
    assert_eq!(
        ids(items::list(db, &a, &everything).await.unwrap()),
        std::slice::from_ref(&kept)
    );
    let archived = ItemFilter {
        archived: true,
        include_closed: true,
        ..Default::default()
    };
    assert!(ids(items::list(db, &a, &archived).await.unwrap()).is_empty());
    let counts = items::counts(db, &a).await.unwrap();
    assert_eq!(
        (counts.pending_actions, counts.recommended, counts.transactional),
        (1, 0, 0)
    );
    assert!(items::view(db, &a, &action).await.unwrap().is_none());
    assert!(matches!(
        items::apply(db, &a, &action, UserAction::Read).await,
        Err(ItemError::NotFound)
    ));
    let shown = items::get(db, &action).await.unwrap().unwrap();
    assert_eq!(shown.status, Status::Expired);
    assert!(shown.expires_at.is_some());
    assert!(matches!(
        items::set_status(db, &action, Status::Completed, "producer").await,
        Err(ItemError::AlreadyClosed("expired"))
    ));
    assert!(matches!(
        items::update(db, &note, &expire_at(None), "producer").await,
        Err(ItemError::AlreadyClosed("expired"))
    ));

    let entries = live::entries_after(db, "contoso", &a.user_id, start, 100)
        .await
        .unwrap();
    assert_eq!(entries.len(), 2);
    for entry in &entries {
        let msg = live::live_message(db, &a, entry).await.unwrap().unwrap();
        assert!(
            matches!(
                &msg.changes[..],
                [Change::ItemRemoved {
                    reason: Removal::Expired,
                    ..
                }]
            ),
            "{msg:?}"
        );
        assert_eq!(msg.counts, counts);
    }
    // The open totals were settled once: counting from scratch agrees.
    items::recount_audiences(db).await.unwrap();
    assert_eq!(items::counts(db, &a).await.unwrap(), counts);
}

async fn admins_hear_once_of_unreachable_and_overdue_mandatory_actions(db: &Db) {
    use items::lifecycle::{self, Reach};
    let (_, admin) = member(db, "contoso", "boss@contoso.test", &["account_admin"]).await;
    member(db, "contoso", "a@contoso.test", &["billing_admin"]).await;
    member(db, "fabrikam", "f@fabrikam.test", &["sales_agent"]).await;
    // Nobody at Contoso holds sales_agent (Fabrikam's holder does not count).
    let orphan = publish(db, payload("contoso", "mandatory", &["sales_agent"], "Orphan")).await;
    // Ada holds billing_admin, but mail to her failed for good and none arrived since.
    let bounced = publish(db, payload("contoso", "mandatory", &["billing_admin"], "Bounced")).await;
    sqlx::query(
        "INSERT INTO outbox (dedupe_key, purpose, to_address, subject, body_text, body_html, headers, \
         status, attempts, next_attempt_at, created_at) \
         VALUES ('earlier', 'verify', 'a@contoso.test', 's', 't', 'h', '{}', 'failed', 16, 0, 0)",
    )
    .execute(db.pool())
    .await
    .unwrap();
    let fine = publish(db, payload("contoso", "mandatory", &["account_admin"], "Fine")).await;
    publish(
        db,
        payload("contoso", "recommended", &["sales_agent"], "Optional"),
    )
    .await;
    let reach = |id: String| async move { lifecycle::reach(db, &id).await.unwrap() };
    assert_eq!(
        reach(orphan.clone()).await,
        Reach {
            holders: 0,
            deliverable: 0
        }
    );
    assert_eq!(
        reach(bounced.clone()).await,
        Reach {
            holders: 1,
            deliverable: 0
        }
    );
    assert_eq!(
        reach(fine.clone()).await,
        Reach {
            holders: 1,
            deliverable: 1
        }
    );

    let now = now_ms();
    let pass = lifecycle::run_once(db, now).await.unwrap();
    assert_eq!((pass.reach_checked, pass.alerted, pass.escalated), (3, 2, 0));
    assert_eq!(
        lifecycle::run_once(db, now).await.unwrap(),
        Default::default(),
        "once"
    );
    let titles = || async {
        let mut titles: Vec<String> = items::list(db, &admin, &ItemFilter::default())
            .await
            .unwrap()
            .items
            .into_iter()
            .filter(|i| i.category == Category::Recommended)
            .map(|i| i.title)
            .collect();
        titles.sort();
        titles
    };
    assert_eq!(
        titles().await,
        ["Nobody can receive “Bounced”", "Nobody can receive “Orphan”"]
    );
    let page = items::list(db, &admin, &ItemFilter::default()).await.unwrap();
    let bounced_alert = page.items.iter().find(|i| i.title.contains("Bounced")).unwrap();
    assert!(
        bounced_alert
            .body
            .contains("email to every one of them has failed"),
        "{}",
        bounced_alert.body
    );
    assert_eq!(bounced_alert.link.as_deref(), Some("/admin"));

    // Past the due date (2030-01-01) every open mandatory action is escalated, once.
    let later = app::items::payload::parse_time("2030-01-02T00:00:00Z").unwrap();
    assert_eq!(lifecycle::run_once(db, later).await.unwrap().escalated, 3);
    assert_eq!(lifecycle::run_once(db, later).await.unwrap().escalated, 0);
    assert!(
        titles()
            .await
            .contains(&"Overdue and not done: “Fine”".to_string())
    );

    // Done: the admins' actions about it are done too. Withdrawn: theirs are withdrawn.
    items::set_status(db, &fine, Status::Completed, "producer")
        .await
        .unwrap();
    items::set_status(db, &orphan, Status::Cancelled, "producer")
        .await
        .unwrap();
    assert_eq!(
        titles().await,
        ["Nobody can receive “Bounced”", "Overdue and not done: “Bounced”"]
    );
}

/// A payload with its title (and body) in English and Dutch.
fn texts(category: &str, en: (&str, &str), nl: (&str, &str)) -> ItemPayload {
    let mut p = payload("contoso", category, &["billing_admin"], en.0);
    p.title = [
        ("en".to_string(), en.0.to_string()),
        ("nl".to_string(), nl.0.to_string()),
    ]
    .into();
    p.body = [
        ("en".to_string(), en.1.to_string()),
        ("nl".to_string(), nl.1.to_string()),
    ]
    .into();
    p
}

async fn readers_search_their_own_language_and_act_on_whole_lists(db: &Db) {
    let (_, en) = member(db, "contoso", "en@contoso.test", &["billing_admin"]).await;
    let (_, nl) = member(db, "contoso", "nl@contoso.test", &["billing_admin"]).await;
    let nl = Reader {
        language: "nl-BE".into(),
        ..nl
    };
    let roles = vec![orgs::Role::from("billing_admin")];
    let report = publish(
        db,
        texts(
            "transactional",
            ("Quarterly report ready", "See the figures"),
            ("Kwartaalrapport klaar", "Bekijk de cijfers"),
        ),
    )
    .await;
    let webinar = publish(
        db,
        texts(
            "promotional",
            ("Webinar on Réunion pricing", ""),
            ("Webinar over prijzen", "Op Réunion"),
        ),
    )
    .await;
    let listing = publish(
        db,
        texts(
            "recommended",
            ("Update your listing", ""),
            ("Werk je vermelding bij", ""),
        ),
    )
    .await;
    let terms = publish(
        db,
        texts(
            "mandatory",
            ("Accept the quarterly terms", ""),
            ("Accepteer de voorwaarden", ""),
        ),
    )
    .await;
    let found = |r: &Reader, query: &str, kind: Option<Kind>| {
        let filter = ItemFilter {
            kind,
            search: Some(query.to_string()),
            ..Default::default()
        };
        let (db, r) = (db.clone(), r.clone());
        async move {
            let mut ids = listed(&db, &r, &filter).await;
            ids.sort();
            ids
        }
    };
    let sorted = |mut ids: Vec<String>| {
        ids.sort();
        ids
    };
    // Word starts, any case, without accents, every term; in the reader's own language.
    assert_eq!(
        found(&en, "quart", None).await,
        sorted(vec![report.clone(), terms.clone()])
    );
    assert_eq!(found(&en, "QUARTERLY rep", None).await, vec![report.clone()]);
    assert_eq!(found(&en, "reunion", None).await, vec![webinar.clone()]);
    assert_eq!(found(&en, "réu PRIC", None).await, vec![webinar.clone()]);
    assert!(found(&en, "eunion", None).await.is_empty(), "word starts only");
    assert!(
        found(&en, "kwartaal", None).await.is_empty(),
        "not another language's text"
    );
    assert_eq!(found(&nl, "kwartaal", None).await, vec![report.clone()]);
    assert_eq!(found(&nl, "reunion", None).await, vec![webinar.clone()]);
    assert!(found(&nl, "quarterly", None).await.is_empty());
    assert_eq!(found(&en, "quart", Some(Kind::Action)).await, vec![terms.clone()]);
    assert_eq!(found(&en, "%", None).await.len(), 4, "no terms: no search");

    // A revision changes what finds it; items from before search get their words later.
    let change = ValidUpdate {
        title: english("Annual summary ready"),
        ..Default::default()
    };
    items::update(db, &report, &change, "producer").await.unwrap();
    assert_eq!(found(&en, "annual", None).await, vec![report.clone()]);
    assert_eq!(found(&en, "quart", None).await, vec![terms.clone()]);
    sqlx::query("UPDATE items SET search_words = NULL WHERE id = $1")
        .bind(&webinar)
        .execute(db.pool())
        .await
        .unwrap();
    assert!(found(&en, "reunion", None).await.is_empty());
    assert_eq!(items::lifecycle::index_for_search(db).await.unwrap(), 1);
    assert_eq!(items::lifecycle::index_for_search(db).await.unwrap(), 0);
    assert_eq!(found(&en, "reunion", None).await, vec![webinar.clone()]);

    // Unread only; "Mark all read" of a searched list marks only what it lists.
    items::apply(db, &en, &report, UserAction::Read).await.unwrap();
    let unread_notes = ItemFilter {
        kind: Some(Kind::Notification),
        unread: true,
        ..Default::default()
    };
    assert_eq!(listed(db, &en, &unread_notes).await, vec![webinar.clone()]);
    let start = live::latest_id(db, "contoso").await.unwrap();
    let searched = ItemFilter {
        kind: Some(Kind::Notification),
        search: Some("webinar".into()),
        ..Default::default()
    };
    assert_eq!(
        items::apply_to_list(db, &nl, &roles, &searched, UserAction::Read)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        items::apply_to_list(db, &nl, &roles, &searched, UserAction::Read)
            .await
            .unwrap(),
        0,
        "nothing left to mark"
    );
    assert!(items::view(db, &nl, &webinar).await.unwrap().unwrap().read);
    assert!(!items::view(db, &nl, &report).await.unwrap().unwrap().read);
    assert_eq!(
        listed(db, &en, &unread_notes).await,
        vec![webinar.clone()],
        "others' state stays"
    );

    // "Archive all" never takes a mandatory action.
    let actions = ItemFilter {
        kind: Some(Kind::Action),
        ..Default::default()
    };
    assert_eq!(
        items::apply_to_list(db, &nl, &roles, &actions, UserAction::Archive)
            .await
            .unwrap(),
        1
    );
    assert_eq!(listed(db, &nl, &actions).await, vec![terms.clone()]);
    assert!(matches!(
        items::apply_to_list(db, &nl, &roles, &actions, UserAction::Unarchive).await,
        Err(ItemError::Invalid(_))
    ));
    // Each change reaches the reader's other pages, and only theirs.
    let entries = live::entries_after(db, "contoso", &nl.user_id, start, 100)
        .await
        .unwrap();
    let subjects: Vec<&str> = entries.iter().map(|e| e.subject.as_str()).collect();
    assert_eq!(
        subjects,
        [format!("read:{webinar}"), format!("archived:{listing}")]
    );
    assert!(
        live::entries_after(db, "contoso", &en.user_id, start, 100)
            .await
            .unwrap()
            .is_empty()
    );
    let counts = items::counts(db, &nl).await.unwrap();
    assert_eq!((counts.pending_actions, counts.unread_notifications), (1, 1));
}

async fn snoozed_items_leave_every_view_and_come_back(db: &Db) {
    let (_, a) = member(db, "contoso", "a@contoso.test", &["billing_admin"]).await;
    let (_, b) = member(db, "contoso", "b@contoso.test", &["billing_admin"]).await;
    let must = publish(db, payload("contoso", "mandatory", &["billing_admin"], "Must")).await;
    let may = publish(db, payload("contoso", "recommended", &["billing_admin"], "May")).await;
    let promo = publish(db, payload("contoso", "promotional", &["billing_admin"], "Promo")).await;
    let now = now_ms();
    let hour = 60 * 60 * 1000;
    let snooze = |until| UserAction::Snooze { until };
    assert!(matches!(
        items::apply(db, &a, &must, snooze(now + hour)).await,
        Err(ItemError::MandatoryCannotBeSnoozed)
    ));
    for until in [now - 1, now + 400 * DAY_MS] {
        assert!(matches!(
            items::apply(db, &a, &may, snooze(until)).await,
            Err(ItemError::Invalid(e)) if e.field == "until"
        ));
    }
    let before = items::counts(db, &a).await.unwrap();
    let snoozed = items::apply(db, &a, &may, snooze(now + hour)).await.unwrap();
    assert!(snoozed.archived);
    assert_eq!(snoozed.snoozed_until, Some(now + hour));
    assert_eq!(
        listed(db, &a, &ItemFilter::default()).await,
        sorted_newest(&[&must, &promo])
    );
    let archived = ItemFilter {
        archived: true,
        ..Default::default()
    };
    assert_eq!(listed(db, &a, &archived).await, vec![may.clone()]);
    let during = items::counts(db, &a).await.unwrap();
    assert_eq!(during.pending_actions, before.pending_actions - 1);
    assert_eq!(during.recommended, before.recommended - 1);
    assert_eq!(
        listed(db, &b, &ItemFilter::default()).await.len(),
        3,
        "snoozed for one reader only"
    );

    let start = live::latest_id(db, "contoso").await.unwrap();
    assert_eq!(
        items::lifecycle::wake_snoozed(db, now + hour - 1).await.unwrap(),
        0
    );
    assert_eq!(items::lifecycle::wake_snoozed(db, now + hour).await.unwrap(), 1);
    assert_eq!(
        items::lifecycle::wake_snoozed(db, now + hour).await.unwrap(),
        0,
        "once"
    );
    let back = items::view(db, &a, &may).await.unwrap().unwrap();
    assert!(!back.archived && back.snoozed_until.is_none());
    assert_eq!(items::counts(db, &a).await.unwrap(), before);
    let entries = live::entries_after(db, "contoso", &a.user_id, start, 100)
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    let msg = live::live_message(db, &a, &entries[0]).await.unwrap().unwrap();
    assert!(
        matches!(&msg.changes[..], [Change::ItemAdded { item }] if item.id.as_str() == may),
        "back in the open pages: {:?}",
        msg.changes
    );

    // Archiving or unarchiving a snoozed item ends its snooze: nothing comes back later.
    items::apply(db, &a, &promo, snooze(now + hour)).await.unwrap();
    let kept = items::apply(db, &a, &promo, UserAction::Archive).await.unwrap();
    assert!(kept.archived && kept.snoozed_until.is_none());
    items::apply(db, &a, &may, snooze(now + hour)).await.unwrap();
    let early = items::apply(db, &a, &may, UserAction::Unarchive).await.unwrap();
    assert!(!early.archived && early.snoozed_until.is_none());
    assert_eq!(
        items::lifecycle::wake_snoozed(db, now + 2 * hour).await.unwrap(),
        0
    );
    assert!(items::view(db, &a, &promo).await.unwrap().unwrap().archived);
}

/// Ids in the order a newest-first list gives them (ids follow publication order).
fn sorted_newest(ids: &[&String]) -> Vec<String> {
    let mut ids: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
    ids.sort();
    ids.reverse();
    ids
}
