//! Actions and notifications: their kinds and categories, and how they are stored.
//! (Delivery rules, the producer API and listing build on this.)

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Action,
    Notification,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Mandatory,
    Recommended,
    Transactional,
    Promotional,
}

impl Category {
    pub fn kind(self) -> Kind {
        match self {
            Category::Mandatory | Category::Recommended => Kind::Action,
            Category::Transactional | Category::Promotional => Kind::Notification,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Mandatory => "mandatory",
            Category::Recommended => "recommended",
            Category::Transactional => "transactional",
            Category::Promotional => "promotional",
        }
    }
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Action => "action",
            Kind::Notification => "notification",
        }
    }
}

/// Text in several languages, keyed by BCP 47 tag; English is the fallback.
pub type LocalizedText = BTreeMap<String, String>;

#[cfg(feature = "ssr")]
pub use storage::*;

#[cfg(feature = "ssr")]
mod storage {
    use super::*;
    use crate::db::{Db, DbError, now_ms};

    /// An item as a producer publishes it.
    pub struct NewItem<'a> {
        pub org_id: &'a str,
        pub category: Category,
        pub workspace: &'a str,
        pub audience_roles: &'a [&'a str],
        pub audience_users: &'a [&'a str],
        pub title: LocalizedText,
        pub body: LocalizedText,
        pub link: Option<&'a str>,
        pub due_at: Option<i64>,
    }

    /// Stores an item and its audience in one transaction; returns its id.
    pub async fn insert(db: &Db, item: NewItem<'_>) -> Result<String, DbError> {
        let id = uuid::Uuid::new_v4().to_string();
        let now = now_ms();
        let mut tx = db.pool().begin().await?;
        sqlx::query(
            "INSERT INTO items (id, org_id, kind, category, workspace, title, body, link, due_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
        )
        .bind(&id)
        .bind(item.org_id)
        .bind(item.category.kind().as_str())
        .bind(item.category.as_str())
        .bind(item.workspace)
        .bind(serde_json::to_string(&item.title).unwrap_or_default())
        .bind(serde_json::to_string(&item.body).unwrap_or_default())
        .bind(item.link)
        .bind(item.due_at)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        for role in item.audience_roles {
            sqlx::query("INSERT INTO item_audience_roles (item_id, role) VALUES ($1, $2)")
                .bind(&id)
                .bind(*role)
                .execute(&mut *tx)
                .await?;
        }
        for user in item.audience_users {
            sqlx::query("INSERT INTO item_audience_users (item_id, user_id) VALUES ($1, $2)")
                .bind(&id)
                .bind(*user)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Marks an item archived for one user.
    pub async fn archive_for(db: &Db, item_id: &str, user_id: &str) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO item_states (user_id, item_id, archived_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id, item_id) DO UPDATE SET archived_at = excluded.archived_at",
        )
        .bind(user_id)
        .bind(item_id)
        .bind(now_ms())
        .execute(db.pool())
        .await?;
        Ok(())
    }

    /// The number of open, non-archived actions that reach the user through a current role
    /// or by name: the bell badge of spec §2.
    pub async fn pending_action_count(db: &Db, user_id: &str) -> Result<i64, DbError> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM items i JOIN users u ON u.id = $1 AND u.org_id = i.org_id \
             WHERE i.kind = 'action' AND i.status = 'open' \
               AND (EXISTS (SELECT 1 FROM item_audience_roles ar JOIN role_grants g ON g.role = ar.role AND g.user_id = u.id WHERE ar.item_id = i.id) \
                 OR EXISTS (SELECT 1 FROM item_audience_users au WHERE au.item_id = i.id AND au.user_id = u.id)) \
               AND NOT EXISTS (SELECT 1 FROM item_states s WHERE s.item_id = i.id AND s.user_id = u.id AND s.archived_at IS NOT NULL)",
        )
        .bind(user_id)
        .fetch_one(db.pool())
        .await?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_belong_to_one_kind() {
        assert_eq!(Category::Mandatory.kind(), Kind::Action);
        assert_eq!(Category::Recommended.kind(), Kind::Action);
        assert_eq!(Category::Transactional.kind(), Kind::Notification);
        assert_eq!(Category::Promotional.kind(), Kind::Notification);
    }
}
