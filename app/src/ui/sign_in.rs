use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::i18n::*;

/// The sign-in form. It posts to the server's `/sign-in` handler, so it works before
/// (and without) hydration; a failed attempt comes back here with `?error`.
#[component]
pub fn SignIn() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let failed = move || query.read().get("error").is_some();
    let input = "mt-1 block w-full rounded-md border border-slate-300 px-3 py-2 focus:border-blue-600 focus:outline-none focus:ring-2 focus:ring-blue-600";
    view! {
        <section class="mx-auto mt-8 max-w-sm rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
            <h1 class="text-2xl font-semibold">{tu_string!(i18n, sign_in)}</h1>
            <p class="mt-1 text-sm text-slate-600">{tu_string!(i18n, sign_in_intro)}</p>
            <Show when=failed>
                <p role="alert" class="mt-4 rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">{tu_string!(i18n, bad_credentials)}</p>
            </Show>
            <form method="post" action="/sign-in" class="mt-4 space-y-4">
                <div>
                    <label for="email" class="block text-sm font-medium">{tu_string!(i18n, email)}</label>
                    <input id="email" name="email" type="email" autocomplete="username" required class=input />
                </div>
                <div>
                    <label for="password" class="block text-sm font-medium">{tu_string!(i18n, password)}</label>
                    <input id="password" name="password" type="password" autocomplete="current-password" required class=input />
                </div>
                <button
                    type="submit"
                    class="w-full rounded-md bg-blue-700 px-4 py-2 font-medium text-white hover:bg-blue-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600 focus-visible:ring-offset-2"
                >
                    {tu_string!(i18n, sign_in)}
                </button>
            </form>
        </section>
    }
}
