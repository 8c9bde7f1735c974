//! The Action Center: Overview, Actions, Notifications and Archived, with filters kept in the
//! URL, archive and unarchive, bulk archive and paging. Server HTML: the filters are a GET
//! form, the buttons forms posting to the item server functions; the lists and the overview
//! are live regions the bell island refreshes when the user's items change.

use leptos::prelude::*;
use leptos_router::components::{A, Outlet};
use leptos_router::hooks::use_query_map;
use server_fn::ServerFn;

use super::item::{BULK_ARCHIVE_FORM, CardControls, ItemCard, WORKSPACES, category_name, workspace_label};
use super::live::POLLING_NOTICE;
use super::query_string;
use crate::i18n::*;
use crate::items::{
    ArchiveItem, ArchiveSelected, Category, Counts, ItemFilter, ItemView, Kind, Order, UnarchiveItem,
    get_overview, list_items,
};

/// The frame of every Action Center view (the server sends users who have not done first-run
/// setup there instead).
#[component]
pub fn ActionCenter() -> impl IntoView {
    let i18n = use_i18n();
    let tab = "rounded-md px-3 py-2 text-sm font-medium text-slate-700 hover:bg-slate-100 aria-[current=page]:bg-blue-700 aria-[current=page]:text-white focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600";
    view! {
        <h1 class="text-2xl font-semibold">{tu_string!(i18n, app_name)}</h1>
        <nav aria-label=tu_string!(i18n, action_center_nav) class="mt-4 flex flex-wrap gap-1 border-b border-slate-200 pb-2">
            <A href="/action-center" exact=true attr:class=tab>{tu_string!(i18n, overview)}</A>
            <A href="/action-center/actions" attr:class=tab>{tu_string!(i18n, actions)}</A>
            <A href="/action-center/notifications" attr:class=tab>{tu_string!(i18n, notifications)}</A>
            <A href="/action-center/archived" attr:class=tab>{tu_string!(i18n, archived)}</A>
        </nav>
        // Shown by the bell island while live updates fall back to polling.
        <p id=POLLING_NOTICE hidden class="mt-2 text-sm text-slate-600">{tu_string!(i18n, live_polling)}</p>
        <div class="mt-4">
            <Outlet />
        </div>
    }
}

/// Counts by category, the next due actions and the latest notifications.
#[component]
pub fn Overview() -> impl IntoView {
    let i18n = use_i18n();
    let overview = Resource::new(|| (), |_| get_overview());
    let tile = |label: &'static str, value: i64, testid: &'static str| {
        view! {
            <div class="rounded-lg border border-slate-200 bg-white p-4">
                <p class="text-sm text-slate-600">{label}</p>
                <p class="text-2xl font-semibold" data-testid=testid>{value}</p>
            </div>
        }
    };
    let summary = |items: Vec<ItemView>, empty: &'static str| {
        if items.is_empty() {
            view! { <p class="mt-2 text-sm text-slate-600">{empty}</p> }.into_any()
        } else {
            view! {
                <div class="mt-2 space-y-3">
                    {items.into_iter().map(|item| view! { <ItemCard item /> }).collect_view()}
                </div>
            }
            .into_any()
        }
    };
    view! {
        <div id="overview" data-live-region="">
            <Suspense fallback=|| ()>
                {move || overview.get().map(|o| match o {
                    Ok(o) => {
                        let c: Counts = o.counts;
                        view! {
                            <section aria-labelledby="glance">
                                <h2 id="glance" class="text-lg font-semibold">{tu_string!(i18n, counts_heading)}</h2>
                                <div class="mt-2 grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-6">
                                    {tile(tu_string!(i18n, mandatory), c.mandatory, "count-mandatory")}
                                    {tile(tu_string!(i18n, recommended), c.recommended, "count-recommended")}
                                    {tile(tu_string!(i18n, overdue_count), c.overdue_actions, "count-overdue")}
                                    {tile(tu_string!(i18n, transactional), c.transactional, "count-transactional")}
                                    {tile(tu_string!(i18n, promotional), c.promotional, "count-promotional")}
                                    {tile(tu_string!(i18n, unread_count), c.unread_notifications, "count-unread")}
                                </div>
                            </section>
                            <div class="mt-6 grid gap-6 lg:grid-cols-2">
                                <section aria-labelledby="next-due">
                                    <h2 id="next-due" class="text-lg font-semibold">{tu_string!(i18n, next_due)}</h2>
                                    {summary(o.next_due, tu_string!(i18n, empty_actions))}
                                </section>
                                <section aria-labelledby="recent">
                                    <h2 id="recent" class="text-lg font-semibold">{tu_string!(i18n, recent_notifications)}</h2>
                                    {summary(o.recent, tu_string!(i18n, empty_notifications))}
                                </section>
                            </div>
                        }
                        .into_any()
                    }
                    Err(e) => {
                        super::respond_with(&e);
                        view! { <p role="alert" class="text-red-800">{e.to_string()}</p> }.into_any()
                    }
                })}
            </Suspense>
        </div>
    }
}

/// Which list a view shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListKind {
    Actions,
    Notifications,
    Archived,
}

impl ListKind {
    fn path(self) -> &'static str {
        match self {
            ListKind::Actions => "/action-center/actions",
            ListKind::Notifications => "/action-center/notifications",
            ListKind::Archived => "/action-center/archived",
        }
    }

    fn categories(self) -> &'static [Category] {
        match self {
            ListKind::Actions => &[Category::Mandatory, Category::Recommended],
            ListKind::Notifications => &[Category::Transactional, Category::Promotional],
            ListKind::Archived => &Category::ALL,
        }
    }

    fn filter(self, workspace: Option<String>, category: Option<Category>) -> ItemFilter {
        let (kind, order, archived) = match self {
            ListKind::Actions => (Some(Kind::Action), Order::DueDate, false),
            ListKind::Notifications => (Some(Kind::Notification), Order::Newest, false),
            ListKind::Archived => (None, Order::Newest, true),
        };
        let category = category.filter(|c| self.categories().contains(c));
        ItemFilter {
            kind,
            order,
            archived,
            workspace,
            category,
            limit: Some(20),
            ..Default::default()
        }
    }
}

/// A filterable, pageable list of the user's items.
#[component]
pub fn ItemList(kind: ListKind) -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map().get_untracked();
    let workspace = query
        .get("workspace")
        .filter(|w| WORKSPACES.contains(&w.as_str()));
    let category = query.get("category").and_then(|c| Category::parse(&c));
    let cursor = query.get("cursor").filter(|c| !c.is_empty());
    let filter = ItemFilter {
        cursor: cursor.clone(),
        ..kind.filter(workspace.clone(), category)
    };
    let page = Resource::new(move || filter.clone(), list_items);
    // An archive the server refused comes back in the URL.
    let failure = [
        (super::refusal::<ArchiveItem>(), tu_string!(i18n, archive_failed)),
        (
            super::refusal::<UnarchiveItem>(),
            tu_string!(i18n, unarchive_failed),
        ),
        (
            super::refusal::<ArchiveSelected>(),
            tu_string!(i18n, archive_failed),
        ),
    ]
    .into_iter()
    .find_map(|(error, prefix)| error.map(|e| format!("{prefix} {e}")));
    let path = kind.path();
    // The filters a next-page link keeps.
    let kept: Vec<(&'static str, String)> = [
        ("workspace", workspace.clone()),
        ("category", category.map(|c| c.as_str().to_string())),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| (k, v)))
    .collect();
    let empty_text = match kind {
        ListKind::Actions => tu_string!(i18n, empty_actions),
        ListKind::Notifications => tu_string!(i18n, empty_notifications),
        ListKind::Archived => tu_string!(i18n, empty_archived),
    };
    let controls = match kind {
        ListKind::Archived => CardControls::Unarchive,
        _ => CardControls::Archive,
    };
    let select_class = "mt-1 block rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600";
    let button_class = "rounded-md bg-slate-800 px-3 py-1.5 text-sm font-medium text-white focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600";
    view! {
        <div class="flex flex-wrap items-end gap-4">
            <form method="get" action=path class="flex flex-wrap items-end gap-4">
                <div>
                    <label for="filter-workspace" class="block text-sm font-medium">{tu_string!(i18n, workspace)}</label>
                    <select id="filter-workspace" name="workspace" class=select_class>
                        <option value="" selected=workspace.is_none()>{tu_string!(i18n, all_workspaces)}</option>
                        {WORKSPACES
                            .into_iter()
                            .map(|w| view! {
                                <option value=w selected=workspace.as_deref() == Some(w)>{workspace_label(i18n, w)}</option>
                            })
                            .collect_view()}
                    </select>
                </div>
                <div>
                    <label for="filter-category" class="block text-sm font-medium">{tu_string!(i18n, category)}</label>
                    <select id="filter-category" name="category" class=select_class>
                        <option value="" selected=category.is_none()>{tu_string!(i18n, all_categories)}</option>
                        {kind
                            .categories()
                            .iter()
                            .map(|c| view! {
                                <option value=c.as_str() selected=category == Some(*c)>{category_name(i18n, *c)}</option>
                            })
                            .collect_view()}
                    </select>
                </div>
                <button type="submit" class=button_class>{tu_string!(i18n, apply_filters)}</button>
            </form>
            {(kind != ListKind::Archived).then(|| view! {
                <form id=BULK_ARCHIVE_FORM method="post" action=ArchiveSelected::url()>
                    <button type="submit" class=button_class>{tu_string!(i18n, archive_selected)}</button>
                </form>
            })}
        </div>
        {failure.map(|f| view! { <p role="alert" class="mt-3 rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">{f}</p> })}
        <div id=crate::items::ITEM_LIST data-live-region="">
            <Suspense fallback=|| ()>
                {move || page.get().map(|p| match p {
                    Err(e) => {
                        super::respond_with(&e);
                        view! { <p role="alert" class="mt-4 text-red-800">{e.to_string()}</p> }.into_any()
                    }
                    Ok(p) => {
                        let empty = p.items.is_empty();
                        let next = p.next_cursor.map(|c| {
                            let mut pairs = kept.clone();
                            pairs.push(("cursor", c));
                            format!("{path}?{}", query_string(&pairs))
                        });
                        let first = cursor.is_some().then(|| match kept.is_empty() {
                            true => path.to_string(),
                            false => format!("{path}?{}", query_string(&kept)),
                        });
                        view! {
                            <div class="mt-4 space-y-3" data-testid="item-list">
                                {p.items.into_iter().map(|item| view! { <ItemCard item controls /> }).collect_view()}
                                {empty.then(|| view! {
                                    <p class="rounded-lg border border-dashed border-slate-300 p-6 text-center text-slate-600" data-testid="empty">{empty_text}</p>
                                })}
                                <nav class="flex gap-4 text-sm" aria-label=tu_string!(i18n, pages)>
                                    {first.map(|href| view! { <a href=href class="font-medium text-blue-800 underline">{tu_string!(i18n, first_page)}</a> })}
                                    {next.map(|href| view! { <a href=href class="font-medium text-blue-800 underline">{tu_string!(i18n, next_page)}</a> })}
                                </nav>
                            </div>
                        }
                        .into_any()
                    }
                })}
            </Suspense>
        </div>
    }
}
