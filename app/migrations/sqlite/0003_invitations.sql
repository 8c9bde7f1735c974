-- Single-use links that let an invited user choose a password (spec §1, org admins invite).
-- Only the token's hash is kept.
CREATE TABLE password_tokens (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX password_tokens_by_user ON password_tokens (user_id);
