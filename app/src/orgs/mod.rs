//! Organisations (tenants), their users and the roles granted to them. The names that cross
//! modules (`OrgId`, `UserId`, `Role`) are shared with the browser; storage is the server's.

string_type!(
    /// An organisation's id (`contoso`): the tenant every row is scoped by.
    OrgId
);
string_type!(
    /// A user's id (a UUID).
    UserId
);
string_type!(
    /// A role of the catalog (`billing_admin`): what grants a user an item's audience.
    Role
);

#[cfg(feature = "ssr")]
mod store;
#[cfg(feature = "ssr")]
pub use store::*;

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// On the wire (server functions, the live stream, the API) an id is the plain string it
    /// was before it had a type of its own.
    #[test]
    fn ids_travel_as_plain_strings() {
        let id = UserId::from("0193-user");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"0193-user\"");
        assert_eq!(serde_json::from_str::<UserId>("\"0193-user\"").unwrap(), id);
        assert_eq!(id.to_string(), "0193-user");
    }

    #[test]
    fn sets_of_names_are_searched_with_a_str() {
        let roles: BTreeSet<Role> = ["billing_admin", "account_admin"].map(Role::from).into();
        assert!(roles.contains("billing_admin"));
        assert!(!roles.contains("sales_agent"));
        assert_eq!(Role::from("a"), "a");
    }
}
