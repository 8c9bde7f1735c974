-- An organisation's email defaults for the users it gets from now on (set by its account admins):
-- a row per workspace whose transactional and promotional email new users start with turned off.
-- Action email is never affected (it cannot be turned off), and existing users keep their own
-- choices. See app/src/preferences/org_defaults.rs.
CREATE TABLE org_workspace_email_off (
    org_id     TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    workspace  TEXT NOT NULL REFERENCES workspaces(name),
    set_by     TEXT NOT NULL,
    set_at     BIGINT NOT NULL,
    PRIMARY KEY (org_id, workspace)
);
