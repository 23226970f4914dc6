-- Never holds a committed row. backfill_tenant() inserts the tenant's row and
-- deletes it again, under the tenant's lock and before any catalog row, so
-- that the foreign key's check takes FOR KEY SHARE on the tenant's registry
-- row (the check runs as the registry's owner: the machinery may only read
-- the registry, and a row-locking clause needs UPDATE) and holds it to the
-- end of the transaction. A DELETE of the
-- tenant from the registry then waits for the backfill before it deletes
-- anything; it deleted the machinery's row of the tenant and catalog rows
-- (its foreign keys cascade) and then waited for a row the backfill held,
-- while the backfill waited for one it had deleted: a deadlock, which failed
-- the application's DELETE or the backfill (concurrency trial, fifty-second
-- session). A backfill that comes after such a DELETE fails the check: the
-- tenant is gone.
CREATE TABLE catalog_sync.registry_claim (
    tenant_id bigint NOT NULL REFERENCES public.tenants_tenant (id) ON DELETE CASCADE
);
ALTER TABLE catalog_sync.registry_claim OWNER TO catalog_sync_owner;
-- (no key: its DELETEs need a replica identity once a publication FOR ALL
-- TABLES exists: see rewritten_table)
ALTER TABLE catalog_sync.registry_claim REPLICA IDENTITY FULL;
REVOKE ALL ON catalog_sync.registry_claim FROM PUBLIC;
