//! Dates for people: the server, which knows neither the reader's locale nor their time zone,
//! writes UTC; once the page is hydrated the browser shows each date with `Intl`, in the page's
//! language and the reader's time zone.

use leptos::prelude::*;

use crate::i18n::*;

/// `YYYY-MM-DD HH:MM UTC` for milliseconds since the epoch.
pub fn utc(ms: i64) -> String {
    to_the_minute(ms, " ", " UTC")
}

/// The date and the time to the minute of `ms`, joined by `between` and followed by `after`.
fn to_the_minute(ms: i64, between: &str, after: &str) -> String {
    let stamp = rfc3339(ms);
    match (stamp.get(..10), stamp.get(11..16)) {
        (Some(date), Some(time)) => format!("{date}{between}{time}{after}"),
        _ => stamp,
    }
}

/// RFC 3339 in UTC (`2026-12-31T23:59:00Z`, maybe with fractions): the `time` crate's on the
/// server, the browser's own `Date` in the page (the same text, without a date library in the
/// bundle).
#[cfg(feature = "ssr")]
fn rfc3339(ms: i64) -> String {
    crate::items::payload::format_time(ms)
}

#[cfg(not(feature = "ssr"))]
fn rfc3339(ms: i64) -> String {
    js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64))
        .to_iso_string()
        .into()
}

/// `YYYY-MM-DDTHH:MMZ` for a `<time datetime>` attribute.
pub fn iso(ms: i64) -> String {
    to_the_minute(ms, "T", "Z")
}

/// Whether dates are shown in the reader's locale: false while the page hydrates (it must
/// match the server's UTC text), true from then on.
#[derive(Clone, Copy)]
pub struct LocalDates(pub RwSignal<bool>);

/// A date-time as the page shows it: UTC from the server, in the reader's locale and time zone
/// once the page is hydrated.
#[component]
pub fn LocalTime(ms: i64) -> impl IntoView {
    let local = use_context::<LocalDates>();
    let lang = use_i18n().tag();
    let text = move || match local {
        Some(LocalDates(on)) if on.get() => in_locale(ms, lang),
        _ => utc(ms),
    };
    view! { <time datetime=iso(ms)>{text}</time> }
}

#[cfg(feature = "hydrate")]
thread_local! {
    /// The page's formatter and its language. `Date.toLocaleString` builds an
    /// `Intl.DateTimeFormat` on every call: about 20 ms of the main thread for the dates of
    /// one Action Center load (a CPU profile in headless Chromium), against one build here.
    static FORMATTER: std::cell::RefCell<Option<(String, js_sys::Function)>> =
        const { std::cell::RefCell::new(None) };
}

/// The date-time in `lang` and the browser's time zone (UTC on the server).
fn in_locale(ms: i64, lang: &str) -> String {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsValue;
        let format = FORMATTER.with_borrow_mut(|cached| match cached {
            Some((language, format)) if language == lang => format.clone(),
            _ => {
                let options = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&options, &"dateStyle".into(), &"medium".into());
                let _ = js_sys::Reflect::set(&options, &"timeStyle".into(), &"short".into());
                let locales = js_sys::Array::of1(&lang.into());
                let format = js_sys::Intl::DateTimeFormat::new(&locales, &options).format();
                *cached = Some((lang.to_string(), format.clone()));
                format
            }
        });
        let date = js_sys::Date::new(&JsValue::from_f64(ms as f64));
        format
            .call1(&JsValue::NULL, &date)
            .ok()
            .and_then(|text| text.as_string())
            .unwrap_or_else(|| utc(ms))
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = lang;
        utc(ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates_are_civil() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(1_798_761_599_000), "2026-12-31 23:59 UTC");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00 UTC");
        assert_eq!(utc(-86_400_000), "1969-12-31 00:00 UTC");
        assert_eq!(iso(1_798_761_599_000), "2026-12-31T23:59Z");
    }
}
