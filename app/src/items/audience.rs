//! Who an item reaches: a user of the item's org who holds one of its roles or whom it names.
//! The one home of that rule, in SQL for the queries and in Rust for what is already read
//! (the counts' role keys and the live streams' shared copy of a published item); the
//! contract tests check that they agree.

use std::collections::BTreeSet;

use super::Reader;
use crate::db::{Db, DbError};

/// The separator of the roles in an audience key; role names are identifiers without it.
const SEPARATOR: &str = ",";

/// An item's target roles as one key: sorted, deduplicated, comma-separated ("" for none).
pub fn audience_key<'a, R: AsRef<str> + ?Sized + 'a>(roles: impl IntoIterator<Item = &'a R>) -> String {
    let mut roles: Vec<&str> = roles.into_iter().map(AsRef::as_ref).collect();
    roles.sort_unstable();
    roles.dedup();
    debug_assert!(roles.iter().all(|r| !r.contains(SEPARATOR)));
    roles.join(SEPARATOR)
}

/// Whether an item with this audience key reaches a holder of any of `roles`.
pub fn key_reaches(key: &str, roles: &[crate::orgs::Role]) -> bool {
    !key.is_empty() && key.split(SEPARATOR).any(|r| roles.iter().any(|h| h == r))
}

/// Whether an item with this audience key that names `named` reaches the user `user_id`,
/// a member of its org holding `roles`.
pub fn reaches(key: &str, named: &[String], user_id: &str, roles: &[crate::orgs::Role]) -> bool {
    key_reaches(key, roles) || named.iter().any(|u| u == user_id)
}

/// The condition "item `{item}` names user `{user}`".
pub fn names_sql(item: &str, user: &str) -> String {
    format!("EXISTS (SELECT 1 FROM item_audience_users au WHERE au.item_id = {item} AND au.user_id = {user})")
}

/// The ids of the users item `{item}` reaches (of any org: join `users` on the item's org).
pub fn recipient_ids_sql(item: &str) -> String {
    format!(
        "SELECT g.user_id FROM item_audience_roles ar JOIN role_grants g ON g.role = ar.role \
         WHERE ar.item_id = {item} UNION SELECT au.user_id FROM item_audience_users au WHERE au.item_id = {item}"
    )
}

/// The condition "item `{item}` reaches user `{user}`"; the caller checks that both are of
/// one org.
pub fn reaches_sql(item: &str, user: &str) -> String {
    format!("{user} IN ({})", recipient_ids_sql(item))
}

/// The org's role keys that share a role with `roles`.
pub(crate) async fn keys_reaching(
    db: &Db,
    reader: &Reader,
    roles: &[crate::orgs::Role],
) -> Result<Vec<String>, DbError> {
    let keys: Vec<(String,)> =
        sqlx::query_as("SELECT DISTINCT audience_roles FROM audience_counts WHERE org_id = $1")
            .bind(&reader.org_id)
            .fetch_all(db.pool())
            .await?;
    Ok(keys
        .into_iter()
        .map(|k| k.0)
        .filter(|k| key_reaches(k, roles))
        .collect())
}

/// The distinct user ids an item reaches right now (for email fan-out and tests).
pub async fn recipients(db: &Db, item_id: &str) -> Result<BTreeSet<String>, DbError> {
    let rows: Vec<(String,)> = sqlx::query_as(&format!(
        "SELECT u.id FROM items i JOIN users u ON u.org_id = i.org_id WHERE i.id = $1 AND u.id IN ({})",
        recipient_ids_sql("$1")
    ))
    .bind(item_id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_sorted_and_match_any_shared_role() {
        let roles = [
            "sales_agent".to_string(),
            "billing_admin".into(),
            "sales_agent".into(),
        ];
        assert_eq!(audience_key(&roles), "billing_admin,sales_agent");
        assert!(key_reaches("billing_admin,sales_agent", &["sales_agent".into()]));
        assert!(!key_reaches("billing_admin,sales_agent", &["sales".into()]));
        assert!(!key_reaches("", &["sales_agent".into()]));
        assert_eq!(audience_key(&[] as &[crate::orgs::Role]), "");
    }

    #[test]
    fn an_item_reaches_holders_of_its_roles_and_the_users_it_names() {
        let named = ["u2".to_string()];
        assert!(reaches("billing_admin", &named, "u1", &["billing_admin".into()]));
        assert!(reaches("billing_admin", &named, "u2", &[]));
        assert!(!reaches("billing_admin", &named, "u3", &["sales_agent".into()]));
        assert!(!reaches("", &[], "u1", &["billing_admin".into()]));
    }
}
