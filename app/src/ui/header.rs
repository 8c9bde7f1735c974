//! The header on every page: the product, the language switcher, and for a signed-in user
//! the bell with its live badge and pane, their name and sign-out.

use leptos::html;
use leptos::prelude::*;

use super::item::{CategoryLabel, DueLabel};
use super::live::LiveStore;
use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::i18n::*;
use crate::items::{get_bell_pane, item_counts};

#[component]
pub fn Header(user: Resource<Result<Option<CurrentUser>, AppError>>) -> impl IntoView {
    let i18n = use_i18n();
    // Resources are created here, before any Suspense decides what to show, so the server and
    // the browser create them in the same order (hydration matches them by that order).
    let live = LiveStore::get();
    let open = RwSignal::new(false);
    let counts = Resource::new(|| (), |_| item_counts());
    let pane = Resource::new(
        move || (open.get(), live.revision.get()),
        |(open, _)| async move { if open { Some(get_bell_pane().await) } else { None } },
    );
    let bell = BellState { open, counts, pane };
    view! {
        <header class="border-b border-slate-200 bg-white">
            <div class="mx-auto flex max-w-5xl flex-wrap items-center justify-between gap-3 px-4 py-3">
                <a href="/action-center" class="text-lg font-semibold text-slate-900">{tu_string!(i18n, app_name)}</a>
                <div class="flex items-center gap-3">
                    <LanguageSwitcher />
                    <Suspense fallback=|| ()>
                        {move || {
                            user.get()
                                .and_then(|u| u.ok().flatten())
                                .map(|u| view! { <SignedIn user=u bell /> })
                        }}
                    </Suspense>
                </div>
            </div>
        </header>
    }
}

/// English or Dutch. The server renders the page in the language of the `i18n_pref_locale`
/// cookie (the first guess comes from the browser); a switch writes the cookie and reloads,
/// so the text of the page is plain strings rather than a reactive view per string (a
/// smaller bundle; see docs/benchmarks.md).
#[component]
fn LanguageSwitcher() -> impl IntoView {
    let i18n = use_i18n();
    let current = i18n.get_locale_untracked();
    let on_change = move |ev: leptos::ev::Event| {
        let locale = match event_target_value(&ev).as_str() {
            "nl" => Locale::nl,
            _ => Locale::en,
        };
        remember_language(locale);
    };
    view! {
        <label for="ui-language" class="sr-only">{tu_string!(i18n, language)}</label>
        <select
            id="ui-language"
            on:change=on_change
            class="rounded-md border border-slate-300 bg-white px-2 py-1 text-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600"
        >
            <option value="en" selected=current == Locale::en>{tu_string!(i18n, english)}</option>
            <option value="nl" selected=current == Locale::nl>{tu_string!(i18n, dutch)}</option>
        </select>
    }
}

/// The cookie the server reads the UI language from (leptos_i18n's name for it).
#[cfg(feature = "hydrate")]
const LANGUAGE_COOKIE: &str = "i18n_pref_locale";

/// Keeps the language for a year and shows the page again in it.
fn remember_language(locale: Locale) {
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
            locale.as_str()
        );
        if let Ok(document) = document().dyn_into::<web_sys::HtmlDocument>() {
            let _ = document.set_cookie(&cookie);
        }
        let _ = window.location().reload();
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = locale;
}

/// The bell's state and data, owned by the header.
#[derive(Clone, Copy)]
struct BellState {
    open: RwSignal<bool>,
    counts: Resource<Result<crate::items::Counts, AppError>>,
    pane: Resource<Option<Result<crate::items::BellPane, AppError>>>,
}

#[component]
fn SignedIn(user: CurrentUser, bell: BellState) -> impl IntoView {
    let i18n = use_i18n();
    let live = LiveStore::get();
    // Only a signed-in page listens; the stream starts once the page is interactive.
    Effect::new(move |_| live.start());
    let is_admin = user.roles.iter().any(|r| r == crate::admin::ADMIN_ROLE);
    view! {
        <div class="flex items-center gap-3">
            {is_admin.then(|| view! {
                <a href="/admin" class="text-sm font-medium text-blue-800 underline">{tu_string!(i18n, admin_link)}</a>
            })}
            <Bell state=bell />
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

/// The bell: a badge with the pending actions and a pane with them and the latest unread
/// notifications. Escape closes the pane and puts focus back on the bell.
#[component]
fn Bell(state: BellState) -> impl IntoView {
    let i18n = use_i18n();
    let live = LiveStore::get();
    let BellState {
        open,
        counts: initial,
        pane,
    } = state;
    let button = NodeRef::<html::Button>::new();
    let pending = move || {
        live.counts
            .get()
            .or_else(|| initial.get().and_then(|r| r.ok()))
            .map(|c| c.pending_actions)
    };
    let close = move || {
        open.set(false);
        if let Some(b) = button.get() {
            let _ = b.focus();
        }
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" && open.get_untracked() {
            ev.prevent_default();
            close();
        }
    };
    view! {
        <div class="relative" on:keydown=on_keydown>
            <button
                type="button"
                node_ref=button
                aria-label=tu_string!(i18n, notifications)
                aria-expanded=move || open.get().to_string()
                aria-controls="bell-pane"
                on:click=move |_| open.update(|o| *o = !*o)
                class="relative rounded-full p-2 text-slate-700 hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600"
            >
                <svg aria-hidden="true" viewBox="0 0 24 24" class="h-6 w-6" fill="none" stroke="currentColor" stroke-width="1.8">
                    <path d="M15 17h5l-1.4-1.4A2 2 0 0 1 18 14.2V11a6 6 0 1 0-12 0v3.2c0 .5-.2 1-.6 1.4L4 17h5m6 0a3 3 0 1 1-6 0m6 0H9" />
                </svg>
                {move || {
                        pending()
                            .filter(|n| *n > 0)
                            .map(|n| {
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
                    }}
            </button>
            <p class="sr-only" role="status" aria-live="polite" data-testid="badge-announcement">
                {move || pending().map(|n| format!("{n} {}", tu_string!(i18n, pending_actions_announcement)))}
            </p>
            <Show when=move || open.get()>
                // A click outside the pane closes it.
                <div class="fixed inset-0 z-10" aria-hidden="true" on:click=move |_| open.set(false)></div>
                <div
                    id="bell-pane"
                    role="region"
                    aria-label=tu_string!(i18n, notifications)
                    class="absolute right-0 z-20 mt-2 w-[min(24rem,calc(100vw-2rem))] rounded-lg border border-slate-200 bg-white p-4 shadow-lg"
                >
                    <Transition fallback=move || view! { <p class="text-sm text-slate-600">{tu_string!(i18n, loading)}</p> }>
                        {move || pane.get().flatten().map(|p| match p {
                            Ok(p) => view! { <BellPaneContent actions=p.actions notifications=p.notifications /> }.into_any(),
                            Err(e) => view! { <p role="alert" class="text-sm text-red-800">{e.to_string()}</p> }.into_any(),
                        })}
                    </Transition>
                    <div class="mt-4 flex flex-wrap gap-3 border-t border-slate-200 pt-3 text-sm">
                        <a href="/action-center" class="font-medium text-blue-800 underline" on:click=move |_| open.set(false)>
                            {tu_string!(i18n, go_to_action_center)}
                        </a>
                        <a href="/preferences" class="font-medium text-blue-800 underline" on:click=move |_| open.set(false)>
                            {tu_string!(i18n, my_preferences)}
                        </a>
                    </div>
                </div>
            </Show>
        </div>
    }
}

#[component]
fn BellPaneContent(
    actions: Vec<crate::items::ItemView>,
    notifications: Vec<crate::items::ItemView>,
) -> impl IntoView {
    let i18n = use_i18n();
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
