-- When a user's email goes out (app/src/preferences/schedule.rs): the time zone, quiet hours,
-- and per optional category immediately or in a daily or weekly digest. No row: everything at
-- once, at any hour, in UTC. `daily_until` and `weekly_until` are the digest moments up to which
-- items were considered by that digest (or the moment the user chose it, so that a new digest
-- never sends what already went out by itself).
CREATE TABLE email_schedules (
    user_id        TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    time_zone      TEXT NOT NULL,
    quiet_from     BIGINT,
    quiet_to       BIGINT,
    transactional  TEXT NOT NULL CHECK (transactional IN ('immediate', 'daily', 'weekly')),
    promotional    TEXT NOT NULL CHECK (promotional IN ('immediate', 'daily', 'weekly')),
    daily_until    BIGINT,
    weekly_until   BIGINT,
    -- The next digest moment, NULL without a digest: what the planner looks for.
    next_digest_at BIGINT,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX email_schedules_next_digest ON email_schedules (next_digest_at)
    WHERE next_digest_at IS NOT NULL;
