//! The operator's command line: serve, migrate, seed the demo, manage orgs, users, roles and API keys.

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;

use app::api_keys::{self, Scope};
use app::auth::password;
use app::db::{DEFAULT_DATABASE_URL, Db, DbError};
use app::demo::{self, DemoError};
use app::orgs::{self, NewUser, OrgError};
use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "action-center",
    version,
    about = "Action Center: the partner portal's communication hub"
)]
pub struct Cli {
    /// Where the data lives: `sqlite://path/to/file.db` (the default) or `postgres://…`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,

    /// Pooled database connections (default: 8 on SQLite; on PostgreSQL two per core, at
    /// least 4).
    #[arg(long, env = "DATABASE_POOL_SIZE", global = true, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub database_pool_size: Option<u32>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Migrate the database, then serve the app (the default).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Seed the demo (spec §7) into an empty database.
    Demo,
    /// Manage organisations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Grant or revoke roles.
    #[command(subcommand)]
    Role(RoleCommand),
    /// Manage producer API keys.
    #[command(subcommand, name = "api-key")]
    ApiKey(ApiKeyCommand),
    /// Import users' preferences.
    #[command(subcommand)]
    Preferences(PreferencesCommand),
    /// Inspect the email outbox.
    #[command(subcommand)]
    Outbox(OutboxCommand),
}

#[derive(Subcommand, Debug)]
pub enum PreferencesCommand {
    /// Import preferences from a legacy export (CSV with a header row, or a JSON array).
    /// Bad rows are reported by line and skipped; running it again changes nothing.
    Import {
        file: PathBuf,
        /// The URL users reach the app at, for the links in verification email.
        #[arg(long, env = "PUBLIC_URL", default_value = "http://127.0.0.1:3000")]
        public_url: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum OutboxCommand {
    /// Count outbox rows by status (pending, sent, failed, skipped).
    Status,
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// The address to listen on.
    #[arg(long, env = "LISTEN_ADDR", default_value = "127.0.0.1:3000")]
    pub listen_addr: SocketAddr,
    /// The URL users reach the app at (links in email; `https://` marks cookies Secure).
    #[arg(long, env = "PUBLIC_URL")]
    pub public_url: Option<String>,
    /// SMTP relay for outgoing email, e.g. `smtp://relay:25` or `smtps://user:pass@relay:465`.
    #[arg(long, env = "SMTP_URL")]
    pub smtp_url: Option<String>,
    /// Folder for `.eml` files when no SMTP relay is configured.
    #[arg(long, env = "MAIL_DIR", default_value = "data/mail")]
    pub mail_dir: PathBuf,
    /// The sender of outgoing email.
    #[arg(
        long,
        env = "MAIL_FROM",
        default_value = "Action Center <action-center@localhost>"
    )]
    pub mail_from: String,
    /// Do not run the email worker in this instance (another instance or process drains the outbox).
    #[arg(long, env = "NO_EMAIL_WORKER")]
    pub no_email_worker: bool,
    /// The built site (the wasm bundle, CSS and public assets).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,
    /// Run in demo mode, seeding the demo first if the database is empty.
    #[arg(long)]
    pub demo: bool,
}

impl Default for ServeArgs {
    /// The flags' defaults and environment, for `action-center` run without a command.
    fn default() -> Self {
        #[derive(Parser)]
        struct Defaults {
            #[command(flatten)]
            args: ServeArgs,
        }
        Defaults::parse_from(["serve"]).args
    }
}

#[derive(Subcommand, Debug)]
pub enum OrgCommand {
    /// Create an organisation.
    Create {
        /// Short slug id, e.g. `contoso`.
        id: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user in an organisation.
    Create {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Read the password from standard input; otherwise one is generated and printed once.
        #[arg(long)]
        password_stdin: bool,
        /// Roles to grant right away (repeatable).
        #[arg(long = "role")]
        roles: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum RoleCommand {
    /// Grant a role to a user.
    Grant {
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: String,
    },
    /// Revoke a role from a user.
    Revoke {
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum ApiKeyCommand {
    /// Create an API key; its secret is printed once and stored only as a hash.
    Create {
        #[arg(long)]
        name: String,
        /// Scope the key to this organisation.
        #[arg(long, conflicts_with = "platform", required_unless_present = "platform")]
        org: Option<String>,
        /// A platform key, valid for every organisation.
        #[arg(long)]
        platform: bool,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Org(#[from] OrgError),
    #[error(transparent)]
    Demo(#[from] DemoError),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Email(#[from] app::email::EmailError),
    #[error(transparent)]
    Import(#[from] app::preferences::import::ImportError),
}

/// The actor recorded in the audit trail for operator commands.
const OPERATOR: &str = "operator (cli)";

pub async fn run(cli: Cli) -> Result<(), CliError> {
    let db = Db::connect_with(&cli.database_url, cli.database_pool_size).await?;
    db.migrate().await?;
    let result = match cli.command.unwrap_or(Command::Serve(ServeArgs::default())) {
        Command::Serve(args) => crate::web::serve(db.clone(), &cli.database_url, args).await,
        Command::Migrate => {
            println!("The database is up to date.");
            Ok(())
        }
        Command::Demo => {
            demo::seed(&db).await?;
            println!(
                "Demo seeded: sign in as admin@contoso.test with password {}",
                demo::DEMO_PASSWORD
            );
            Ok(())
        }
        Command::Org(OrgCommand::Create { id, name }) => {
            let org = orgs::create_org(&db, &id, &name).await?;
            println!("Created organisation {} ({})", org.id, org.name);
            Ok(())
        }
        Command::User(UserCommand::Create {
            org,
            email,
            name,
            password_stdin,
            roles,
        }) => create_user(&db, &org, &email, &name, password_stdin, &roles).await,
        Command::Role(RoleCommand::Grant { email, role }) => {
            let user = user_by_email(&db, &email).await?;
            let changed = orgs::grant_role(&db, &user, &orgs::Role::from(role.as_str()), OPERATOR).await?;
            println!(
                "{}",
                if changed {
                    format!("Granted {role} to {}", user.email)
                } else {
                    format!("{} already has {role}", user.email)
                }
            );
            Ok(())
        }
        Command::Role(RoleCommand::Revoke { email, role }) => {
            let user = user_by_email(&db, &email).await?;
            let changed = orgs::revoke_role(&db, &user, &orgs::Role::from(role.as_str()), OPERATOR).await?;
            println!(
                "{}",
                if changed {
                    format!("Revoked {role} from {}", user.email)
                } else {
                    format!("{} does not have {role}", user.email)
                }
            );
            Ok(())
        }
        Command::ApiKey(ApiKeyCommand::Create { name, org, platform }) => {
            let scope = match (org, platform) {
                (Some(org), false) => Scope::Org(org.into()),
                (None, true) => Scope::Platform,
                _ => return Err(CliError::Usage("give either --org ORG or --platform".into())),
            };
            let (key, secret) = api_keys::create(&db, &name, scope).await?;
            println!(
                "Created API key {} ({}). Its secret, shown only now:\n{secret}",
                key.name, key.id
            );
            Ok(())
        }
        Command::Preferences(PreferencesCommand::Import { file, public_url }) => {
            import_preferences(&db, &file, &public_url).await
        }
        Command::Outbox(OutboxCommand::Status) => {
            let counts = app::email::outbox::counts(&db).await?;
            for status in ["pending", "sent", "failed", "skipped"] {
                println!("{status:8} {}", counts.get(status).copied().unwrap_or(0));
            }
            Ok(())
        }
    };
    db.close().await;
    result
}

async fn import_preferences(db: &Db, file: &std::path::Path, public_url: &str) -> Result<(), CliError> {
    use app::preferences::import::{self, Format};
    let content = std::fs::read_to_string(file)
        .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", file.display())))?;
    let format = Format::detect(&file.to_string_lossy(), &content);
    let links = app::email::Links::new(public_url, app::email::SigningKey::load_or_create(db).await?);
    let report = import::import(db, &links, &content, format, "operator (preferences import)").await?;
    for rejected in &report.rejected {
        eprintln!(
            "{}:{}: skipped: {}",
            file.display(),
            rejected.line,
            rejected.reason
        );
    }
    println!(
        "Imported {}: {} applied, {} unchanged, {} rejected",
        file.display(),
        report.applied,
        report.unchanged,
        report.rejected.len()
    );
    Ok(())
}

async fn user_by_email(db: &Db, email: &str) -> Result<orgs::User, CliError> {
    orgs::find_user_by_email(db, email)
        .await?
        .ok_or_else(|| CliError::Usage(format!("no user with email {email:?}")))
}

async fn create_user(
    db: &Db,
    org: &str,
    email: &str,
    name: &str,
    password_stdin: bool,
    roles: &[String],
) -> Result<(), CliError> {
    let (password, generated) = if password_stdin {
        let mut input = String::new();
        std::io::stdin().read_to_string(&mut input)?;
        (input.trim_end_matches(['\r', '\n']).to_string(), false)
    } else {
        (app::auth::session::new_token().0[..20].to_string(), true)
    };
    if !(8..=1024).contains(&password.chars().count()) {
        return Err(OrgError::Input(orgs::InputError::Password).into());
    }
    let user = orgs::create_user(
        db,
        NewUser {
            org_id: &orgs::OrgId::from(org),
            email,
            display_name: name,
            password_hash: Some(&password::hash(&password)),
            setup_completed: false,
        },
    )
    .await?;
    for role in roles {
        orgs::grant_role(db, &user, &orgs::Role::from(role.as_str()), OPERATOR).await?;
    }
    println!("Created user {} in {}", user.email, user.org_id);
    if generated {
        println!("Password, shown only now: {password}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_is_the_default_and_reads_its_flags() {
        let cli = Cli::try_parse_from(["action-center"]).unwrap();
        assert!(cli.command.is_none());
        let cli = Cli::try_parse_from([
            "action-center",
            "serve",
            "--demo",
            "--listen-addr",
            "127.0.0.1:4000",
        ])
        .unwrap();
        match cli.command {
            Some(Command::Serve(args)) => {
                assert!(args.demo);
                assert_eq!(args.listen_addr.port(), 4000);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn the_pool_size_is_a_positive_number() {
        let cli = Cli::try_parse_from(["action-center", "--database-pool-size", "6", "serve"]).unwrap();
        assert_eq!(cli.database_pool_size, Some(6));
        assert_eq!(
            Cli::try_parse_from(["action-center"]).unwrap().database_pool_size,
            None
        );
        for bad in ["0", "-1", "many"] {
            assert!(Cli::try_parse_from(["action-center", "--database-pool-size", bad]).is_err());
        }
    }

    #[test]
    fn an_api_key_needs_exactly_one_scope() {
        assert!(Cli::try_parse_from(["action-center", "api-key", "create", "--name", "k"]).is_err());
        assert!(
            Cli::try_parse_from([
                "action-center",
                "api-key",
                "create",
                "--name",
                "k",
                "--org",
                "a",
                "--platform"
            ])
            .is_err()
        );
        assert!(
            Cli::try_parse_from(["action-center", "api-key", "create", "--name", "k", "--platform"]).is_ok()
        );
    }
}
