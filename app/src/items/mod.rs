//! Actions and notifications: what they are, the rules on them, and the shapes the UI and the
//! producer API exchange. Storage and validation are server-only submodules.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
mod read_cache;
#[cfg(feature = "ssr")]
pub use read_cache::ReadCache;
#[cfg(feature = "ssr")]
pub mod payload;
#[cfg(feature = "ssr")]
mod publisher;
#[cfg(feature = "ssr")]
pub use publisher::Publisher;
#[cfg(feature = "ssr")]
pub mod audience;
#[cfg(feature = "ssr")]
pub(crate) mod counts;
#[cfg(feature = "ssr")]
mod error;
#[cfg(feature = "ssr")]
pub mod lifecycle;
#[cfg(feature = "ssr")]
pub(crate) mod list;
#[cfg(feature = "ssr")]
mod publish;
#[cfg(feature = "ssr")]
mod report;
#[cfg(feature = "ssr")]
mod revise;
#[cfg(feature = "ssr")]
pub mod search;
#[cfg(feature = "ssr")]
mod status;
#[cfg(feature = "ssr")]
pub mod tally;
#[cfg(feature = "ssr")]
mod user_state;
#[cfg(feature = "ssr")]
pub use audience::recipients;
#[cfg(feature = "ssr")]
pub use counts::*;
#[cfg(feature = "ssr")]
pub use error::ItemError;
#[cfg(feature = "ssr")]
pub use list::*;
#[cfg(feature = "ssr")]
pub use publish::*;
#[cfg(feature = "ssr")]
pub use report::*;
#[cfg(feature = "ssr")]
pub use revise::*;
#[cfg(feature = "ssr")]
pub use status::*;
#[cfg(feature = "ssr")]
pub use user_state::*;

mod server_fns;
pub use server_fns::*;

string_type!(
    /// An item's id (a UUIDv7, so ids sort by publication time).
    ItemId
);
string_type!(
    /// A workspace of the catalog (`billing`): where an item belongs and what email
    /// preferences are set per.
    Workspace
);

/// The Action Center's address, where opening an item without a link of its own goes.
pub const ACTION_CENTER: &str = "/action-center";

pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;
/// An open action is "due soon" within this many days of its due date.
pub const DUE_SOON_DAYS: i64 = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Action,
    Notification,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Mandatory,
    Recommended,
    Transactional,
    Promotional,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Open,
    Completed,
    Cancelled,
    /// Past the expiry its producer set: it has left every view.
    Expired,
}

/// Where an open action stands against its due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DueState {
    Overdue,
    DueSoon,
    OnTrack,
}

impl Kind {
    pub const ALL: [Kind; 2] = [Kind::Action, Kind::Notification];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Action => "action",
            Kind::Notification => "notification",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl Category {
    pub const ALL: [Category; 4] = [
        Category::Mandatory,
        Category::Recommended,
        Category::Transactional,
        Category::Promotional,
    ];

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

    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Mandatory actions must be done; every other item may be archived (spec §2).
    pub fn can_be_archived(self) -> bool {
        self != Category::Mandatory
    }
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Open,
        Status::Completed,
        Status::Cancelled,
        Status::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Completed => "completed",
            Status::Cancelled => "cancelled",
            Status::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Milliseconds since the epoch, in the browser or on the server.
pub fn now() -> i64 {
    #[cfg(feature = "hydrate")]
    {
        return js_sys::Date::now() as i64;
    }
    #[allow(unreachable_code)]
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// Where an action with this status and due date stands at `now`; `None` for closed actions
/// and for notifications (no due date).
pub fn due_state(status: Status, due_at: Option<i64>, now: i64) -> Option<DueState> {
    let due_at = due_at?;
    if status != Status::Open {
        return None;
    }
    Some(if due_at < now {
        DueState::Overdue
    } else if due_at - now <= DUE_SOON_DAYS * DAY_MS {
        DueState::DueSoon
    } else {
        DueState::OnTrack
    })
}

/// Text in several languages, keyed by BCP 47 tag (canonical case); English is the fallback.
pub type LocalizedText = BTreeMap<String, String>;

/// The text for a reader of `language`: the exact tag, then its primary language, then
/// English, then whatever there is.
pub fn localize<'a>(text: &'a LocalizedText, language: &str) -> &'a str {
    let wanted = language.to_ascii_lowercase();
    let primary = wanted.split('-').next().unwrap_or_default();
    let by = |f: &dyn Fn(&str) -> bool| text.iter().find(|(tag, _)| f(&tag.to_ascii_lowercase()));
    by(&|t| t == wanted)
        .or_else(|| by(&|t| t == primary))
        .or_else(|| by(&|t| t.split('-').next() == Some(primary)))
        .or_else(|| by(&|t| t == "en"))
        .or_else(|| text.iter().next())
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

/// An item as one user sees it: text in their language, with their read and archived state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemView {
    pub id: ItemId,
    pub kind: Kind,
    pub category: Category,
    pub workspace: Workspace,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub due_at: Option<i64>,
    pub status: Status,
    pub created_at: i64,
    pub read: bool,
    pub archived: bool,
    /// Until when the reader snoozed it (it is archived for them until then).
    pub snoozed_until: Option<i64>,
}

impl ItemView {
    pub fn due_state(&self, now: i64) -> Option<DueState> {
        due_state(self.status, self.due_at, now)
    }

    pub fn can_be_archived(&self) -> bool {
        self.category.can_be_archived()
    }

    /// Where opening the item goes: its own link, else the Action Center.
    pub fn destination(&self) -> &str {
        self.link.as_deref().unwrap_or(ACTION_CENTER)
    }

    /// The bell's order: overdue first, then mandatory before recommended, then by due date.
    pub fn bell_order(&self, other: &ItemView, now: i64) -> std::cmp::Ordering {
        let overdue = |i: &ItemView| i.due_state(now) != Some(DueState::Overdue);
        let optional = |i: &ItemView| i.category != Category::Mandatory;
        (overdue(self), optional(self), self.due_at, &self.id).cmp(&(
            overdue(other),
            optional(other),
            other.due_at,
            &other.id,
        ))
    }
}

/// How far an item got, for account admins and its producer: the people it reaches now, how
/// many of them were emailed about it (and how many could not be), and how many of them read
/// or archived it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, sqlx::FromRow))]
pub struct DeliveryReport {
    /// Users who hold one of its roles or are named, in its organisation.
    pub reached: i64,
    /// Of those, how many were sent at least one email about it.
    pub emailed: i64,
    /// Of those, how many had an email about it fail for good.
    pub failed: i64,
    pub read: i64,
    pub archived: i64,
}

/// One line of the admin's delivery report: a recent item of the organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryLine {
    pub id: ItemId,
    pub title: String,
    pub category: Category,
    pub created_at: i64,
    pub report: DeliveryReport,
}

/// What the badge and the overview count for one user (archived items never count).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Open actions: the bell badge.
    pub pending_actions: i64,
    pub overdue_actions: i64,
    pub mandatory: i64,
    pub recommended: i64,
    pub transactional: i64,
    pub promotional: i64,
    pub unread_notifications: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// Newest first.
    #[default]
    Newest,
    /// Soonest due date first (actions).
    DueDate,
}

/// Which of a user's items to list (every field optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct ItemFilter {
    pub kind: Option<Kind>,
    pub category: Option<Category>,
    pub workspace: Option<String>,
    /// The Archived view: only archived items; otherwise only non-archived ones.
    pub archived: bool,
    /// Also list completed and cancelled actions.
    pub include_closed: bool,
    pub order: Order,
    /// Where the previous page ended (from `ItemPage::next_cursor`).
    pub cursor: Option<String>,
    /// Page size, 1..=100 (default 50).
    pub limit: Option<u32>,
    /// Only items whose text, in the reader's language, has a word starting with each term
    /// (`search`).
    pub search: Option<String>,
    /// Only items the reader has not read.
    pub unread: bool,
}

impl ItemFilter {
    /// The search, if it has anything to look for.
    pub fn search_text(&self) -> Option<&str> {
        self.search.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }

    /// Whether an item belongs in a list with this filter (its cursor, limit and search
    /// aside): the same conditions as the list's query in `list::list_for`. Whether it matches
    /// a search only the server tells (see `live::follow`).
    pub fn admits(&self, item: &ItemView) -> bool {
        item.archived == self.archived
            && !(self.unread && item.read)
            && item.status != Status::Expired
            && (self.include_closed || item.status == Status::Open)
            && self.kind.is_none_or(|k| item.kind == k)
            && self.category.is_none_or(|c| item.category == c)
            && self.workspace.as_ref().is_none_or(|w| *w == item.workspace)
    }

    /// The list's order, as its query sorts: newest first, or soonest due first with the
    /// undated last; ties by id in the same direction.
    pub fn order_of(&self, a: &ItemView, b: &ItemView) -> std::cmp::Ordering {
        match self.order {
            Order::Newest => (b.created_at, &b.id).cmp(&(a.created_at, &a.id)),
            Order::DueDate => {
                let due = |i: &ItemView| i.due_at.unwrap_or(i64::MAX);
                (due(a), &a.id).cmp(&(due(b), &b.id))
            }
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemPage {
    pub items: Vec<ItemView>,
    pub next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;

    fn view(id: &str, category: Category, due_in_days: Option<i64>) -> ItemView {
        ItemView {
            id: id.into(),
            kind: category.kind(),
            category,
            workspace: "billing".into(),
            title: id.into(),
            body: String::new(),
            link: None,
            due_at: due_in_days.map(|d| NOW + d * DAY_MS),
            status: Status::Open,
            created_at: NOW,
            read: false,
            archived: false,
            snoozed_until: None,
        }
    }

    #[test]
    fn categories_belong_to_one_kind_and_parse_back() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(c));
        }
        assert_eq!(Category::Mandatory.kind(), Kind::Action);
        assert_eq!(Category::Recommended.kind(), Kind::Action);
        assert_eq!(Category::Transactional.kind(), Kind::Notification);
        assert_eq!(Category::Promotional.kind(), Kind::Notification);
        assert_eq!(Category::parse("urgent"), None);
    }

    #[test]
    fn only_mandatory_actions_cannot_be_archived() {
        assert!(!Category::Mandatory.can_be_archived());
        assert!(Category::Recommended.can_be_archived());
        assert!(Category::Transactional.can_be_archived());
        assert!(Category::Promotional.can_be_archived());
    }

    #[test]
    fn due_state_is_derived_from_status_and_date() {
        let day = DAY_MS;
        assert_eq!(
            due_state(Status::Open, Some(NOW - 1), NOW),
            Some(DueState::Overdue)
        );
        assert_eq!(
            due_state(Status::Open, Some(NOW + day), NOW),
            Some(DueState::DueSoon)
        );
        assert_eq!(
            due_state(Status::Open, Some(NOW + 7 * day), NOW),
            Some(DueState::DueSoon)
        );
        assert_eq!(
            due_state(Status::Open, Some(NOW + 7 * day + 1), NOW),
            Some(DueState::OnTrack)
        );
        assert_eq!(
            due_state(Status::Completed, Some(NOW - day), NOW),
            None,
            "done is never overdue"
        );
        assert_eq!(due_state(Status::Cancelled, Some(NOW - day), NOW), None);
        assert_eq!(due_state(Status::Open, None, NOW), None);
    }

    #[test]
    fn the_bell_orders_overdue_then_mandatory_then_due_date() {
        let mut items = [
            view("rec-soon", Category::Recommended, Some(1)),
            view("man-later", Category::Mandatory, Some(20)),
            view("rec-overdue", Category::Recommended, Some(-3)),
            view("man-soon", Category::Mandatory, Some(2)),
            view("man-overdue", Category::Mandatory, Some(-1)),
        ];
        items.sort_by(|a, b| a.bell_order(b, NOW));
        let ids: Vec<&str> = items.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(
            ids,
            ["man-overdue", "rec-overdue", "man-soon", "man-later", "rec-soon"]
        );
    }

    #[test]
    fn text_falls_back_to_the_primary_language_then_english() {
        let text: LocalizedText = [("en", "Hello"), ("nl", "Hallo"), ("de-CH", "Grüezi")]
            .map(|(k, v)| (k.into(), v.into()))
            .into();
        assert_eq!(localize(&text, "nl"), "Hallo");
        assert_eq!(localize(&text, "nl-BE"), "Hallo");
        assert_eq!(localize(&text, "de"), "Grüezi");
        assert_eq!(localize(&text, "fr"), "Hello");
        assert_eq!(localize(&LocalizedText::new(), "fr"), "");
        let only_dutch: LocalizedText = [("nl".to_string(), "Alleen".to_string())].into();
        assert_eq!(localize(&only_dutch, "fr"), "Alleen");
    }
}
