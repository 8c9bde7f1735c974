//! Rate limits that every instance of the server shares: the counters live in the database
//! (`rate_counters`), so a guesser or a producer gets one allowance however many instances
//! answer it. The HTTP side (which limits, the 429 answers) is the server's `security` module.
//!
//! Each key is a leaky bucket kept as one number, `drained_at`: the moment its level is back to
//! zero. Counting an attempt adds one period to the level; the level drains in real time; an
//! attempt that takes the level above `burst` periods is refused, and the wait is the excess.
//! The level is capped at one period above the allowance, so a client that keeps knocking while
//! refused stays refused, and one that waits as told gets in.

use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::db::{Db, DbError, now_ms};

/// How many attempts are allowed, per key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Attempts allowed at once.
    pub burst: u32,
    /// One more attempt is allowed after each period.
    pub per: Duration,
}

impl Rate {
    /// The period in whole milliseconds, the counters' unit (at least one).
    fn period_ms(self) -> i64 {
        i64::try_from(self.per.as_millis()).unwrap_or(i64::MAX / 4).max(1)
    }

    /// The level, in milliseconds, at which the allowance is used up.
    fn allowance_ms(self) -> i64 {
        self.period_ms().saturating_mul(i64::from(self.burst.max(1)))
    }
}

/// When a limit is hit: how long until the next attempt is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds, rounded up, at least 1.
    pub fn seconds(self) -> u64 {
        self.0.as_millis().div_ceil(1000).max(1) as u64
    }
}

/// One limit: its name (which keeps its keys apart from other limits') and its rate.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub name: &'static str,
    pub rate: Rate,
}

impl Limit {
    /// The stored key: a digest, so emails and client addresses are not kept.
    fn row_key(self, key: &str) -> String {
        let mut digest = Sha256::new();
        digest.update(self.name.as_bytes());
        digest.update([0]);
        digest.update(key.as_bytes());
        hex::encode(digest.finalize())
    }

    /// The wait for a key whose bucket drains at `drained_at`, seen at `now`, if over the allowance.
    fn wait(self, drained_at: i64, now: i64) -> Result<(), RetryAfter> {
        let over = drained_at - now - self.rate.allowance_ms();
        if over > 0 {
            Err(RetryAfter(Duration::from_millis(over as u64)))
        } else {
            Ok(())
        }
    }

    /// Counts one attempt with `key`; refused when it is one too many.
    pub async fn take(self, db: &Db, key: &str) -> Result<Result<(), RetryAfter>, DbError> {
        let now = now_ms();
        let period = self.rate.period_ms();
        let cap = now.saturating_add(self.rate.allowance_ms().saturating_add(period));
        // One statement, so two instances counting the same key at once both count.
        let drained_at: i64 = sqlx::query_scalar(
            "INSERT INTO rate_counters (key, drained_at) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET drained_at = CASE \
                 WHEN rate_counters.drained_at <= $3 THEN $2 \
                 WHEN rate_counters.drained_at + $4 > $5 THEN $5 \
                 ELSE rate_counters.drained_at + $4 END \
             RETURNING drained_at",
        )
        .bind(self.row_key(key))
        .bind(now + period)
        .bind(now)
        .bind(period)
        .bind(cap)
        .fetch_one(db.writer())
        .await?;
        Ok(self.wait(drained_at, now))
    }

    /// Whether the allowance of `key` is used up, without counting an attempt.
    pub async fn check(self, db: &Db, key: &str) -> Result<Result<(), RetryAfter>, DbError> {
        let now = now_ms();
        let drained_at: Option<i64> =
            sqlx::query_scalar("SELECT drained_at FROM rate_counters WHERE key = $1")
                .bind(self.row_key(key))
                .fetch_optional(db.pool())
                .await?;
        Ok(drained_at.map_or(Ok(()), |at| self.wait(at, now)))
    }
}

/// Deletes the counters of keys back to a full allowance; returns how many. Any instance may run
/// it now and then: a key that is deleted starts again from a full allowance, which it had.
pub async fn forget_drained(db: &Db) -> Result<u64, DbError> {
    let done = sqlx::query("DELETE FROM rate_counters WHERE drained_at <= $1")
        .bind(now_ms())
        .execute(db.writer())
        .await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(burst: u32, per_ms: u64) -> Limit {
        Limit {
            name: "test",
            rate: Rate {
                burst,
                per: Duration::from_millis(per_ms),
            },
        }
    }

    #[test]
    fn the_wait_is_the_level_above_the_allowance() {
        let two_a_minute = limit(2, 60_000);
        assert_eq!(two_a_minute.wait(1_000 + 120_000, 1_000), Ok(()));
        assert_eq!(
            two_a_minute.wait(1_000 + 180_000, 1_000),
            Err(RetryAfter(Duration::from_secs(60)))
        );
        assert_eq!(two_a_minute.wait(500, 1_000), Ok(()), "drained");
    }

    #[test]
    fn keys_of_different_limits_differ_and_hide_the_key() {
        let a = limit(1, 1).row_key("a@x.test");
        assert_eq!(a.len(), 64);
        assert!(!a.contains("a@x.test"));
        let other = Limit {
            name: "other",
            ..limit(1, 1)
        };
        assert_ne!(a, other.row_key("a@x.test"));
    }

    #[test]
    fn periods_below_a_millisecond_count_as_one() {
        assert_eq!(limit(3, 0).rate.period_ms(), 1);
        assert_eq!(limit(0, 5).rate.allowance_ms(), 5, "a burst of at least one");
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(RetryAfter(Duration::from_millis(1)).seconds(), 1);
        assert_eq!(RetryAfter(Duration::from_millis(1_001)).seconds(), 2);
        assert_eq!(RetryAfter(Duration::ZERO).seconds(), 1);
    }
}
