//! The storage contract: every test runs against SQLite and against PostgreSQL.

use app::api_keys::{self, Scope};
use app::auth::{password, session};
use app::db::scratch::ScratchDb;
use app::db::{Backend, Db, DbError};
use app::demo;
use app::limits::{self, Limit, Rate};
use app::orgs::{self, InputError, NewUser, OrgError};

mod common;

contract!(
    migrations_are_idempotent,
    organisations_are_unique_and_validated,
    users_belong_to_an_existing_org_and_have_unique_emails,
    new_users_are_opted_in_to_all_email,
    roles_grant_and_revoke_with_an_audit_trail,
    sessions_open_resolve_and_close,
    authentication_refuses_alike,
    api_keys_are_hashed_and_scoped,
    demo_seeds_once_with_every_category,
    rate_limits_count_refuse_and_drain,
    org_email_defaults_apply_to_new_users_only,
);

/// sqlx's ping before every hand-out of a pooled connection is off (a round trip per query);
/// a connection that sat idle is still checked, so one the server closed meanwhile (a restart,
/// an administrator) is replaced instead of failing the next query.
#[tokio::test]
async fn postgres_connections_closed_while_idle_are_replaced() {
    let scratch = ScratchDb::new(Backend::Postgres).await;
    let pid = "SELECT pg_backend_pid()";
    let before: i32 = sqlx::query_scalar(pid)
        .fetch_one(scratch.db.pool())
        .await
        .unwrap();
    let admin = Db::connect(&scratch.url).await.unwrap();
    let ended: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(admin.pool())
    .await
    .unwrap();
    admin.close().await;
    assert!(!ended.is_empty() && ended.iter().all(|e| *e));
    tokio::time::sleep(app::db::PING_IF_IDLE_FOR + std::time::Duration::from_millis(200)).await;
    let after: i32 = sqlx::query_scalar(pid)
        .fetch_one(scratch.db.pool())
        .await
        .unwrap();
    assert_ne!(before, after, "a new connection serves the query");
}

async fn user(db: &Db, org: &str, email: &str) -> orgs::User {
    if orgs::find_org(db, &org.into()).await.unwrap().is_none() {
        orgs::create_org(db, org, &org.to_uppercase()).await.unwrap();
    }
    orgs::create_user(
        db,
        NewUser {
            org_id: &org.into(),
            email,
            display_name: "Test User",
            password_hash: Some(&password::hash("correct horse")),
            setup_completed: true,
        },
    )
    .await
    .unwrap()
}

async fn migrations_are_idempotent(db: &Db) {
    db.migrate().await.unwrap();
    db.migrate().await.unwrap();
    assert!(db.is_empty().await.unwrap());
    assert_eq!(orgs::role_catalog(db).await.unwrap().len(), 7);
    assert_eq!(orgs::workspace_catalog(db).await.unwrap().len(), 7);
}

async fn organisations_are_unique_and_validated(db: &Db) {
    orgs::create_org(db, "contoso", "Contoso").await.unwrap();
    assert!(matches!(
        orgs::create_org(db, "contoso", "Again").await,
        Err(OrgError::Db(DbError::Duplicate(_)))
    ));
    assert!(matches!(
        orgs::create_org(db, "Bad Id", "x").await,
        Err(OrgError::Input(InputError::OrgId(_)))
    ));
    assert!(matches!(
        orgs::create_org(db, "empty", "  ").await,
        Err(OrgError::Input(InputError::OrgName))
    ));
    assert_eq!(
        orgs::find_org(db, &"contoso".into()).await.unwrap().unwrap().name,
        "Contoso"
    );
    assert!(orgs::find_org(db, &"nobody".into()).await.unwrap().is_none());
}

async fn users_belong_to_an_existing_org_and_have_unique_emails(db: &Db) {
    let u = user(db, "contoso", "Ada@Contoso.test").await;
    assert_eq!(u.email, "ada@contoso.test");
    assert_eq!(
        orgs::find_user_by_email(db, " ADA@contoso.test ")
            .await
            .unwrap()
            .unwrap()
            .id,
        u.id
    );
    assert_eq!(orgs::find_user(db, &u.id).await.unwrap().unwrap(), u);
    let dup = orgs::create_user(
        db,
        NewUser {
            org_id: &"contoso".into(),
            email: "ada@contoso.test",
            display_name: "X",
            password_hash: None,
            setup_completed: false,
        },
    )
    .await;
    assert!(matches!(dup, Err(OrgError::Db(DbError::Duplicate(_)))));
    let orphan = orgs::create_user(
        db,
        NewUser {
            org_id: &"nowhere".into(),
            email: "x@y.test",
            display_name: "X",
            password_hash: None,
            setup_completed: false,
        },
    )
    .await;
    assert!(matches!(orphan, Err(OrgError::Db(DbError::NotFound(_)))));
    let bad = orgs::create_user(
        db,
        NewUser {
            org_id: &"contoso".into(),
            email: "not-an-email",
            display_name: "X",
            password_hash: None,
            setup_completed: false,
        },
    )
    .await;
    assert!(matches!(bad, Err(OrgError::Input(InputError::Email(_)))));
    user(db, "fabrikam", "fay@fabrikam.test").await;
    let contoso: Vec<String> = orgs::users_of_org(db, &"contoso".into())
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.email)
        .collect();
    assert_eq!(contoso, vec!["ada@contoso.test"]);
}

async fn new_users_are_opted_in_to_all_email(db: &Db) {
    let u = user(db, "contoso", "ada@contoso.test").await;
    let (lang,): (String,) = sqlx::query_as("SELECT email_language FROM preferences WHERE user_id = $1")
        .bind(&u.id)
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(lang, "en");
    let (optouts,): (i64,) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM email_category_optouts WHERE user_id = $1) + (SELECT COUNT(*) FROM workspace_email_optouts WHERE user_id = $1)",
    )
    .bind(&u.id)
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(optouts, 0, "no opt-out: every email is on");
}

async fn roles_grant_and_revoke_with_an_audit_trail(db: &Db) {
    let u = user(db, "contoso", "ada@contoso.test").await;
    assert!(
        orgs::grant_role(db, &u, &"billing_admin".into(), "tester")
            .await
            .unwrap()
    );
    assert!(
        !orgs::grant_role(db, &u, &"billing_admin".into(), "tester")
            .await
            .unwrap(),
        "a second grant changes nothing"
    );
    assert!(matches!(
        orgs::grant_role(db, &u, &"emperor".into(), "tester").await,
        Err(OrgError::Input(InputError::UnknownRole(_)))
    ));
    assert_eq!(orgs::roles_of(db, &u.id).await.unwrap(), vec!["billing_admin"]);
    assert!(
        orgs::revoke_role(db, &u, &"billing_admin".into(), "tester")
            .await
            .unwrap()
    );
    assert!(
        !orgs::revoke_role(db, &u, &"billing_admin".into(), "tester")
            .await
            .unwrap()
    );
    assert!(orgs::roles_of(db, &u.id).await.unwrap().is_empty());
    let trail = app::audit::recent(db, &"contoso".into(), 10).await.unwrap();
    let actions: Vec<&str> = trail.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, vec!["role.revoke", "role.grant"]);
    assert!(
        trail
            .iter()
            .all(|e| e.actor == "tester" && e.subject.as_deref() == Some("ada@contoso.test"))
    );
    assert!(
        app::audit::recent(db, &"fabrikam".into(), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn sessions_open_resolve_and_close(db: &Db) {
    let u = user(db, "contoso", "ada@contoso.test").await;
    let token = session::open(db, &u.id).await.unwrap();
    let (current, _) = session::resolve(db, &token).await.unwrap().unwrap();
    assert!(current.roles.is_empty(), "no roles yet");
    orgs::grant_role(db, &u, &"sales_agent".into(), "tester")
        .await
        .unwrap();
    orgs::grant_role(db, &u, &"account_admin".into(), "tester")
        .await
        .unwrap();
    let stored: (String,) = sqlx::query_as("SELECT token_hash FROM sessions")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_ne!(stored.0, token, "only the hash is stored");
    let (current, _) = session::resolve(db, &token).await.unwrap().unwrap();
    assert_eq!(current.email, "ada@contoso.test");
    assert_eq!(current.org_name, "CONTOSO");
    assert_eq!(
        current.roles,
        vec!["account_admin", "sales_agent"],
        "every role, in order"
    );
    assert!(
        session::resolve(db, &session::new_token().0)
            .await
            .unwrap()
            .is_none()
    );
    session::close(db, &token).await.unwrap();
    assert!(session::resolve(db, &token).await.unwrap().is_none());

    let expired = session::open(db, &u.id).await.unwrap();
    sqlx::query("UPDATE sessions SET expires_at = 0")
        .execute(db.pool())
        .await
        .unwrap();
    assert!(
        session::resolve(db, &expired).await.unwrap().is_none(),
        "an expired session is gone"
    );
}

async fn authentication_refuses_alike(db: &Db) {
    user(db, "contoso", "ada@contoso.test").await;
    assert!(
        session::authenticate(db, "ADA@contoso.test", "correct horse")
            .await
            .is_ok()
    );
    for (email, pw) in [
        ("ada@contoso.test", "wrong"),
        ("nobody@contoso.test", "correct horse"),
        ("", ""),
        ("not an email", "x"),
    ] {
        let err = session::authenticate(db, email, pw).await.unwrap_err();
        assert!(matches!(err, session::AuthError::BadCredentials), "{email}");
        assert_eq!(err.to_string(), app::auth::BAD_CREDENTIALS);
    }
}

async fn api_keys_are_hashed_and_scoped(db: &Db) {
    orgs::create_org(db, "contoso", "Contoso").await.unwrap();
    let (key, secret) = api_keys::create(db, "verification", Scope::Org("contoso".into()))
        .await
        .unwrap();
    let found = api_keys::authenticate(db, &secret, false).await.unwrap().unwrap();
    assert_eq!(found, key);
    assert!(found.may_act_on("contoso") && !found.may_act_on("fabrikam"));
    assert!(
        api_keys::authenticate(db, "ack_wrong", false)
            .await
            .unwrap()
            .is_none()
    );
    let stored: Vec<(String,)> = sqlx::query_as("SELECT key_hash FROM api_keys")
        .fetch_all(db.pool())
        .await
        .unwrap();
    assert!(stored.iter().all(|(h,)| h != &secret));
    assert!(
        api_keys::create(db, "x", Scope::Org("nowhere".into()))
            .await
            .is_err()
    );

    api_keys::create_demo_key(db).await.unwrap();
    assert!(
        api_keys::authenticate(db, api_keys::DEMO_PLATFORM_KEY, false)
            .await
            .unwrap()
            .is_none(),
        "demo key outside demo mode"
    );
    let demo_key = api_keys::authenticate(db, api_keys::DEMO_PLATFORM_KEY, true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(demo_key.scope, Scope::Platform);
}

async fn demo_seeds_once_with_every_category(db: &Db) {
    demo::seed(db).await.unwrap();
    assert!(demo::is_demo_database(db).await.unwrap());
    assert!(matches!(demo::seed(db).await, Err(demo::DemoError::NotEmpty)));
    let admin = session::authenticate(db, "admin@contoso.test", demo::DEMO_PASSWORD)
        .await
        .unwrap();
    assert!(admin.setup_completed);
    let newcomer = orgs::find_user_by_email(db, "new@contoso.test")
        .await
        .unwrap()
        .unwrap();
    assert!(!newcomer.setup_completed);
    assert!(orgs::roles_of(db, &newcomer.id).await.unwrap().is_empty());
    let fabrikam = orgs::find_user_by_email(db, "admin@fabrikam.test")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(fabrikam.org_id, "fabrikam");
    let categories: Vec<(String,)> = sqlx::query_as("SELECT DISTINCT category FROM items ORDER BY category")
        .fetch_all(db.pool())
        .await
        .unwrap();
    let categories: Vec<String> = categories.into_iter().map(|c| c.0).collect();
    assert_eq!(
        categories,
        vec!["mandatory", "promotional", "recommended", "transactional"]
    );
    let (overdue,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM items WHERE kind = 'action' AND due_at < $1")
            .bind(app::db::now_ms())
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert!(overdue > 0);
    let (archived,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM item_states WHERE archived_at IS NOT NULL")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert!(archived > 0);
}

#[tokio::test]
async fn an_unreachable_postgres_fails_with_a_message_that_says_what_to_fix() {
    let err = Db::connect("postgres://nobody@127.0.0.1:1/none")
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("DATABASE_URL") && !msg.contains('\n'), "{msg}");
    let err = Db::connect("mysql://x").await.unwrap_err();
    assert!(err.to_string().contains("sqlite://"), "{err}");
}

#[tokio::test]
async fn scratch_databases_are_separate() {
    let a = ScratchDb::new(Backend::Sqlite).await;
    let b = ScratchDb::new(Backend::Sqlite).await;
    orgs::create_org(&a.db, "contoso", "Contoso").await.unwrap();
    assert!(b.db.is_empty().await.unwrap());
}

fn limit(name: &'static str, burst: u32, per: std::time::Duration) -> Limit {
    Limit {
        name,
        rate: Rate { burst, per },
    }
}

async fn rate_limits_count_refuse_and_drain(db: &Db) {
    let minute = std::time::Duration::from_secs(60);
    let two_a_minute = limit("sign-in", 2, minute);
    for _ in 0..2 {
        assert_eq!(two_a_minute.take(db, "a@x.test").await.unwrap(), Ok(()));
    }
    assert_eq!(
        two_a_minute.check(db, "a@x.test").await.unwrap(),
        Ok(()),
        "used up, not over"
    );
    let wait = two_a_minute.take(db, "a@x.test").await.unwrap().unwrap_err();
    assert!((59..=60).contains(&wait.seconds()), "{wait:?}");
    assert!(two_a_minute.check(db, "a@x.test").await.unwrap().is_err());
    // Knocking while refused does not add to the wait beyond one period.
    for _ in 0..5 {
        assert!(two_a_minute.take(db, "a@x.test").await.unwrap().is_err());
    }
    let wait = two_a_minute.check(db, "a@x.test").await.unwrap().unwrap_err();
    assert!(wait.seconds() <= 60, "{wait:?}");
    // Other keys and other limits have their own allowance.
    assert_eq!(two_a_minute.take(db, "b@x.test").await.unwrap(), Ok(()));
    assert_eq!(
        limit("api", 2, minute).take(db, "a@x.test").await.unwrap(),
        Ok(())
    );

    // A short period drains while the test waits, and drained counters are forgotten.
    let fast = limit("fast", 1, std::time::Duration::from_millis(150));
    assert_eq!(fast.take(db, "k").await.unwrap(), Ok(()));
    assert!(fast.take(db, "k").await.unwrap().is_err());
    tokio::time::sleep(std::time::Duration::from_millis(400)).await;
    assert_eq!(fast.check(db, "k").await.unwrap(), Ok(()));
    assert!(limits::forget_drained(db).await.unwrap() >= 1);
    assert_eq!(fast.take(db, "k").await.unwrap(), Ok(()));
    assert!(
        two_a_minute.check(db, "a@x.test").await.unwrap().is_err(),
        "kept while not drained"
    );
}

/// Two instances (two connections to one database) counting the same key at the same time share
/// one allowance: exactly `burst` of their attempts pass.
async fn rate_limits_are_shared_by_instances(backend: Backend) {
    let scratch = ScratchDb::new(backend).await;
    let other = Db::connect(&scratch.url).await.unwrap();
    let ten = limit("api", 10, std::time::Duration::from_secs(60));
    let attempts = (0..30).map(|i| {
        let db = if i % 2 == 0 {
            scratch.db.clone()
        } else {
            other.clone()
        };
        tokio::spawn(async move { ten.take(&db, "producer").await.unwrap().is_ok() })
    });
    let mut passed = 0;
    for attempt in attempts {
        passed += usize::from(attempt.await.unwrap());
    }
    assert_eq!(passed, 10);
    assert!(ten.check(&other, "producer").await.unwrap().is_err());
    other.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_rate_limits_are_shared_by_instances() {
    rate_limits_are_shared_by_instances(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_rate_limits_are_shared_by_instances() {
    rate_limits_are_shared_by_instances(Backend::Postgres).await;
}

async fn org_email_defaults_apply_to_new_users_only(db: &Db) {
    use app::items::Workspace;
    use app::preferences::org_defaults::{set_workspace_default, workspace_defaults};
    let before = user(db, "contoso", "before@contoso.test").await;
    let contoso = before.org_id.clone();
    let billing = Workspace::from("billing");
    assert!(
        set_workspace_default(db, &contoso, &billing, false, "admin@contoso.test")
            .await
            .unwrap()
    );
    assert!(
        !set_workspace_default(db, &contoso, &billing, false, "admin@contoso.test")
            .await
            .unwrap(),
        "setting what is set changes nothing"
    );
    assert!(matches!(
        set_workspace_default(db, &contoso, &"nowhere".into(), false, "admin@contoso.test").await,
        Err(OrgError::Input(InputError::UnknownWorkspace(_)))
    ));
    let defaults = workspace_defaults(db, &contoso).await.unwrap();
    assert!(defaults.iter().any(|(w, on)| *w == billing && !on));
    assert!(defaults.iter().filter(|(w, _)| *w != billing).all(|(_, on)| *on));

    let off = |user: orgs::User| async move {
        app::preferences::load(db, &user.id)
            .await
            .unwrap()
            .unwrap()
            .email
            .workspaces_off
    };
    let after = user(db, "contoso", "after@contoso.test").await;
    assert_eq!(
        off(after).await,
        [billing.clone()].into(),
        "a new user starts with the default"
    );
    assert!(
        off(before).await.is_empty(),
        "an existing user keeps their choices"
    );
    let elsewhere = user(db, "fabrikam", "new@fabrikam.test").await;
    assert!(
        off(elsewhere).await.is_empty(),
        "another organisation's users are not affected"
    );

    assert!(
        set_workspace_default(db, &contoso, &billing, true, "admin@contoso.test")
            .await
            .unwrap()
    );
    let later = user(db, "contoso", "later@contoso.test").await;
    assert!(off(later).await.is_empty());
    let trail = app::audit::recent(db, &contoso, 10).await.unwrap();
    assert_eq!(
        trail.iter().filter(|e| e.action == "org.email_default").count(),
        2
    );
}
