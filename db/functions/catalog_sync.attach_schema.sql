-- Attach one tenant schema: attach_schemas() of that one schema (validate,
-- register, grant, install the sync triggers). Idempotent: a second call
-- changes nothing and returns 0 triggers changed. SECURITY INVOKER, for
-- installers (a django-tenants post-schema hook, a DBA): the caller must own
-- the tenant's tables. Does not backfill existing rows; run
-- catalog_sync.backfill_tenant() after.
CREATE OR REPLACE FUNCTION catalog_sync.attach_schema(p_schema text)
RETURNS TABLE (tenant_id bigint, triggers_changed integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY SELECT a.tenant_id, a.triggers_changed FROM catalog_sync.attach_schemas(ARRAY[p_schema]) AS a;
END
$$;
ALTER FUNCTION catalog_sync.attach_schema(text) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.attach_schema(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.attach_schema(text) TO catalog_sync_installer;
