-- Tenants the machinery knows. The tenant id is bound here, at attach time,
-- from the registry row whose schema_name names the schema; triggers carry the
-- same id as their argument and both must agree. detached_at records an
-- explicit detach: verify then no longer asks for the tenant to be attached.
-- A tenant detached before it was ever attached ("do not sync this one") has
-- no attached_at until its first attach. detached_because says why the sync
-- detached a tenant itself (protect, or repair, after a source table was
-- gone); NULL for a detach on purpose (catalog-sync detach). Only a detach on
-- purpose is an opt-out: a tenant the sync detached is not attached, and
-- verify reports it (tenant_not_attached) once its schema holds the contract
-- tables again (red team, twenty-first session: it stayed unsynced for good).
CREATE TABLE catalog_sync.tenant (
    tenant_id        bigint PRIMARY KEY
                     REFERENCES public.tenants_tenant (id) ON DELETE CASCADE,
    schema_name      name NOT NULL,
    attached_at      timestamptz DEFAULT pg_catalog.now(),
    last_backfill_at timestamptz,
    detached_at      timestamptz,
    detached_because text
);
ALTER TABLE catalog_sync.tenant OWNER TO catalog_sync_owner;
