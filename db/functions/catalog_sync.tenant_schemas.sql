-- Every attached tenant, and every other tenant of the registry whose schema
-- holds the contract's source tables (django-tenants' public tenant does not):
-- whether it is attached, and
-- whether it is detached (attach --all leaves those alone): on purpose, or
-- by the sync itself after a source table was gone (detached_because) while
-- its schema still fails the contract; once the schema holds the contract
-- tables again, such a tenant is only not attached (verify reports it, attach
-- --all attaches it: red team, twenty-first session).
CREATE OR REPLACE FUNCTION catalog_sync.tenant_schemas()
RETURNS TABLE (tenant_id bigint, schema_name text, attached boolean, detached boolean)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY
    WITH registry AS MATERIALIZED (SELECT * FROM catalog_sync.registry_rows()),
    -- the schemas of tenants the sync detached that still fail the contract:
    -- one call for all of them (review, twenty-first session: one per tenant
    -- read the registry again each time)
    still_broken AS MATERIALIZED (
        SELECT DISTINCT p.schema_name
        FROM catalog_sync.schema_problems(ARRAY(
                 SELECT r.tenant_schema FROM registry r
                 JOIN catalog_sync.tenant t ON t.tenant_id = r.tenant_id
                 WHERE t.detached_at IS NOT NULL AND t.detached_because IS NOT NULL)) AS p)
    SELECT r.tenant_id, r.tenant_schema, t.tenant_id IS NOT NULL AND t.detached_at IS NULL,
           t.detached_at IS NOT NULL
           AND (t.detached_because IS NULL OR r.tenant_schema IN (SELECT b.schema_name FROM still_broken b))
    FROM registry AS r
    LEFT JOIN catalog_sync.tenant t ON t.tenant_id = r.tenant_id
    -- Attached tenants by their registration (their tables may have been
    -- renamed or dropped since), others by a table of the contract's name.
    WHERE (t.tenant_id IS NOT NULL AND t.detached_at IS NULL)
       OR EXISTS (SELECT FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = r.tenant_schema::name AND c.relname = 'ats_jobposting')
    ORDER BY r.tenant_schema;
END
$$;
ALTER FUNCTION catalog_sync.tenant_schemas() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.tenant_schemas() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.tenant_schemas() TO catalog_sync_installer;
