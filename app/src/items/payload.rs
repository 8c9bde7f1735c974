//! The producer's item payload (spec §6) and its validation: every rule of the contract is
//! checked here, in plain Rust, before anything is stored.

use std::collections::{BTreeSet, HashSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;

use super::{Category, Kind, LocalizedText, Status, Workspace};
use crate::orgs::{OrgId, Role, UserId};

pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_BODY_CHARS: usize = 10_000;
pub const MAX_LINK_CHARS: usize = 2_048;
pub const MAX_LANGUAGES: usize = 40;
pub const MAX_ROLES: usize = 50;
pub const MAX_USER_IDS: usize = 1_000;
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 200;
pub const MAX_ORG_ID_CHARS: usize = 40;

/// Who an item is for: holders of any of these roles in the org, and these users by id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Audience {
    #[serde(default)]
    #[schema(max_items = 50)]
    pub roles: Vec<String>,
    #[serde(default)]
    #[schema(max_items = 1000)]
    pub user_ids: Vec<String>,
}

/// `POST /api/v1/items`: an action or a notification to publish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemPayload {
    /// `action` or `notification`.
    // Strings rather than `Kind` and `Category`: another value gets an error naming the field.
    #[schema(value_type = Kind, example = "action")]
    pub kind: String,
    /// `mandatory` or `recommended` (actions); `transactional` or `promotional` (notifications).
    #[schema(value_type = Category, example = "mandatory")]
    pub category: String,
    #[schema(example = "contoso", min_length = 1, max_length = 40)]
    pub org_id: String,
    #[schema(example = "account_settings")]
    pub workspace: String,
    pub audience: Audience,
    /// Title per BCP 47 language tag; `en` is required (it is the fallback).
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub title: LocalizedText,
    #[serde(default)]
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub body: LocalizedText,
    /// An `https:` URL or a path relative to the portal (`/…`).
    #[serde(default)]
    #[schema(max_length = 2048)]
    pub link: Option<String>,
    /// RFC 3339; required for actions, not allowed for notifications.
    #[serde(default)]
    #[schema(example = "2026-12-31T23:59:59Z")]
    pub due_at: Option<String>,
    /// Repeating a key with the same payload returns the same item; with another payload, 409.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200)]
    pub idempotency_key: Option<String>,
    /// RFC 3339, in the future: when the item leaves every view (and its pending email and
    /// reminders are dropped). Any kind of item may expire.
    #[serde(default)]
    #[schema(example = "2027-01-31T23:59:59Z")]
    pub expires_at: Option<String>,
}

/// An item as the producer API returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApiItem {
    pub id: String,
    #[schema(example = "action")]
    pub kind: Kind,
    #[schema(example = "mandatory")]
    pub category: Category,
    pub org_id: String,
    pub workspace: String,
    pub audience: Audience,
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub title: LocalizedText,
    #[schema(value_type = std::collections::BTreeMap<String, String>)]
    pub body: LocalizedText,
    pub link: Option<String>,
    /// RFC 3339.
    pub due_at: Option<String>,
    #[schema(example = "open")]
    pub status: Status,
    pub idempotency_key: Option<String>,
    /// RFC 3339: when the item expires (or expired: `status` is then `expired`).
    pub expires_at: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// A payload that passed validation, in canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidItem {
    pub org_id: OrgId,
    pub category: Category,
    pub workspace: Workspace,
    pub roles: BTreeSet<Role>,
    /// In the producer's order (without repeats), so errors can name the index.
    pub user_ids: Vec<UserId>,
    pub title: LocalizedText,
    pub body: LocalizedText,
    pub link: Option<String>,
    pub due_at: Option<i64>,
    /// Left out of the fingerprint when unset, so items published before expiry existed keep
    /// theirs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    #[serde(skip)]
    pub idempotency_key: Option<String>,
}

impl ValidItem {
    pub fn kind(&self) -> Kind {
        self.category.kind()
    }

    /// Refuses an expiry that has already passed at `now`: the item would never be seen.
    pub fn check_expiry(&self, now: i64) -> Result<(), FieldError> {
        match self.expires_at {
            Some(at) if at <= now => Err(invalid("expires_at", "must be in the future")),
            _ => Ok(()),
        }
    }

    /// A fingerprint of everything but the idempotency key, to tell a repeat from a conflict.
    pub fn fingerprint(&self) -> String {
        let mut canonical = self.clone();
        canonical.user_ids.sort();
        let canonical = serde_json::to_string(&canonical).unwrap_or_default();
        hex::encode(Sha256::digest(canonical.as_bytes()))
    }
}

/// A rule the payload broke, naming the field (JSON path) at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

/// The configurable catalogs the payload is checked against.
#[derive(Debug)]
pub struct Catalog {
    pub roles: HashSet<Role>,
    pub workspaces: HashSet<Workspace>,
}

pub fn validate(payload: ItemPayload, catalog: &Catalog) -> Result<ValidItem, FieldError> {
    let kind = Kind::parse(&payload.kind)
        .ok_or_else(|| invalid("kind", "must be \"action\" or \"notification\""))?;
    let category = Category::parse(&payload.category).ok_or_else(|| {
        invalid(
            "category",
            "must be one of mandatory, recommended, transactional, promotional",
        )
    })?;
    if category.kind() != kind {
        return Err(invalid(
            "category",
            format!("a {} cannot have category {}", kind.as_str(), category.as_str()),
        ));
    }
    if payload.org_id.is_empty() || payload.org_id.chars().count() > MAX_ORG_ID_CHARS {
        return Err(invalid("org_id", "must be an organisation id"));
    }
    if !catalog.workspaces.contains(payload.workspace.as_str()) {
        return Err(invalid(
            "workspace",
            format!("unknown workspace {:?}", payload.workspace),
        ));
    }

    let Audience { roles, user_ids } = payload.audience;
    if roles.is_empty() && user_ids.is_empty() {
        return Err(invalid("audience", "name at least one role or user id"));
    }
    if roles.len() > MAX_ROLES {
        return Err(invalid("audience.roles", format!("at most {MAX_ROLES} roles")));
    }
    if user_ids.len() > MAX_USER_IDS {
        return Err(invalid(
            "audience.user_ids",
            format!("at most {MAX_USER_IDS} user ids"),
        ));
    }
    for (i, role) in roles.iter().enumerate() {
        if !catalog.roles.contains(role.as_str()) {
            return Err(invalid(
                format!("audience.roles[{i}]"),
                format!("unknown role {role:?}"),
            ));
        }
    }
    for (i, id) in user_ids.iter().enumerate() {
        if id.is_empty() || id.len() > 64 {
            return Err(invalid(format!("audience.user_ids[{i}]"), "must be a user id"));
        }
    }

    let title = title(payload.title)?;
    let body = localized("body", payload.body, MAX_BODY_CHARS)?;

    let link = match payload.link {
        Some(link) => Some(check_link(&link)?),
        None => None,
    };

    let due_at = match (kind, payload.due_at) {
        (Kind::Action, None) => return Err(invalid("due_at", "an action needs a due date")),
        (Kind::Action, Some(due)) => Some(time("due_at", &due)?),
        (Kind::Notification, None) => None,
        (Kind::Notification, Some(_)) => {
            return Err(invalid("due_at", "a notification has no due date"));
        }
    };

    let idempotency_key = match payload.idempotency_key {
        Some(key) if key.is_empty() || key.chars().count() > MAX_IDEMPOTENCY_KEY_CHARS => {
            return Err(invalid(
                "idempotency_key",
                format!("1 to {MAX_IDEMPOTENCY_KEY_CHARS} characters"),
            ));
        }
        other => other,
    };

    let expires_at = payload.expires_at.map(|at| time("expires_at", &at)).transpose()?;

    Ok(ValidItem {
        org_id: payload.org_id.into(),
        category,
        workspace: payload.workspace.into(),
        roles: roles.into_iter().map(Role::from).collect(),
        user_ids: user_ids
            .iter()
            .enumerate()
            .filter(|(i, id)| !user_ids[..*i].contains(id))
            .map(|(_, id)| UserId::from(id.as_str()))
            .collect(),
        title,
        body,
        link,
        due_at,
        expires_at,
        idempotency_key,
    })
}

/// A title: in at most `MAX_LANGUAGES` languages, English among them, none empty.
fn title(text: LocalizedText) -> Result<LocalizedText, FieldError> {
    let title = localized("title", text, MAX_TITLE_CHARS)?;
    if !title.contains_key("en") {
        return Err(invalid(
            "title.en",
            "an English title is required (it is the fallback language)",
        ));
    }
    if title.values().any(|t| t.trim().is_empty()) {
        return Err(invalid("title", "a title cannot be empty"));
    }
    Ok(title)
}

fn time(field: &str, text: &str) -> Result<i64, FieldError> {
    parse_time(text).ok_or_else(|| invalid(field, "must be an RFC 3339 date-time, e.g. 2026-12-31T23:59:59Z"))
}

/// `PATCH /api/v1/items/{id}`: what a producer changes of an item it published. Every field is
/// optional; what is left out stays as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemUpdate {
    /// The whole title, per language (replaces the old one; `en` is required).
    #[serde(default)]
    #[schema(value_type = Option<std::collections::BTreeMap<String, String>>)]
    pub title: Option<LocalizedText>,
    /// The whole body, per language (replaces the old one).
    #[serde(default)]
    #[schema(value_type = Option<std::collections::BTreeMap<String, String>>)]
    pub body: Option<LocalizedText>,
    /// RFC 3339; actions only. Reminders not yet sent follow it.
    #[serde(default)]
    #[schema(example = "2027-01-15T23:59:59Z")]
    pub due_at: Option<String>,
    /// RFC 3339, or `null` to remove the expiry. A time already past retires the item now.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, nullable, example = "2027-01-31T23:59:59Z")]
    pub expires_at: Option<Option<String>>,
}

/// A field that is present, even as `null` (`Some(None)`), against one left out (`None`).
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// An update that passed validation; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidUpdate {
    pub title: Option<LocalizedText>,
    pub body: Option<LocalizedText>,
    pub due_at: Option<i64>,
    /// `Some(None)` removes the expiry.
    pub expires_at: Option<Option<i64>>,
}

impl ValidUpdate {
    /// Whether the email about the item reads differently after it (its text or due date).
    pub fn changes_email(&self) -> bool {
        self.title.is_some() || self.body.is_some() || self.due_at.is_some()
    }
}

/// Checks an update by the same rules as a new item's fields. Whether a due date fits the
/// item (only actions have one) is checked against the stored item.
pub fn validate_update(update: ItemUpdate) -> Result<ValidUpdate, FieldError> {
    if update == ItemUpdate::default() {
        return Err(invalid(
            "body",
            "name at least one of title, body, due_at, expires_at",
        ));
    }
    Ok(ValidUpdate {
        title: update.title.map(title).transpose()?,
        body: update
            .body
            .map(|body| localized("body", body, MAX_BODY_CHARS))
            .transpose()?,
        due_at: update.due_at.map(|due| time("due_at", &due)).transpose()?,
        expires_at: update
            .expires_at
            .map(|at| at.map(|at| time("expires_at", &at)).transpose())
            .transpose()?,
    })
}

fn localized(field: &str, text: LocalizedText, max_chars: usize) -> Result<LocalizedText, FieldError> {
    if text.len() > MAX_LANGUAGES {
        return Err(invalid(field, format!("at most {MAX_LANGUAGES} languages")));
    }
    let mut out = LocalizedText::new();
    for (tag, value) in text {
        let canonical = canonical_language_tag(&tag).ok_or_else(|| {
            invalid(
                format!("{field}.{tag}"),
                format!("{tag:?} is not a BCP 47 language tag"),
            )
        })?;
        if value.chars().count() > max_chars {
            return Err(invalid(
                format!("{field}.{tag}"),
                format!("at most {max_chars} characters"),
            ));
        }
        if value.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err(invalid(
                format!("{field}.{tag}"),
                "control characters are not allowed",
            ));
        }
        if out.insert(canonical, value).is_some() {
            return Err(invalid(
                format!("{field}.{tag}"),
                "the same language is given twice",
            ));
        }
    }
    Ok(out)
}

/// A well-formed BCP 47 tag (RFC 5646 `langtag` or private use) in canonical case
/// (`en`, `zh-Hant-TW`, `de-CH-1996`), or `None`.
pub fn canonical_language_tag(tag: &str) -> Option<String> {
    if tag.is_empty() || tag.len() > 64 || !tag.is_ascii() {
        return None;
    }
    let parts: Vec<&str> = tag.split('-').collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || p.len() > 8 || !p.chars().all(|c| c.is_ascii_alphanumeric()))
    {
        return None;
    }
    let alpha = |s: &str| s.chars().all(|c| c.is_ascii_alphabetic());
    let digit = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    let mut out: Vec<String> = Vec::with_capacity(parts.len());
    let mut i = 0;
    // Private use only: x-…
    if parts[0].eq_ignore_ascii_case("x") {
        return (parts.len() > 1).then(|| tag.to_ascii_lowercase());
    }
    // language: 2-3 letters (+ up to three 3-letter extlangs), or 4-8 letters.
    let lang = parts[0];
    if !alpha(lang) || !(2..=8).contains(&lang.len()) {
        return None;
    }
    out.push(lang.to_ascii_lowercase());
    i += 1;
    if lang.len() <= 3 {
        let mut extlangs = 0;
        while i < parts.len() && parts[i].len() == 3 && alpha(parts[i]) && extlangs < 3 {
            out.push(parts[i].to_ascii_lowercase());
            i += 1;
            extlangs += 1;
        }
    }
    // script: 4 letters
    if i < parts.len() && parts[i].len() == 4 && alpha(parts[i]) {
        let s = parts[i].to_ascii_lowercase();
        out.push(s[..1].to_ascii_uppercase() + &s[1..]);
        i += 1;
    }
    // region: 2 letters or 3 digits
    if i < parts.len()
        && ((parts[i].len() == 2 && alpha(parts[i])) || (parts[i].len() == 3 && digit(parts[i])))
    {
        out.push(parts[i].to_ascii_uppercase());
        i += 1;
    }
    // variants: 5-8 alphanumerics, or a digit and 3 alphanumerics
    while i < parts.len()
        && ((5..=8).contains(&parts[i].len())
            || (parts[i].len() == 4 && parts[i].starts_with(|c: char| c.is_ascii_digit())))
    {
        out.push(parts[i].to_ascii_lowercase());
        i += 1;
    }
    // extensions: a singleton (not x) and 2-8 alphanumerics
    while i < parts.len() && parts[i].len() == 1 && !parts[i].eq_ignore_ascii_case("x") {
        out.push(parts[i].to_ascii_lowercase());
        i += 1;
        let start = i;
        while i < parts.len() && parts[i].len() >= 2 {
            out.push(parts[i].to_ascii_lowercase());
            i += 1;
        }
        if i == start {
            return None;
        }
    }
    // private use: x and 1-8 alphanumerics
    if i < parts.len() && parts[i].eq_ignore_ascii_case("x") {
        if i + 1 == parts.len() {
            return None;
        }
        out.extend(parts[i..].iter().map(|p| p.to_ascii_lowercase()));
        i = parts.len();
    }
    (i == parts.len()).then(|| out.join("-"))
}

/// A link is an `https:` URL with a host, or a path on the portal; nothing that could run script.
fn check_link(link: &str) -> Result<String, FieldError> {
    let bad = |why: &str| invalid("link", why.to_string());
    if link.chars().count() > MAX_LINK_CHARS {
        return Err(bad("at most 2048 characters"));
    }
    if link
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
    {
        return Err(bad("must not contain spaces, control characters or backslashes"));
    }
    if let Some(rest) = link.strip_prefix("https://") {
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if host.is_empty() || host.contains('@') {
            return Err(bad("an https: link needs a host"));
        }
        return Ok(link.to_string());
    }
    if link.starts_with('/') && !link.starts_with("//") {
        return Ok(link.to_string());
    }
    Err(bad("must be an https: URL or a path starting with /"))
}

/// Milliseconds since the epoch of an RFC 3339 date-time.
pub fn parse_time(s: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// RFC 3339 (UTC) of milliseconds since the epoch.
pub fn format_time(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog {
            roles: ["account_admin", "billing_admin"].map(Role::from).into(),
            workspaces: ["account_settings", "billing"].map(Workspace::from).into(),
        }
    }

    fn action() -> ItemPayload {
        serde_json::from_value(serde_json::json!({
            "kind": "action", "category": "mandatory", "org_id": "contoso",
            "workspace": "account_settings",
            "audience": {"roles": ["account_admin"], "user_ids": []},
            "title": {"en": "Complete your account verification", "nl": "Voltooi de verificatie van uw account"},
            "body": {"en": "…"}, "link": "https://partner.example/verification",
            "due_at": "2026-12-31T23:59:59Z", "idempotency_key": "verif-2026-contoso"
        }))
        .unwrap()
    }

    fn field_of(p: ItemPayload) -> String {
        validate(p, &catalog()).unwrap_err().field
    }

    #[test]
    fn the_spec_example_is_valid() {
        let v = validate(action(), &catalog()).unwrap();
        assert_eq!(v.kind(), Kind::Action);
        assert_eq!(v.category, Category::Mandatory);
        assert_eq!(v.due_at, parse_time("2026-12-31T23:59:59Z"));
        assert_eq!(format_time(v.due_at.unwrap()), "2026-12-31T23:59:59Z");
    }

    #[test]
    fn kind_and_category_must_agree() {
        assert_eq!(
            field_of(ItemPayload {
                category: "promotional".into(),
                ..action()
            }),
            "category"
        );
        assert_eq!(
            field_of(ItemPayload {
                kind: "task".into(),
                ..action()
            }),
            "kind"
        );
        assert_eq!(
            field_of(ItemPayload {
                category: "urgent".into(),
                ..action()
            }),
            "category"
        );
    }

    #[test]
    fn actions_need_a_due_date_and_notifications_must_not_have_one() {
        assert_eq!(
            field_of(ItemPayload {
                due_at: None,
                ..action()
            }),
            "due_at"
        );
        assert_eq!(
            field_of(ItemPayload {
                due_at: Some("tomorrow".into()),
                ..action()
            }),
            "due_at"
        );
        let note = ItemPayload {
            kind: "notification".into(),
            category: "transactional".into(),
            ..action()
        };
        assert_eq!(field_of(note.clone()), "due_at");
        assert!(validate(ItemPayload { due_at: None, ..note }, &catalog()).is_ok());
    }

    #[test]
    fn audience_roles_and_workspace_come_from_the_catalog() {
        let empty = ItemPayload {
            audience: Audience::default(),
            ..action()
        };
        assert_eq!(field_of(empty), "audience");
        let unknown = ItemPayload {
            audience: Audience {
                roles: vec!["account_admin".into(), "king".into()],
                user_ids: vec![],
            },
            ..action()
        };
        assert_eq!(field_of(unknown), "audience.roles[1]");
        assert_eq!(
            field_of(ItemPayload {
                workspace: "moon".into(),
                ..action()
            }),
            "workspace"
        );
        let direct = ItemPayload {
            audience: Audience {
                roles: vec![],
                user_ids: vec!["u1".into()],
            },
            ..action()
        };
        assert!(validate(direct, &catalog()).is_ok());
    }

    #[test]
    fn links_are_https_or_relative_and_never_script() {
        for ok in ["https://partner.example/x?y=1#z", "/verification", "/"] {
            assert!(
                validate(
                    ItemPayload {
                        link: Some(ok.into()),
                        ..action()
                    },
                    &catalog()
                )
                .is_ok(),
                "{ok}"
            );
        }
        for bad in [
            "javascript:alert(1)",
            "JAVASCRIPT:alert(1)",
            "http://partner.example",
            "//evil.example/x",
            "data:text/html,<script>",
            "https://",
            "https://user@evil.example",
            "/a b",
            "/\\evil",
            "vbscript:x",
        ] {
            assert_eq!(
                field_of(ItemPayload {
                    link: Some(bad.into()),
                    ..action()
                }),
                "link",
                "{bad}"
            );
        }
    }

    #[test]
    fn text_has_limits_and_needs_english() {
        let long = ItemPayload {
            title: [("en".into(), "x".repeat(201))].into(),
            ..action()
        };
        assert_eq!(field_of(long), "title.en");
        let dutch_only = ItemPayload {
            title: [("nl".into(), "Hallo".into())].into(),
            ..action()
        };
        assert_eq!(field_of(dutch_only), "title.en");
        let body = ItemPayload {
            body: [("en".into(), "x".repeat(10_001))].into(),
            ..action()
        };
        assert_eq!(field_of(body), "body.en");
        let blank = ItemPayload {
            title: [("en".into(), "  ".into())].into(),
            ..action()
        };
        assert_eq!(field_of(blank), "title");
    }

    #[test]
    fn language_tags_are_bcp47_and_canonicalised() {
        for (tag, canonical) in [
            ("en", "en"),
            ("EN-us", "en-US"),
            ("zh-hant-tw", "zh-Hant-TW"),
            ("de-CH-1996", "de-CH-1996"),
            ("es-419", "es-419"),
            ("sl-rozaj-biske", "sl-rozaj-biske"),
            ("en-a-bbb-x-a-ccc", "en-a-bbb-x-a-ccc"),
            ("x-whatever", "x-whatever"),
            ("zh-yue-HK", "zh-yue-HK"),
        ] {
            assert_eq!(canonical_language_tag(tag).as_deref(), Some(canonical), "{tag}");
        }
        for bad in [
            "",
            "e",
            "english!",
            "en_US",
            "en-",
            "-en",
            "123",
            "en-a",
            "en-x",
            "toolongtag",
            "é",
        ] {
            assert_eq!(canonical_language_tag(bad), None, "{bad}");
        }
        let bad_tag = ItemPayload {
            title: [("en".into(), "Hi".into()), ("en_GB".into(), "Hi".into())].into(),
            ..action()
        };
        assert_eq!(field_of(bad_tag), "title.en_GB");
    }

    #[test]
    fn the_fingerprint_ignores_the_idempotency_key_and_order() {
        let a = validate(action(), &catalog()).unwrap();
        let b = validate(
            ItemPayload {
                idempotency_key: Some("other".into()),
                ..action()
            },
            &catalog(),
        )
        .unwrap();
        assert_eq!(a.fingerprint(), b.fingerprint());
        let c = validate(
            ItemPayload {
                link: Some("/elsewhere".into()),
                ..action()
            },
            &catalog(),
        )
        .unwrap();
        assert_ne!(a.fingerprint(), c.fingerprint());
    }

    #[test]
    fn an_expiry_is_a_time_and_must_be_ahead_when_publishing() {
        let mut p = action();
        p.expires_at = Some("tomorrow".into());
        assert_eq!(field_of(p.clone()), "expires_at");
        p.expires_at = Some("2027-01-31T00:00:00Z".into());
        let valid = validate(p, &catalog()).unwrap();
        let at = parse_time("2027-01-31T00:00:00Z").unwrap();
        assert_eq!(valid.expires_at, Some(at));
        assert!(valid.check_expiry(at - 1).is_ok());
        assert_eq!(valid.check_expiry(at).unwrap_err().field, "expires_at");
        let unset = validate(action(), &catalog()).unwrap();
        assert!(unset.check_expiry(i64::MAX).is_ok());
        assert_ne!(unset.fingerprint(), valid.fingerprint());
    }

    #[test]
    fn an_update_names_something_and_follows_the_fields_rules() {
        let update = |json: serde_json::Value| {
            serde_json::from_value::<ItemUpdate>(json)
                .map_err(|e| e.to_string())
                .and_then(|u| validate_update(u).map_err(|e| e.field))
        };
        assert_eq!(update(serde_json::json!({})), Err("body".into()));
        assert_eq!(
            update(serde_json::json!({"title": {"nl": "Alleen"}})),
            Err("title.en".into())
        );
        assert_eq!(
            update(serde_json::json!({"body": {"e1": "x"}})),
            Err("body.e1".into())
        );
        assert_eq!(
            update(serde_json::json!({"due_at": "soon"})),
            Err("due_at".into())
        );
        let cleared = update(serde_json::json!({"expires_at": null})).unwrap();
        assert_eq!(cleared.expires_at, Some(None), "null removes the expiry");
        assert!(!cleared.changes_email());
        let moved = update(serde_json::json!({"due_at": "2027-01-15T12:00:00Z"})).unwrap();
        assert_eq!(moved.expires_at, None, "left out: unchanged");
        assert_eq!(moved.due_at, parse_time("2027-01-15T12:00:00Z"));
        assert!(moved.changes_email());
        assert!(update(serde_json::json!({"status": "open"})).is_err());
    }
}
