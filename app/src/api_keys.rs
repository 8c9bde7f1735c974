//! Producer API keys: created by the operator, shown once, stored as a SHA-256 hash,
//! scoped to one organisation or to all of them (a platform key).

use std::time::{Duration, Instant};

use rand::RngCore;
use serde::{Deserialize, Serialize};

// Keys are stored like session tokens: only their SHA-256.
use crate::auth::session::token_hash as hash;
use crate::db::{Db, DbError, now_ms};

/// The demo platform key of spec §7; it is accepted only while the server runs in demo mode.
pub const DEMO_PLATFORM_KEY: &str = "demo-platform-key";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Scope {
    Org(crate::orgs::OrgId),
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
    .bind(demo_only)
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
    Ok(lookup(db, &hash(secret))
        .await?
        .and_then(|found| found.usable(demo_mode)))
}

/// A stored, unrevoked key and whether it is the demo key.
#[derive(Debug, Clone)]
struct Found {
    key: ApiKey,
    demo_only: bool,
}

impl Found {
    fn usable(self, demo_mode: bool) -> Option<ApiKey> {
        (!self.demo_only || demo_mode).then_some(self.key)
    }
}

async fn lookup(db: &Db, key_hash: &str) -> Result<Option<Found>, DbError> {
    use sqlx::Row;
    let row = sqlx::query(
        "SELECT id, name, org_id, demo_only FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
    )
    .bind(key_hash)
    .fetch_optional(db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let org_id: Option<crate::orgs::OrgId> = row.try_get("org_id")?;
    Ok(Some(Found {
        key: ApiKey {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            scope: org_id.map(Scope::Org).unwrap_or(Scope::Platform),
        },
        demo_only: crate::db::dialect::flag(&row, "demo_only")?,
    }))
}

/// How long an instance trusts a key it found before looking it up again: a key revoked in the
/// database (`revoked_at`) stops working on every instance within this time.
pub const TRUSTED_FOR: Duration = Duration::from_secs(10);
/// Keys remembered at most; past it the least used are forgotten.
const TRUSTED_CAPACITY: usize = 10_000;

/// The keys this instance found recently, by the hash of their secret, so a producer's burst of
/// requests costs one lookup every `TRUSTED_FOR` rather than one per request. Secrets that match
/// no key are not remembered: each costs a lookup (and counts against nothing here).
pub struct TrustedKeys {
    found: quick_cache::sync::Cache<String, (Found, Instant)>,
    trusted_for: Duration,
}

impl std::fmt::Debug for TrustedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustedKeys")
            .field("remembered", &self.found.len())
            .field("trusted_for", &self.trusted_for)
            .finish()
    }
}

impl Default for TrustedKeys {
    fn default() -> Self {
        TrustedKeys::new(TRUSTED_FOR)
    }
}

impl TrustedKeys {
    pub fn new(trusted_for: Duration) -> TrustedKeys {
        TrustedKeys {
            found: quick_cache::sync::Cache::new(TRUSTED_CAPACITY),
            trusted_for,
        }
    }

    /// As `authenticate`, answered from memory when the key was found less than the trust
    /// period ago.
    pub async fn authenticate(
        &self,
        db: &Db,
        secret: &str,
        demo_mode: bool,
    ) -> Result<Option<ApiKey>, DbError> {
        let key_hash = hash(secret);
        let remembered = self
            .found
            .get(&key_hash)
            .filter(|(_, at)| at.elapsed() < self.trusted_for)
            .map(|(f, _)| f);
        if let Some(found) = remembered {
            return Ok(found.usable(demo_mode));
        }
        let Some(found) = lookup(db, &key_hash).await? else {
            return Ok(None);
        };
        self.found.insert(key_hash, (found.clone(), Instant::now()));
        Ok(found.usable(demo_mode))
    }
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

    async fn revoke(db: &Db, key: &ApiKey) {
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2")
            .bind(now_ms())
            .bind(&key.id)
            .execute(db.pool())
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_trusted_key_is_looked_up_again_after_its_trust_period() {
        let scratch = crate::db::scratch::ScratchDb::new(crate::db::Backend::Sqlite).await;
        let db = &scratch.db;
        let (key, secret) = create(db, "producer", Scope::Platform).await.unwrap();
        let long = TrustedKeys::new(Duration::from_secs(3600));
        let none = TrustedKeys::new(Duration::ZERO);
        assert_eq!(
            long.authenticate(db, &secret, false).await.unwrap(),
            Some(key.clone())
        );
        assert_eq!(
            none.authenticate(db, &secret, false).await.unwrap(),
            Some(key.clone())
        );
        revoke(db, &key).await;
        // Within its trust period an instance still accepts the key; after it, not.
        assert_eq!(long.authenticate(db, &secret, false).await.unwrap(), Some(key));
        assert_eq!(none.authenticate(db, &secret, false).await.unwrap(), None);
        assert_eq!(authenticate(db, &secret, false).await.unwrap(), None);
    }

    #[tokio::test]
    async fn unknown_secrets_are_not_remembered_and_demo_keys_need_demo_mode() {
        let scratch = crate::db::scratch::ScratchDb::new(crate::db::Backend::Sqlite).await;
        let db = &scratch.db;
        let trusted = TrustedKeys::default();
        assert_eq!(
            trusted.authenticate(db, DEMO_PLATFORM_KEY, true).await.unwrap(),
            None
        );
        let demo = create_demo_key(db).await.unwrap();
        // The miss above was not remembered: the key works as soon as it exists.
        assert_eq!(
            trusted.authenticate(db, DEMO_PLATFORM_KEY, true).await.unwrap(),
            Some(demo)
        );
        // Remembered, but still only in demo mode.
        assert_eq!(
            trusted.authenticate(db, DEMO_PLATFORM_KEY, false).await.unwrap(),
            None
        );
        assert_eq!(trusted.authenticate(db, "ack_wrong", true).await.unwrap(), None);
    }
}
