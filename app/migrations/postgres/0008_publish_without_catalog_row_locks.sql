-- A foreign key is checked per inserted row by locking the referenced row (FOR KEY SHARE), and
-- every published item referenced the same few rows: its organisation, one of the workspaces,
-- its API key, and one of the roles per audience role. On PostgreSQL those checks and locks took
-- about a tenth of the publish path's throughput (same-day A/B, 2026-12-01, docs/benchmarks.md).
-- Nothing these keys protected against can happen through the application: organisations,
-- workspaces, roles and API keys are never deleted (keys are revoked), and a publish checks the
-- organisation inside its own transaction and the workspace and roles against the catalogs.
-- The keys that cascade (an item's audience rows go with the item) stay. SQLite keeps these keys:
-- its checks are index lookups in the same process and take no locks (0008 there is empty).
ALTER TABLE items
    DROP CONSTRAINT IF EXISTS items_org_id_fkey,
    DROP CONSTRAINT IF EXISTS items_workspace_fkey,
    DROP CONSTRAINT IF EXISTS items_api_key_id_fkey;
ALTER TABLE item_audience_roles
    DROP CONSTRAINT IF EXISTS item_audience_roles_role_fkey;
