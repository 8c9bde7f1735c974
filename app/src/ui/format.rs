//! Dates for people: the server, which knows neither the reader's locale nor their time zone,
//! writes UTC; in the browser the live island rewrites each `<time data-ms>` with `Intl`.

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

/// `YYYY-MM-DDTHH:MMZ` for a `<time datetime>` attribute.
pub fn iso(ms: i64) -> String {
    let utc = utc(ms);
    format!("{}T{}Z", &utc[..10], &utc[11..16])
}

/// A date-time as the page shows it: UTC from the server, turned into the reader's locale and
/// time zone in the browser (by the live island, which reads `data-ms`).
#[component]
pub fn LocalTime(ms: i64) -> impl IntoView {
    view! { <time datetime=iso(ms) data-ms=ms.to_string()>{utc(ms)}</time> }
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
