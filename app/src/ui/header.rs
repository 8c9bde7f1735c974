//! The header on every page: the product, the language switcher, and for a signed-in user
//! the bell with its live badge and pane, their name and sign-out.

use leptos::html;
use leptos::prelude::*;

use super::item::{CategoryLabel, DueLabel};
use super::store::ItemStore;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::i18n::*;
use crate::items::{BELL_NOTIFICATIONS, BellPane, ItemFilter, Kind, Order, get_bell_pane};
use crate::live::Followed;

#[component]
pub fn Header(frame: super::PageResource<Result<super::Frame, AppError>>) -> impl IntoView {
    let i18n = use_i18n();
    // Made here, once, not in the bell: the closure below runs again on the server as each
    // resource resolves, so the bell is made again each time; a resource or a suspense
    // boundary in it would take another hydration id each run, in an order the browser, which
    // runs it once, does not repeat.
    let pane = PaneData::new();
    view! {
        <header class="border-b border-slate-200 bg-white">
            <div class="mx-auto flex max-w-5xl flex-wrap items-center justify-between gap-3 px-4 py-3">
                <a href="/action-center" class="text-lg font-semibold text-slate-900">{tu_string!(i18n, app_name)}</a>
                <div class="flex items-center gap-3">
                    <LanguageSwitcher />
                    <Suspense fallback=|| ()>
                        {move || {
                            frame.get().and_then(Result::ok).and_then(|frame| {
                                let (pending, resume) = (frame.pending_actions, frame.log_position);
                                frame.user.map(|user| view! { <SignedIn user pending resume pane /> })
                            })
                        }}
                    </Suspense>
                </div>
            </div>
        </header>
    }
}

/// English or Dutch. The server renders the page in the language of the `i18n_pref_locale`
/// cookie (the first guess comes from the browser); a switch writes the cookie and reloads,
/// the one document load the UI makes on purpose: every text of the page changes.
#[component]
fn LanguageSwitcher() -> impl IntoView {
    let i18n = use_i18n();
    let current = i18n.tag();
    let on_change = move |ev: leptos::ev::Event| remember_language(&event_target_value(&ev));
    view! {
        <label for="ui-language" class="sr-only">{tu_string!(i18n, language)}</label>
        <select
            id="ui-language"
            on:change=on_change
            class="rounded-md border border-slate-300 bg-white px-2 py-1 text-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600"
        >
            <option value="en" selected=current == "en">{tu_string!(i18n, english)}</option>
            <option value="nl" selected=current == "nl">{tu_string!(i18n, dutch)}</option>
        </select>
    }
}

/// The cookie the server reads the UI language from (`auth::session::UI_LANGUAGE_COOKIE`).
#[cfg(feature = "hydrate")]
const LANGUAGE_COOKIE: &str = "i18n_pref_locale";

/// Keeps the language for a year and shows the page again in it.
fn remember_language(locale: &str) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let window = window();
        let secure = if window.location().protocol().as_deref() == Ok("https:") {
            "; Secure"
        } else {
            ""
        };
        let cookie = format!(
            "{LANGUAGE_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax{secure}",
            if locale == "nl" { "nl" } else { "en" }
        );
        if let Ok(document) = document().dyn_into::<web_sys::HtmlDocument>() {
            let _ = document.set_cookie(&cookie);
        }
        let _ = window.location().reload();
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = locale;
}

#[component]
fn SignedIn(user: CurrentUser, pending: Option<i64>, resume: Option<i64>, pane: PaneData) -> impl IntoView {
    let i18n = use_i18n();
    let is_admin = user.roles.iter().any(|r| r == crate::admin::ADMIN_ROLE);
    // The stream starts once the page is hydrated, and runs as long as the page does.
    Effect::new(move |_| super::live::start(ItemStore::get(), resume));
    view! {
        <div class="flex items-center gap-3">
            {is_admin.then(|| view! {
                <a href="/admin" class="text-sm font-medium text-blue-800 underline">{tu_string!(i18n, admin_link)}</a>
            })}
            <Bell pending pane />
            <div class="hidden text-right leading-tight sm:block">
                <p class="font-medium" data-testid="user-name">{user.display_name.clone()}</p>
                <p class="text-sm text-slate-600">{format!("{} · {}", user.email, user.org_name)}</p>
            </div>
            <form method="post" action="/sign-out">
                <button
                    type="submit"
                    class="rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600"
                >
                    {tu_string!(i18n, sign_out)}
                </button>
            </form>
        </div>
    }
}

/// The bell pane's content, fetched in the browser when the pane first opens (`opened`), again
/// when the store asks every view to refetch, and kept current by the store in between. Not a
/// resource: the server never renders it, and a resource read in the pane would suspend the
/// header around the bell (losing the bell's focus) each time it loads.
#[derive(Clone, Copy)]
struct PaneData {
    opened: RwSignal<bool>,
    /// `None` until the first answer.
    pane: RwSignal<Option<Result<BellPane, AppError>>>,
    /// What shows an answer, from the pane's own wasm file (`load_pane`).
    render: RwSignal<Option<PaneView>>,
}

/// Shows the pane's content.
type PaneView = fn(BellPane) -> AnyView;

/// Fetches the pane's content and what shows it. Its code (the call of `get_bell_pane` and the
/// pane's view) is a wasm file of its own in the release build: nobody needs it before the
/// bell is first opened, so the page is interactive without it.
#[leptos::lazy]
async fn load_pane() -> (Result<BellPane, AppError>, PaneView) {
    let show: PaneView = |pane| view! { <BellPaneContent pane /> }.into_any();
    (get_bell_pane().await, show)
}

impl PaneData {
    fn new() -> PaneData {
        let store = ItemStore::get();
        let opened = RwSignal::new(false);
        let pane = RwSignal::new(None);
        let render = RwSignal::new(None);
        let reload = RwSignal::new(0u64);
        // Only the newest request's answer is shown.
        let latest = StoredValue::new(0u64);
        Effect::new(move |_| {
            store.generation.track();
            reload.track();
            if !opened.get() {
                return;
            }
            let request = latest.get_value() + 1;
            latest.set_value(request);
            leptos::task::spawn_local(async move {
                let (answer, show) = load_pane().await;
                if latest.try_get_value() == Some(request) {
                    render.try_set(Some(show));
                    pane.try_set(Some(answer));
                }
            });
        });
        let actions = bell_actions();
        let notes = bell_notifications();
        store.follow(move |changes| {
            let mut refetch = false;
            pane.update(|pane| {
                if let Some(Ok(p)) = pane {
                    for change in changes {
                        let a = crate::live::follow(&mut p.actions, false, &actions, change);
                        let n = crate::live::follow(&mut p.notifications, true, &notes, change);
                        refetch |= a == Followed::Refetch || n == Followed::Refetch;
                    }
                }
            });
            if refetch {
                reload.update(|r| *r += 1);
            }
        });
        PaneData { opened, pane, render }
    }
}

/// The bell: a badge with the pending actions (from the item store, so it follows the live
/// stream) and a pane with them and the latest unread notifications, fetched when it first
/// opens and then kept current by the store. Without the wasm the button opens `/bell`, the
/// pane as a page of its own. Escape closes the pane and puts focus back on the bell.
#[component]
fn Bell(pending: Option<i64>, pane: PaneData) -> impl IntoView {
    let i18n = use_i18n();
    let store = ItemStore::get();
    let open = RwSignal::new(false);
    let PaneData { opened, pane, render } = pane;
    let button = NodeRef::<html::Button>::new();
    let close = move || {
        open.set(false);
        if let Some(b) = button.get_untracked() {
            let _ = b.focus();
        }
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" && open.get_untracked() {
            ev.prevent_default();
            close();
        }
    };
    // Without the wasm the button submits its form and the pane opens as a page of its own.
    let toggle = move |ev: leptos::ev::MouseEvent| {
        ev.prevent_default();
        open.update(|o| *o = !*o);
        opened.set(true);
    };
    let pending = move || store.counts.get().map(|c| c.pending_actions).or(pending);
    let badge = move || {
        pending().filter(|n| *n > 0).map(|n| {
            view! {
                <span
                    data-testid="badge"
                    aria-hidden="true"
                    class="absolute -right-0.5 -top-0.5 min-w-5 rounded-full bg-red-700 px-1.5 text-center text-xs font-semibold leading-5 text-white"
                >
                    {n}
                </span>
            }
        })
    };
    let announcement = tu_string!(i18n, pending_actions_announcement);
    // A link in the pane closes it (the page changes under it without a reload).
    let on_pane_click = move |ev: leptos::ev::MouseEvent| {
        use leptos::wasm_bindgen::JsCast;
        let link = ev
            .target()
            .and_then(|t| t.dyn_into::<leptos::web_sys::Element>().ok())
            .and_then(|e| e.closest("a").ok().flatten());
        if link.is_some() {
            open.set(false);
        }
    };
    view! {
        <div class="relative" on:keydown=on_keydown>
            <form method="get" action="/bell" class="contents">
            <button
                type="submit"
                node_ref=button
                aria-label=tu_string!(i18n, notifications)
                aria-expanded=move || open.get().to_string()
                aria-controls="bell-pane"
                on:click=toggle
                class="relative rounded-full p-2 text-slate-700 hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600"
            >
                <svg aria-hidden="true" viewBox="0 0 24 24" class="h-6 w-6" fill="none" stroke="currentColor" stroke-width="1.8">
                    <path d="M15 17h5l-1.4-1.4A2 2 0 0 1 18 14.2V11a6 6 0 1 0-12 0v3.2c0 .5-.2 1-.6 1.4L4 17h5m6 0a3 3 0 1 1-6 0m6 0H9" />
                </svg>
                {badge}
            </button>
            </form>
            <p class="sr-only" role="status" aria-live="polite" data-testid="badge-announcement">
                {move || pending().map(|n| format!("{n} {announcement}"))}
            </p>
            // A click outside the pane closes it.
            <div class="fixed inset-0 z-10" aria-hidden="true" hidden=move || !open.get() on:click=move |_| open.set(false)></div>
            <div
                id="bell-pane"
                role="region"
                aria-label=tu_string!(i18n, notifications)
                hidden=move || !open.get()
                on:click=on_pane_click
                class="absolute right-0 z-20 mt-2 w-[min(24rem,calc(100vw-2rem))] rounded-lg border border-slate-200 bg-white p-4 shadow-lg"
            >
                <div id="bell-pane-content">
                    // While a new answer loads, the last one stays.
                    {move || match (pane.get(), render.get()) {
                        (Some(Ok(p)), Some(show)) => show(p),
                        (Some(Err(e)), _) => view! { <p role="alert" class="text-sm text-red-800">{super::error_text(i18n, &e)}</p> }.into_any(),
                        _ => view! { <p class="text-sm text-slate-600">{tu_string!(i18n, loading)}</p> }.into_any(),
                    }}
                </div>
                <div class="mt-4 flex flex-wrap gap-3 border-t border-slate-200 pt-3 text-sm">
                    <a href="/action-center" class="font-medium text-blue-800 underline">{tu_string!(i18n, go_to_action_center)}</a>
                    <a href="/preferences" class="font-medium text-blue-800 underline">{tu_string!(i18n, my_preferences)}</a>
                </div>
            </div>
        </div>
    }
}

/// The lists the bell pane holds, as the store follows them.
fn bell_actions() -> ItemFilter {
    ItemFilter {
        kind: Some(Kind::Action),
        order: Order::DueDate,
        ..Default::default()
    }
}

fn bell_notifications() -> ItemFilter {
    ItemFilter {
        kind: Some(Kind::Notification),
        ..Default::default()
    }
}

/// The bell pane as a page of its own, for a browser without the wasm.
#[component]
pub fn BellPanePage() -> impl IntoView {
    let i18n = use_i18n();
    let pane = super::page_resource(|| (), |_| get_bell_pane());
    view! {
        <h1 class="mb-4 text-2xl font-semibold">{tu_string!(i18n, notifications)}</h1>
        <div id="bell-pane-page">
            <Suspense fallback=|| ()>
                {move || pane.get().map(|p| match p {
                    Ok(p) => view! { <BellPaneContent pane=p /> }.into_any(),
                    Err(e) => {
                        super::respond_with(&e);
                        view! { <p role="alert" class="text-sm text-red-800">{super::error_text(i18n, &e)}</p> }.into_any()
                    }
                })}
            </Suspense>
        </div>
    }
}

#[component]
fn BellPaneContent(pane: BellPane) -> impl IntoView {
    let i18n = use_i18n();
    let now = crate::items::now();
    let BellPane {
        mut actions,
        notifications,
    } = pane;
    actions.sort_by(|a, b| a.bell_order(b, now));
    let notifications: Vec<_> = notifications
        .into_iter()
        .filter(|n| !n.read)
        .take(BELL_NOTIFICATIONS)
        .collect();
    let no_actions = actions.is_empty();
    let no_notes = notifications.is_empty();
    view! {
        <h2 class="text-sm font-semibold text-slate-900">{tu_string!(i18n, pending_actions)}</h2>
        {no_actions.then(|| view! { <p class="mt-1 text-sm text-slate-600">{tu_string!(i18n, no_pending_actions)}</p> })}
        <ul class="mt-2 max-h-64 space-y-2 overflow-y-auto" data-testid="bell-actions">
            {actions
                .into_iter()
                .map(|item| {
                    let href = item.link.clone().unwrap_or_else(|| "/action-center/actions".into());
                    view! {
                        <li class="rounded-md border border-slate-100 p-2">
                            <a href=href class="text-sm font-medium text-slate-900 underline-offset-2 hover:underline">{item.title.clone()}</a>
                            <div class="mt-1 flex flex-wrap gap-2 text-xs">
                                <CategoryLabel category=item.category />
                                <DueLabel item=item.clone() />
                            </div>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
        <h2 class="mt-4 text-sm font-semibold text-slate-900">{tu_string!(i18n, latest_notifications)}</h2>
        {no_notes.then(|| view! { <p class="mt-1 text-sm text-slate-600">{tu_string!(i18n, no_unread_notifications)}</p> })}
        <ul class="mt-2 space-y-2" data-testid="bell-notifications">
            {notifications
                .into_iter()
                .map(|item| view! {
                    <li class="text-sm">
                        <a href=item.link.clone().unwrap_or_else(|| "/action-center/notifications".into()) class="text-slate-900 hover:underline">
                            {item.title.clone()}
                        </a>
                    </li>
                })
                .collect_view()}
        </ul>
    }
}
