//! The browser side of live updates, run by the bell island: the badge follows the event
//! stream, and when the user's items change the page's live regions (the list, the overview)
//! and the open bell pane are fetched again as server HTML and swapped in. The browser's
//! EventSource resumes with `Last-Event-ID` on its own; when the stream keeps failing the
//! island reconnects with backoff and, meanwhile, polls the counts.
//!
//! Everything here runs in the browser only; on the server the bell renders what it was given.

use leptos::html;
use leptos::prelude::*;

/// The attribute of an element whose content the live island refreshes from the server; it
/// needs an id, the same on every render of the page.
pub const LIVE_REGION: &str = "data-live-region";

/// The id of the note shown while live updates fall back to polling.
pub const POLLING_NOTICE: &str = "live-polling";

/// The id of the bell pane's content on the bell page (`/bell`), which the bell fetches. (That
/// page has a bell in its header too, whose content slot has another id.)
pub const BELL_PANE_PAGE: &str = "bell-pane-page";

/// What the bell island shares with the stream.
#[derive(Clone, Copy)]
pub struct Bell {
    /// The pending-action count on the badge; `None` until known.
    pub pending: RwSignal<Option<i64>>,
    pub open: RwSignal<bool>,
    /// Where the pane's content goes.
    pub pane: NodeRef<html::Div>,
}

impl Bell {
    /// Opens the stream and puts dates in the reader's locale (in the browser; nothing
    /// happens on the server).
    pub fn start(self) {
        #[cfg(feature = "hydrate")]
        {
            client::localize_dates();
            client::start(self);
        }
    }

    /// Loads the pane's content from the server.
    pub fn load_pane(self) {
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(client::load_pane(self));
    }
}

#[cfg(feature = "hydrate")]
mod client {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    use gloo_timers::callback::{Interval, Timeout};
    use leptos::prelude::{GetUntracked, Set, document, window};
    use serde::Deserialize;
    use serde::de::IgnoredAny;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{
        Document, DomParser, Element, EventSource, HtmlElement, HtmlInputElement, MessageEvent, RequestCache,
        RequestInit, Response,
    };

    use super::{BELL_PANE_PAGE, Bell, LIVE_REGION, POLLING_NOTICE};

    const POLL_MS: u32 = 10_000;
    const MAX_BACKOFF_MS: u32 = 30_000;
    /// Consecutive errors after which the island stops trusting the browser's own retries.
    const FAILURES_BEFORE_FALLBACK: u32 = 3;

    /// The part of a live message the browser needs: the badge count, and whether anything
    /// changed (the changes themselves are skipped unread; the server HTML shows them).
    #[derive(Deserialize)]
    struct Pushed {
        counts: PushedCounts,
        #[serde(default)]
        changes: Vec<IgnoredAny>,
    }

    #[derive(Deserialize)]
    struct PushedCounts {
        pending_actions: i64,
    }

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

    pub fn start(bell: Bell) {
        open(bell, Rc::new(RefCell::new(Link::default())));
    }

    fn open(bell: Bell, link: Rc<RefCell<Link>>) {
        let url = match &link.borrow().last_id {
            Some(id) => format!("/api/live?last_event_id={id}"),
            None => "/api/live".to_string(),
        };
        let Ok(source) = EventSource::new(&url) else {
            fail(bell, link);
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
                    .and_then(|t| serde_json::from_str::<Pushed>(&t).ok())
                {
                    bell.pending.set(Some(msg.counts.pending_actions));
                    if !msg.changes.is_empty() {
                        refresh(bell);
                    }
                }
            })
        };
        let on_open = {
            let link = link.clone();
            Closure::<dyn FnMut()>::new(move || {
                let mut l = link.borrow_mut();
                l.failures = 0;
                l.poller = None;
                show_polling(false);
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
                    fail(bell, link.clone());
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
    fn fail(bell: Bell, link: Rc<RefCell<Link>>) {
        let mut l = link.borrow_mut();
        if let Some(source) = l.source.take() {
            source.close();
        }
        if l.poller.is_none() {
            show_polling(true);
            l.poller = Some(Interval::new(POLL_MS, move || poll(bell)));
            poll(bell);
        }
        let delay = (1_000u32 << l.failures.min(5)).min(MAX_BACKOFF_MS);
        let again = link.clone();
        l.retry = Some(Timeout::new(delay, move || open(bell, again)));
    }

    fn poll(bell: Bell) {
        leptos::task::spawn_local(async move {
            if let Ok(counts) = crate::items::item_counts().await {
                bell.pending.set(Some(counts.pending_actions));
                refresh(bell);
            }
        });
    }

    fn show_polling(polling: bool) {
        if let Some(notice) = document().get_element_by_id(POLLING_NOTICE) {
            let _ = notice.toggle_attribute_with_force("hidden", !polling);
        }
    }

    thread_local! {
        /// A refresh is running; and whether another was asked for meanwhile.
        static REFRESHING: Cell<(bool, bool)> = const { Cell::new((false, false)) };
    }

    /// Fetches the page again and swaps in its live regions (and the open pane), one refresh
    /// at a time: changes that arrive during one make one more after it.
    fn refresh(bell: Bell) {
        let (running, _) = REFRESHING.get();
        REFRESHING.set((true, running));
        if running {
            return;
        }
        leptos::task::spawn_local(async move {
            loop {
                refresh_regions().await;
                if bell.open.get_untracked() {
                    load_pane(bell).await;
                }
                let (_, again) = REFRESHING.get();
                REFRESHING.set((again, false));
                if !again {
                    break;
                }
            }
        });
    }

    async fn refresh_regions() {
        let regions = document().query_selector_all(&format!("[{LIVE_REGION}]"));
        let Ok(regions) = regions else { return };
        if regions.length() == 0 {
            return;
        }
        let Ok(href) = window().location().href() else {
            return;
        };
        let Some(fresh) = fetch_document(&href).await else {
            return;
        };
        for i in 0..regions.length() {
            let Some(region) = regions.get(i).and_then(|n| n.dyn_into::<Element>().ok()) else {
                continue;
            };
            if let Some(new) = fresh.get_element_by_id(&region.id()) {
                // Boxes ticked for "Archive selected" stay ticked across the swap, and keyboard
                // focus stays where it was.
                let ticked: Vec<String> = boxes(&region, ":checked").iter().map(|b| b.value()).collect();
                let focus = FocusAnchor::of(&region);
                region.set_inner_html(&new.inner_html());
                for b in boxes(&region, "")
                    .into_iter()
                    .filter(|b| ticked.contains(&b.value()))
                {
                    b.set_checked(true);
                }
                if let Some(focus) = focus {
                    focus.restore(&region);
                }
            }
        }
        localize_dates();
    }

    /// What can hold keyboard focus in a live region.
    const CONTROLS: &str = "a[href], button, input, select, textarea";

    /// Where keyboard focus was in a live region, in terms that survive its HTML being
    /// replaced: the item (its article's `aria-labelledby`, which names the item) and the
    /// control's place among the item's controls, and its place among the region's controls.
    struct FocusAnchor {
        item: Option<String>,
        in_item: usize,
        in_region: usize,
    }

    impl FocusAnchor {
        fn of(region: &Element) -> Option<FocusAnchor> {
            let active = document().active_element()?;
            if !region.contains(Some(&*active)) {
                return None;
            }
            let article = active.closest("article[aria-labelledby]").ok().flatten();
            let place = |within: &Element| {
                controls(within)
                    .iter()
                    .position(|c| c.is_same_node(Some(&*active)))
            };
            Some(FocusAnchor {
                item: article.as_ref().and_then(|a| a.get_attribute("aria-labelledby")),
                in_item: article.as_ref().and_then(place).unwrap_or(0),
                in_region: place(region).unwrap_or(0),
            })
        }

        /// Focuses the same control of the same item; if the item is gone, the control now at
        /// the same place in the region (the next item's, or the last one).
        fn restore(&self, region: &Element) {
            if let Some(target) = self.target(region) {
                let _ = target.focus();
            }
        }

        fn target(&self, region: &Element) -> Option<HtmlElement> {
            let same_item = self.item.as_ref().and_then(|item| {
                let articles = region.query_selector_all("article[aria-labelledby]").ok()?;
                (0..articles.length())
                    .filter_map(|i| articles.get(i).and_then(|n| n.dyn_into::<Element>().ok()))
                    .find(|a| a.get_attribute("aria-labelledby").as_deref() == Some(item.as_str()))
            });
            match same_item {
                Some(article) => controls(&article).into_iter().nth(self.in_item),
                None => {
                    let all = controls(region);
                    let last = all.len().checked_sub(1)?;
                    all.into_iter().nth(self.in_region.min(last))
                }
            }
        }
    }

    fn controls(within: &Element) -> Vec<HtmlElement> {
        let Ok(found) = within.query_selector_all(CONTROLS) else {
            return Vec::new();
        };
        (0..found.length())
            .filter_map(|i| found.get(i).and_then(|n| n.dyn_into::<HtmlElement>().ok()))
            .collect()
    }

    fn boxes(region: &Element, state: &str) -> Vec<HtmlInputElement> {
        let Ok(found) = region.query_selector_all(&format!("input[type=checkbox]{state}")) else {
            return Vec::new();
        };
        (0..found.length())
            .filter_map(|i| found.get(i).and_then(|n| n.dyn_into::<HtmlInputElement>().ok()))
            .collect()
    }

    pub async fn load_pane(bell: Bell) {
        let Some(fresh) = fetch_document("/bell").await else {
            return;
        };
        if let (Some(pane), Some(content)) =
            (bell.pane.get_untracked(), fresh.get_element_by_id(BELL_PANE_PAGE))
        {
            pane.set_inner_html(&content.inner_html());
            localize_dates();
        }
    }

    /// A page of this site as a document, parsed but inert (its scripts never run).
    async fn fetch_document(url: &str) -> Option<Document> {
        let init = RequestInit::new();
        init.set_cache(RequestCache::NoStore);
        let response: Response = JsFuture::from(window().fetch_with_str_and_init(url, &init))
            .await
            .ok()?
            .dyn_into()
            .ok()?;
        if !response.ok() {
            return None;
        }
        let text = JsFuture::from(response.text().ok()?).await.ok()?.as_string()?;
        DomParser::new()
            .ok()?
            .parse_from_string(&text, web_sys::SupportedType::TextHtml)
            .ok()
    }

    /// Rewrites every `<time data-ms>` in the page language and the reader's time zone.
    pub fn localize_dates() {
        let lang = document()
            .document_element()
            .map(|e| e.get_attribute("lang").unwrap_or_default())
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| "en".into());
        let options = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&options, &"dateStyle".into(), &"medium".into());
        let _ = js_sys::Reflect::set(&options, &"timeStyle".into(), &"short".into());
        let Ok(times) = document().query_selector_all("time[data-ms]") else {
            return;
        };
        for i in 0..times.length() {
            let Some(time) = times.get(i).and_then(|n| n.dyn_into::<Element>().ok()) else {
                continue;
            };
            let Some(ms) = time
                .get_attribute("data-ms")
                .and_then(|ms| ms.parse::<f64>().ok())
            else {
                continue;
            };
            let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms));
            let text: String = date.to_locale_string(&lang, &options).into();
            time.set_text_content(Some(&text));
        }
    }
}
