//! Storage of organisations, users and role grants.
//!
//! Everything here is scoped by organisation: a lookup never returns a row of another org.

use serde::{Deserialize, Serialize};

use super::{OrgId, Role, UserId};
use crate::db::{Db, DbError, now_ms};
use crate::items::Workspace;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    pub id: OrgId,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub org_id: OrgId,
    pub email: String,
    pub display_name: String,
    pub setup_completed: bool,
}

/// Why an org id, email or role was refused before it reached storage.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InputError {
    #[error("an org id is 2 to 40 characters of a-z, 0-9 and '-', starting with a letter (got {0:?})")]
    OrgId(String),
    #[error("an organisation name is 1 to 200 characters")]
    OrgName,
    #[error("{0:?} is not an email address")]
    Email(String),
    #[error("a display name is 1 to 200 characters")]
    DisplayName,
    #[error("a password is 8 to 1024 characters")]
    Password,
    #[error("unknown role {0:?}")]
    UnknownRole(String),
    #[error("unknown workspace {0:?}")]
    UnknownWorkspace(String),
    #[error("An organisation needs at least one account admin: grant account_admin to someone else first.")]
    LastAdmin,
}

impl From<InputError> for crate::error::Refusal {
    fn from(err: InputError) -> Self {
        use crate::error::Refusal;
        match err {
            InputError::Email(_) => Refusal::EmailInvalid,
            InputError::DisplayName => Refusal::DisplayName,
            InputError::UnknownRole(name) => Refusal::UnknownRole { name },
            InputError::UnknownWorkspace(name) => Refusal::UnknownWorkspace { name },
            InputError::LastAdmin => Refusal::LastAdmin,
            // Set by operators on the command line, never by a form of the UI.
            other @ (InputError::OrgId(_) | InputError::OrgName | InputError::Password) => {
                Refusal::NotUnderstood {
                    detail: other.to_string(),
                }
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OrgError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Db(#[from] DbError),
}

pub fn validate_org_id(id: &str) -> Result<(), InputError> {
    let ok = (2..=40).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(InputError::OrgId(id.to_string()))
    }
}

/// Normalises an email address for storage and lookup (trimmed, lower-case) and checks its shape.
pub fn normalize_email(email: &str) -> Result<String, InputError> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && local.len() <= 64
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains("..")
                    && !email.contains(char::is_whitespace)
                    && !domain.contains('@')
            }
            None => false,
        };
    if valid {
        Ok(email)
    } else {
        Err(InputError::Email(email))
    }
}

pub async fn create_org(db: &Db, id: &str, name: &str) -> Result<Organisation, OrgError> {
    validate_org_id(id)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(InputError::OrgName.into());
    }
    sqlx::query("INSERT INTO organisations (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(name)
        .bind(now_ms())
        .execute(db.pool())
        .await
        .map_err(|e| match DbError::from(e) {
            DbError::Duplicate(_) => DbError::Duplicate(format!("organisation {id:?}")),
            other => other,
        })?;
    Ok(Organisation {
        id: OrgId::from(id),
        name: name.to_string(),
    })
}

pub async fn find_org(db: &Db, id: &OrgId) -> Result<Option<Organisation>, DbError> {
    let row: Option<(OrgId, String)> = sqlx::query_as("SELECT id, name FROM organisations WHERE id = $1")
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(|(id, name)| Organisation { id, name }))
}

/// A new user; `password_hash` is an argon2 PHC string (see `auth::password`).
pub struct NewUser<'a> {
    pub org_id: &'a OrgId,
    pub email: &'a str,
    pub display_name: &'a str,
    pub password_hash: Option<&'a str>,
    pub setup_completed: bool,
}

pub async fn create_user(db: &Db, new: NewUser<'_>) -> Result<User, OrgError> {
    let email = normalize_email(new.email)?;
    let display_name = new.display_name.trim();
    if display_name.is_empty() || display_name.chars().count() > 200 {
        return Err(InputError::DisplayName.into());
    }
    if find_org(db, new.org_id).await?.is_none() {
        return Err(DbError::NotFound(format!("organisation {:?}", new.org_id)).into());
    }
    let id = UserId::from(uuid::Uuid::new_v4().to_string());
    let now = now_ms();
    let mut tx = db.begin_write().await.map_err(DbError::from)?;
    sqlx::query(
        "INSERT INTO users (id, org_id, email, display_name, password_hash, created_at, setup_completed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(new.org_id)
    .bind(&email)
    .bind(display_name)
    .bind(new.password_hash)
    .bind(now)
    .bind(new.setup_completed.then_some(now))
    .execute(&mut *tx)
    .await
    .map_err(|e| match DbError::from(e) {
        DbError::Duplicate(_) => DbError::Duplicate(format!("user {email:?}")),
        other => other,
    })?;
    // New users are opted in to all email (spec §3): the defaults of the preferences row.
    sqlx::query("INSERT INTO preferences (user_id, updated_at) VALUES ($1, $2)")
        .bind(&id)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(DbError::from)?;
    // Then the organisation's defaults for new users, if its admins set any.
    crate::preferences::org_defaults::apply_to_new_user(&mut tx, new.org_id, &id, now).await?;
    tx.commit().await.map_err(DbError::from)?;
    Ok(User {
        id,
        org_id: new.org_id.clone(),
        email,
        display_name: display_name.to_string(),
        setup_completed: new.setup_completed,
    })
}

type UserRow = (UserId, OrgId, String, String, Option<i64>);

fn user_of(row: UserRow) -> User {
    let (id, org_id, email, display_name, setup) = row;
    User {
        id,
        org_id,
        email,
        display_name,
        setup_completed: setup.is_some(),
    }
}

const USER_COLUMNS: &str = "id, org_id, email, display_name, setup_completed_at";

pub async fn find_user_by_email(db: &Db, email: &str) -> Result<Option<User>, DbError> {
    let Ok(email) = normalize_email(email) else {
        return Ok(None);
    };
    let row: Option<UserRow> = sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1"))
        .bind(email)
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(user_of))
}

pub async fn find_user(db: &Db, id: &UserId) -> Result<Option<User>, DbError> {
    let row: Option<UserRow> = sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(user_of))
}

/// The user's password hash, if they have one, for sign-in.
pub async fn password_hash_of(db: &Db, user_id: &UserId) -> Result<Option<String>, DbError> {
    let row: Option<(Option<String>,)> = sqlx::query_as("SELECT password_hash FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(db.pool())
        .await?;
    Ok(row.and_then(|r| r.0))
}

pub async fn users_of_org(db: &Db, org_id: &OrgId) -> Result<Vec<User>, DbError> {
    let rows: Vec<UserRow> = sqlx::query_as(&format!(
        "SELECT {USER_COLUMNS} FROM users WHERE org_id = $1 ORDER BY email"
    ))
    .bind(org_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(user_of).collect())
}

pub async fn role_catalog(db: &Db) -> Result<Vec<Role>, DbError> {
    let rows: Vec<(Role,)> = sqlx::query_as("SELECT name FROM roles ORDER BY name")
        .fetch_all(db.pool())
        .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

pub async fn workspace_catalog(db: &Db) -> Result<Vec<Workspace>, DbError> {
    let rows: Vec<(Workspace,)> = sqlx::query_as("SELECT name FROM workspaces ORDER BY name")
        .fetch_all(db.pool())
        .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

pub async fn roles_of(db: &Db, user_id: &UserId) -> Result<Vec<Role>, DbError> {
    let rows: Vec<(Role,)> = sqlx::query_as("SELECT role FROM role_grants WHERE user_id = $1 ORDER BY role")
        .bind(user_id)
        .fetch_all(db.pool())
        .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

async fn ensure_role(db: &Db, role: &str) -> Result<(), OrgError> {
    if role_catalog(db).await?.iter().any(|r| r == role) {
        Ok(())
    } else {
        Err(InputError::UnknownRole(role.to_string()).into())
    }
}

/// Grants a role; granting one the user already has changes nothing. Returns whether it changed.
pub async fn grant_role(db: &Db, user: &User, role: &Role, granted_by: &str) -> Result<bool, OrgError> {
    change_role(db, user, role, granted_by, true).await
}

/// Revokes a role; revoking one the user does not have changes nothing. Returns whether it changed.
pub async fn revoke_role(db: &Db, user: &User, role: &Role, revoked_by: &str) -> Result<bool, OrgError> {
    change_role(db, user, role, revoked_by, false).await
}

/// One grant or revoke, with its audit entry and live event in the same transaction: the
/// user's lists, bell and badge follow their current roles (spec §2).
async fn change_role(db: &Db, user: &User, role: &Role, actor: &str, grant: bool) -> Result<bool, OrgError> {
    ensure_role(db, role).await?;
    let mut tx = db.begin_write().await.map_err(DbError::from)?;
    if !grant && role == crate::admin::ADMIN_ROLE {
        // Serialise admin changes per organisation (SQLite: BEGIN IMMEDIATE already does),
        // so two admins revoking each other cannot both succeed.
        sqlx::query(&format!(
            "SELECT id FROM organisations WHERE id = $1{}",
            db.backend().for_update()
        ))
        .bind(&user.org_id)
        .execute(&mut *tx)
        .await
        .map_err(DbError::from)?;
        let (others,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM role_grants g JOIN users u ON u.id = g.user_id \
             WHERE u.org_id = $1 AND g.role = $2 AND g.user_id <> $3",
        )
        .bind(&user.org_id)
        .bind(role)
        .bind(&user.id)
        .fetch_one(&mut *tx)
        .await
        .map_err(DbError::from)?;
        let holds: Option<(String,)> =
            sqlx::query_as("SELECT role FROM role_grants WHERE user_id = $1 AND role = $2")
                .bind(&user.id)
                .bind(role)
                .fetch_optional(&mut *tx)
                .await
                .map_err(DbError::from)?;
        if others == 0 && holds.is_some() {
            return Err(InputError::LastAdmin.into());
        }
    }
    let done = if grant {
        sqlx::query(
            "INSERT INTO role_grants (user_id, role, granted_by, granted_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id, role) DO NOTHING",
        )
        .bind(&user.id)
        .bind(role)
        .bind(actor)
        .bind(now_ms())
        .execute(&mut *tx)
        .await
    } else {
        sqlx::query("DELETE FROM role_grants WHERE user_id = $1 AND role = $2")
            .bind(&user.id)
            .bind(role)
            .execute(&mut *tx)
            .await
    }
    .map_err(DbError::from)?;
    let changed = done.rows_affected() == 1;
    if changed {
        let (action, direction) = if grant {
            ("role.grant", "grant")
        } else {
            ("role.revoke", "revoke")
        };
        let detail = serde_json::json!({ "role": role });
        crate::audit::record_in(
            &mut tx,
            Some(&user.org_id),
            actor,
            action,
            Some(&user.email),
            &detail,
        )
        .await?;
        let subject = format!("{direction}:{role}");
        let kind = crate::live::LogKind::RolesChanged;
        crate::live::append(&mut tx, db, &user.org_id, Some(&user.id), kind, &subject).await?;
    }
    tx.commit().await.map_err(DbError::from)?;
    if changed {
        db.announce_change(&user.org_id);
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_ids_are_short_slugs() {
        assert!(validate_org_id("contoso").is_ok());
        assert!(validate_org_id("fabrikam-eu2").is_ok());
        assert!(validate_org_id("C").is_err());
        assert!(validate_org_id("9lives").is_err());
        assert!(validate_org_id("has space").is_err());
        assert!(validate_org_id(&"a".repeat(41)).is_err());
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            normalize_email("  Admin@Contoso.TEST ").unwrap(),
            "admin@contoso.test"
        );
        for bad in [
            "",
            "admin",
            "admin@",
            "@contoso.test",
            "a@b",
            "a@.b.c",
            "a b@c.d",
            "a@b..c",
            "a@b@c.d",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad:?} should be refused");
        }
    }
}
