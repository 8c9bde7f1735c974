use leptos::prelude::*;

use crate::auth::CurrentUser;
use crate::error::AppError;

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
    view! {
        <div class="flex items-center gap-3">
            // The bell: the pending-action badge and its pane arrive with the items feature.
            <button
                type="button"
                aria-label="Notifications"
                class="rounded-full p-2 text-slate-700 hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600"
            >
                <svg aria-hidden="true" viewBox="0 0 24 24" class="h-6 w-6" fill="none" stroke="currentColor" stroke-width="1.8">
                    <path d="M15 17h5l-1.4-1.4A2 2 0 0 1 18 14.2V11a6 6 0 1 0-12 0v3.2c0 .5-.2 1-.6 1.4L4 17h5m6 0a3 3 0 1 1-6 0m6 0H9" />
                </svg>
            </button>
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
