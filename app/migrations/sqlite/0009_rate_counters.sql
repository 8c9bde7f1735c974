-- Rate limits (sign-in throttling, the producer API) counted in the database, so that every
-- instance of the server shares one allowance per key (see app/src/limits.rs). A row is a
-- leaky bucket: `drained_at` is when its key is back to a full allowance (milliseconds since the
-- epoch); rows past it are deleted now and then. `key` is a SHA-256 of the limit and the key, so
-- no email address or client address is stored.
CREATE TABLE rate_counters (
    key TEXT PRIMARY KEY,
    drained_at BIGINT NOT NULL
);
CREATE INDEX rate_counters_drained ON rate_counters (drained_at);
