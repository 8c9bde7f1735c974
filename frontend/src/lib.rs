//! The browser entry: hydrates the whole app rendered by the server; from then on the router
//! moves between pages in the page and the item store follows the live stream.

// The hydration future's type nests the whole app's view type, which only release builds erase
// (`--cfg erase_components`); a debug build needs the deeper limit. An `into_any()` here instead
// cost 7 KB brotli in the release bundle.
#![recursion_limit = "256"]

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Where hydration starts, for the client benchmark (`bench/client.mjs`): from here to
    // `data-hydrated` is the hydration itself, after the download and the wasm's compilation.
    if let Some(performance) = leptos::prelude::window().performance() {
        let _ = performance.mark("hydration-start");
    }
    // Hydration waits for the wasm file of a lazy page shown on first load (the server has
    // already asked the browser to preload it), so it runs as a task.
    wasm_bindgen_futures::spawn_local(async {
        let body = leptos::prelude::document().body().expect("the page has a body");
        leptos::mount::hydrate_from_async(body.clone(), app::App)
            .await
            .forget();
        // A readiness mark for people and tests: the page is interactive from here on.
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
