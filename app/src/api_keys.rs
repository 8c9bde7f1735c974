//! Producer API keys: created by the operator, shown once, stored as a SHA-256 hash,
//! scoped to one organisation or to all of them (a platform key).

use rand::RngCore;
use serde::{Deserialize, Serialize};

// Keys are stored like session tokens: only their SHA-256.
use crate::auth::session::token_hash as hash;
use crate::db::{Db, DbError, now_ms};

/// The demo platform key of spec §7; it is accepted only while the server runs in demo mode.
pub const DEMO_PLATFORM_KEY: &str = "demo-platform-key";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    Org(String),
    Platform,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub scope: Scope,
}

impl ApiKey {
    /// Whether this key may act on the given organisation.
    pub fn may_act_on(&self, org_id: &str) -> bool {
        match &self.scope {
            Scope::Platform => true,
            Scope::Org(own) => own == org_id,
        }
    }
}

/// Creates a key and returns it with its secret, which is not stored and cannot be shown again.
pub async fn create(db: &Db, name: &str, scope: Scope) -> Result<(ApiKey, String), DbError> {
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = format!("ack_{}", hex::encode(bytes));
    let key = insert(db, name, scope, &secret, false).await?;
    Ok((key, secret))
}

/// Stores the demo platform key (demo seeding only).
pub async fn create_demo_key(db: &Db) -> Result<ApiKey, DbError> {
    insert(db, "demo platform key", Scope::Platform, DEMO_PLATFORM_KEY, true).await
}

async fn insert(db: &Db, name: &str, scope: Scope, secret: &str, demo_only: bool) -> Result<ApiKey, DbError> {
    if let Scope::Org(org) = &scope
        && crate::orgs::find_org(db, org).await?.is_none()
    {
        return Err(DbError::NotFound(format!("organisation {org:?}")));
    }
    let id = uuid::Uuid::new_v4().to_string();
    let org_id = match &scope {
        Scope::Org(org) => Some(org.clone()),
        Scope::Platform => None,
    };
    sqlx::query(
        "INSERT INTO api_keys (id, name, org_id, key_hash, demo_only, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(name)
    .bind(org_id)
    .bind(hash(secret))
    .bind(i64::from(demo_only))
    .bind(now_ms())
    .execute(db.pool())
    .await?;
    Ok(ApiKey {
        id,
        name: name.to_string(),
        scope,
    })
}

/// The live key matching a presented secret. Demo-only keys count only in demo mode.
pub async fn authenticate(db: &Db, secret: &str, demo_mode: bool) -> Result<Option<ApiKey>, DbError> {
    let row: Option<(String, String, Option<String>, i64)> = sqlx::query_as(
        "SELECT id, name, org_id, demo_only FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
    )
    .bind(hash(secret))
    .fetch_optional(db.pool())
    .await?;
    Ok(row.and_then(|(id, name, org_id, demo_only)| {
        (demo_only == 0 || demo_mode).then(|| ApiKey {
            id,
            name,
            scope: org_id.map(Scope::Org).unwrap_or(Scope::Platform),
        })
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn org_keys_act_only_on_their_org() {
        let org = ApiKey {
            id: "1".into(),
            name: "k".into(),
            scope: Scope::Org("contoso".into()),
        };
        assert!(org.may_act_on("contoso"));
        assert!(!org.may_act_on("fabrikam"));
        let platform = ApiKey {
            scope: Scope::Platform,
            ..org
        };
        assert!(platform.may_act_on("fabrikam"));
    }
}
