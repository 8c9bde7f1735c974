-- The whole schema of spec §2–§6. Written once; `gen.sh` turns it into the
-- SQLite and PostgreSQL migrations (only the auto-increment key differs).
-- Times are milliseconds since the Unix epoch (BIGINT) and flags are 0/1 BIGINTs, so
-- both backends read them the same way through sqlx's Any driver (which has no SQLite bool).

CREATE TABLE organisations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- Configurable catalogs (spec §2); the defaults are seeded here.
CREATE TABLE roles (
    name        TEXT PRIMARY KEY
);
INSERT INTO roles (name) VALUES
    ('account_admin'), ('marketplace_owner'), ('marketplace_developer'), ('referrals_admin'),
    ('incentives_admin'), ('billing_admin'), ('sales_agent');

CREATE TABLE workspaces (
    name        TEXT PRIMARY KEY
);
INSERT INTO workspaces (name) VALUES
    ('account_settings'), ('marketplace_offers'), ('referrals'), ('incentives'),
    ('membership'), ('billing'), ('customers');

CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    org_id              TEXT NOT NULL REFERENCES organisations(id),
    email               TEXT NOT NULL UNIQUE,
    display_name        TEXT NOT NULL,
    password_hash       TEXT,
    created_at          BIGINT NOT NULL,
    setup_completed_at  BIGINT
);
CREATE INDEX users_by_org ON users (org_id);

CREATE TABLE role_grants (
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role        TEXT NOT NULL REFERENCES roles(name),
    granted_by  TEXT,
    granted_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, role)
);
CREATE INDEX role_grants_by_role ON role_grants (role, user_id);

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    org_id      TEXT REFERENCES organisations(id),
    key_hash    TEXT NOT NULL UNIQUE,
    demo_only   BIGINT NOT NULL DEFAULT 0 CHECK (demo_only IN (0, 1)),
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

-- Actions and notifications. Localised text is a JSON object {"en": "...", "nl": "..."}.
CREATE TABLE items (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL REFERENCES organisations(id),
    kind             TEXT NOT NULL CHECK (kind IN ('action', 'notification')),
    category         TEXT NOT NULL,
    workspace        TEXT NOT NULL REFERENCES workspaces(name),
    title            TEXT NOT NULL,
    body             TEXT NOT NULL,
    link             TEXT,
    due_at           BIGINT,
    status           TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'completed', 'cancelled')),
    idempotency_key  TEXT,
    payload_hash     TEXT,
    api_key_id       TEXT REFERENCES api_keys(id),
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    UNIQUE (org_id, idempotency_key),
    CHECK ((kind = 'action' AND category IN ('mandatory', 'recommended') AND due_at IS NOT NULL)
        OR (kind = 'notification' AND category IN ('transactional', 'promotional') AND due_at IS NULL))
);
CREATE INDEX items_by_org_created ON items (org_id, created_at);
CREATE INDEX items_by_org_due ON items (org_id, status, due_at);

-- The audience: delivery is evaluated at read time against these rows.
CREATE TABLE item_audience_roles (
    item_id  TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    role     TEXT NOT NULL REFERENCES roles(name),
    PRIMARY KEY (item_id, role)
);
CREATE INDEX item_audience_roles_by_role ON item_audience_roles (role, item_id);

CREATE TABLE item_audience_users (
    item_id  TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    user_id  TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (item_id, user_id)
);
CREATE INDEX item_audience_users_by_user ON item_audience_users (user_id, item_id);

-- Per-user state of an item; a row exists only once the user read or archived it.
CREATE TABLE item_states (
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    item_id      TEXT NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    read_at      BIGINT,
    archived_at  BIGINT,
    PRIMARY KEY (user_id, item_id)
);

CREATE TABLE preferences (
    user_id                         TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    job_function                    TEXT NOT NULL DEFAULT '',
    email_language                  TEXT NOT NULL DEFAULT 'en',
    notification_email              TEXT,
    notification_email_verified_at  BIGINT,
    updated_at                      BIGINT NOT NULL
);

-- Email opt-outs: a row turns a category off; no row means opted in (new users get all email).
-- Only the optional categories can be stored here (spec §3).
CREATE TABLE email_category_optouts (
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    category    TEXT NOT NULL CHECK (category IN ('transactional', 'promotional')),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, category)
);

CREATE TABLE workspace_email_optouts (
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    workspace   TEXT NOT NULL REFERENCES workspaces(name),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, workspace)
);

-- Single-use verification of a changed notification email; only the hash is kept.
CREATE TABLE email_verifications (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);

-- The durable email outbox: one row per (purpose, item, recipient), drained by the worker.
CREATE TABLE outbox (
    id               BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    dedupe_key       TEXT NOT NULL UNIQUE,
    item_id          TEXT REFERENCES items(id) ON DELETE SET NULL,
    user_id          TEXT REFERENCES users(id) ON DELETE SET NULL,
    purpose          TEXT NOT NULL,
    to_address       TEXT NOT NULL,
    subject          TEXT NOT NULL,
    body_text        TEXT NOT NULL,
    body_html        TEXT NOT NULL,
    headers          TEXT NOT NULL DEFAULT '{}',
    status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    locked_until     BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    sent_at          BIGINT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

-- Server-side sessions; the cookie holds the token, the database only its hash.
CREATE TABLE sessions (
    token_hash    TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Who did what, when: role changes, preference changes, publishes.
CREATE TABLE audit_log (
    id       BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    org_id   TEXT,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    subject  TEXT,
    detail   TEXT NOT NULL DEFAULT '{}',
    at       BIGINT NOT NULL
);
CREATE INDEX audit_log_by_org ON audit_log (org_id, id);

-- Bounded per-org log of live events, so a reconnecting stream can replay what it missed.
CREATE TABLE live_events (
    id       BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    org_id   TEXT NOT NULL,
    user_id  TEXT,
    kind     TEXT NOT NULL,
    payload  TEXT NOT NULL,
    at       BIGINT NOT NULL
);
CREATE INDEX live_events_by_org ON live_events (org_id, id);

-- Instance-wide settings (for example whether this database holds the demo).
CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
