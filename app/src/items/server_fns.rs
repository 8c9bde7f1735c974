//! The typed server functions the UI uses for items. Each one acts only on items that reach
//! the signed-in user.

use leptos::prelude::*;
use server_fn::codec::Json;

use super::{Counts, ItemFilter, ItemPage, ItemView};
use crate::error::AppError;
#[cfg(feature = "ssr")]
use crate::error::Refusal;

#[cfg(feature = "ssr")]
impl From<super::ItemError> for AppError {
    fn from(err: super::ItemError) -> Self {
        use super::ItemError;
        match err {
            ItemError::NotFound => AppError::NotFound,
            ItemError::MandatoryCannotBeArchived => Refusal::MandatoryNotArchivable.into(),
            ItemError::MandatoryCannotBeSnoozed => Refusal::MandatoryNotSnoozable.into(),
            ItemError::NotAnAction => Refusal::NotAnAction.into(),
            ItemError::AlreadyClosed(_) => Refusal::AlreadyClosed.into(),
            // The UI sends no item payloads and reuses no idempotency keys: only a crafted
            // request gets here.
            err @ (ItemError::Invalid(_) | ItemError::IdempotencyConflict) => Refusal::NotUnderstood {
                detail: err.to_string(),
            }
            .into(),
            ItemError::Db(e) => e.into(),
        }
    }
}

#[cfg(feature = "ssr")]
async fn apply(item_id: super::ItemId, action: super::UserAction) -> Result<ItemView, AppError> {
    let (state, reader, _) = crate::auth::session::require_reader()?;
    Ok(super::apply(&state.db, &reader, &item_id, action).await?)
}

/// A page of the signed-in user's items.
#[server(endpoint = "items_list", input = Json)]
pub async fn list_items(filter: ItemFilter) -> Result<ItemPage, AppError> {
    let (state, reader, roles) = crate::auth::session::require_reader()?;
    Ok(page(&state, &reader, &roles, &filter).await?.as_ref().clone())
}

/// The reader's counts through the read cache, as of where the request's session saw the
/// org's log.
#[cfg(feature = "ssr")]
async fn counts(
    state: &crate::state::AppState,
    reader: &super::Reader,
    roles: &[crate::orgs::Role],
) -> Result<Counts, crate::db::DbError> {
    let seen = crate::auth::session::log_position();
    state.cache.counts(&state.db, reader, roles, seen).await
}

/// A page through the read cache, as of where the request's session saw the org's log.
#[cfg(feature = "ssr")]
async fn page(
    state: &crate::state::AppState,
    reader: &super::Reader,
    roles: &[crate::orgs::Role],
    filter: &ItemFilter,
) -> Result<std::sync::Arc<ItemPage>, super::ItemError> {
    let seen = crate::auth::session::log_position();
    state.cache.page(&state.db, reader, roles, filter, seen).await
}

/// The badge and overview counts of the signed-in user.
/// The workspaces items can be tied to: the configurable catalog, as the database holds it.
#[server(endpoint = "items_workspaces")]
pub async fn workspaces() -> Result<Vec<super::Workspace>, AppError> {
    let (state, _, _) = crate::auth::session::require_reader()?;
    Ok(crate::orgs::workspace_catalog(&state.db).await?)
}

#[server(endpoint = "items_counts")]
pub async fn item_counts() -> Result<Counts, AppError> {
    let (state, reader, roles) = crate::auth::session::require_reader()?;
    Ok(counts(&state, &reader, &roles).await?)
}

#[server(endpoint = "items_read")]
pub async fn mark_read(item_id: super::ItemId) -> Result<ItemView, AppError> {
    let item = apply(item_id, super::UserAction::Read).await?;
    back_to_the_list();
    Ok(item)
}

#[server(endpoint = "items_archive")]
pub async fn archive_item(item_id: super::ItemId) -> Result<ItemView, AppError> {
    let item = apply(item_id, super::UserAction::Archive).await?;
    back_to_the_list();
    Ok(item)
}

#[server(endpoint = "items_unarchive")]
pub async fn unarchive_item(item_id: super::ItemId) -> Result<ItemView, AppError> {
    let item = apply(item_id, super::UserAction::Unarchive).await?;
    back_to_the_list();
    Ok(item)
}

/// The snooze lengths the UI offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SnoozeLength {
    Hour,
    FourHours,
    Day,
    Week,
}

impl SnoozeLength {
    pub const ALL: [SnoozeLength; 4] = [
        SnoozeLength::Hour,
        SnoozeLength::FourHours,
        SnoozeLength::Day,
        SnoozeLength::Week,
    ];

    /// The length as the snooze form posts it.
    pub fn minutes(self) -> u32 {
        match self {
            SnoozeLength::Hour => 60,
            SnoozeLength::FourHours => 4 * 60,
            SnoozeLength::Day => 24 * 60,
            SnoozeLength::Week => 7 * 24 * 60,
        }
    }
}

/// Snoozes an item for `minutes` (a form's choice), or until `until` (ms since the epoch):
/// it leaves the bell, the lists and the counts, and comes back then, live.
#[server(endpoint = "items_snooze")]
pub async fn snooze_item(
    item_id: super::ItemId,
    minutes: Option<u32>,
    until: Option<i64>,
) -> Result<ItemView, AppError> {
    let until = match (minutes, until) {
        (_, Some(until)) => until,
        (Some(minutes), None) => crate::db::now_ms().saturating_add(i64::from(minutes) * 60_000),
        (None, None) => {
            return Err(Refusal::NotUnderstood {
                detail: "say for how many minutes, or until when".into(),
            }
            .into());
        }
    };
    let item = apply(item_id, super::UserAction::Snooze { until }).await?;
    back_to_the_list();
    Ok(item)
}

/// Where a list's live region and a browser's way back to it are anchored.
pub const ITEM_LIST: &str = "item-list";

/// Sends a browser that posted a list's form back to the page it came from, at the list: the
/// page reloads, and keyboard and screen reader users go on from the list rather than from the
/// top of the page. Only the Referer's path and query are used, so the redirect stays on this
/// site. The app in the page is not redirected: it shows the change itself.
#[cfg(feature = "ssr")]
fn back_to_the_list() {
    let Some(parts) = use_context::<http::request::Parts>().filter(|_| crate::forms::posted_by_browser())
    else {
        return;
    };
    let from = parts
        .headers
        .get(http::header::REFERER)
        .and_then(|v| v.to_str().ok());
    let Some(uri) = from.and_then(|r| r.parse::<http::Uri>().ok()) else {
        return;
    };
    if let Some(path) = uri.path_and_query().filter(|p| p.path().starts_with('/')) {
        leptos_axum::redirect(&format!("{path}#{ITEM_LIST}"));
    }
}

/// Opens an item's link and marks the item read on the way: the cards' title links point
/// here, so reading is recorded without script in the page.
#[server(endpoint = "items_open", input = server_fn::codec::GetUrl)]
pub async fn open_item(item_id: super::ItemId) -> Result<(), AppError> {
    let item = apply(item_id, super::UserAction::Read).await?;
    leptos_axum::redirect(item.destination());
    Ok(())
}

/// Most items one "Archive selected" takes.
pub const MAX_SELECTED: usize = 100;

/// Archives the items selected in a list (`item_ids[]=<id>` for each, as the list's boxes send them).
/// Every item that can be archived is; the answer names how many could not be, and why.
#[server(endpoint = "items_archive_selected")]
pub async fn archive_selected(item_ids: Option<Vec<super::ItemId>>) -> Result<(), AppError> {
    let mut ids = item_ids.unwrap_or_default();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Err(Refusal::NothingSelected.into());
    }
    if ids.len() > MAX_SELECTED {
        return Err(Refusal::TooManySelected { max: MAX_SELECTED }.into());
    }
    let total = ids.len();
    let (state, reader, _) = crate::auth::session::require_reader()?;
    let mut refused: Vec<AppError> = Vec::new();
    for id in ids {
        if let Err(e) = super::apply(&state.db, &reader, &id, super::UserAction::Archive).await {
            refused.push(e.into());
        }
    }
    match refused.len() {
        0 => {
            back_to_the_list();
            Ok(())
        }
        // Nothing archived: the reason as it is (an item the user cannot see stays not found).
        n if n == total => Err(refused.swap_remove(0)),
        n => Err(Refusal::SomeNotArchived {
            refused: n,
            total,
            reason: Box::new(refused.swap_remove(0)),
        }
        .into()),
    }
}

/// The list a "Mark all read" or "Archive all" acts on, from the list's filter fields as its
/// form posts them (the Archived view is never one).
#[cfg(feature = "ssr")]
fn whole_list(
    kind: Option<super::Kind>,
    workspace: Option<String>,
    category: Option<super::Category>,
    search: Option<String>,
    unread: Option<bool>,
) -> ItemFilter {
    ItemFilter {
        kind,
        workspace: workspace.filter(|w| !w.is_empty()),
        category,
        search: search.filter(|s| !s.trim().is_empty()),
        unread: unread.unwrap_or(false),
        ..Default::default()
    }
}

#[cfg(feature = "ssr")]
async fn apply_to_list(filter: ItemFilter, action: super::UserAction) -> Result<usize, AppError> {
    let (state, reader, roles) = crate::auth::session::require_reader()?;
    let changed = super::apply_to_list(&state.db, &reader, &roles, &filter, action).await?;
    back_to_the_list();
    Ok(changed)
}

/// Marks read every unread item of the list the user is looking at (its filters, its search),
/// up to `MAX_BULK` at a time. Answers how many it marked.
#[server(endpoint = "items_mark_all_read")]
pub async fn mark_all_read(
    kind: Option<super::Kind>,
    workspace: Option<String>,
    category: Option<super::Category>,
    search: Option<String>,
    unread: Option<bool>,
) -> Result<usize, AppError> {
    let filter = whole_list(kind, workspace, category, search, unread);
    apply_to_list(filter, super::UserAction::Read).await
}

/// Archives every item of the list the user is looking at that may be archived (never a
/// mandatory action), up to `MAX_BULK` at a time. Answers how many it archived.
#[server(endpoint = "items_archive_all")]
pub async fn archive_all(
    kind: Option<super::Kind>,
    workspace: Option<String>,
    category: Option<super::Category>,
    search: Option<String>,
    unread: Option<bool>,
) -> Result<usize, AppError> {
    let filter = whole_list(kind, workspace, category, search, unread);
    apply_to_list(filter, super::UserAction::Archive).await
}

/// What the bell's pane shows: pending actions in bell order and the latest unread notifications.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BellPane {
    pub actions: Vec<ItemView>,
    pub notifications: Vec<ItemView>,
}

/// How many unread notifications the pane lists.
pub const BELL_NOTIFICATIONS: usize = 5;

#[server(endpoint = "items_bell")]
pub async fn get_bell_pane() -> Result<BellPane, AppError> {
    use super::{Kind, Order};
    let (state, reader, roles) = crate::auth::session::require_reader()?;
    let actions = ItemFilter {
        kind: Some(Kind::Action),
        order: Order::DueDate,
        limit: Some(100),
        ..Default::default()
    };
    let mut actions = page(&state, &reader, &roles, &actions).await?.items.clone();
    let now = crate::db::now_ms();
    actions.sort_by(|a, b| a.bell_order(b, now));
    let notes = ItemFilter {
        kind: Some(Kind::Notification),
        limit: Some(50),
        ..Default::default()
    };
    let notifications = page(&state, &reader, &roles, &notes)
        .await?
        .items
        .iter()
        .filter(|n| !n.read)
        .take(BELL_NOTIFICATIONS)
        .cloned()
        .collect();
    Ok(BellPane {
        actions,
        notifications,
    })
}

/// The Overview in one answer: counts, the next due actions and the latest notifications.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Overview {
    pub counts: Counts,
    pub next_due: Vec<ItemView>,
    pub recent: Vec<ItemView>,
}

/// How many items each Overview list shows.
pub const OVERVIEW_ITEMS: u32 = 5;

#[server(endpoint = "items_overview")]
pub async fn get_overview() -> Result<Overview, AppError> {
    use super::{Kind, Order};
    let (state, reader, roles) = crate::auth::session::require_reader()?;
    let due = ItemFilter {
        kind: Some(Kind::Action),
        order: Order::DueDate,
        limit: Some(OVERVIEW_ITEMS),
        ..Default::default()
    };
    let recent = ItemFilter {
        kind: Some(Kind::Notification),
        limit: Some(OVERVIEW_ITEMS),
        ..Default::default()
    };
    Ok(Overview {
        counts: counts(&state, &reader, &roles).await?,
        next_due: page(&state, &reader, &roles, &due).await?.items.clone(),
        recent: page(&state, &reader, &roles, &recent).await?.items.clone(),
    })
}
