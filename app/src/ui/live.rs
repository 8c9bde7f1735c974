//! The browser side of live updates: the user's event stream feeds the item store
//! (`store::ItemStore`). The browser's EventSource resumes with `Last-Event-ID` on its own; when
//! the stream keeps failing the page reconnects with backoff and, meanwhile, polls: the counts,
//! and every view's data through its server function.
//!
//! Everything here runs in the browser only.

use super::store::ItemStore;

/// Opens the stream (in the browser; nothing happens on the server), from `resume`, the event
/// log's position the page was rendered at, when known. Its code is a wasm file of its own
/// (a lazy function), fetched once the page is interactive: the stream replays from `resume`
/// whatever happened meanwhile.
pub fn start(store: ItemStore, resume: Option<i64>) {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(client::start(store, resume));
    #[cfg(not(feature = "hydrate"))]
    let _ = (store, resume);
}

#[cfg(feature = "hydrate")]
mod client {
    use std::cell::RefCell;
    use std::rc::Rc;

    use gloo_timers::callback::{Interval, Timeout};
    use leptos::prelude::Set;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::{EventSource, MessageEvent};

    use super::ItemStore;
    use crate::live::LiveMessage;

    const POLL_MS: u32 = 10_000;
    const MAX_BACKOFF_MS: u32 = 30_000;
    /// Consecutive errors after which the page stops trusting the browser's own retries.
    const FAILURES_BEFORE_FALLBACK: u32 = 3;

    #[derive(Default)]
    struct Link {
        source: Option<EventSource>,
        last_id: Option<String>,
        failures: u32,
        poller: Option<Interval>,
        retry: Option<Timeout>,
        /// The current connection's handlers, kept alive as long as it is.
        handlers: Vec<Box<dyn std::any::Any>>,
    }

    thread_local! {
        static STARTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    /// Opens the page's one stream (a header rendered again does not open another).
    #[leptos::lazy]
    pub fn start(store: ItemStore, resume: Option<i64>) {
        if STARTED.replace(true) {
            return;
        }
        let link = Link {
            last_id: resume.map(|id| id.to_string()),
            ..Link::default()
        };
        open(store, Rc::new(RefCell::new(link)));
    }

    fn open(store: ItemStore, link: Rc<RefCell<Link>>) {
        let url = match &link.borrow().last_id {
            Some(id) => format!("/api/live?last_event_id={id}"),
            None => "/api/live".to_string(),
        };
        let Ok(source) = EventSource::new(&url) else {
            fail(store, link);
            return;
        };
        let on_message = {
            let link = link.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
                let id = ev.last_event_id();
                if !id.is_empty() {
                    link.borrow_mut().last_id = Some(id);
                }
                if let Some(message) = ev
                    .data()
                    .as_string()
                    // From bytes, as every other JSON the page reads (see `ui::PageJson`).
                    .and_then(|t| serde_json::from_slice::<LiveMessage>(t.as_bytes()).ok())
                {
                    store.receive(message);
                }
            })
        };
        let on_open = {
            let link = link.clone();
            Closure::<dyn FnMut()>::new(move || {
                let mut l = link.borrow_mut();
                l.failures = 0;
                if l.poller.take().is_some() {
                    // Back from polling: whatever happened meanwhile is fetched once more.
                    store.polling.set(false);
                    store.refetch_all();
                }
            })
        };
        let on_error = {
            let link = link.clone();
            let source = source.clone();
            Closure::<dyn FnMut()>::new(move || {
                let failures = {
                    let mut l = link.borrow_mut();
                    l.failures += 1;
                    l.failures
                };
                if source.ready_state() == EventSource::CLOSED || failures >= FAILURES_BEFORE_FALLBACK {
                    fail(store, link.clone());
                }
            })
        };
        source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let mut l = link.borrow_mut();
        l.source = Some(source);
        l.handlers = vec![Box::new(on_message), Box::new(on_open), Box::new(on_error)];
    }

    /// Closes the failing stream, falls back to polling, and schedules a reconnect with backoff.
    fn fail(store: ItemStore, link: Rc<RefCell<Link>>) {
        let mut l = link.borrow_mut();
        if let Some(source) = l.source.take() {
            source.close();
        }
        if l.poller.is_none() {
            store.polling.set(true);
            l.poller = Some(Interval::new(POLL_MS, move || poll(store)));
            poll(store);
        }
        let delay = (1_000u32 << l.failures.min(5)).min(MAX_BACKOFF_MS);
        let again = link.clone();
        l.retry = Some(Timeout::new(delay, move || open(store, again)));
    }

    fn poll(store: ItemStore) {
        leptos::task::spawn_local(async move {
            if let Ok(counts) = crate::items::item_counts().await {
                store.counts.set(Some(counts));
                store.refetch_all();
            }
        });
    }
}
