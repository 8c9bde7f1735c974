//! Any bytes as a producer's JSON body: validation never panics, and what it accepts keeps
//! the contract (spec §6).
#![no_main]

use app::items::payload::{Catalog, ItemPayload, MAX_BODY_CHARS, MAX_LINK_CHARS, MAX_TITLE_CHARS, validate};
use app::items::{Category, Kind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(payload) = serde_json::from_slice::<ItemPayload>(data) else {
        return;
    };
    let catalog = Catalog {
        roles: ["account_admin", "billing_admin"]
            .into_iter()
            .map(app::orgs::Role::from)
            .collect(),
        workspaces: ["billing", "referrals"]
            .into_iter()
            .map(app::items::Workspace::from)
            .collect(),
    };
    let Ok(item) = validate(payload, &catalog) else {
        return;
    };
    assert!(
        item.title.contains_key("en"),
        "English is the fallback and must be there"
    );
    assert!(
        item.title
            .values()
            .all(|t| !t.trim().is_empty() && t.chars().count() <= MAX_TITLE_CHARS)
    );
    assert!(item.body.values().all(|b| b.chars().count() <= MAX_BODY_CHARS));
    assert!(catalog.workspaces.contains(&item.workspace));
    assert!(item.roles.iter().all(|r| catalog.roles.contains(r)));
    assert!(!item.roles.is_empty() || !item.user_ids.is_empty(), "an audience");
    assert_eq!(item.kind() == Kind::Action, item.due_at.is_some());
    assert!(matches!(
        (item.kind(), item.category),
        (Kind::Action, Category::Mandatory | Category::Recommended)
            | (
                Kind::Notification,
                Category::Transactional | Category::Promotional
            )
    ));
    if let Some(link) = &item.link {
        assert!(link.chars().count() <= MAX_LINK_CHARS);
        assert!(
            link.starts_with("https://") || (link.starts_with('/') && !link.starts_with("//")),
            "{link}"
        );
    }
    // The fingerprint is stable for the same item.
    assert_eq!(item.fingerprint(), item.fingerprint());
});
