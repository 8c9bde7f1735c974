//! When a user's email goes out: each optional category immediately or in a daily or weekly
//! digest, and quiet hours in the user's time zone during which email waits. Action email is
//! always immediate; quiet hours hold it back too, except for a mandatory action due within 24
//! hours (spec: issue 29.2). Users who never chose get everything at once, at any hour.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::items::Category;

/// How an optional category's email reaches the user.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cadence {
    #[default]
    Immediate,
    /// One email a day, at `DIGEST_HOUR` in the user's time zone.
    Daily,
    /// One email a week, on Monday at `DIGEST_HOUR` in the user's time zone.
    Weekly,
}

impl Cadence {
    pub const ALL: [Cadence; 3] = [Cadence::Immediate, Cadence::Daily, Cadence::Weekly];

    pub fn as_str(self) -> &'static str {
        match self {
            Cadence::Immediate => "immediate",
            Cadence::Daily => "daily",
            Cadence::Weekly => "weekly",
        }
    }

    pub fn parse(s: &str) -> Option<Cadence> {
        Cadence::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// The local hour digests go out at.
pub const DIGEST_HOUR: i8 = 8;
/// The time zone of a user who never chose one.
pub const DEFAULT_TIME_ZONE: &str = "UTC";
/// Most items one digest lists; it says how many more there are.
pub const DIGEST_ITEMS: usize = 50;

/// A user's email schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailSchedule {
    /// An IANA time zone (`Europe/Amsterdam`).
    pub time_zone: String,
    /// Quiet from this local hour (0–23) up to `quiet_to`, across midnight when it is later.
    pub quiet_from: Option<u8>,
    pub quiet_to: Option<u8>,
    pub transactional: Cadence,
    pub promotional: Cadence,
}

impl Default for EmailSchedule {
    fn default() -> Self {
        EmailSchedule {
            time_zone: DEFAULT_TIME_ZONE.to_string(),
            quiet_from: None,
            quiet_to: None,
            transactional: Cadence::Immediate,
            promotional: Cadence::Immediate,
        }
    }
}

/// Why a schedule was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("Choose a time zone from the list.")]
    TimeZone,
    #[error("Quiet hours need a start and an end hour (0 to 23) that differ.")]
    QuietHours,
}

impl From<ScheduleError> for crate::error::Refusal {
    fn from(err: ScheduleError) -> Self {
        use crate::error::Refusal;
        match err {
            ScheduleError::TimeZone => Refusal::UnknownTimeZone,
            ScheduleError::QuietHours => Refusal::QuietHours,
        }
    }
}

impl EmailSchedule {
    /// How email of this category reaches the user: actions always immediately.
    pub fn cadence(&self, category: Category) -> Cadence {
        match category {
            Category::Mandatory | Category::Recommended => Cadence::Immediate,
            Category::Transactional => self.transactional,
            Category::Promotional => self.promotional,
        }
    }

    /// Whether an optional category goes out in this cadence.
    pub fn uses(&self, cadence: Cadence) -> bool {
        self.transactional == cadence || self.promotional == cadence
    }

    /// Quiet hours as (from, to), when set.
    pub fn quiet_hours(&self) -> Option<(u8, u8)> {
        self.quiet_from.zip(self.quiet_to)
    }
}

#[cfg(feature = "ssr")]
pub use clock::*;

/// The schedule's rules against the clock, in the user's time zone.
#[cfg(feature = "ssr")]
mod clock {
    use jiff::civil::{Time, Weekday};
    use jiff::tz::TimeZone;
    use jiff::{Timestamp, ToSpan, Zoned};

    use super::{Cadence, DIGEST_HOUR, EmailSchedule, ScheduleError};
    use crate::items::{Category, DAY_MS};

    /// The time zone named, if the tz database knows it.
    pub fn time_zone(name: &str) -> Option<TimeZone> {
        TimeZone::get(name).ok()
    }

    /// Every time zone the tz database names, for the form's list.
    pub fn time_zone_names() -> Vec<String> {
        let mut names: Vec<String> = jiff::tz::db()
            .available()
            .map(|n| n.as_str().to_string())
            .collect();
        names.sort();
        names
    }

    fn zoned(ms: i64, tz: &TimeZone) -> Option<Zoned> {
        Some(Timestamp::from_millisecond(ms).ok()?.to_zoned(tz.clone()))
    }

    fn at_hour(day: &Zoned, hour: u8) -> Option<Zoned> {
        let time = Time::new(i8::try_from(hour).ok()?, 0, 0, 0).ok()?;
        day.date()
            .to_datetime(time)
            .to_zoned(day.time_zone().clone())
            .ok()
    }

    impl EmailSchedule {
        /// Checks a schedule as a form sent it.
        pub fn validated(self) -> Result<EmailSchedule, ScheduleError> {
            if time_zone(&self.time_zone).is_none() {
                return Err(ScheduleError::TimeZone);
            }
            match (self.quiet_from, self.quiet_to) {
                (None, None) => {}
                (Some(from), Some(to)) if from < 24 && to < 24 && from != to => {}
                _ => return Err(ScheduleError::QuietHours),
            }
            Ok(self)
        }

        fn zone(&self) -> TimeZone {
            time_zone(&self.time_zone).unwrap_or(TimeZone::UTC)
        }

        /// When the quiet hours around `now` end, if `now` is in them.
        pub fn quiet_until(&self, now: i64) -> Option<i64> {
            let (from, to) = self.quiet_hours()?;
            let local = zoned(now, &self.zone())?;
            let hour = u8::try_from(local.hour()).ok()?;
            let quiet = match from < to {
                true => (from..to).contains(&hour),
                false => hour >= from || hour < to,
            };
            if !quiet {
                return None;
            }
            let mut end = at_hour(&local, to)?;
            if end.timestamp() <= local.timestamp() {
                end = at_hour(&local.checked_add(1.day()).ok()?, to)?;
            }
            Some(end.timestamp().as_millisecond())
        }

        /// When an email about an item of `category` (due at `due_at`) planned at `now` may go:
        /// at once, or when the quiet hours end. A mandatory action due within 24 hours (or
        /// overdue) goes at once, quiet or not.
        pub fn send_at(&self, category: Category, due_at: Option<i64>, now: i64) -> i64 {
            let urgent = category == Category::Mandatory && due_at.is_some_and(|due| due - now <= DAY_MS);
            match urgent {
                true => now,
                false => self.quiet_until(now).unwrap_or(now),
            }
        }

        /// The latest digest moment of `cadence` at or before `now`: today's (or, weekly, this
        /// Monday's) `DIGEST_HOUR` in the user's time zone, or the one before it.
        pub fn last_digest(&self, cadence: Cadence, now: i64) -> Option<i64> {
            let local = zoned(now, &self.zone())?;
            let back = match cadence {
                Cadence::Immediate => return None,
                Cadence::Daily => 0,
                Cadence::Weekly => i64::from(local.weekday().since(Weekday::Monday)),
            };
            let day = local.checked_sub(back.days()).ok()?;
            let mut moment = at_hour(&day, DIGEST_HOUR as u8)?;
            if moment.timestamp() > local.timestamp() {
                let step = if cadence == Cadence::Weekly { 7 } else { 1 };
                moment = at_hour(&day.checked_sub(step.days()).ok()?, DIGEST_HOUR as u8)?;
            }
            Some(moment.timestamp().as_millisecond())
        }

        /// The first digest moment of `cadence` after `after`.
        pub fn next_digest(&self, cadence: Cadence, after: i64) -> Option<i64> {
            let local = zoned(after, &self.zone())?;
            let ahead = match cadence {
                Cadence::Immediate => return None,
                Cadence::Daily => 0,
                Cadence::Weekly => i64::from(Weekday::Monday.since(local.weekday())),
            };
            let day = local.checked_add(ahead.days()).ok()?;
            let mut moment = at_hour(&day, DIGEST_HOUR as u8)?;
            if moment.timestamp() <= local.timestamp() {
                let step = if cadence == Cadence::Weekly { 7 } else { 1 };
                moment = at_hour(&day.checked_add(step.days()).ok()?, DIGEST_HOUR as u8)?;
            }
            Some(moment.timestamp().as_millisecond())
        }

        /// When the planner next has to look at this user: the earliest next digest of the
        /// cadences in use, after what each has covered (`daily_until`, `weekly_until`).
        pub fn next_digest_at(&self, daily_until: Option<i64>, weekly_until: Option<i64>) -> Option<i64> {
            [(Cadence::Daily, daily_until), (Cadence::Weekly, weekly_until)]
                .into_iter()
                .filter(|(c, _)| self.uses(*c))
                .filter_map(|(c, until)| self.next_digest(c, until?))
                .min()
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// Milliseconds of a UTC time.
        fn utc(s: &str) -> i64 {
            s.parse::<Timestamp>().unwrap().as_millisecond()
        }

        fn schedule(tz: &str, quiet: Option<(u8, u8)>) -> EmailSchedule {
            EmailSchedule {
                time_zone: tz.into(),
                quiet_from: quiet.map(|q| q.0),
                quiet_to: quiet.map(|q| q.1),
                ..Default::default()
            }
        }

        #[test]
        fn quiet_hours_are_local_and_may_cross_midnight() {
            // 22:00–07:00 in Amsterdam (UTC+1 in winter).
            let night = schedule("Europe/Amsterdam", Some((22, 7)));
            assert_eq!(
                night.quiet_until(utc("2026-12-07T21:30:00Z")),
                Some(utc("2026-12-08T06:00:00Z"))
            );
            assert_eq!(
                night.quiet_until(utc("2026-12-08T05:59:00Z")),
                Some(utc("2026-12-08T06:00:00Z"))
            );
            assert_eq!(night.quiet_until(utc("2026-12-08T06:00:00Z")), None);
            assert_eq!(night.quiet_until(utc("2026-12-07T20:59:00Z")), None);
            // 12:00–14:00 in New York (UTC-5).
            let lunch = schedule("America/New_York", Some((12, 14)));
            assert_eq!(
                lunch.quiet_until(utc("2026-12-07T17:15:00Z")),
                Some(utc("2026-12-07T19:00:00Z"))
            );
            assert_eq!(lunch.quiet_until(utc("2026-12-07T19:00:00Z")), None);
            assert_eq!(
                schedule("UTC", None).quiet_until(utc("2026-12-07T03:00:00Z")),
                None
            );
        }

        #[test]
        fn only_mandatory_actions_due_within_a_day_break_the_quiet() {
            let night = schedule("UTC", Some((22, 7)));
            let now = utc("2026-12-07T23:00:00Z");
            let morning = utc("2026-12-08T07:00:00Z");
            let hours = |h: i64| Some(now + h * 60 * 60 * 1000);
            assert_eq!(night.send_at(Category::Mandatory, hours(23), now), now);
            assert_eq!(night.send_at(Category::Mandatory, hours(-2), now), now, "overdue");
            assert_eq!(night.send_at(Category::Mandatory, hours(25), now), morning);
            assert_eq!(night.send_at(Category::Recommended, hours(2), now), morning);
            assert_eq!(night.send_at(Category::Transactional, None, now), morning);
            let day = utc("2026-12-07T12:00:00Z");
            assert_eq!(night.send_at(Category::Promotional, None, day), day);
        }

        #[test]
        fn digests_fall_at_eight_local_daily_or_on_mondays() {
            let s = schedule("Europe/Amsterdam", None);
            // Monday 2026-12-07, 08:00 in Amsterdam is 07:00 UTC.
            let monday_eight = utc("2026-12-07T07:00:00Z");
            assert_eq!(
                s.last_digest(Cadence::Daily, utc("2026-12-07T07:00:00Z")),
                Some(monday_eight)
            );
            assert_eq!(
                s.last_digest(Cadence::Daily, utc("2026-12-07T18:00:00Z")),
                Some(monday_eight)
            );
            assert_eq!(
                s.last_digest(Cadence::Daily, utc("2026-12-07T06:59:00Z")),
                Some(utc("2026-12-06T07:00:00Z"))
            );
            assert_eq!(
                s.last_digest(Cadence::Weekly, utc("2026-12-10T12:00:00Z")),
                Some(monday_eight)
            );
            assert_eq!(
                s.last_digest(Cadence::Weekly, utc("2026-12-07T06:00:00Z")),
                Some(utc("2026-11-30T07:00:00Z"))
            );
            assert_eq!(s.last_digest(Cadence::Immediate, monday_eight), None);
            // And the next ones.
            assert_eq!(
                s.next_digest(Cadence::Daily, monday_eight),
                Some(utc("2026-12-08T07:00:00Z"))
            );
            assert_eq!(
                s.next_digest(Cadence::Daily, utc("2026-12-07T06:00:00Z")),
                Some(monday_eight)
            );
            assert_eq!(
                s.next_digest(Cadence::Weekly, utc("2026-12-09T10:00:00Z")),
                Some(utc("2026-12-14T07:00:00Z"))
            );
            assert_eq!(
                s.next_digest(Cadence::Weekly, monday_eight),
                Some(utc("2026-12-14T07:00:00Z"))
            );
            // Across the change to summer time, still 08:00 local (06:00 UTC).
            assert_eq!(
                s.next_digest(Cadence::Daily, utc("2027-03-28T00:00:00Z")),
                Some(utc("2027-03-28T06:00:00Z"))
            );
            let both = EmailSchedule {
                transactional: Cadence::Daily,
                promotional: Cadence::Weekly,
                ..s.clone()
            };
            let wednesday = utc("2026-12-09T10:00:00Z");
            assert_eq!(
                both.next_digest_at(Some(wednesday), Some(wednesday)),
                Some(utc("2026-12-10T07:00:00Z"))
            );
            assert_eq!(
                both.next_digest_at(None, Some(wednesday)),
                Some(utc("2026-12-14T07:00:00Z"))
            );
            assert_eq!(
                s.next_digest_at(Some(wednesday), Some(wednesday)),
                None,
                "no digest chosen"
            );
        }

        #[test]
        fn schedules_are_checked() {
            assert!(schedule("Europe/Amsterdam", Some((22, 7))).validated().is_ok());
            assert_eq!(
                schedule("Mars/Olympus", None).validated(),
                Err(ScheduleError::TimeZone)
            );
            for quiet in [(7, 7), (24, 3), (3, 24)] {
                assert_eq!(
                    schedule("UTC", Some(quiet)).validated(),
                    Err(ScheduleError::QuietHours)
                );
            }
            let half = EmailSchedule {
                quiet_from: Some(22),
                ..Default::default()
            };
            assert_eq!(half.validated(), Err(ScheduleError::QuietHours));
            assert!(time_zone_names().iter().any(|n| n == "Europe/Amsterdam"));
        }

        #[test]
        fn actions_are_always_immediate() {
            let s = EmailSchedule {
                transactional: Cadence::Daily,
                promotional: Cadence::Weekly,
                ..Default::default()
            };
            assert_eq!(s.cadence(Category::Mandatory), Cadence::Immediate);
            assert_eq!(s.cadence(Category::Recommended), Cadence::Immediate);
            assert_eq!(s.cadence(Category::Transactional), Cadence::Daily);
            assert_eq!(s.cadence(Category::Promotional), Cadence::Weekly);
        }
    }
}

/// The id of the schedule's form on My preferences, where a browser that posted it comes back.
pub const SCHEDULE_FORM: &str = "email-schedule";
/// The query a browser that saved the schedule without script comes back with.
pub const SAVED_QUERY: &str = "schedule_saved";

/// The signed-in user's schedule, and the time zones to choose from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleChoices {
    pub schedule: EmailSchedule,
    /// Whether the user ever saved one (else the form starts from the browser's time zone).
    pub chosen: bool,
    pub time_zones: Vec<String>,
}

#[server(endpoint = "schedule_get")]
pub async fn get_email_schedule() -> Result<ScheduleChoices, AppError> {
    let (state, user) = crate::auth::session::require_user()?;
    let saved = super::find_schedule(&state.db, &user.id).await?;
    Ok(ScheduleChoices {
        chosen: saved.is_some(),
        schedule: saved.unwrap_or_default(),
        time_zones: time_zone_names(),
    })
}

/// Saves the schedule as the form posts it (`quiet_from`/`quiet_to` empty for none). A
/// browser that posted it itself goes back to the form on My preferences, which says it saved.
#[server(endpoint = "schedule_save")]
pub async fn save_email_schedule(
    time_zone: String,
    quiet_from: Option<String>,
    quiet_to: Option<String>,
    transactional: String,
    promotional: String,
) -> Result<EmailSchedule, AppError> {
    use crate::error::Refusal;
    let (state, user) = crate::auth::session::require_user()?;
    let hour = |h: Option<String>| -> Result<Option<u8>, AppError> {
        match h.as_deref().map(str::trim).filter(|h| !h.is_empty()) {
            None => Ok(None),
            Some(h) => h.parse().map(Some).map_err(|_| Refusal::QuietHours.into()),
        }
    };
    let cadence = |c: &str| {
        Cadence::parse(c).ok_or_else(|| -> AppError {
            Refusal::NotUnderstood {
                detail: format!("no email frequency {c:?}"),
            }
            .into()
        })
    };
    let schedule = EmailSchedule {
        time_zone: time_zone.trim().to_string(),
        quiet_from: hour(quiet_from)?,
        quiet_to: hour(quiet_to)?,
        transactional: cadence(&transactional)?,
        promotional: cadence(&promotional)?,
    }
    .validated()
    .map_err(|e| AppError::Invalid(e.into()))?;
    let now = crate::db::now_ms();
    super::save_schedule(&state.db, &user.id, &user.org_id, &user.email, &schedule, now).await?;
    crate::forms::redirect_browser(&format!("/preferences?{SAVED_QUERY}=1#{SCHEDULE_FORM}"));
    Ok(schedule)
}
