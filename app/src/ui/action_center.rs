//! The Action Center: Overview, Actions, Notifications and Archived, with filters kept in the
//! URL, optimistic archive and unarchive, bulk archive and paging.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos_router::components::{A, Outlet};
use leptos_router::hooks::{use_navigate, use_query_map};

use super::item::{ItemCard, WORKSPACES, category_name, workspace_label};
use super::live::LiveStore;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::i18n::*;
use crate::items::{
    Category, Counts, ItemFilter, ItemView, Kind, Order, archive_item, get_overview, list_items, mark_read,
    unarchive_item,
};

/// The frame of every Action Center view; users who have not done first-run setup go there.
#[component]
pub fn ActionCenter(user: Resource<Result<Option<CurrentUser>, AppError>>) -> impl IntoView {
    let i18n = use_i18n();
    // Client-side navigation must respect first-run setup too (the server guards page loads).
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(Some(u))) = user.get()
            && !u.setup_completed
        {
            navigate("/setup", Default::default());
        }
    });
    let tab = "rounded-md px-3 py-2 text-sm font-medium text-slate-700 hover:bg-slate-100 aria-[current=page]:bg-blue-700 aria-[current=page]:text-white focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600";
    view! {
        <h1 class="text-2xl font-semibold">{tu_string!(i18n, app_name)}</h1>
        <nav aria-label=tu_string!(i18n, action_center_nav) class="mt-4 flex flex-wrap gap-1 border-b border-slate-200 pb-2">
            <A href="/action-center" exact=true attr:class=tab>{tu_string!(i18n, overview)}</A>
            <A href="/action-center/actions" attr:class=tab>{tu_string!(i18n, actions)}</A>
            <A href="/action-center/notifications" attr:class=tab>{tu_string!(i18n, notifications)}</A>
            <A href="/action-center/archived" attr:class=tab>{tu_string!(i18n, archived)}</A>
        </nav>
        <PollingNotice />
        <div class="mt-4">
            <Outlet />
        </div>
    }
}

#[component]
fn PollingNotice() -> impl IntoView {
    let i18n = use_i18n();
    let live = LiveStore::get();
    view! {
        <Show when=move || live.connection.get() == super::live::Connection::Polling>
            <p class="mt-2 text-sm text-slate-600">{tu_string!(i18n, live_polling)}</p>
        </Show>
    }
}

/// Counts by category, the next due actions and the latest notifications.
#[component]
pub fn Overview() -> impl IntoView {
    let i18n = use_i18n();
    let live = LiveStore::get();
    // One resource and one boundary: the page hydrates from a single piece of server data.
    let overview = Resource::new(move || live.revision.get(), |_| get_overview());
    let tile = |label: String, value: i64, testid: &'static str| {
        view! {
            <div class="rounded-lg border border-slate-200 bg-white p-4">
                <p class="text-sm text-slate-600">{label}</p>
                <p class="text-2xl font-semibold" data-testid=testid>{value}</p>
            </div>
        }
    };
    let summary = |items: Vec<ItemView>, empty: String| {
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
        <Transition fallback=move || view! { <p>{tu_string!(i18n, loading)}</p> }>
            {move || overview.get().map(|o| match o {
                Ok(o) => {
                    let c: Counts = o.counts;
                    view! {
                        <section aria-labelledby="glance">
                            <h2 id="glance" class="text-lg font-semibold">{tu_string!(i18n, counts_heading)}</h2>
                            <div class="mt-2 grid grid-cols-2 gap-3 sm:grid-cols-3 lg:grid-cols-6">
                                {tile(tu_string!(i18n, mandatory).to_string(), c.mandatory, "count-mandatory")}
                                {tile(tu_string!(i18n, recommended).to_string(), c.recommended, "count-recommended")}
                                {tile(tu_string!(i18n, overdue_count).to_string(), c.overdue_actions, "count-overdue")}
                                {tile(tu_string!(i18n, transactional).to_string(), c.transactional, "count-transactional")}
                                {tile(tu_string!(i18n, promotional).to_string(), c.promotional, "count-promotional")}
                                {tile(tu_string!(i18n, unread_count).to_string(), c.unread_notifications, "count-unread")}
                            </div>
                        </section>
                        <div class="mt-6 grid gap-6 lg:grid-cols-2">
                            <section aria-labelledby="next-due">
                                <h2 id="next-due" class="text-lg font-semibold">{tu_string!(i18n, next_due)}</h2>
                                {summary(o.next_due, tu_string!(i18n, empty_actions).to_string())}
                            </section>
                            <section aria-labelledby="recent">
                                <h2 id="recent" class="text-lg font-semibold">{tu_string!(i18n, recent_notifications)}</h2>
                                {summary(o.recent, tu_string!(i18n, empty_notifications).to_string())}
                            </section>
                        </div>
                    }
                    .into_any()
                }
                Err(e) => view! { <p role="alert" class="text-red-800">{e.to_string()}</p> }.into_any(),
            })}
        </Transition>
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
    let live = LiveStore::get();
    let query = use_query_map();
    let navigate = use_navigate();
    let workspace = move || {
        query
            .read()
            .get("workspace")
            .filter(|w| WORKSPACES.contains(&w.as_str()))
    };
    let category = move || query.read().get("category").and_then(|c| Category::parse(&c));
    let filter = Memo::new(move |_| kind.filter(workspace(), category()));
    // Refetched when the filter or the user's items change (a new UI language reloads the page).
    let page = Resource::new(
        move || (filter.get(), live.revision.get()),
        |(f, _)| list_items(f),
    );

    // Optimistic state on top of what the server last said.
    let hidden = RwSignal::new(BTreeSet::<String>::new());
    let more = RwSignal::new(Vec::<ItemView>::new());
    let next = RwSignal::new(None::<String>);
    let selected = RwSignal::new(BTreeSet::<String>::new());
    let failure = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(p)) = page.get() {
            more.set(vec![]);
            next.set(p.next_cursor.clone());
            hidden.set(BTreeSet::new());
            selected.set(BTreeSet::new());
        }
    });

    let set_query = move |key: &'static str, value: String| {
        let mut pairs: Vec<(String, String)> = [
            ("workspace", workspace()),
            ("category", category().map(|c| c.as_str().to_string())),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
        .filter(|(k, _)| k != key)
        .collect();
        if !value.is_empty() {
            pairs.push((key.to_string(), value));
        }
        pairs.sort();
        let qs: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
        let path = match kind {
            ListKind::Actions => "/action-center/actions",
            ListKind::Notifications => "/action-center/notifications",
            ListKind::Archived => "/action-center/archived",
        };
        let url = if qs.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{}", qs.join("&"))
        };
        navigate(&url, Default::default());
    };
    let set_workspace = {
        let set_query = set_query.clone();
        move |ev: leptos::ev::Event| set_query("workspace", event_target_value(&ev))
    };
    let set_category = move |ev: leptos::ev::Event| set_query("category", event_target_value(&ev));

    // Archive at once in the page and the badge; put it back if the server refuses.
    let adjust_badge = move |item: &ItemView, delta: i64| {
        if item.kind == Kind::Action && item.status == crate::items::Status::Open {
            live.counts.update(|c| {
                if let Some(c) = c {
                    c.pending_actions = (c.pending_actions + delta).max(0);
                }
            });
        }
    };
    let archive = Callback::new(move |item: ItemView| {
        hidden.update(|h| {
            h.insert(item.id.clone());
        });
        selected.update(|s| {
            s.remove(&item.id);
        });
        adjust_badge(&item, -1);
        failure.set(None);
        leptos::task::spawn_local(async move {
            if let Err(e) = archive_item(item.id.clone()).await {
                hidden.update(|h| {
                    h.remove(&item.id);
                });
                adjust_badge(&item, 1);
                failure.set(Some(format!("{} {e}", tu_string!(i18n, archive_failed))));
            }
        });
    });
    let unarchive = Callback::new(move |item: ItemView| {
        hidden.update(|h| {
            h.insert(item.id.clone());
        });
        adjust_badge(&item, 1);
        failure.set(None);
        leptos::task::spawn_local(async move {
            if let Err(e) = unarchive_item(item.id.clone()).await {
                hidden.update(|h| {
                    h.remove(&item.id);
                });
                adjust_badge(&item, -1);
                failure.set(Some(format!("{} {e}", tu_string!(i18n, unarchive_failed))));
            }
        });
    });
    let open = Callback::new(move |item: ItemView| {
        if !item.read {
            leptos::task::spawn_local(async move {
                let _ = mark_read(item.id).await;
            });
        }
    });
    let visible = move || {
        let mut items = page
            .get()
            .and_then(|p| p.ok())
            .map(|p| p.items)
            .unwrap_or_default();
        items.extend(more.get());
        hidden.with(|h| items.retain(|i| !h.contains(&i.id)));
        items
    };
    let archive_selected = move |_| {
        let chosen = selected.get();
        for item in visible().into_iter().filter(|i| chosen.contains(&i.id)) {
            archive.run(item);
        }
    };
    let load_more = move |_| {
        let Some(cursor) = next.get() else { return };
        let f = ItemFilter {
            cursor: Some(cursor),
            ..filter.get()
        };
        leptos::task::spawn_local(async move {
            match list_items(f).await {
                Ok(p) => {
                    more.update(|m| m.extend(p.items));
                    next.set(p.next_cursor);
                }
                Err(e) => failure.set(Some(e.to_string())),
            }
        });
    };
    let empty_text = move || match kind {
        ListKind::Actions => tu_string!(i18n, empty_actions).to_string(),
        ListKind::Notifications => tu_string!(i18n, empty_notifications).to_string(),
        ListKind::Archived => tu_string!(i18n, empty_archived).to_string(),
    };
    let select_class = "mt-1 block rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600";
    view! {
        <div class="flex flex-wrap items-end gap-4">
            <div>
                <label for="filter-workspace" class="block text-sm font-medium">{tu_string!(i18n, workspace)}</label>
                <select id="filter-workspace" class=select_class on:change=set_workspace>
                    <option value="" selected=move || workspace().is_none()>{tu_string!(i18n, all_workspaces)}</option>
                    {WORKSPACES
                        .into_iter()
                        .map(|w| view! {
                            <option value=w selected=move || workspace().as_deref() == Some(w)>{workspace_label(i18n, w)}</option>
                        })
                        .collect_view()}
                </select>
            </div>
            <div>
                <label for="filter-category" class="block text-sm font-medium">{tu_string!(i18n, category)}</label>
                <select id="filter-category" class=select_class on:change=set_category>
                    <option value="" selected=move || category().is_none()>{tu_string!(i18n, all_categories)}</option>
                    {kind
                        .categories()
                        .iter()
                        .map(|c| {
                            let c = *c;
                            view! {
                                <option value=c.as_str() selected=move || category() == Some(c)>
                                    {category_name(i18n, c)}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </div>
            <Show when=move || kind != ListKind::Archived>
                <button
                    type="button"
                    on:click=archive_selected
                    disabled=move || selected.with(|s| s.is_empty())
                    class="rounded-md bg-slate-800 px-3 py-1.5 text-sm font-medium text-white disabled:cursor-not-allowed disabled:bg-slate-400 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600"
                >
                    {tu_string!(i18n, archive_selected)}
                </button>
            </Show>
        </div>
        {move || failure.get().map(|f| view! { <p role="alert" class="mt-3 rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">{f}</p> })}
        <Transition fallback=move || view! { <p class="mt-4">{tu_string!(i18n, loading)}</p> }>
            {move || page.get().map(|p| match p {
                Err(e) => view! {
                    <div role="alert" class="mt-4 text-red-800">
                        <p>{e.to_string()}</p>
                        <button type="button" class="mt-2 underline" on:click=move |_| page.refetch()>{tu_string!(i18n, try_again)}</button>
                    </div>
                }
                .into_any(),
                Ok(_) => view! {
                    <div class="mt-4 space-y-3" data-testid="item-list">
                        <For each=visible key=|i| (i.id.clone(), i.read, i.archived) let:item>
                            {match kind {
                                ListKind::Archived => view! { <ItemCard item on_unarchive=unarchive on_open=open /> }.into_any(),
                                _ => view! { <ItemCard item on_archive=archive selected on_open=open /> }.into_any(),
                            }}
                        </For>
                        <Show when=move || visible().is_empty()>
                            <p class="rounded-lg border border-dashed border-slate-300 p-6 text-center text-slate-600" data-testid="empty">{empty_text()}</p>
                        </Show>
                        <Show when=move || next.get().is_some()>
                            <button type="button" on:click=load_more class="rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-100">
                                {tu_string!(i18n, load_more)}
                            </button>
                        </Show>
                    </div>
                }
                .into_any(),
            })}
        </Transition>
    }
}
