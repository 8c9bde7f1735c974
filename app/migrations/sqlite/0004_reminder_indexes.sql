-- One partial index per reminder stage, holding only the open actions still waiting for that
-- stage: planning reminders reads a handful of rows instead of every open action due soon.
CREATE INDEX items_awaiting_7d_reminder ON items (due_at)
    WHERE kind = 'action' AND status = 'open' AND reminded_7d_at IS NULL;
CREATE INDEX items_awaiting_1d_reminder ON items (due_at)
    WHERE kind = 'action' AND status = 'open' AND reminded_1d_at IS NULL;
CREATE INDEX items_awaiting_overdue_reminder ON items (due_at)
    WHERE kind = 'action' AND status = 'open' AND reminded_overdue_at IS NULL;
