//! Keyboard shortcuts of a list: j and k move between items, e archives the item, / goes to the
//! search field, ? shows them all. They act only where typing is not going on, and only with
//! the wasm (without it the list is plain forms and links, reached with Tab as ever).

use leptos::prelude::*;

use crate::i18n::*;

/// The id of a list's search field, which `/` focuses.
pub const SEARCH_FIELD: &str = "filter-search";
/// What marks the button that `e` presses in the focused item.
pub const ARCHIVE_SHORTCUT: &str = "archive";

/// What a key does in a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shortcut {
    Next,
    Previous,
    Archive,
    Search,
    Help,
    Close,
}

impl Shortcut {
    const ALL: [Shortcut; 6] = [
        Shortcut::Next,
        Shortcut::Previous,
        Shortcut::Archive,
        Shortcut::Search,
        Shortcut::Help,
        Shortcut::Close,
    ];

    /// Its key, as `KeyboardEvent.key` names it.
    pub fn key(self) -> &'static str {
        match self {
            Shortcut::Next => "j",
            Shortcut::Previous => "k",
            Shortcut::Archive => "e",
            Shortcut::Search => "/",
            Shortcut::Help => "?",
            Shortcut::Close => "Escape",
        }
    }

    /// The shortcut of a key, if it has one.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pub fn of(key: &str) -> Option<Shortcut> {
        Shortcut::ALL.into_iter().find(|s| s.key() == key)
    }

    /// What it does, in the UI language (Escape, which closes what is open, goes unlisted).
    fn describe(self, i18n: UiLanguage) -> Option<&'static str> {
        Some(match self {
            Shortcut::Next => tu_string!(i18n, shortcut_next),
            Shortcut::Previous => tu_string!(i18n, shortcut_previous),
            Shortcut::Archive => tu_string!(i18n, shortcut_archive),
            Shortcut::Search => tu_string!(i18n, shortcut_search),
            Shortcut::Help => tu_string!(i18n, shortcut_help),
            Shortcut::Close => return None,
        })
    }

    /// Where focus goes from item `current` (if one has it) of `len` items: one on, or one
    /// back, staying within the list; the first item when none has focus.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pub fn step(self, current: Option<usize>, len: usize) -> Option<usize> {
        let last = len.checked_sub(1)?;
        Some(match (self, current) {
            (Shortcut::Next, Some(at)) => (at + 1).min(last),
            (Shortcut::Previous, Some(at)) => at.saturating_sub(1),
            (Shortcut::Next | Shortcut::Previous, None) => 0,
            _ => return None,
        })
    }
}

/// The "Keyboard shortcuts" button and the list it opens; with the wasm it also listens for
/// the keys while the list is on the page.
#[component]
pub fn Shortcuts() -> impl IntoView {
    let i18n = use_i18n();
    let open = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    client::listen(open);
    let keys: Vec<(&str, &str)> = Shortcut::ALL
        .into_iter()
        .filter_map(|s| Some((s.key(), s.describe(i18n)?)))
        .collect();
    view! {
        <div class="relative">
            <button
                type="button"
                aria-expanded=move || open.get().to_string()
                aria-controls="shortcuts"
                on:click=move |_| open.update(|o| *o = !*o)
                class="rounded-md border border-slate-300 px-3 py-1.5 text-sm hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-600"
            >
                {tu_string!(i18n, shortcuts)}
            </button>
            <section
                id="shortcuts"
                aria-label=tu_string!(i18n, shortcuts)
                hidden=move || !open.get()
                class="absolute right-0 z-10 mt-2 w-72 rounded-lg border border-slate-200 bg-white p-4 shadow-lg"
            >
                <dl class="grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-sm">
                    {keys
                        .into_iter()
                        .map(|(key, what)| view! {
                            <dt><kbd class="rounded border border-slate-300 bg-slate-50 px-1.5 font-mono">{key}</kbd></dt>
                            <dd>{what}</dd>
                        })
                        .collect_view()}
                </dl>
                <button
                    type="button"
                    on:click=move |_| open.set(false)
                    class="mt-3 text-sm font-medium text-blue-800 underline"
                >
                    {tu_string!(i18n, shortcut_close)}
                </button>
            </section>
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod client {
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::{Element, HtmlElement};

    use super::{ARCHIVE_SHORTCUT, SEARCH_FIELD, Shortcut};

    /// The items of the list on the page, in order.
    fn items() -> Vec<HtmlElement> {
        let selector = format!("#{} article[data-testid=item]", crate::items::ITEM_LIST);
        let Ok(found) = document().query_selector_all(&selector) else {
            return Vec::new();
        };
        (0..found.length())
            .filter_map(|i| found.get(i).and_then(|n| n.dyn_into::<HtmlElement>().ok()))
            .collect()
    }

    /// The item that holds keyboard focus, if one does.
    fn focused_item() -> Option<Element> {
        document()
            .active_element()?
            .closest("article[data-testid=item]")
            .ok()
            .flatten()
    }

    /// Whether the user is typing (where a letter is text, not a shortcut).
    fn typing(ev: &web_sys::KeyboardEvent) -> bool {
        let target = ev.target().and_then(|t| t.dyn_into::<Element>().ok());
        target.is_some_and(|t| {
            matches!(t.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                || t.closest("[contenteditable]").ok().flatten().is_some()
        })
    }

    pub fn listen(open: RwSignal<bool>) {
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            if ev.ctrl_key() || ev.meta_key() || ev.alt_key() || ev.default_prevented() {
                return;
            }
            let Some(shortcut) = Shortcut::of(&ev.key()) else {
                return;
            };
            if shortcut != Shortcut::Close && typing(&ev) {
                return;
            }
            match shortcut {
                Shortcut::Next | Shortcut::Previous => {
                    let items = items();
                    let current =
                        focused_item().and_then(|f| items.iter().position(|i| i.is_same_node(Some(&f))));
                    if let Some(at) = shortcut.step(current, items.len()) {
                        ev.prevent_default();
                        let _ = items[at].focus();
                    }
                }
                Shortcut::Archive => {
                    let button = focused_item().and_then(|item| {
                        item.query_selector(&format!("[data-shortcut={ARCHIVE_SHORTCUT}]"))
                            .ok()
                            .flatten()
                    });
                    if let Some(button) = button.and_then(|b| b.dyn_into::<HtmlElement>().ok()) {
                        ev.prevent_default();
                        button.click();
                    }
                }
                Shortcut::Search => {
                    let field = document()
                        .get_element_by_id(SEARCH_FIELD)
                        .and_then(|f| f.dyn_into::<HtmlElement>().ok());
                    if let Some(field) = field {
                        ev.prevent_default();
                        let _ = field.focus();
                    }
                }
                Shortcut::Help => open.update(|o| *o = !*o),
                Shortcut::Close => open.set(false),
            }
        });
        on_cleanup(move || handle.remove());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_name_their_shortcuts() {
        assert_eq!(Shortcut::of("j"), Some(Shortcut::Next));
        assert_eq!(Shortcut::of("?"), Some(Shortcut::Help));
        assert_eq!(Shortcut::of("J"), None);
        assert_eq!(Shortcut::of("x"), None);
    }

    #[test]
    fn moving_stays_within_the_list() {
        assert_eq!(Shortcut::Next.step(None, 3), Some(0));
        assert_eq!(Shortcut::Previous.step(None, 3), Some(0));
        assert_eq!(Shortcut::Next.step(Some(1), 3), Some(2));
        assert_eq!(Shortcut::Next.step(Some(2), 3), Some(2));
        assert_eq!(Shortcut::Previous.step(Some(0), 3), Some(0));
        assert_eq!(Shortcut::Next.step(None, 0), None);
        assert_eq!(Shortcut::Archive.step(Some(0), 3), None);
    }
}
