//! Keyboard focus across a change of a list: a list is drawn again when its items change (from
//! the stream or from the user's own action), and focus stays on the same control of the same
//! item, or, when that item left, on the control now at the same place.

/// Where keyboard focus was in a list, in terms that survive its HTML being drawn again: the
/// item (its article's `aria-labelledby`, which names the item), the control's place among the
/// item's controls, and its place among the list's controls.
pub struct FocusAnchor {
    #[cfg(feature = "hydrate")]
    inner: Option<client::Anchor>,
}

impl FocusAnchor {
    /// Where focus is now in the list with the id `list`, if it is in there (or was on a
    /// control that is gone, which leaves it on the page's body).
    pub fn take(list: &'static str) -> FocusAnchor {
        #[cfg(feature = "hydrate")]
        return FocusAnchor {
            inner: client::Anchor::of(list),
        };
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = list;
            FocusAnchor {}
        }
    }

    /// Puts focus back once the list is drawn again (on the next frame).
    pub fn restore(self) {
        #[cfg(feature = "hydrate")]
        if let Some(anchor) = self.inner {
            leptos::prelude::request_animation_frame(move || anchor.restore());
        }
    }
}

#[cfg(feature = "hydrate")]
mod client {
    use leptos::prelude::document;
    use wasm_bindgen::JsCast;
    use web_sys::{Element, HtmlElement};

    /// What can hold keyboard focus in a list.
    const CONTROLS: &str = "a[href], button, input, select, textarea";

    pub struct Anchor {
        list: &'static str,
        item: Option<String>,
        /// Focus was on the item itself (moved there by a shortcut), not on a control of it.
        on_item: bool,
        /// The item's place among the list's items.
        item_at: usize,
        in_item: usize,
        in_list: usize,
    }

    impl Anchor {
        pub fn of(list: &'static str) -> Option<Anchor> {
            let region = document().get_element_by_id(list)?;
            let active = document().active_element()?;
            if !region.contains(Some(&active)) {
                return None;
            }
            let article = active.closest("article[aria-labelledby]").ok().flatten();
            let place = |within: &Element| {
                controls(within)
                    .iter()
                    .position(|c| c.is_same_node(Some(&active)))
            };
            Some(Anchor {
                list,
                item: article.as_ref().and_then(|a| a.get_attribute("aria-labelledby")),
                on_item: article.as_ref().is_some_and(|a| a.is_same_node(Some(&active))),
                item_at: article
                    .as_ref()
                    .and_then(|a| articles(&region).iter().position(|b| b.is_same_node(Some(a))))
                    .unwrap_or(0),
                in_item: article.as_ref().and_then(place).unwrap_or(0),
                in_list: place(&region).unwrap_or(0),
            })
        }

        /// Focuses the same control of the same item; if the item is gone, the control now at
        /// the same place in the list (the next item's, or the last one), or the list itself.
        /// Nothing moves when the user has put focus elsewhere meanwhile.
        pub fn restore(&self) {
            let Some(region) = document().get_element_by_id(self.list) else {
                return;
            };
            let document = document();
            let body: Option<Element> = document.body().map(Into::into);
            let elsewhere = document
                .active_element()
                .is_some_and(|a| Some(&a) != body.as_ref() && !region.contains(Some(&a)));
            if elsewhere {
                return;
            }
            let target = self
                .target(&region)
                .or_else(|| region.dyn_into::<HtmlElement>().ok());
            if let Some(target) = target {
                let _ = target.focus();
            }
        }

        fn target(&self, region: &Element) -> Option<HtmlElement> {
            let articles = articles(region);
            let same_item = self.item.as_ref().and_then(|item| {
                articles
                    .iter()
                    .find(|a| a.get_attribute("aria-labelledby").as_deref() == Some(item.as_str()))
                    .cloned()
            });
            match same_item {
                Some(article) if self.on_item => Some(article),
                Some(article) => controls(&article).into_iter().nth(self.in_item),
                // The item left: the one now at its place.
                None if self.on_item && !articles.is_empty() => {
                    let last = articles.len() - 1;
                    articles.into_iter().nth(self.item_at.min(last))
                }
                None => {
                    let all = controls(region);
                    let last = all.len().checked_sub(1)?;
                    all.into_iter().nth(self.in_list.min(last))
                }
            }
        }
    }

    /// The items of a list.
    fn articles(region: &Element) -> Vec<HtmlElement> {
        let Ok(found) = region.query_selector_all("article[aria-labelledby]") else {
            return Vec::new();
        };
        (0..found.length())
            .filter_map(|i| found.get(i).and_then(|n| n.dyn_into::<HtmlElement>().ok()))
            .collect()
    }

    fn controls(within: &Element) -> Vec<HtmlElement> {
        let Ok(found) = within.query_selector_all(CONTROLS) else {
            return Vec::new();
        };
        (0..found.length())
            .filter_map(|i| found.get(i).and_then(|n| n.dyn_into::<HtmlElement>().ok()))
            .collect()
    }
}
