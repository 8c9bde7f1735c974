//! Searching a reader's items in their language. An item stores, per language its text can be
//! read in, the words of its title and body folded to lower case without accents
//! (`items.search_words`, JSON); a search matches the items whose words, in the language the
//! reader sees the item in, start with every term of the query. So "reunion" finds "Réunion",
//! "quart" finds "quarterly", and a Dutch reader finds an item by its Dutch text only.

use std::collections::BTreeMap;

use unicode_normalization::UnicodeNormalization;

use super::{LocalizedText, localize};

/// Most terms a query is split into; the rest is ignored.
pub const MAX_TERMS: usize = 8;
/// Most characters of a query that are read.
pub const MAX_QUERY_CHARS: usize = 200;
/// The key of the words a reader gets when the item has no text in their language (its
/// English text, else its first).
pub const FALLBACK: &str = "*";

/// Lower case without diacritics: "Réunion" → "reunion", "Straße" → "strasse".
pub fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| {
            if c == 'ß' {
                "ss".to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// The folded words of a text: runs of letters and digits.
pub fn terms(text: &str) -> Vec<String> {
    fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// The terms of a search query, in order, each once, at most `MAX_TERMS`.
pub fn query_terms(query: &str) -> Vec<String> {
    let query: String = query.chars().take(MAX_QUERY_CHARS).collect();
    let mut seen = Vec::new();
    for term in terms(&query) {
        if !seen.contains(&term) {
            seen.push(term);
        }
        if seen.len() == MAX_TERMS {
            break;
        }
    }
    seen
}

/// What a search looks for in: each word preceded by a space (" quarterly report ready"), so
/// that ` term` matches the start of a word, as a `LIKE '% term%'` does.
pub fn words(title: &str, body: &str) -> String {
    let mut out = String::new();
    for w in terms(title).into_iter().chain(terms(body)) {
        out.push(' ');
        out.push_str(&w);
    }
    out
}

/// Whether every term of a query starts a word of the text (the rule the database applies).
pub fn matches(query: &str, title: &str, body: &str) -> bool {
    let words = words(title, body);
    query_terms(query)
        .iter()
        .all(|t| words.contains(&format!(" {t}")))
}

/// A language tag as a key of the stored words: lower case, letters, digits and dashes only.
fn key(tag: &str) -> String {
    tag.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect::<String>()
        .to_ascii_lowercase()
}

/// The keys the words for a reader of `language` are looked up by, in order: the exact tag,
/// its primary language, the fallback. Each key leads to the text `localize` gives that reader.
pub fn lookup_keys(language: &str) -> [String; 3] {
    let exact = key(language);
    let primary = exact.split('-').next().unwrap_or_default().to_string();
    [exact, primary, FALLBACK.to_string()]
}

/// The words of an item per language it can be read in: under `FALLBACK` the text a reader
/// of any other language gets, and under each tag of its text (and each tag's primary
/// language) the text a reader of that language gets, when that differs.
pub fn words_by_language(title: &LocalizedText, body: &LocalizedText) -> BTreeMap<String, String> {
    // No text is in this language, so `localize` gives the English or first text.
    let fallback = words(localize(title, "zxx"), localize(body, "zxx"));
    let mut out = BTreeMap::new();
    for tag in title.keys().chain(body.keys()) {
        let tag = key(tag);
        let primary = tag.split('-').next().unwrap_or_default().to_string();
        for k in [tag, primary] {
            let w = words(localize(title, &k), localize(body, &k));
            if w != fallback {
                out.insert(k, w);
            }
        }
    }
    out.insert(FALLBACK.to_string(), fallback);
    out
}

/// `words_by_language` as stored in `items.search_words`.
pub fn stored_words(title: &LocalizedText, body: &LocalizedText) -> String {
    serde_json::to_string(&words_by_language(title, body)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(pairs: &[(&str, &str)]) -> LocalizedText {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// The words a reader of `language` searches, as the database looks them up.
    fn for_reader(stored: &BTreeMap<String, String>, language: &str) -> String {
        lookup_keys(language)
            .iter()
            .find_map(|k| stored.get(k))
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn folding_drops_case_and_accents() {
        assert_eq!(fold("Réunion À Straße"), "reunion a strasse");
        assert_eq!(terms("Q3-report: ready!"), ["q3", "report", "ready"]);
        assert_eq!(query_terms("  report REPORT ready "), ["report", "ready"]);
        assert_eq!(query_terms("a b c d e f g h i j").len(), MAX_TERMS);
        assert!(query_terms(" -- ").is_empty());
    }

    #[test]
    fn every_term_must_start_a_word() {
        assert!(matches("quart rep", "Quarterly report", ""));
        assert!(matches("reunion", "Webinar", "on Réunion pricing"));
        assert!(!matches("arterly", "Quarterly report", ""));
        assert!(!matches("quarterly invoice", "Quarterly report", ""));
        assert!(matches("", "anything", ""));
    }

    #[test]
    fn each_reader_searches_the_text_they_are_shown() {
        let title = text(&[
            ("en", "Invoice ready"),
            ("nl", "Factuur klaar"),
            ("de-CH", "Rechnung bereit"),
        ]);
        let body = text(&[("en", "See billing")]);
        let stored = words_by_language(&title, &body);
        for language in ["en", "nl", "nl-BE", "de", "de-CH", "fr", "EN-gb"] {
            let shown = words(localize(&title, language), localize(&body, language));
            assert_eq!(for_reader(&stored, language), shown, "reader of {language}");
        }
        // Only what differs from the fallback is stored twice.
        assert!(!stored.contains_key("en"));
        assert!(stored.contains_key("nl"));
    }

    #[test]
    fn keys_cannot_break_out_of_a_json_path() {
        assert_eq!(lookup_keys("nl-BE\"]'"), ["nl-be", "nl", "*"]);
    }
}
