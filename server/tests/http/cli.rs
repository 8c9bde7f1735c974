//! The binary's start-up errors and its command line.

fn binary() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_action-center"))
}

#[test]
fn an_unreachable_database_stops_the_binary_with_one_line() {
    let out = binary()
        .args(["migrate"])
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: cannot open the database") && stderr.contains("DATABASE_URL"),
        "{stderr}"
    );
}

#[test]
fn an_unsupported_database_url_is_named() {
    let out = binary()
        .args(["migrate"])
        .env("DATABASE_URL", "")
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("DATABASE_URL must start with sqlite:// or postgres://"),
        "{stderr}"
    );
}

#[test]
fn the_cli_manages_orgs_users_roles_and_keys() {
    let dir = std::env::temp_dir().join(format!("ac-cli-{}", uuid::Uuid::new_v4().simple()));
    let url = format!("sqlite://{}/cli.db", dir.display());
    let run = |args: &[&str], stdin: &str| {
        use std::io::Write;
        let mut child = binary()
            .args(args)
            .env("DATABASE_URL", &url)
            .env("RUST_LOG", "off")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        (out.status.code(), text)
    };
    assert_eq!(run(&["migrate"], "").0, Some(0));
    assert_eq!(
        run(&["org", "create", "northwind", "--name", "Northwind"], "").0,
        Some(0)
    );
    let (code, out) = run(&["org", "create", "northwind", "--name", "Again"], "");
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("already exists"), "{out}");
    let (code, out) = run(
        &[
            "user",
            "create",
            "--org",
            "northwind",
            "--email",
            "ann@northwind.test",
            "--name",
            "Ann",
            "--password-stdin",
            "--role",
            "billing_admin",
        ],
        "a long password\n",
    );
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = run(
        &[
            "role",
            "grant",
            "--email",
            "ann@northwind.test",
            "--role",
            "account_admin",
        ],
        "",
    );
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = run(
        &["role", "grant", "--email", "ann@northwind.test", "--role", "king"],
        "",
    );
    assert_eq!(code, Some(2));
    assert!(out.contains("unknown role"), "{out}");
    let (code, out) = run(
        &[
            "role",
            "revoke",
            "--email",
            "ann@northwind.test",
            "--role",
            "billing_admin",
        ],
        "",
    );
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = run(
        &[
            "api-key",
            "create",
            "--name",
            "billing system",
            "--org",
            "northwind",
        ],
        "",
    );
    assert_eq!(code, Some(0), "{out}");
    let secret = out.lines().last().unwrap().trim().to_string();
    assert!(secret.starts_with("ack_"), "{out}");

    // The legacy preferences import: bad rows by line, the rest applied, idempotent.
    let export = dir.join("legacy.csv");
    std::fs::write(
        &export,
        "email,job_function,email_language,promotional_email\n\
         ann@northwind.test,Controller,nl,no\n\
         ghost@northwind.test,,en,\n\
         ann@northwind.test,,en,perhaps\n",
    )
    .unwrap();
    let file = export.to_str().unwrap();
    let (code, out) = run(&["preferences", "import", file], "");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("1 applied, 0 unchanged, 2 rejected"), "{out}");
    assert!(
        out.contains(&format!(
            "{file}:3: skipped: no user with email ghost@northwind.test"
        )),
        "{out}"
    );
    assert!(out.contains(&format!("{file}:4: skipped:")), "{out}");
    let (_, out) = run(&["preferences", "import", file], "");
    assert!(out.contains("0 applied, 1 unchanged, 2 rejected"), "{out}");
    let (code, out) = run(&["preferences", "import", "/no/such/file.csv"], "");
    assert_eq!(code, Some(2));
    assert!(out.contains("cannot read /no/such/file.csv"), "{out}");
    let (code, out) = run(&["outbox", "status"], "");
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("pending") && out.contains("sent"), "{out}");

    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let db = app::db::Db::connect(&url).await.unwrap();
        let ann = app::orgs::find_user_by_email(&db, "ann@northwind.test")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            app::orgs::roles_of(&db, &ann.id).await.unwrap(),
            vec!["account_admin"]
        );
        assert!(
            app::auth::session::authenticate(&db, "ann@northwind.test", "a long password")
                .await
                .is_ok()
        );
        let key = app::api_keys::authenticate(&db, &secret, false)
            .await
            .unwrap()
            .unwrap();
        assert!(key.may_act_on("northwind") && !key.may_act_on("contoso"));
        db.close().await;
    });
    let _ = std::fs::remove_dir_all(dir);
}
