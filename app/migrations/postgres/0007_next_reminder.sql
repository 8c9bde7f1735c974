-- One column and one index for the reminder planner instead of one partial index per stage
-- (0004): next_reminder_at is when the open action's first unsettled reminder stage falls due
-- (7 days before, 1 day before, just after the due date), NULL once all are settled. Every
-- published action wrote three entries at random pages (keyed by due date); now it writes one.
ALTER TABLE items ADD COLUMN next_reminder_at BIGINT;
UPDATE items SET next_reminder_at = CASE
        WHEN reminded_7d_at IS NULL THEN due_at - 604800000
        WHEN reminded_1d_at IS NULL THEN due_at - 86400000
        WHEN reminded_overdue_at IS NULL THEN due_at + 1
    END
    WHERE kind = 'action' AND due_at IS NOT NULL;
DROP INDEX items_awaiting_7d_reminder;
DROP INDEX items_awaiting_1d_reminder;
DROP INDEX items_awaiting_overdue_reminder;
CREATE INDEX items_awaiting_reminder ON items (next_reminder_at)
    WHERE kind = 'action' AND status = 'open' AND next_reminder_at IS NOT NULL;
