//! The browser entry: hydrates the islands of the server-rendered page (the bell with its live
//! stream, the language switcher); everything else on the page is plain server HTML.

// The islands are exported from the app crate; naming it keeps it linked into the bundle.
extern crate app;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
    // A readiness mark for people and tests: the page is interactive from here on.
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
