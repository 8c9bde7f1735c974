-- Delivery assurance for account admins (app/src/items/lifecycle.rs): a mandatory action that
-- reaches nobody who can receive it, and one that is overdue, are each raised once with the
-- organisation's account admins. `reach_checked_at` and `escalated_at` record that it was done.
-- Items that existed before are taken as handled: upgrading raises nothing about the past.
ALTER TABLE items ADD COLUMN reach_checked_at BIGINT;
ALTER TABLE items ADD COLUMN escalated_at BIGINT;
UPDATE items SET reach_checked_at = created_at, escalated_at = created_at;
-- Each holds only the mandatory actions still waiting for that step.
CREATE INDEX items_awaiting_reach_check ON items (created_at)
    WHERE category = 'mandatory' AND reach_checked_at IS NULL;
CREATE INDEX items_awaiting_escalation ON items (due_at)
    WHERE category = 'mandatory' AND status = 'open' AND expired_at IS NULL AND escalated_at IS NULL;
-- Whether an address takes mail: its letters, newest last.
CREATE INDEX outbox_by_address ON outbox (to_address, id);
