-- The contract's tables in each tenant schema: every source table a sync
-- trigger is specified for, the registry aside. Attach registers them,
-- schema_problems() checks them, verify_tenant() and tenant_schemas() ask
-- which of them a tenant lacks.
-- Plain SQL without a SET clause, so that the planner inlines it into its
-- callers' queries and sees eight rows of trigger_spec: with its own
-- search_path it was an opaque function scan estimated at 1,000 rows, and
-- attach's pre-flight and registration chose plans quadratic in the number
-- of schemas (1,000 schemas: 21 s instead of 4 s; fortieth session, found by
-- bisection). Its callers pin search_path; the one name is schema-qualified
-- and its one operator (name <> unknown) resolves in pg_catalog.
CREATE OR REPLACE FUNCTION catalog_sync.tenant_source_tables()
RETURNS TABLE (source_table name)
LANGUAGE sql STABLE
AS $$
    SELECT DISTINCT t.source_table FROM catalog_sync.trigger_spec AS t WHERE t.source_table <> 'tenants_tenant'
$$;
ALTER FUNCTION catalog_sync.tenant_source_tables() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.tenant_source_tables() FROM PUBLIC;
