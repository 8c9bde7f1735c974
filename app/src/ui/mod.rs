//! The pages and the frame around them.

mod header;
mod home;
pub mod live;
mod sign_in;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::auth::get_current_user;

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body class="min-h-screen bg-slate-50 text-slate-900 antialiased">
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    live::LiveStore::provide();
    let user = Resource::new(|| (), |_| get_current_user());
    view! {
        <Stylesheet id="leptos" href="/pkg/action-center.css" />
        <Title text="Action Center" />
        <Router>
            <header::Header user />
            <main id="main" class="mx-auto w-full max-w-5xl px-4 py-6">
                <Routes fallback=|| view! { <NotFound /> }>
                    <Route path=path!("/") view=move || view! { <home::Home user /> } />
                    <Route path=path!("/sign-in") view=sign_in::SignIn />
                </Routes>
            </main>
        </Router>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <h1 class="text-2xl font-semibold">"Page not found"</h1>
        <p class="mt-2">
            <a class="text-blue-700 underline" href="/">"Back to the start page"</a>
        </p>
    }
}
