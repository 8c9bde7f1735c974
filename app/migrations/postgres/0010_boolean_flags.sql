-- Flags as booleans where the backend has them: `api_keys.demo_only` was a 0/1 BIGINT on both
-- backends (0001). PostgreSQL now stores it as BOOLEAN; SQLite has no boolean type and keeps its
-- 0/1 (see sqlite/0010). The code binds a Rust bool, which each backend stores in its own way,
-- and reads it with `db::dialect::flag`.
ALTER TABLE api_keys DROP CONSTRAINT IF EXISTS api_keys_demo_only_check;
ALTER TABLE api_keys ALTER COLUMN demo_only DROP DEFAULT;
ALTER TABLE api_keys ALTER COLUMN demo_only TYPE BOOLEAN USING demo_only <> 0;
ALTER TABLE api_keys ALTER COLUMN demo_only SET DEFAULT FALSE;
