//! The pages and the frame around them, rendered on the server. Only the islands (the bell
//! with the live stream, the language switcher) run in the browser; forms post to server
//! functions, which send the browser back to the page (with the error, if any, in the URL).

mod action_center;
mod admin;
mod format;
mod header;
mod item;
pub mod live;
mod setup;
mod sign_in;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::{SsrMode, path};

use crate::auth::get_current_user;
use crate::i18n::*;
use action_center::{ActionCenter, ItemList, ListKind, Overview};

/// The Content Security Policy of a page: scripts only from this site, plus the inline
/// hydration scripts that carry this response's nonce; no framing.
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) && let Ok(value) = http::HeaderValue::from_str(&page_csp(&nonce))
    {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <AutoReload options=options.clone() />
                <HydrationScripts options islands=true />
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
    let user = Resource::new(|| (), |_| get_current_user());
    view! {
        <Stylesheet id="leptos" href="/pkg/action-center.css" />
        <Title text="Action Center" />
        <I18nContextProvider>
            <Router>
                <header::Header user />
                <main id="main" class="mx-auto w-full max-w-5xl px-4 py-6">
                    <Routes fallback=|| view! { <NotFound /> }>
                        // Pages render whole (SsrMode::Async): the live island swaps in parts of
                        // them, and a page that streams would not have them yet.
                        <Route path=path!("/") view=|| view! { <Redirect path="/action-center" /> } />
                        <Route path=path!("/sign-in") view=sign_in::SignIn ssr=SsrMode::Async />
                        <Route path=path!("/setup") view=setup::Setup ssr=SsrMode::Async />
                        <Route path=path!("/preferences") view=setup::PreferencesPage ssr=SsrMode::Async />
                        <Route path=path!("/bell") view=header::BellPanePage ssr=SsrMode::Async />
                        <Route path=path!("/admin") view=admin::AdminPage ssr=SsrMode::Async />
                        <Route path=path!("/admin/audit") view=admin::AuditTrailPage ssr=SsrMode::Async />
                        <ParentRoute path=path!("/action-center") view=ActionCenter ssr=SsrMode::Async>
                            <Route path=path!("") view=Overview ssr=SsrMode::Async />
                            <Route path=path!("actions") view=|| view! { <ItemList kind=ListKind::Actions /> } ssr=SsrMode::Async />
                            <Route path=path!("notifications") view=|| view! { <ItemList kind=ListKind::Notifications /> } ssr=SsrMode::Async />
                            <Route path=path!("archived") view=|| view! { <ItemList kind=ListKind::Archived /> } ssr=SsrMode::Async />
                        </ParentRoute>
                    </Routes>
                </main>
            </Router>
        </I18nContextProvider>
    }
}

/// On the server, gives the page the HTTP status of the error it shows (403 for a page the
/// user may not see, and so on).
pub(crate) fn respond_with(err: &crate::error::AppError) {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>()
        && let Ok(status) = http::StatusCode::from_u16(err.status())
    {
        response.set_status(status);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = err;
}

/// What the browser checks an email field against before it posts the form (the server's rule,
/// `orgs::normalize_email`: a dot in the domain, none at its ends, no whitespace), so that the
/// common mistakes are caught with what was typed still in the form.
pub(crate) const EMAIL_PATTERN: &str = r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+";

/// Why the server refused a form posted to the server function `S`, when this page load is the
/// browser coming back from it (Leptos puts the refusal in the URL).
pub(crate) fn refusal<S>() -> Option<crate::error::AppError>
where
    S: server_fn::ServerFn<Error = crate::error::AppError> + Clone + Send + Sync + 'static,
    S::Output: Send + Sync + 'static,
{
    ServerAction::<S>::new()
        .value()
        .with_untracked(|answer| answer.as_ref().and_then(|r| r.as_ref().err().cloned()))
}

/// `k=v&k=v`, form-encoded, for the links and redirects that carry filters and cursors.
pub fn query_string(pairs: &[(&str, String)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

#[component]
fn NotFound() -> impl IntoView {
    let i18n = use_i18n();
    #[cfg(feature = "ssr")]
    {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::NOT_FOUND);
        }
    }
    view! {
        <h1 class="text-2xl font-semibold">{tu_string!(i18n, not_found)}</h1>
        <p class="mt-2">
            <a class="text-blue-800 underline" href="/action-center">{tu_string!(i18n, back_home)}</a>
        </p>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_carry_any_value() {
        let pairs = [
            ("workspace", "billing".to_string()),
            ("cursor", "a b&c=d/é".to_string()),
        ];
        let encoded = query_string(&pairs);
        assert!(
            !encoded.contains(' ') && encoded.matches('&').count() == 1,
            "{encoded}"
        );
        let decoded: Vec<(String, String)> = serde_urlencoded::from_str(&encoded).unwrap();
        assert_eq!(decoded, pairs.map(|(k, v)| (k.to_string(), v)));
    }
}
