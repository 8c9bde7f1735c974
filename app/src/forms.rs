//! How the server functions behind the UI's forms answer: a browser that posted a form itself
//! (without the wasm; it asks for HTML) is sent on to a page, while the app in the page (which
//! asks for JSON) gets the answer alone and stays where it is.

use leptos::prelude::use_context;

/// Whether the request is a form posted by the browser itself.
pub fn posted_by_browser() -> bool {
    use_context::<http::request::Parts>().is_some_and(|parts| {
        parts
            .headers
            .get(http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"))
    })
}

/// Sends a browser that posted a form on to `path` (a same-site path); the app in the page is
/// not redirected.
pub fn redirect_browser(path: &str) {
    if posted_by_browser() {
        leptos_axum::redirect(path);
    }
}
