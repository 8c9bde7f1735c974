-- Fan-out on read, made cheap. Each item keeps its target roles as one sorted, comma-separated
-- key, and `audience_counts` keeps how many open items each (org, role key, category) holds.
-- A user's badge counts are then the sum over the keys that share a role with them (a few
-- dozen rows), corrected by their own read/archived/named items; the list page walks the
-- org's open items newest first through an index that carries the key.
ALTER TABLE items ADD COLUMN audience_roles TEXT NOT NULL DEFAULT '';

UPDATE items SET audience_roles = COALESCE(
    (SELECT group_concat(role, ',' ORDER BY role) FROM item_audience_roles ar WHERE ar.item_id = items.id),
    '');

-- One row per key ever used in the org (kept at zero, so the list can find keys of closed items).
CREATE TABLE audience_counts (
    org_id          TEXT NOT NULL REFERENCES organisations(id),
    audience_roles  TEXT NOT NULL,
    category        TEXT NOT NULL,
    open_items      BIGINT NOT NULL,
    PRIMARY KEY (org_id, audience_roles, category)
);

INSERT INTO audience_counts (org_id, audience_roles, category, open_items)
SELECT org_id, audience_roles, category, SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END)
FROM items GROUP BY org_id, audience_roles, category;

-- The list pages: open items in created or due order, with the key to filter on in the index.
-- (They replace items_by_org_due, which the overdue count would otherwise pick, then read every row.)
DROP INDEX items_by_org_due;
CREATE INDEX items_open_newest ON items (org_id, status, created_at, id, audience_roles);
CREATE INDEX items_open_by_due ON items (org_id, status, (COALESCE(due_at, 9000000000000000000)), id, audience_roles);
-- Overdue counts: open actions past due, grouped by key without touching the table.
CREATE INDEX items_open_actions_due ON items (org_id, due_at, audience_roles, category)
    WHERE kind = 'action' AND status = 'open';

-- A user's read and archived items carry what the counts need of the item (its category, role
-- key and due date never change; whether it is still open is kept in step by completing and
-- cancelling), so the per-user corrections of the counts read one index, not the items.
ALTER TABLE item_states ADD COLUMN category TEXT NOT NULL DEFAULT '';
ALTER TABLE item_states ADD COLUMN audience_roles TEXT NOT NULL DEFAULT '';
ALTER TABLE item_states ADD COLUMN due_at BIGINT;
ALTER TABLE item_states ADD COLUMN item_open BIGINT NOT NULL DEFAULT 1;
UPDATE item_states SET
    category = (SELECT i.category FROM items i WHERE i.id = item_states.item_id),
    audience_roles = (SELECT i.audience_roles FROM items i WHERE i.id = item_states.item_id),
    due_at = (SELECT i.due_at FROM items i WHERE i.id = item_states.item_id),
    item_open = (SELECT CASE WHEN i.status = 'open' THEN 1 ELSE 0 END FROM items i WHERE i.id = item_states.item_id);
CREATE INDEX item_states_for_counts ON item_states (user_id, item_open, audience_roles, category, due_at, read_at, archived_at);
CREATE INDEX item_states_by_item ON item_states (item_id);
