//! The least a Leptos islands bundle costs: a counter island, and with features a badge island
//! that calls a server function (`server-fn`) and follows a live stream (`live`), shaped like
//! the app's bell. Measured by `bench/islands-floor.sh`.

use leptos::prelude::*;

/// A counter: the smallest interactive island.
#[island]
pub fn Counter(start: i32) -> impl IntoView {
    let count = RwSignal::new(start);
    view! {
        <button on:click=move |_| count.update(|c| *c += 1)>{move || count.get()}</button>
    }
}

#[cfg(feature = "server-fn")]
mod badge {
    use leptos::prelude::*;
    use serde::{Deserialize, Serialize};

    #[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
    pub struct Counts {
        pub pending: u32,
        pub overdue: u32,
        pub unread: u32,
    }

    #[cfg(feature = "live")]
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct ItemView {
        pub id: String,
        pub title: String,
        pub category: String,
        pub workspace: String,
        pub due_at: Option<i64>,
        pub read: bool,
    }

    #[cfg(feature = "live")]
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "type", rename_all = "snake_case")]
    pub enum Change {
        ItemAdded { item: ItemView },
        ItemChanged { item: ItemView },
        ItemRemoved { item_id: String, reason: String },
        Resync,
    }

    #[cfg(feature = "live")]
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct LiveMessage {
        pub changes: Vec<Change>,
        pub counts: Counts,
    }

    #[server]
    pub async fn item_counts() -> Result<Counts, ServerFnError> {
        Ok(Counts {
            pending: 1,
            overdue: 0,
            unread: 2,
        })
    }

    /// The pending count; asks the server again when clicked.
    #[island]
    pub fn Badge(start: u32) -> impl IntoView {
        let refresh = Action::new(|_: &()| item_counts());
        let live = RwSignal::new(None::<u32>);
        #[cfg(feature = "live")]
        Effect::new(move |_| follow(live));
        let pending = move || {
            live.get()
                .or_else(|| refresh.value().get().and_then(Result::ok).map(|c| c.pending))
                .unwrap_or(start)
        };
        view! {
            <button on:click=move |_| {
                refresh.dispatch(());
            }>{pending}</button>
        }
    }

    /// Keeps `pending` to the counts of each message on the live stream.
    #[cfg(feature = "live")]
    fn follow(pending: RwSignal<Option<u32>>) {
        use wasm_bindgen::{JsCast, closure::Closure};
        let Ok(source) = web_sys::EventSource::new("/api/live") else {
            return;
        };
        let on_message = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            if let Some(text) = ev.data().as_string()
                && let Ok(message) = serde_json::from_str::<LiveMessage>(&text)
            {
                pending.set(Some(message.counts.pending));
            }
        });
        source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
    }
}

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    leptos::mount::hydrate_islands();
}
