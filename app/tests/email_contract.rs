//! Email delivery on SQLite and PostgreSQL, through a real SMTP server on loopback (the
//! `smtp-sink` crate): who gets email under the opt-out rules, in which language, with which
//! headers; the relay down and up again; reminders; verification; the legacy import.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use app::auth::password;
use app::db::{Db, now_ms};
use app::email::{Links, SigningKey, Transport, Worker};
use app::items::payload::{Audience, ItemPayload, ValidUpdate, validate};
use app::items::{self, DAY_MS, Status};
use app::orgs::{self, NewUser, User};
use app::preferences::import::{self, Format};
use app::preferences::{self, PreferencesForm, SwitchPositions};
use smtp_sink::{Received, SmtpSink};

contract!(
    item_email_follows_the_opt_out_rules_in_every_combination,
    the_relay_down_for_a_while_then_up_delivers_every_email_once,
    two_workers_never_send_the_same_email_twice,
    reminders_come_once_per_stage_and_stop_when_the_action_closes,
    email_follows_a_revised_item_and_an_expired_one_gets_none,
    email_goes_to_a_new_address_only_once_it_is_verified,
    the_legacy_import_reports_bad_rows_and_is_idempotent,
    without_a_relay_mail_is_written_as_eml_files,
    digests_and_quiet_hours_follow_the_users_clock,
);

const PUBLIC_URL: &str = "https://portal.example";

async fn user(db: &Db, email: &str, language: &str, roles: &[&str]) -> User {
    if orgs::find_org(db, &"contoso".into()).await.unwrap().is_none() {
        orgs::create_org(db, "contoso", "Contoso").await.unwrap();
    }
    let hash = password::hash("irrelevant");
    let user = orgs::create_user(
        db,
        NewUser {
            org_id: &"contoso".into(),
            email,
            display_name: email.split('@').next().unwrap(),
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
    sqlx::query("UPDATE preferences SET email_language = $1 WHERE user_id = $2")
        .bind(language)
        .bind(&user.id)
        .execute(db.pool())
        .await
        .unwrap();
    user
}

async fn links(db: &Db) -> Links {
    Links::new(PUBLIC_URL, SigningKey::load_or_create(db).await.unwrap())
}

async fn worker(db: &Db, sink: &SmtpSink) -> Worker {
    let transport = Transport::from_config(Some(&sink.url()), std::path::Path::new("unused")).unwrap();
    Worker::new(
        db.clone(),
        links(db).await,
        transport,
        "Action Center <ac@portal.example>",
    )
    .unwrap()
}

async fn sink() -> SmtpSink {
    SmtpSink::start("127.0.0.1:0", None).await.unwrap()
}

async fn publish(db: &Db, category: &str, workspace: &str, title: &str) -> String {
    let kind = if matches!(category, "mandatory" | "recommended") {
        "action"
    } else {
        "notification"
    };
    let payload = ItemPayload {
        kind: kind.into(),
        category: category.into(),
        org_id: "contoso".into(),
        workspace: workspace.into(),
        audience: Audience {
            roles: vec!["billing_admin".into()],
            user_ids: vec![],
        },
        // English only: every other language falls back to it.
        title: [("en".to_string(), title.to_string())].into(),
        body: [("en".to_string(), format!("About {title}"))].into(),
        link: Some("/billing".into()),
        due_at: (kind == "action").then(|| "2030-01-01T00:00:00Z".to_string()),
        idempotency_key: None,
        expires_at: None,
    };
    let valid = validate(payload, &items::catalog(db).await.unwrap()).unwrap();
    items::publish(db, &valid, None, "test").await.unwrap().0.id
}

/// Runs passes until one does nothing.
async fn drain(worker: &Worker, now: i64) {
    for _ in 0..20 {
        let t = worker.run_once(now).await.unwrap();
        if t == Default::default() {
            return;
        }
    }
    panic!("the outbox did not drain");
}

fn by_subject_and_rcpt(messages: &[Received]) -> BTreeMap<(String, String), usize> {
    let mut seen = BTreeMap::new();
    for m in messages {
        let key = (m.header("Subject").unwrap_or_default(), m.to.join(","));
        *seen.entry(key).or_default() += 1;
    }
    seen
}

async fn item_email_follows_the_opt_out_rules_in_every_combination(db: &Db) {
    // Eight users: transactional on/off × promotional on/off × billing workspace on/off.
    let mut users = Vec::new();
    for (i, (transactional, promotional, billing)) in [true, false]
        .into_iter()
        .flat_map(|t| {
            [true, false]
                .into_iter()
                .flat_map(move |p| [true, false].map(move |b| (t, p, b)))
        })
        .enumerate()
    {
        let email = format!("u{i}@contoso.test");
        let language = if i % 2 == 0 { "nl" } else { "en" };
        let u = user(db, &email, language, &["billing_admin"]).await;
        let form = PreferencesForm {
            job_function: String::new(),
            email_language: language.into(),
            notification_email: email.clone(),
            switches: SwitchPositions {
                in_app: None,
                categories: [
                    ("transactional".to_string(), transactional),
                    ("promotional".to_string(), promotional),
                ]
                .into(),
                workspaces: [("billing".to_string(), billing)].into(),
            },
        };
        preferences::save(db, &links(db).await, &u.id, "contoso", &email, &form)
            .await
            .unwrap();
        users.push((email, language, transactional, promotional, billing));
    }
    // Not a recipient: no role.
    user(db, "outsider@contoso.test", "en", &[]).await;

    let sink = sink().await;
    let worker = worker(db, &sink).await;
    let mut expected = BTreeSet::new();
    for category in ["mandatory", "recommended", "transactional", "promotional"] {
        for workspace in ["billing", "referrals"] {
            let title = format!("{category} in {workspace}");
            publish(db, category, workspace, &title).await;
            for (email, language, transactional, promotional, billing) in &users {
                let wanted = match category {
                    "transactional" => *transactional && (workspace != "billing" || *billing),
                    "promotional" => *promotional && (workspace != "billing" || *billing),
                    _ => true,
                };
                if wanted {
                    let subject = match (category, *language) {
                        ("mandatory", "nl") => format!("Actie vereist: {title}"),
                        ("mandatory", _) => format!("Action required: {title}"),
                        ("recommended", "nl") => format!("Aanbevolen actie: {title}"),
                        ("recommended", _) => format!("Recommended action: {title}"),
                        _ => title.clone(),
                    };
                    expected.insert((subject, email.clone()));
                }
            }
        }
    }
    drain(&worker, now_ms()).await;
    let messages = sink.messages();
    let seen = by_subject_and_rcpt(&messages);
    assert!(seen.values().all(|n| *n == 1), "each email once: {seen:?}");
    assert_eq!(seen.keys().cloned().collect::<BTreeSet<_>>(), expected);

    for m in &messages {
        let subject = m.header("Subject").unwrap();
        let optional = subject.starts_with("transactional") || subject.starts_with("promotional");
        let unsubscribe = m.header("List-Unsubscribe");
        if optional {
            let url = unsubscribe.expect("optional email has List-Unsubscribe");
            assert!(url.starts_with("<https://portal.example/unsubscribe/"), "{url}");
            assert_eq!(
                m.header("List-Unsubscribe-Post").as_deref(),
                Some("List-Unsubscribe=One-Click")
            );
        } else {
            assert_eq!(
                unsubscribe, None,
                "action email carries no unsubscribe: {subject}"
            );
            assert_eq!(m.header("List-Unsubscribe-Post"), None);
        }
        assert!(m.data.contains("multipart/alternative"), "text and HTML");
        assert_eq!(m.from, "ac@portal.example");
        // Dutch chrome around English item text (the producer sent English only).
        if m.to[0].starts_with("u0@") {
            assert!(m.data.replace("=\r\n", "").contains("Hallo u0,"), "{}", m.data);
        }
    }
    assert_eq!(app::email::outbox::counts(db).await.unwrap().get("pending"), None);
}

async fn the_relay_down_for_a_while_then_up_delivers_every_email_once(db: &Db) {
    for i in 0..5 {
        user(db, &format!("r{i}@contoso.test"), "en", &["billing_admin"]).await;
    }
    // First nothing listens at all; then the relay answers but refuses (421); then it works.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let transport =
        Transport::from_config(Some(&format!("smtp://{addr}")), std::path::Path::new("unused")).unwrap();
    let worker = Worker::new(db.clone(), links(db).await, transport, "ac@portal.example").unwrap();
    publish(db, "mandatory", "billing", "Pay the invoice").await;
    publish(db, "transactional", "billing", "Invoice paid").await;
    let t0 = now_ms();
    let first = worker.run_once(t0).await.unwrap();
    assert_eq!((first.planned, first.sent, first.retrying), (10, 0, 10));
    // Backoff: nothing is tried again right away.
    let soon = worker.run_once(t0 + 1_000).await.unwrap();
    assert_eq!(soon, Default::default());

    let sink = SmtpSink::start(&addr, None).await.unwrap();
    sink.set_refusing(true);
    let refused = worker.run_once(t0 + 60_000).await.unwrap();
    assert_eq!((refused.sent, refused.retrying), (0, 10));
    assert!(sink.messages().is_empty());
    let (attempts, error): (i64, Option<String>) =
        sqlx::query_as("SELECT MIN(attempts), MAX(last_error) FROM outbox")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(attempts, 2);
    assert!(error.is_some());

    sink.set_refusing(false);
    drain(&worker, t0 + 10 * 60_000).await;
    drain(&worker, t0 + 24 * 60 * 60_000).await;
    let seen = by_subject_and_rcpt(&sink.wait_for(10, Duration::from_secs(5)).await);
    assert_eq!(seen.len(), 10);
    assert!(seen.values().all(|n| *n == 1), "{seen:?}");
    // A restarted worker (a new one on the same database) finds nothing left to send.
    let restarted = Worker::new(
        db.clone(),
        links(db).await,
        Transport::from_config(Some(&sink.url()), std::path::Path::new("unused")).unwrap(),
        "ac@portal.example",
    )
    .unwrap();
    drain(&restarted, t0 + 48 * 60 * 60_000).await;
    assert_eq!(sink.messages().len(), 10);
    assert_eq!(
        app::email::outbox::counts(db).await.unwrap().get("sent"),
        Some(&10)
    );
}

async fn two_workers_never_send_the_same_email_twice(db: &Db) {
    for i in 0..30 {
        user(db, &format!("w{i}@contoso.test"), "en", &["billing_admin"]).await;
    }
    let sink = sink().await;
    let (a, b) = (worker(db, &sink).await, worker(db, &sink).await);
    for n in 0..4 {
        publish(db, "promotional", "referrals", &format!("News {n}")).await;
    }
    let now = now_ms();
    for _ in 0..10 {
        let (x, y) = tokio::join!(a.run_once(now), b.run_once(now));
        let (x, y) = (x.unwrap(), y.unwrap());
        if x == Default::default() && y == Default::default() {
            break;
        }
    }
    let seen = by_subject_and_rcpt(&sink.wait_for(120, Duration::from_secs(5)).await);
    assert_eq!(seen.len(), 120);
    assert!(seen.values().all(|n| *n == 1), "{seen:?}");
}

/// Moves a just-published action's dates, as if it had been published with them.
async fn set_due(db: &Db, id: &str, created_at: i64, due_at: i64) {
    sqlx::query("UPDATE items SET created_at = $1, due_at = $2, next_reminder_at = $3 WHERE id = $4")
        .bind(created_at)
        .bind(due_at)
        .bind(app::email::outbox::next_reminder_at(Some(due_at), [None; 3]))
        .bind(id)
        .execute(db.pool())
        .await
        .unwrap();
}

async fn reminders_come_once_per_stage_and_stop_when_the_action_closes(db: &Db) {
    user(db, "rem@contoso.test", "en", &["billing_admin"]).await;
    let archiver = user(db, "archiver@contoso.test", "en", &["billing_admin"]).await;
    let sink = sink().await;
    let worker = worker(db, &sink).await;
    let t0 = now_ms();
    let due = t0 + 10 * DAY_MS;
    let pay = publish(db, "recommended", "billing", "Renew the plan").await;
    set_due(db, &pay, t0, due).await;
    drain(&worker, t0).await;
    // The archiver put the recommendation away: no reminders for them.
    items::apply(
        db,
        &items::Reader {
            user_id: archiver.id.clone(),
            org_id: "contoso".into(),
            language: "en".into(),
        },
        &pay,
        items::UserAction::Archive,
    )
    .await
    .unwrap();
    let subjects = |sink: &SmtpSink| -> Vec<String> {
        sink.messages()
            .iter()
            .filter(|m| m.to == ["rem@contoso.test"])
            .map(|m| m.header("Subject").unwrap())
            .collect()
    };
    assert_eq!(subjects(&sink), ["Recommended action: Renew the plan"]);
    drain(&worker, due - 8 * DAY_MS).await;
    assert_eq!(subjects(&sink).len(), 1, "not yet");
    for at in [due - 7 * DAY_MS, due - 6 * DAY_MS] {
        drain(&worker, at).await;
    }
    drain(&worker, due - DAY_MS).await;
    drain(&worker, due - DAY_MS / 2).await;
    drain(&worker, due + 1).await;
    drain(&worker, due + 3 * DAY_MS).await;
    assert_eq!(
        subjects(&sink),
        [
            "Recommended action: Renew the plan",
            "Reminder: Renew the plan is due in 7 days",
            "Reminder: Renew the plan is due tomorrow",
            "Overdue: Renew the plan",
        ]
    );
    assert_eq!(
        sink.messages()
            .iter()
            .filter(|m| m.to == ["archiver@contoso.test"])
            .count(),
        1
    );

    // An action completed before its reminder went out: the reminder is skipped.
    let verify = publish(db, "mandatory", "billing", "Verify the account").await;
    set_due(db, &verify, t0, due).await;
    drain(&worker, t0).await;
    let before = sink.messages().len();
    // Plan the 7-day reminder without sending it: the relay refuses, the row stays pending.
    sink.set_refusing(true);
    worker.run_once(due - 7 * DAY_MS).await.unwrap();
    items::set_status(db, &verify, Status::Completed, "producer")
        .await
        .unwrap();
    sink.set_refusing(false);
    drain(&worker, due + DAY_MS).await;
    assert_eq!(sink.messages().len(), before);
    assert!(
        app::email::outbox::counts(db)
            .await
            .unwrap()
            .get("skipped")
            .copied()
            .unwrap_or(0)
            >= 1
    );
}

/// Email not yet on its way follows the producer's change: a first email waiting for the
/// relay goes out with the new title, reminders come by the new due date (never twice for a
/// stage already sent), and an item that expires sends nothing more.
async fn email_follows_a_revised_item_and_an_expired_one_gets_none(db: &Db) {
    user(db, "rev@contoso.test", "en", &["billing_admin"]).await;
    let sink = sink().await;
    let worker = worker(db, &sink).await;
    let subjects = |sink: &SmtpSink| -> Vec<String> {
        sink.messages()
            .iter()
            .map(|m| m.header("Subject").unwrap())
            .collect()
    };
    let t0 = now_ms();
    // The relay refuses for now: the first email stays pending.
    sink.set_refusing(true);
    let id = publish(db, "recommended", "billing", "Old title").await;
    set_due(db, &id, t0, t0 + 30 * DAY_MS).await;
    worker.run_once(t0).await.unwrap();
    assert!(subjects(&sink).is_empty());
    revise(
        db,
        &id,
        ValidUpdate {
            title: Some([("en".to_string(), "New title".to_string())].into()),
            ..Default::default()
        },
    )
    .await;
    sink.set_refusing(false);
    drain(&worker, t0 + DAY_MS).await;
    assert_eq!(subjects(&sink), ["Recommended action: New title"]);

    // Due in 30 days becomes due in 3: the 1-day reminder comes the day before the new date.
    let due = t0 + 3 * DAY_MS;
    revise(
        db,
        &id,
        ValidUpdate {
            due_at: Some(due),
            ..Default::default()
        },
    )
    .await;
    drain(&worker, due - DAY_MS).await;
    assert_eq!(
        subjects(&sink).last().map(String::as_str),
        Some("Reminder: New title is due tomorrow")
    );
    // Moved by an hour after it went out: planned again, not sent again.
    revise(
        db,
        &id,
        ValidUpdate {
            due_at: Some(due + 3_600_000),
            ..Default::default()
        },
    )
    .await;
    drain(&worker, due + 3_600_000 - DAY_MS / 2).await;
    assert_eq!(subjects(&sink).len(), 2);

    // Expired while its first email waits for the relay: nothing goes out, ever.
    sink.set_refusing(true);
    let gone = publish(db, "mandatory", "billing", "Withdrawn").await;
    set_due(db, &gone, t0, t0 + 10 * DAY_MS).await;
    worker.run_once(t0).await.unwrap();
    revise(
        db,
        &gone,
        ValidUpdate {
            expires_at: Some(Some(t0)),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(items::lifecycle::expire_due(db, now_ms()).await.unwrap(), 1);
    sink.set_refusing(false);
    for at in [t0 + DAY_MS, t0 + 9 * DAY_MS, t0 + 11 * DAY_MS] {
        drain(&worker, at).await;
    }
    assert!(
        subjects(&sink).iter().all(|s| !s.contains("Withdrawn")),
        "{:?}",
        subjects(&sink)
    );
}

async fn revise(db: &Db, id: &str, change: ValidUpdate) {
    items::update(db, id, &change, "producer").await.unwrap();
}

async fn email_goes_to_a_new_address_only_once_it_is_verified(db: &Db) {
    let u = user(db, "ver@contoso.test", "fr", &["billing_admin"]).await;
    let sink = sink().await;
    let worker = worker(db, &sink).await;
    let form = PreferencesForm {
        job_function: "Finance".into(),
        email_language: "fr".into(),
        notification_email: "alerts@contoso.test".into(),
        switches: SwitchPositions::default(),
    };
    preferences::save(db, &links(db).await, &u.id, "contoso", "ver@contoso.test", &form)
        .await
        .unwrap();
    publish(db, "mandatory", "billing", "Before").await;
    drain(&worker, now_ms()).await;
    let messages = sink.wait_for(2, Duration::from_secs(5)).await;
    let verification = messages
        .iter()
        .find(|m| m.to == ["alerts@contoso.test"])
        .expect("the link goes to the new address");
    assert_eq!(
        verification.header("Subject").as_deref(),
        Some("Confirmez votre adresse e-mail de notification"),
        "in the user's email language"
    );
    assert!(
        messages.iter().any(|m| m.to == ["ver@contoso.test"]),
        "until verified, the sign-in address"
    );
    let (text,): (String,) = sqlx::query_as("SELECT body_text FROM outbox WHERE purpose = 'verify'")
        .fetch_one(db.pool())
        .await
        .unwrap();
    let start = text.find("/verify-email/").unwrap() + "/verify-email/".len();
    let token: String = text[start..]
        .chars()
        .take_while(|c| c.is_ascii_hexdigit())
        .collect();
    assert_eq!(token.len(), 64);
    assert!(matches!(
        preferences::verification::confirm(db, &token).await.unwrap(),
        preferences::verification::LinkState::Valid { .. }
    ));
    publish(db, "mandatory", "billing", "After").await;
    drain(&worker, now_ms()).await;
    let after = sink.wait_for(3, Duration::from_secs(5)).await;
    assert_eq!(after.len(), 3);
    assert_eq!(after[2].to, ["alerts@contoso.test"]);
}

async fn the_legacy_import_reports_bad_rows_and_is_idempotent(db: &Db) {
    let a = user(db, "imp.a@contoso.test", "en", &[]).await;
    user(db, "imp.b@contoso.test", "en", &[]).await;
    let links = links(db).await;
    let csv = "email,job_function,email_language,notification_email,notification_email_verified,transactional_email,promotional_email,workspaces_off\n\
               imp.a@contoso.test,Finance lead,nl-NL,a.alerts@contoso.test,yes,true,false,billing;referrals\n\
               imp.b@contoso.test,,de,b.new@contoso.test,,,,\n\
               nobody@contoso.test,,en,,,,,\n\
               imp.a@contoso.test,,xx,,,,,\n\
               imp.b@contoso.test,,,,,,,moon\n";
    let report = import::import(db, &links, csv, Format::Csv, "operator")
        .await
        .unwrap();
    assert_eq!(report.applied, 2);
    assert_eq!(report.unchanged, 0);
    let lines: Vec<usize> = report.rejected.iter().map(|r| r.line).collect();
    assert_eq!(lines, [4, 5, 6], "{:?}", report.rejected);
    assert!(report.rejected[0].reason.contains("no user"));
    assert!(report.rejected[1].reason.contains("email_language"));
    assert!(report.rejected[2].reason.contains("moon"));

    let prefs = preferences::load(db, &a.id).await.unwrap().unwrap();
    assert_eq!(prefs.job_function, "Finance lead");
    assert_eq!(prefs.email_language, "nl");
    assert_eq!(prefs.notification_email, "a.alerts@contoso.test");
    assert!(prefs.notification_email_verified, "the legacy system verified it");
    assert!(prefs.email.transactional && !prefs.email.promotional);
    assert_eq!(prefs.email.workspaces_off.len(), 2);
    let b = preferences::load(
        db,
        &orgs::find_user_by_email(db, "imp.b@contoso.test")
            .await
            .unwrap()
            .unwrap()
            .id,
    )
    .await
    .unwrap()
    .unwrap();
    assert!(
        !b.notification_email_verified,
        "unverified until the link is followed"
    );
    let (links_sent,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE purpose = 'verify'")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(links_sent, 1);

    let trail_before = app::audit::recent(db, &"contoso".into(), 100)
        .await
        .unwrap()
        .len();
    let again = import::import(db, &links, csv, Format::Csv, "operator")
        .await
        .unwrap();
    assert_eq!((again.applied, again.unchanged, again.rejected.len()), (0, 2, 3));
    assert_eq!(
        app::audit::recent(db, &"contoso".into(), 100)
            .await
            .unwrap()
            .len(),
        trail_before
    );
    let (links_sent,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE purpose = 'verify'")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(links_sent, 1, "running it twice sends nothing new");

    let json = r#"[
  {"email": "imp.b@contoso.test", "promotional_email": false},
  {"email": "imp.a@contoso.test", "workspaces_off": ["nowhere"]}
]"#;
    let report = import::import(db, &links, json, Format::Json, "operator")
        .await
        .unwrap();
    assert_eq!(report.applied, 1);
    assert_eq!(report.rejected.iter().map(|r| r.line).collect::<Vec<_>>(), [3]);
}

async fn without_a_relay_mail_is_written_as_eml_files(db: &Db) {
    user(db, "files@contoso.test", "nl", &["billing_admin"]).await;
    let dir = std::env::temp_dir().join(format!("ac-mail-{}", now_ms()));
    let dir = dir.join(format!("{}", db.backend() as u8));
    let transport = Transport::from_config(None, &dir).unwrap();
    let worker = Worker::new(db.clone(), links(db).await, transport, "ac@portal.example").unwrap();
    publish(db, "promotional", "referrals", "Summit").await;
    drain(&worker, now_ms()).await;
    drain(&worker, now_ms()).await;
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let eml = std::fs::read_to_string(&files[0]).unwrap();
    assert!(eml.contains("To: files@contoso.test"), "{eml}");
    assert!(eml.contains("Subject: Summit"), "{eml}");
    assert!(
        eml.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
        "{eml}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Milliseconds of a UTC time.
fn utc(s: &str) -> i64 {
    app::items::payload::parse_time(s).unwrap()
}

/// Amsterdam is UTC+1 in December: quiet 22:00–07:00 local is 21:00–06:00 UTC, and the digests
/// go at 07:00 UTC.
async fn digests_and_quiet_hours_follow_the_users_clock(db: &Db) {
    use app::preferences::{Cadence, EmailSchedule};
    let reader = user(db, "digest@contoso.test", "nl", &["billing_admin"]).await;
    user(db, "instant@contoso.test", "en", &["billing_admin"]).await;
    let sink = sink().await;
    let worker = worker(db, &sink).await;
    let saved_at = utc("2026-12-07T12:00:00Z");
    let schedule = EmailSchedule {
        time_zone: "Europe/Amsterdam".into(),
        quiet_from: Some(22),
        quiet_to: Some(7),
        transactional: Cadence::Daily,
        promotional: Cadence::Weekly,
    };
    preferences::save_schedule(db, &reader.id, "contoso", "test", &schedule, saved_at)
        .await
        .unwrap();
    assert_eq!(
        preferences::load_schedule(db, &reader.id).await.unwrap(),
        schedule
    );
    assert_eq!(
        app::email::digest::next_digest_at(db, &reader.id).await.unwrap(),
        Some(utc("2026-12-08T07:00:00Z"))
    );

    let night = utc("2026-12-07T22:30:00Z");
    let created = saved_at + 60 * 60 * 1000;
    let invoice = publish(db, "transactional", "billing", "Invoice ready").await;
    let seen = publish(db, "transactional", "billing", "Already read").await;
    let webinar = publish(db, "promotional", "billing", "Partner webinar").await;
    let terms = publish(db, "mandatory", "billing", "Sign the terms").await;
    let listing = publish(db, "recommended", "billing", "Update the listing").await;
    for id in [&invoice, &seen, &webinar] {
        sqlx::query("UPDATE items SET created_at = $1 WHERE id = $2")
            .bind(created)
            .bind(id)
            .execute(db.pool())
            .await
            .unwrap();
    }
    set_due(db, &listing, created, utc("2030-01-01T00:00:00Z")).await;
    // Due within 24 hours of the night's planning: it breaks the quiet.
    set_due(db, &terms, created, night + 12 * 60 * 60 * 1000).await;

    let to = |sink: &SmtpSink, who: &str| sink.messages().iter().filter(|m| m.to == [who]).count();
    drain(&worker, night).await;
    assert_eq!(
        to(&sink, "instant@contoso.test"),
        5,
        "no schedule: everything at once"
    );
    assert_eq!(
        to(&sink, "digest@contoso.test"),
        1,
        "only the urgent mandatory action"
    );
    let first: Vec<String> = sink
        .messages()
        .iter()
        .filter(|m| m.to == ["digest@contoso.test"])
        .map(|m| m.header("Subject").unwrap())
        .collect();
    assert!(first[0].contains("Sign the terms"), "{first:?}");
    // The recommended action waits for the end of the quiet hours, 07:00 local.
    drain(&worker, utc("2026-12-08T05:59:00Z")).await;
    assert_eq!(to(&sink, "digest@contoso.test"), 1);
    drain(&worker, utc("2026-12-08T06:00:00Z")).await;
    assert_eq!(to(&sink, "digest@contoso.test"), 2);

    // The daily digest at 08:00 local: the unread transactional notifications only.
    let r = items::Reader {
        user_id: reader.id.clone(),
        org_id: "contoso".into(),
        language: "nl".into(),
    };
    items::apply(db, &r, &seen, items::UserAction::Read)
        .await
        .unwrap();
    drain(&worker, utc("2026-12-08T06:59:00Z")).await;
    assert_eq!(to(&sink, "digest@contoso.test"), 2, "not before 08:00");
    let morning = utc("2026-12-08T07:00:00Z");
    drain(&worker, morning).await;
    drain(&worker, morning + 1000).await;
    assert_eq!(to(&sink, "digest@contoso.test"), 3, "one digest");
    let digests = || async {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT subject, body_text FROM outbox WHERE purpose = 'digest' ORDER BY id")
                .fetch_all(db.pool())
                .await
                .unwrap();
        rows
    };
    let daily = digests().await;
    assert_eq!(daily.len(), 1);
    let (subject, text) = &daily[0];
    assert_eq!(subject, "Uw dagelijkse overzicht: 1 nieuwe meldingen");
    assert!(
        text.contains("Invoice ready") && text.contains("/open/"),
        "{text}"
    );
    assert!(
        !text.contains("Already read") && !text.contains("Partner webinar"),
        "{text}"
    );
    assert_eq!(
        app::email::digest::next_digest_at(db, &reader.id).await.unwrap(),
        Some(utc("2026-12-09T07:00:00Z"))
    );

    // The weekly one on Monday: the promotional notification. The daily one has nothing new.
    drain(&worker, utc("2026-12-14T07:00:00Z")).await;
    let all = digests().await;
    assert_eq!(all.len(), 2, "{all:?}");
    assert!(all[1].0.starts_with("Uw wekelijkse overzicht: 1"), "{}", all[1].0);
    assert!(all[1].1.contains("Partner webinar"));
    // The weekly digest, and the mandatory action's overdue reminder (due on the 8th).
    assert_eq!(to(&sink, "digest@contoso.test"), 5);

    // Back to immediate: no digest planned any more.
    let immediate = EmailSchedule {
        time_zone: "Europe/Amsterdam".into(),
        ..Default::default()
    };
    preferences::save_schedule(
        db,
        &reader.id,
        "contoso",
        "test",
        &immediate,
        utc("2026-12-14T08:00:00Z"),
    )
    .await
    .unwrap();
    assert_eq!(
        app::email::digest::next_digest_at(db, &reader.id).await.unwrap(),
        None
    );
}
