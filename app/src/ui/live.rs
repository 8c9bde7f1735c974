//! The browser side of live updates: a reactive store fed by the event stream. The browser's
//! EventSource resumes with `Last-Event-ID` on its own; when the stream keeps failing the store
//! reconnects with backoff and, meanwhile, polls the counts.

use leptos::prelude::*;

use crate::items::Counts;
#[cfg(feature = "hydrate")]
use crate::live::{Change, LiveMessage};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    Connecting,
    Live,
    Polling,
}

/// What the page knows live: the user's counts and a revision that moves when items changed.
#[derive(Debug, Clone, Copy)]
pub struct LiveStore {
    /// The latest counts from the server; `None` until the first message.
    pub counts: RwSignal<Option<Counts>>,
    /// Moves whenever the user's items changed, so lists know to refetch.
    pub revision: RwSignal<u64>,
    pub connection: RwSignal<Connection>,
}

impl LiveStore {
    pub fn provide() -> LiveStore {
        let store = LiveStore {
            counts: RwSignal::new(None),
            revision: RwSignal::new(0),
            connection: RwSignal::new(Connection::Connecting),
        };
        provide_context(store);
        store
    }

    pub fn get() -> LiveStore {
        use_context::<LiveStore>().unwrap_or_else(LiveStore::provide)
    }

    /// Opens the stream (in the browser; nothing happens on the server).
    pub fn start(self) {
        #[cfg(feature = "hydrate")]
        client::start(self);
    }

    #[cfg(feature = "hydrate")]
    fn apply(&self, msg: LiveMessage) {
        self.counts.set(Some(msg.counts));
        if !msg.changes.is_empty() {
            self.revision.update(|r| *r += 1);
        }
    }
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

    use super::{Change, Connection, LiveMessage, LiveStore};

    const POLL_MS: u32 = 10_000;
    const MAX_BACKOFF_MS: u32 = 30_000;
    /// Consecutive errors after which the store stops trusting the browser's own retries.
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

    pub fn start(store: LiveStore) {
        open(store, Rc::new(RefCell::new(Link::default())));
    }

    fn open(store: LiveStore, link: Rc<RefCell<Link>>) {
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
                if let Some(msg) = ev
                    .data()
                    .as_string()
                    .and_then(|t| serde_json::from_str::<LiveMessage>(&t).ok())
                {
                    store.apply(msg);
                }
            })
        };
        let on_open = {
            let link = link.clone();
            Closure::<dyn FnMut()>::new(move || {
                let mut l = link.borrow_mut();
                l.failures = 0;
                l.poller = None;
                store.connection.set(Connection::Live);
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
                } else {
                    store.connection.set(Connection::Connecting);
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
    fn fail(store: LiveStore, link: Rc<RefCell<Link>>) {
        let mut l = link.borrow_mut();
        if let Some(source) = l.source.take() {
            source.close();
        }
        if l.poller.is_none() {
            store.connection.set(Connection::Polling);
            l.poller = Some(Interval::new(POLL_MS, move || poll(store)));
            poll(store);
        }
        let delay = (1_000u32 << l.failures.min(5)).min(MAX_BACKOFF_MS);
        let again = link.clone();
        l.retry = Some(Timeout::new(delay, move || open(store, again)));
    }

    fn poll(store: LiveStore) {
        leptos::task::spawn_local(async move {
            if let Ok(counts) = crate::items::item_counts().await {
                store.apply(LiveMessage {
                    changes: vec![Change::Resync],
                    counts,
                });
            }
        });
    }
}
