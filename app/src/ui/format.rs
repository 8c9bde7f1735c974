//! Dates for people: in the browser, the reader's locale and time zone (via `Intl`); on the
//! server, which knows neither, UTC until the page hydrates.

use leptos::prelude::*;

/// `YYYY-MM-DD HH:MM UTC` for milliseconds since the epoch.
pub fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil-from-days (proleptic Gregorian), after Howard Hinnant's algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// The date-time in the reader's locale and time zone (browser), or UTC (server).
pub fn local(ms: i64, locale: &str) -> String {
    #[cfg(feature = "hydrate")]
    {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
        let options = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&options, &"dateStyle".into(), &"medium".into());
        let _ = js_sys::Reflect::set(&options, &"timeStyle".into(), &"short".into());
        return date.to_locale_string(locale, &options).into();
    }
    #[allow(unreachable_code)]
    {
        let _ = locale;
        utc(ms)
    }
}

/// True once the page runs in the browser; views that differ between server and browser
/// (like local dates) switch on it so hydration starts from what the server sent.
pub fn hydrated() -> ReadSignal<bool> {
    let (done, set_done) = signal(false);
    Effect::new(move |_| set_done.set(true));
    done
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
    }
}
