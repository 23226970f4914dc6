-- The contract's tables in each tenant schema: every source table a sync
-- trigger is specified for, the registry aside. Attach registers them,
-- schema_problems() checks them, verify_tenant() and tenant_schemas() ask
-- which of them a tenant lacks.
CREATE OR REPLACE FUNCTION catalog_sync.tenant_source_tables()
RETURNS TABLE (source_table name)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT DISTINCT t.source_table FROM catalog_sync.trigger_spec AS t WHERE t.source_table <> 'tenants_tenant'
$$;
ALTER FUNCTION catalog_sync.tenant_source_tables() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.tenant_source_tables() FROM PUBLIC;
