//! The Action Center: Overview, Actions, Notifications and Archived, with filters kept in the
//! URL, archive and unarchive, bulk archive and paging. Each view loads its items through a
//! server function and then follows the item store, so the stream's changes show in place.
//! Every control is also a plain form or link, which works before (and without) the wasm.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::{A, Outlet};
use leptos_router::hooks::{use_navigate, use_query_map};
use server_fn::ServerFn;

use super::item::{BULK_ARCHIVE_FORM, CardControls, ItemCard, category_name, workspace_label};
use super::query_string;
use super::shortcuts::{SEARCH_FIELD, Shortcuts};
use super::store::ItemStore;
use crate::error::AppError;
use crate::i18n::*;
use crate::items::{
    ArchiveAll, ArchiveItem, ArchiveSelected, Category, ItemFilter, ItemId, ItemPage, ItemView, Kind,
    MarkAllRead, MarkRead, OVERVIEW_ITEMS, Order, SnoozeItem, UnarchiveItem,
};
use crate::live::{Change, Followed, Removal};

/// The frame of every Action Center view (the server sends users who have not done first-run
/// setup there instead; so does the app, for a user who navigates here in the page).
#[component]
pub fn ActionCenter() -> impl IntoView {
    let i18n = use_i18n();
    let store = ItemStore::get();
    super::require_setup();
    // Read once for every list under the Action Center.
    provide_context(WorkspaceCatalog(super::page_resource(
        || (),
        |_| super::fetch::workspaces(),
    )));
    let tab = "rounded-md px-3 py-2 text-sm font-medium text-slate-700 hover:bg-slate-100 aria-[current=page]:bg-blue-700 aria-[current=page]:text-white focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600";
    view! {
        <h1 class="text-2xl font-semibold">{tu_string!(i18n, app_name)}</h1>
        <nav aria-label=tu_string!(i18n, action_center_nav) class="mt-4 flex flex-wrap gap-1 border-b border-slate-200 pb-2">
            <A href="/action-center" exact=true attr:class=tab>{tu_string!(i18n, overview)}</A>
            <A href="/action-center/actions" attr:class=tab>{tu_string!(i18n, actions)}</A>
            <A href="/action-center/notifications" attr:class=tab>{tu_string!(i18n, notifications)}</A>
            <A href="/action-center/archived" attr:class=tab>{tu_string!(i18n, archived)}</A>
        </nav>
        <p id="live-polling" hidden=move || !store.polling.get() class="mt-2 text-sm text-slate-600">{tu_string!(i18n, live_polling)}</p>
        <div class="mt-4">
            <Outlet />
        </div>
    }
}

/// The workspaces a list can be filtered by (the catalog is configurable, so it comes from
/// the server).
#[derive(Clone, Copy)]
struct WorkspaceCatalog(super::PageResource<Result<Vec<crate::items::Workspace>, AppError>>);

/// Counts by category, the next due actions and the latest notifications.
#[component]
pub fn Overview() -> impl IntoView {
    let i18n = use_i18n();
    let store = ItemStore::get();
    let overview = super::page_resource(move || store.generation.get(), |_| super::fetch::overview());
    let due = ItemFilter {
        kind: Some(Kind::Action),
        order: Order::DueDate,
        ..Default::default()
    };
    let recent = ItemFilter {
        kind: Some(Kind::Notification),
        ..Default::default()
    };
    store.follow_resource(overview, move |o, change| {
        let Ok(o) = o else { return Followed::Unchanged };
        let mut outcome = Followed::Unchanged;
        for (items, filter) in [(&mut o.next_due, &due), (&mut o.recent, &recent)] {
            let full = items.len() >= OVERVIEW_ITEMS as usize;
            let followed = crate::live::follow(items, false, filter, change);
            // A full list that lost an item may have more to show than it holds.
            let short = full && items.len() < OVERVIEW_ITEMS as usize;
            outcome = match (followed, short) {
                (Followed::Refetch, _) | (_, true) => Followed::Refetch,
                (Followed::Changed, _) => Followed::Changed,
                _ => outcome,
            };
        }
        outcome
    });
    let tile = move |label: &'static str, value: fn(&crate::items::Counts) -> i64, testid: &'static str| {
        let count = move || {
            store
                .counts
                .get()
                .or_else(|| overview.get().and_then(|o| o.ok()).map(|o| o.counts))
                .map(|c| value(&c))
        };
        view! {
            <div class="rounded-lg border border-slate-200 bg-white p-4">
                <p class="text-sm text-slate-600">{label}</p>
                <p class="text-2xl font-semibold" data-testid=testid>{count}</p>
            </div>
        }
    };
    let summary = |items: Vec<ItemView>, empty: &'static str| {
        let items: Vec<ItemView> = items.into_iter().take(OVERVIEW_ITEMS as usize).collect();
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
        <div id="overview">
            <Transition fallback=|| ()>
                {move || overview.get().map(|o| match o {
                    Ok(o) => view! {
                        <section aria-labelledby="glance">
                            <h2 id="glance" class="text-lg font-semibold">{tu_string!(i18n, counts_heading)}</h2>
                            <div class="mt-2 grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-6">
                                {tile(tu_string!(i18n, mandatory), |c| c.mandatory, "count-mandatory")}
                                {tile(tu_string!(i18n, recommended), |c| c.recommended, "count-recommended")}
                                {tile(tu_string!(i18n, overdue_count), |c| c.overdue_actions, "count-overdue")}
                                {tile(tu_string!(i18n, transactional), |c| c.transactional, "count-transactional")}
                                {tile(tu_string!(i18n, promotional), |c| c.promotional, "count-promotional")}
                                {tile(tu_string!(i18n, unread_count), |c| c.unread_notifications, "count-unread")}
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
                    .into_any(),
                    Err(e) => {
                        super::respond_with(&e);
                        view! { <p role="alert" class="text-red-800">{super::error_text(i18n, &e)}</p> }.into_any()
                    }
                })}
            </Transition>
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

/// What a list's controls do in the page: the user's own actions on items, shown at once
/// (optimistically) and undone, with the reason in words, when the server refuses them.
#[derive(Clone, Copy)]
pub struct ListActions {
    store: ItemStore,
    i18n: UiLanguage,
    /// Items ticked for "Archive selected" (at most a page of them: a list, not a set, keeps
    /// the B-tree's code out of the bundle).
    pub selected: RwSignal<Vec<ItemId>>,
    /// Why the last action was refused.
    pub refusal: RwSignal<Option<String>>,
    /// What the last action on the whole list did ("Items archived: 3").
    pub done: RwSignal<Option<String>>,
}

impl ListActions {
    /// Archives or unarchives the item whose id the form posted (`item` is the card's, shown
    /// changed at once when it is that one). Keyboard focus goes on from the item now at its
    /// place (see `focus`).
    pub fn archive(self, item_id: ItemId, item: ItemView, archive: bool) {
        let i18n = self.i18n;
        let (prefix, reason) = match archive {
            true => (tu_string!(i18n, archive_failed), Removal::Archived),
            false => (tu_string!(i18n, unarchive_failed), Removal::Archived),
        };
        self.refusal.set(None);
        self.selected.update(|s| s.retain(|id| id != &item_id));
        let shown = item.id == item_id;
        // Archiving takes it out of the open lists; unarchiving out of the Archived view.
        let gone = match archive {
            true => Change::ItemRemoved {
                item_id: item.id.clone(),
                reason,
            },
            false => Change::ItemChanged {
                item: ItemView {
                    archived: false,
                    ..item.clone()
                },
            },
        };
        if shown {
            self.store.apply_local(std::slice::from_ref(&gone));
        }
        let request = match archive {
            true => ListRequest::Archive(item_id),
            false => ListRequest::Unarchive(item_id),
        };
        leptos::task::spawn_local(async move {
            if let Err(e) = send(request).await {
                // Back where it was, with the reason.
                if shown {
                    self.store.apply_local(&[Change::ItemAdded { item }]);
                }
                self.refusal
                    .set(Some(format!("{prefix} {}", super::error_text(i18n, &e))));
            }
        });
    }

    /// Archives every ticked item.
    pub fn archive_selected(self) {
        let i18n = self.i18n;
        let ids: Vec<ItemId> = self.selected.get_untracked();
        self.refusal.set(None);
        if ids.is_empty() {
            self.refusal.set(Some(format!(
                "{} {}",
                tu_string!(i18n, archive_failed),
                tu_string!(i18n, select_first)
            )));
            return;
        }
        self.selected.set(Vec::new());
        let gone: Vec<Change> = ids
            .iter()
            .map(|id| Change::ItemRemoved {
                item_id: id.clone(),
                reason: Removal::Archived,
            })
            .collect();
        self.store.apply_local(&gone);
        leptos::task::spawn_local(async move {
            if let Err(e) = send(ListRequest::ArchiveSelected(ids)).await {
                // Some may have been archived: the list as the server has it, and the reason.
                self.store.refetch_all();
                self.refusal.set(Some(format!(
                    "{} {}",
                    tu_string!(i18n, archive_failed),
                    super::error_text(i18n, &e)
                )));
            }
        });
    }

    /// Snoozes the item whose id the form posted for `minutes` (`item`: the card's, as for
    /// `archive`): out of the list at once, back in it live when the snooze ends.
    pub fn snooze(self, item_id: ItemId, item: ItemView, minutes: u32) {
        let i18n = self.i18n;
        self.refusal.set(None);
        self.selected.update(|s| s.retain(|id| id != &item_id));
        let shown = item.id == item_id;
        if shown {
            self.store.apply_local(&[Change::ItemRemoved {
                item_id: item.id.clone(),
                reason: Removal::Archived,
            }]);
        }
        leptos::task::spawn_local(async move {
            if let Err(e) = send(ListRequest::Snooze(item_id, minutes)).await {
                if shown {
                    self.store.apply_local(&[Change::ItemAdded { item }]);
                }
                self.refusal.set(Some(format!(
                    "{} {}",
                    tu_string!(i18n, snooze_failed),
                    super::error_text(i18n, &e)
                )));
            }
        });
    }

    /// Marks read, or archives, every item of the list as `filter` selects it (the server
    /// finds them; `shown` are the ones on the page, changed at once). Says how many changed.
    pub fn whole_list(self, filter: ItemFilter, shown: Vec<ItemView>, archive: bool) {
        let i18n = self.i18n;
        self.refusal.set(None);
        self.done.set(None);
        self.selected.set(Vec::new());
        let changes: Vec<Change> = shown
            .into_iter()
            .filter_map(|item| match archive {
                true => item.can_be_archived().then_some(Change::ItemRemoved {
                    item_id: item.id,
                    reason: Removal::Archived,
                }),
                false => (!item.read).then_some(Change::ItemChanged {
                    item: ItemView { read: true, ..item },
                }),
            })
            .collect();
        self.store.apply_local(&changes);
        leptos::task::spawn_local(async move {
            match send(ListRequest::WholeList { filter, archive }).await {
                Ok(count) => {
                    let template = match archive {
                        true => tu_string!(i18n, archived_count),
                        false => tu_string!(i18n, marked_read_count),
                    };
                    self.done
                        .set(Some(super::fill(template, &[("count", &count.to_string())])));
                }
                Err(e) => {
                    // Nothing or some of it was done: the lists as the server has them.
                    self.store.refetch_all();
                    let prefix = match archive {
                        true => tu_string!(i18n, archive_failed),
                        false => "",
                    };
                    let reason = super::error_text(i18n, &e);
                    self.refusal
                        .set(Some(format!("{prefix} {reason}").trim().to_string()));
                }
            }
        });
    }

    /// Marks the item whose id the form posted read (`item`: the card's, as for `archive`).
    pub fn mark_read(self, item_id: ItemId, item: ItemView) {
        let i18n = self.i18n;
        let shown = item.id == item_id;
        if shown {
            self.store.apply_local(&[Change::ItemChanged {
                item: ItemView {
                    read: true,
                    ..item.clone()
                },
            }]);
        }
        leptos::task::spawn_local(async move {
            if let Err(e) = send(ListRequest::MarkRead(item_id)).await {
                if shown {
                    self.store.apply_local(&[Change::ItemChanged { item }]);
                }
                self.refusal.set(Some(super::error_text(i18n, &e)));
            }
        });
    }
}

/// What a list's control asks of the server.
pub enum ListRequest {
    Archive(ItemId),
    Unarchive(ItemId),
    ArchiveSelected(Vec<ItemId>),
    /// The item, for so many minutes.
    Snooze(ItemId, u32),
    MarkRead(ItemId),
    /// Archive, or mark read, every item `filter` selects.
    WholeList {
        filter: ItemFilter,
        archive: bool,
    },
}

/// Sends what a list's control asks through its server function; answers how many items it
/// changed. Its code (the callers of seven server functions) is a wasm file of its own in the
/// release build: the browser needs it only once the user acts, so it is fetched after the
/// page is interactive (`ListActions::preload`), not before.
#[leptos::lazy]
async fn send(request: ListRequest) -> Result<usize, AppError> {
    use crate::items;
    match request {
        ListRequest::Archive(id) => items::archive_item(id).await.map(|_| 1),
        ListRequest::Unarchive(id) => items::unarchive_item(id).await.map(|_| 1),
        ListRequest::ArchiveSelected(ids) => {
            let count = ids.len();
            items::archive_selected(Some(ids)).await.map(|()| count)
        }
        ListRequest::Snooze(id, minutes) => items::snooze_item(id, Some(minutes), None).await.map(|_| 1),
        ListRequest::MarkRead(id) => items::mark_read(id).await.map(|_| 1),
        ListRequest::WholeList { filter, archive } => {
            let ItemFilter {
                kind,
                workspace,
                category,
                search,
                unread,
                ..
            } = filter;
            match archive {
                true => items::archive_all(kind, workspace, category, search, Some(unread)).await,
                false => items::mark_all_read(kind, workspace, category, search, Some(unread)).await,
            }
        }
    }
}

/// A filterable, pageable list of the user's items.
#[component]
pub fn ItemList(kind: ListKind) -> impl IntoView {
    let i18n = use_i18n();
    let store = ItemStore::get();
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        query.with(|q| {
            // An unknown workspace matches nothing; the server checks the rest.
            let workspace = q.get("workspace").filter(|w| !w.is_empty());
            let category = q.get("category").and_then(|c| Category::parse(&c));
            ItemFilter {
                cursor: q.get("cursor").filter(|c| !c.is_empty()),
                search: q.get("q").filter(|s| !s.trim().is_empty()),
                unread: q.get("unread").is_some_and(|u| u == "1"),
                ..kind.filter(workspace, category)
            }
        })
    });
    let page = super::page_resource(
        move || (filter.get(), store.generation.get()),
        |(f, _)| super::fetch::list(f),
    );
    store.follow_resource(page, move |page, change| match page {
        Ok(page) => page.follow(&filter.get_untracked(), change),
        Err(_) => Followed::Unchanged,
    });
    let actions = ListActions {
        store,
        i18n,
        selected: RwSignal::new(Vec::new()),
        refusal: RwSignal::new(None),
        done: RwSignal::new(None),
    };
    provide_context(actions);
    // The controls' code (`send`) is fetched once the list is interactive, in a task of its own.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        gloo_timers::callback::Timeout::new(0, || {
            leptos::lazy_preload!(send);
        })
        .forget();
    });
    // Without the wasm, an action the server refused comes back in the URL.
    let posted_refusal = [
        (super::refusal::<ArchiveItem>(), tu_string!(i18n, archive_failed)),
        (
            super::refusal::<UnarchiveItem>(),
            tu_string!(i18n, unarchive_failed),
        ),
        (
            super::refusal::<ArchiveSelected>(),
            tu_string!(i18n, archive_failed),
        ),
        (super::refusal::<MarkRead>(), ""),
        (super::refusal::<MarkAllRead>(), ""),
        (super::refusal::<SnoozeItem>(), tu_string!(i18n, snooze_failed)),
        (super::refusal::<ArchiveAll>(), tu_string!(i18n, archive_failed)),
    ]
    .into_iter()
    .find_map(|(error, prefix)| {
        error.map(|e| {
            format!("{prefix} {}", super::error_text(i18n, &e))
                .trim()
                .to_string()
        })
    });
    actions.refusal.set(posted_refusal);
    let path = kind.path();
    let workspace = move || filter.with(|f| f.workspace.clone());
    let category = move || filter.with(|f| f.category);
    let search = move || filter.with(|f| f.search.clone());
    let unread = move || filter.with(|f| f.unread);
    // The filters a next-page link keeps.
    let kept = move || -> Vec<(&'static str, String)> {
        [
            ("workspace", workspace()),
            ("category", category().map(|c| c.as_str().to_string())),
            ("q", search()),
            ("unread", unread().then(|| "1".to_string())),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
    };
    let empty_text = match kind {
        ListKind::Actions => tu_string!(i18n, empty_actions),
        ListKind::Notifications => tu_string!(i18n, empty_notifications),
        ListKind::Archived => tu_string!(i18n, empty_archived),
    };
    let controls = match kind {
        ListKind::Archived => CardControls::Unarchive,
        _ => CardControls::Archive,
    };
    let navigate = use_navigate();
    // The filter form navigates in the page; without the wasm it is a plain GET form.
    let on_filter = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let pairs: Vec<(&'static str, String)> = ["workspace", "category", "q", "unread"]
            .into_iter()
            .filter_map(|name| {
                let value = super::form_value(&ev, name)?;
                (!value.is_empty()).then_some((name, value))
            })
            .collect();
        let href = match pairs.is_empty() {
            true => path.to_string(),
            false => format!("{path}?{}", query_string(&pairs)),
        };
        navigate(
            &href,
            NavigateOptions {
                scroll: false,
                ..Default::default()
            },
        );
    };
    let on_bulk = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        actions.archive_selected();
    };
    let shown = move || {
        page.get_untracked()
            .and_then(Result::ok)
            .map(|p: ItemPage| p.items)
            .unwrap_or_default()
    };
    let on_whole_list = move |archive: bool| {
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            actions.whole_list(filter.get_untracked(), shown(), archive);
        }
    };
    // The list a whole-list form acts on, as hidden fields (the server reads the same filter).
    let list_fields = move || {
        let kind = filter.with(|f| f.kind.map(|k| k.as_str()));
        [
            ("kind", kind.map(str::to_string)),
            ("workspace", workspace()),
            ("category", category().map(|c| c.as_str().to_string())),
            ("search", search()),
            ("unread", unread().then(|| "true".to_string())),
        ]
        .into_iter()
        .filter_map(|(name, value)| {
            value.map(|value| view! { <input type="hidden" name=name value=value /> })
        })
        .collect_view()
    };
    let select_class = "mt-1 block rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600";
    let button_class = "rounded-md bg-slate-800 px-3 py-1.5 text-sm font-medium text-white focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600";
    view! {
        <div class="flex flex-wrap items-end gap-4">
            <form method="get" action=path on:submit=on_filter class="flex flex-wrap items-end gap-4">
                <div>
                    <label for="filter-workspace" class="block text-sm font-medium">{tu_string!(i18n, workspace)}</label>
                    <select id="filter-workspace" name="workspace" class=select_class>
                        <option value="" selected=move || workspace().is_none()>{tu_string!(i18n, all_workspaces)}</option>
                        <Suspense>
                            {move || Suspend::new(async move {
                                let catalog = expect_context::<WorkspaceCatalog>().0.await.unwrap_or_default();
                                catalog
                                    .into_iter()
                                    .map(|w| {
                                        let label = workspace_label(i18n, &w);
                                        let chosen = w.clone();
                                        view! {
                                            <option value=w selected=move || workspace().as_deref() == Some(chosen.as_str())>{label}</option>
                                        }
                                    })
                                    .collect_view()
                            })}
                        </Suspense>
                    </select>
                </div>
                <div>
                    <label for="filter-category" class="block text-sm font-medium">{tu_string!(i18n, category)}</label>
                    <select id="filter-category" name="category" class=select_class>
                        <option value="" selected=move || category().is_none()>{tu_string!(i18n, all_categories)}</option>
                        {kind
                            .categories()
                            .iter()
                            .map(|c| view! {
                                <option value=c.as_str() selected=move || category() == Some(*c)>{category_name(i18n, *c)}</option>
                            })
                            .collect_view()}
                    </select>
                </div>
                <div>
                    <label for=SEARCH_FIELD class="block text-sm font-medium">{tu_string!(i18n, search)}</label>
                    <input
                        id=SEARCH_FIELD
                        type="search"
                        name="q"
                        maxlength="200"
                        prop:value=move || search().unwrap_or_default()
                        class="mt-1 block w-48 rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600"
                    />
                </div>
                // Read and unread is what notifications show (an action is done, not read).
                {(kind == ListKind::Notifications).then(|| view! {
                    <label class="flex items-center gap-2 pb-1.5 text-sm font-medium">
                        <input type="checkbox" name="unread" value="1" prop:checked=unread class="h-4 w-4 rounded border-slate-400" />
                        {tu_string!(i18n, unread_only)}
                    </label>
                })}
                <button type="submit" class=button_class>{tu_string!(i18n, apply_filters)}</button>
            </form>
            {(kind != ListKind::Archived).then(|| view! {
                <form id=BULK_ARCHIVE_FORM method="post" action=ArchiveSelected::url() on:submit=on_bulk>
                    <button type="submit" class=button_class>{tu_string!(i18n, archive_selected)}</button>
                </form>
                {(kind == ListKind::Notifications).then(|| view! {
                    <form method="post" action=MarkAllRead::url() on:submit=on_whole_list(false)>
                        {list_fields}
                        <button type="submit" class=button_class>{tu_string!(i18n, mark_all_read)}</button>
                    </form>
                })}
                <form method="post" action=ArchiveAll::url() on:submit=on_whole_list(true)>
                    {list_fields}
                    <button type="submit" class=button_class>{tu_string!(i18n, archive_all)}</button>
                </form>
            })}
            <div class="ml-auto">
                <Shortcuts />
            </div>
        </div>
        <p role="status" data-testid="list-status" class="mt-3 text-sm text-slate-700 empty:hidden">
            {move || actions.done.get()}
        </p>
        {move || actions.refusal.get().map(|f| view! {
            <p role="alert" class="mt-3 rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">{f}</p>
        })}
        <div id=crate::items::ITEM_LIST tabindex="-1" class="focus:outline-none">
            <Transition fallback=|| ()>
                {move || page.get().map(|p| match p {
                    Err(e) => {
                        super::respond_with(&e);
                        view! { <p role="alert" class="mt-4 text-red-800">{super::error_text(i18n, &e)}</p> }.into_any()
                    }
                    Ok(p) => {
                        let empty = p.items.is_empty();
                        let kept = kept();
                        let next = p.next_cursor.map(|c| {
                            let mut pairs = kept.clone();
                            pairs.push(("cursor", c));
                            format!("{path}?{}", query_string(&pairs))
                        });
                        let first = filter.with_untracked(|f| f.cursor.is_some()).then(|| match kept.is_empty() {
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
            </Transition>
        </div>
    }
}
