-- Producers may set an expiry on an item (`expires_at`), after which it leaves every view.
-- `expired_at` is when the lifecycle pass retired it: the open-item totals, the readers' states
-- and the outbox were settled then, and every read filters on it. The status keeps what the
-- producer made of the item (an expired action may still have been open); the API and the
-- views show an expired item as `expired`. See app/src/items/lifecycle.rs.
ALTER TABLE items ADD COLUMN expires_at BIGINT;
ALTER TABLE items ADD COLUMN expired_at BIGINT;
-- Holds only the items waiting to expire: the pass reads the few whose time has come.
CREATE INDEX items_awaiting_expiry ON items (expires_at)
    WHERE expires_at IS NOT NULL AND expired_at IS NULL;
