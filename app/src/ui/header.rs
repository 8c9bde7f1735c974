use leptos::prelude::*;

use crate::auth::CurrentUser;
use crate::error::AppError;
use crate::items::item_counts;
use crate::ui::live::LiveStore;

/// The header on every page: the product, the signed-in user, the bell and sign-out.
#[component]
pub fn Header(user: Resource<Result<Option<CurrentUser>, AppError>>) -> impl IntoView {
    view! {
        <header class="border-b border-slate-200 bg-white">
            <div class="mx-auto flex max-w-5xl items-center justify-between gap-4 px-4 py-3">
                <a href="/" class="text-lg font-semibold text-slate-900">"Action Center"</a>
                <Suspense fallback=|| ()>
                    {move || {
                        user.get()
                            .and_then(|u| u.ok().flatten())
                            .map(|u| view! { <SignedIn user=u /> })
                    }}
                </Suspense>
            </div>
        </header>
    }
}

#[component]
fn SignedIn(user: CurrentUser) -> impl IntoView {
    let live = LiveStore::get();
    // Only a signed-in page listens; the stream starts once the page is interactive.
    Effect::new(move |_| live.start());
    let initial = Resource::new(|| (), |_| item_counts());
    let pending = move || {
        live.counts
            .get()
            .or_else(|| initial.get().and_then(|r| r.ok()))
            .map(|c| c.pending_actions)
    };
    view! {
        <div class="flex items-center gap-3">
            // The bell: its badge is the number of pending actions; the pane comes with the Action Center UI.
            <button
                type="button"
                aria-label="Notifications"
                class="relative rounded-full p-2 text-slate-700 hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600"
            >
                <svg aria-hidden="true" viewBox="0 0 24 24" class="h-6 w-6" fill="none" stroke="currentColor" stroke-width="1.8">
                    <path d="M15 17h5l-1.4-1.4A2 2 0 0 1 18 14.2V11a6 6 0 1 0-12 0v3.2c0 .5-.2 1-.6 1.4L4 17h5m6 0a3 3 0 1 1-6 0m6 0H9" />
                </svg>
                <Suspense fallback=|| ()>
                    {move || {
                        pending()
                            .filter(|n| *n > 0)
                            .map(|n| {
                                view! {
                                    <span
                                        data-testid="badge"
                                        aria-hidden="true"
                                        class="absolute -right-0.5 -top-0.5 min-w-5 rounded-full bg-red-600 px-1.5 text-center text-xs font-semibold leading-5 text-white"
                                    >
                                        {n}
                                    </span>
                                }
                            })
                    }}
                </Suspense>
            </button>
            <p class="sr-only" role="status" aria-live="polite" data-testid="badge-announcement">
                <Suspense fallback=|| ()>
                    {move || pending().map(|n| match n {
                        1 => "1 pending action".to_string(),
                        n => format!("{n} pending actions"),
                    })}
                </Suspense>
            </p>
            <div class="text-right leading-tight">
                <p class="font-medium" data-testid="user-name">{user.display_name.clone()}</p>
                <p class="text-sm text-slate-600">{format!("{} · {}", user.email, user.org_name)}</p>
            </div>
            <form method="post" action="/sign-out">
                <button
                    type="submit"
                    class="rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600"
                >
                    "Sign out"
                </button>
            </form>
        </div>
    }
}
