//! The pages and the frame around them: a single-page app, rendered on the server and hydrated
//! whole in the browser, where `leptos_router` moves between the pages without loading a
//! document and one item store (`store::ItemStore`), fed by the live stream, keeps every view of
//! the user's items current. Every control is also a plain form or link, which posts to a
//! server function or loads a page when the wasm does not run.

mod action_center;
mod admin;
mod fetch;
mod focus;
mod format;
mod header;
mod item;
mod live;
mod schedule;
mod setup;
mod shortcuts;
mod sign_in;
pub mod store;

use leptos::prelude::*;
use leptos::server::codee::{Decoder, Encoder};
use leptos_meta::{Html, MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::{Lazy, LazyRoute, SsrMode, lazy_route, path};
use server_fn::error::ServerFnUrlError;

use crate::auth::CurrentUser;
use crate::error::{AppError, Refusal};
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
                <meta name="theme-color" content="#1d4ed8" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="manifest" href="/manifest.webmanifest" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <SplitLoaderPreload />
                <MetaTags />
            </head>
            <body class="min-h-screen bg-slate-50 text-slate-900 antialiased">
                <App />
            </body>
        </html>
    }
}

/// Has the browser fetch the lazy routes' loader with the main JS, which imports it: Leptos
/// preloads it only on a page that renders a lazy route, and on the others the browser found it
/// only once the main JS had arrived and been parsed, a round trip later (about 50 ms before
/// hydration, from the resource timing of a headless Chromium load). `WasmSplitManifest` is
/// what `HydrationScripts` provides when the build was split.
#[component]
fn SplitLoaderPreload() -> impl IntoView {
    use_context::<leptos::WasmSplitManifest>()
        .and_then(|manifest| {
            manifest
                .0
                .try_with_value(|(pkg, _, loader)| format!("{pkg}/{loader}"))
        })
        .map(|href| view! { <link rel="modulepreload" href=href /> })
}

/// How a page's data crosses from the server's render into the browser: JSON, like Leptos'
/// default codec, but read from bytes, as the server functions' answers are. serde_json makes
/// its reader per input kind, so with the default (`from_str`) the bundle held two readers for
/// every type both a resource and a server function carry (items, pages, `AppError`).
pub struct PageJson;

impl<T: serde::Serialize> Encoder<T> for PageJson {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, serde_json::Error> {
        serde_json::to_string(value)
    }
}

impl<T: serde::de::DeserializeOwned> Decoder<T> for PageJson {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(json: &str) -> Result<T, serde_json::Error> {
        serde_json::from_slice(json.as_bytes())
    }
}

/// A resource whose first value comes with the page (see `PageJson`).
pub type PageResource<T> = Resource<T, PageJson>;

/// Loads data for a view: rendered with the page on the server, then fetched again in the
/// browser whenever `source` changes.
pub(crate) fn page_resource<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> PageResource<T>
where
    T: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
    S: Send + Sync + Clone + PartialEq + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}

/// What the frame around every page shows: the signed-in user (or `None`) and their pending
/// actions, the bell's first badge (the store has them once the stream runs). One resource for
/// both, as every page renders both.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Frame {
    pub user: Option<CurrentUser>,
    pub pending_actions: Option<i64>,
    /// Where the organisation's event log stood when the page was rendered: the page's stream
    /// starts there, so a change made between the render and the stream's opening is not lost.
    pub log_position: Option<i64>,
}

/// The frame's data, for the header and the pages' guards.
#[derive(Clone, Copy)]
pub struct SignedInUser(pub PageResource<Result<Frame, AppError>>);

impl SignedInUser {
    /// The signed-in user, once the frame has loaded.
    pub fn user(self) -> Option<CurrentUser> {
        self.0.get().and_then(Result::ok).and_then(|frame| frame.user)
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let language = UiLanguage::of_page();
    language.provide();
    let frame = page_resource(|| (), |_| fetch::frame());
    provide_context(SignedInUser(frame));
    store::ItemStore::provide();
    let local_dates = format::LocalDates(RwSignal::new(false));
    provide_context(local_dates);
    // Runs once the page is hydrated: from then on dates are shown in the reader's locale.
    Effect::new(move |_| {
        local_dates.0.set(true);
        fetch::preload();
    });
    view! {
        <Stylesheet id="leptos" href="/pkg/action-center.css" />
        <Title text="Action Center" />
        <Html attr:lang=language.tag() attr:dir="ltr" />
            <Router>
                <header::Header frame />
                <main id="main" class="mx-auto w-full max-w-5xl px-4 py-6">
                    <Routes fallback=|| view! { <NotFound /> }>
                        // Pages render whole on the server (SsrMode::Async), so that the page
                        // is complete before the wasm arrives, and without it.
                        <Route path=path!("/") view=|| view! { <Redirect path="/action-center" /> } />
                        // The pages outside the Action Center are lazy routes: their code is a
                        // wasm file of its own, fetched when the page is first shown, so that the
                        // Action Center is interactive sooner (`lazy_pages!`). Its own pages are
                        // not: split off, a list page took twice as long to hydrate.
                        <Route path=path!("/sign-in") view={Lazy::<SignInRoute>::new()} ssr=SsrMode::Async />
                        <Route path=path!("/setup") view={Lazy::<SetupRoute>::new()} ssr=SsrMode::Async />
                        <Route path=path!("/preferences") view={Lazy::<PreferencesRoute>::new()} ssr=SsrMode::Async />
                        <Route path=path!("/bell") view={Lazy::<BellRoute>::new()} ssr=SsrMode::Async />
                        <Route path=path!("/admin") view={Lazy::<AdminRoute>::new()} ssr=SsrMode::Async />
                        <Route path=path!("/admin/audit") view={Lazy::<AuditTrailRoute>::new()} ssr=SsrMode::Async />
                        <ParentRoute path=path!("/action-center") view=ActionCenter ssr=SsrMode::Async>
                            <Route path=path!("") view=Overview ssr=SsrMode::Async />
                            <Route path=path!("actions") view=|| view! { <ItemList kind=ListKind::Actions /> } ssr=SsrMode::Async />
                            <Route path=path!("notifications") view=|| view! { <ItemList kind=ListKind::Notifications /> } ssr=SsrMode::Async />
                            <Route path=path!("archived") view=|| view! { <ItemList kind=ListKind::Archived /> } ssr=SsrMode::Async />
                        </ParentRoute>
                    </Routes>
                </main>
            </Router>
    }
}

/// The lazy pages. Each is its own type because `lazy_route` splits one `view` per type into
/// a wasm file of its own (`cargo leptos build --split`); the page's resources are made in the
/// view, so they hydrate in the order the server rendered them.
macro_rules! lazy_pages {
    ($($page:ident => $view:expr,)*) => {
        $(
            struct $page;

            #[lazy_route]
            impl LazyRoute for $page {
                fn data() -> Self {
                    $page
                }

                fn view(_this: Self) -> AnyView {
                    $view.into_any()
                }
            }
        )*
    };
}

lazy_pages! {
    SignInRoute => sign_in::SignIn(),
    SetupRoute => setup::Setup(),
    PreferencesRoute => setup::PreferencesPage(),
    BellRoute => header::BellPanePage(),
    AdminRoute => admin::AdminPage(),
    AuditTrailRoute => admin::AuditTrailPage(),
}

/// Sends a user who has not done first-run setup there (the server does the same for a page
/// it is asked for; this covers moving to an Action Center page inside the app).
pub(crate) fn require_setup() {
    let Some(signed_in) = use_context::<SignedInUser>() else {
        return;
    };
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if let Some(u) = signed_in.user()
            && !u.setup_completed
        {
            navigate(
                "/setup",
                leptos_router::NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
    });
}

/// An error from the server in the UI language.
pub(crate) fn error_text(i18n: UiLanguage, err: &AppError) -> String {
    match err {
        AppError::Unauthenticated => tu_string!(i18n, error_unauthenticated).to_string(),
        AppError::Forbidden => tu_string!(i18n, error_forbidden).to_string(),
        AppError::NotFound => tu_string!(i18n, error_not_found).to_string(),
        AppError::Internal => tu_string!(i18n, error_internal).to_string(),
        AppError::Transport(detail) => format!("{} ({detail})", tu_string!(i18n, error_transport)),
        AppError::Invalid(refusal) => refusal_text(i18n, refusal),
    }
}

fn refusal_text(i18n: UiLanguage, refusal: &Refusal) -> String {
    let text = |template: &str, values: &[(&str, &str)]| fill(template, values);
    match refusal {
        Refusal::MandatoryNotArchivable => text(tu_string!(i18n, refusal_mandatory_not_archivable), &[]),
        Refusal::MandatoryNotSnoozable => text(tu_string!(i18n, refusal_mandatory_not_snoozable), &[]),
        Refusal::NotAnAction => text(tu_string!(i18n, refusal_not_an_action), &[]),
        Refusal::AlreadyClosed => text(tu_string!(i18n, refusal_already_closed), &[]),
        Refusal::NothingSelected => text(tu_string!(i18n, refusal_nothing_selected), &[]),
        Refusal::TooManySelected { max } => text(
            tu_string!(i18n, refusal_too_many_selected),
            &[("max", &max.to_string())],
        ),
        Refusal::SomeNotArchived {
            refused,
            total,
            reason,
        } => text(
            tu_string!(i18n, refusal_some_not_archived),
            &[
                ("refused", &refused.to_string()),
                ("total", &total.to_string()),
                ("reason", &error_text(i18n, reason)),
            ],
        ),
        Refusal::JobFunctionTooLong => text(tu_string!(i18n, refusal_job_function_too_long), &[]),
        Refusal::LanguageNotOffered => text(tu_string!(i18n, refusal_language_not_offered), &[]),
        Refusal::EmailInvalid => text(tu_string!(i18n, refusal_email_invalid), &[]),
        Refusal::UnknownTimeZone => text(tu_string!(i18n, refusal_unknown_time_zone), &[]),
        Refusal::QuietHours => text(tu_string!(i18n, refusal_quiet_hours), &[]),
        Refusal::InAppLocked => text(tu_string!(i18n, refusal_in_app_locked), &[]),
        Refusal::ActionEmailLocked { category } => text(
            tu_string!(i18n, refusal_action_email_locked),
            &[("category", category)],
        ),
        Refusal::UnknownCategory { name } => {
            text(tu_string!(i18n, refusal_unknown_category), &[("name", name)])
        }
        Refusal::UnknownWorkspace { name } => {
            text(tu_string!(i18n, refusal_unknown_workspace), &[("name", name)])
        }
        Refusal::UnknownRole { name } => text(tu_string!(i18n, refusal_unknown_role), &[("name", name)]),
        Refusal::AccountExists => text(tu_string!(i18n, refusal_account_exists), &[]),
        Refusal::DisplayName => text(tu_string!(i18n, refusal_display_name), &[]),
        Refusal::LastAdmin => text(tu_string!(i18n, refusal_last_admin), &[]),
        Refusal::AlreadyVerified => text(tu_string!(i18n, refusal_already_verified), &[]),
        Refusal::VerificationTooSoon => text(tu_string!(i18n, refusal_verification_too_soon), &[]),
        Refusal::NotUnderstood { detail } => {
            text(tu_string!(i18n, refusal_not_understood), &[("detail", detail)])
        }
    }
}

/// A translated text with its `{name}` placeholders filled in. (The locale files' own
/// interpolation builds views; a refusal is shown as a string, in a view or an `aria` text.)
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(template.to_string(), |text, (name, value)| {
        text.replace(&format!("{{{name}}}"), value)
    })
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
pub(crate) fn refusal<S: server_fn::ServerFn<Error = AppError>>() -> Option<AppError> {
    // What `ServerAction::new` reads, without making the action: that would put the code that
    // calls `S` into the bundle, for every form whose refusal a page shows.
    let posted = use_context::<leptos::server::ServerActionError>()?;
    (posted.path() == S::PATH).then(|| ServerFnUrlError::<AppError>::decode_err(posted.err()))
}

/// The value of a submitted form's control (in the browser; `None` on the server).
pub(crate) fn form_value(ev: &leptos::ev::SubmitEvent, name: &str) -> Option<String> {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        let form = ev.target()?.dyn_into::<leptos::web_sys::HtmlFormElement>().ok()?;
        let data = leptos::web_sys::FormData::new_with_form(&form).ok()?;
        data.get(name).as_string()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (ev, name);
        None
    }
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

    #[test]
    fn refusals_are_worded_in_the_reader_language() {
        let refusal = AppError::Invalid(Refusal::SomeNotArchived {
            refused: 1,
            total: 2,
            reason: Box::new(Refusal::MandatoryNotArchivable.into()),
        });
        assert_eq!(
            error_text(UiLanguage(Locale::nl), &refusal),
            "1 van 2 konden niet worden gearchiveerd: Een verplichte actie kan niet worden gearchiveerd."
        );
        assert_eq!(
            error_text(
                UiLanguage(Locale::en),
                &Refusal::TooManySelected { max: 100 }.into()
            ),
            "Select at most 100 items at once."
        );
    }
}
