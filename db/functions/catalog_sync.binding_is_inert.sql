-- Whether a sync trigger bound to tenant p_tenant_id on a table that is not
-- attached for it does nothing (the tenant deleted from the registry, its
-- schema kept, as django-tenants does; or detached, e.g. by protect after one
-- of its tables was dropped) rather than fail the write. guard() decides a
-- write by it, and audit() tells a DBA which of the two a stray trigger does:
-- one definition, so the report cannot drift from the behaviour.
-- Only on guard()'s cold path (a table not attached for the bound tenant).
CREATE OR REPLACE FUNCTION catalog_sync.binding_is_inert(p_tenant_id bigint)
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (SELECT r.tenant_id FROM catalog_sync.registry_row(p_tenant_id) AS r) IS NULL
           OR EXISTS (SELECT FROM catalog_sync.tenant t WHERE t.tenant_id = p_tenant_id AND t.detached_at IS NOT NULL)
$$;
ALTER FUNCTION catalog_sync.binding_is_inert(bigint) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.binding_is_inert(bigint) FROM PUBLIC;
