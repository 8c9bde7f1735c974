-- Email delivery (spec §3, §4): which items had their email planned and which reminder
-- stages went out, and an outbox that can also mark a reminder as skipped (the action closed).
ALTER TABLE items ADD COLUMN emails_planned_at BIGINT;
ALTER TABLE items ADD COLUMN reminded_7d_at BIGINT;
ALTER TABLE items ADD COLUMN reminded_1d_at BIGINT;
ALTER TABLE items ADD COLUMN reminded_overdue_at BIGINT;
-- Items published before email delivery existed are not emailed after the fact.
UPDATE items SET emails_planned_at = created_at;
CREATE INDEX items_email_unplanned ON items (created_at) WHERE emails_planned_at IS NULL;
CREATE INDEX items_open_actions_by_due ON items (due_at) WHERE kind = 'action' AND status = 'open';

-- The outbox of 0001 was never written to; it is recreated with the statuses the worker uses.
DROP TABLE outbox;
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    dedupe_key       TEXT NOT NULL UNIQUE,
    item_id          TEXT REFERENCES items(id) ON DELETE SET NULL,
    user_id          TEXT REFERENCES users(id) ON DELETE SET NULL,
    purpose          TEXT NOT NULL,
    to_address       TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body_text        TEXT NOT NULL,
    body_html        TEXT NOT NULL,
    headers          TEXT NOT NULL DEFAULT '{}',
    status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'skipped')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    locked_until     BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    sent_at          BIGINT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_by_item ON outbox (item_id) WHERE status = 'pending';
