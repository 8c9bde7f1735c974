//! The UI language, English or Dutch, and its texts (locales/*.json).
//!
//! The server decides the language of each page (the switcher's cookie, else the browser's
//! `Accept-Language`) and writes it into `<html lang>`; the browser reads it back from there.
//! A switch writes the cookie and reloads (`ui::header::LanguageSwitcher`), so the language
//! never changes under a page: it is a plain value in context, not a signal. That keeps
//! leptos_i18n's own context, which detects the locale again in the browser (ICU tag matching,
//! leptos-use's cookie and navigator code), out of the wasm bundle.

// The texts from locales/*.json. (leptos_i18n now prefers build-script code generation,
// which pulls in ICU's data generator; the macro gives the same module without it.)
#[allow(deprecated)]
mod texts {
    leptos_i18n::load_locales!();
}

use leptos::prelude::*;
pub use leptos_i18n::td_string;
pub use texts::i18n::Locale;

/// The language a page is shown in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UiLanguage(pub Locale);

impl UiLanguage {
    pub fn locale(self) -> Locale {
        self.0
    }

    /// The language's tag, as in `<html lang>` and the switcher's cookie: `en` or `nl`.
    pub fn tag(self) -> &'static str {
        leptos_i18n::Locale::as_str(self.0)
    }

    /// The language of the page being rendered: on the server from the request, in the
    /// browser from the `<html lang>` the server wrote.
    pub fn of_page() -> Self {
        #[cfg(feature = "ssr")]
        {
            use_context::<http::request::Parts>()
                .map(|parts| Self::of_request(&parts.headers))
                .unwrap_or_default()
        }
        #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
        {
            document()
                .document_element()
                .and_then(|html| html.get_attribute("lang"))
                .and_then(|lang| lang.parse().ok())
                .map(UiLanguage)
                .unwrap_or_default()
        }
        #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
        {
            Self::default()
        }
    }

    /// The switcher's cookie if it names a UI language, else the best match among the
    /// browser's `Accept-Language` tags (`nl-BE` reads Dutch), else English.
    #[cfg(feature = "ssr")]
    pub fn of_request(headers: &http::HeaderMap) -> Self {
        use leptos_i18n::Locale as _;
        if let Some(locale) =
            crate::auth::session::ui_language_cookie(headers).and_then(|value| value.parse().ok())
        {
            return UiLanguage(locale);
        }
        let accepted: Vec<&str> = headers
            .get(http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .split(',')
            .map(|tag| tag.split(';').next().unwrap_or_default().trim())
            .filter(|tag| !tag.is_empty())
            .collect();
        UiLanguage(Locale::find_locale(&accepted))
    }

    /// Puts the page's language in context for `use_i18n`.
    pub fn provide(self) {
        provide_context(self);
    }
}

/// The language of the page, as `UiLanguage::provide` put it in context.
pub fn use_i18n() -> UiLanguage {
    use_context().unwrap_or_default()
}

/// The text under `key` in the page's language, with `name = value` interpolations, as
/// leptos_i18n's macro of the same name does for its own context.
macro_rules! tu_string {
    ($language:expr, $($key_and_values:tt)*) => {
        $crate::i18n::td_string!(($language).locale(), $($key_and_values)*)
    };
}
pub(crate) use tu_string;

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    fn headers(pairs: &[(http::HeaderName, &str)]) -> http::HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| (name.clone(), value.parse().unwrap()))
            .collect()
    }

    #[test]
    fn the_cookie_decides_then_the_browser_then_english() {
        use http::header::{ACCEPT_LANGUAGE, COOKIE};
        let of = |pairs: &[(http::HeaderName, &str)]| UiLanguage::of_request(&headers(pairs)).locale();
        assert_eq!(of(&[]), Locale::en);
        assert_eq!(of(&[(ACCEPT_LANGUAGE, "nl-BE,nl;q=0.9,en;q=0.8")]), Locale::nl);
        assert_eq!(
            of(&[(ACCEPT_LANGUAGE, "fr-FR, nl;q=0.5")]),
            Locale::nl,
            "the first supported tag"
        );
        assert_eq!(of(&[(ACCEPT_LANGUAGE, "fr-FR")]), Locale::en);
        assert_eq!(
            of(&[(ACCEPT_LANGUAGE, "nl-NL"), (COOKIE, "a=1; i18n_pref_locale=en")]),
            Locale::en,
            "the switcher wins over the browser"
        );
        assert_eq!(
            of(&[(ACCEPT_LANGUAGE, "nl-NL"), (COOKIE, "i18n_pref_locale=xx")]),
            Locale::nl,
            "an unknown cookie value is ignored"
        );
    }

    #[test]
    fn texts_come_in_the_language_given() {
        assert_eq!(tu_string!(UiLanguage(Locale::nl), sign_in), "Aanmelden");
        assert_eq!(tu_string!(UiLanguage(Locale::en), sign_in), "Sign in");
    }
}
