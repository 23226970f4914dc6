-- Takes the tenant lock of the tenant registered for (or named by) a schema,
-- as unregister_schema() would (lock_for_tenant_change()), in the caller's
-- transaction: for the CLI's detach, whose lock step takes the schema's tables
-- and then this lock in tries, before detach_schema() runs. Taken later, by
-- unregister_schema() under --lock-timeout, it waited for a tenant change
-- (a rename) that waited for the tables detach held, and the change was
-- cancelled with deadlock detected (DBA trial, forty-third session). A schema
-- the sync knows nothing of takes nothing (detach_schema() says why).
-- An installer could take the same lock already (unregister_schema(), which
-- takes it through this function, before it checks anything). Returns the
-- tenant's id (NULL: none).
-- (A first form returned void: dropped, CREATE OR REPLACE cannot change it.)
DO $drop$
BEGIN
    IF pg_catalog.to_regprocedure('catalog_sync.lock_schema_tenant(text)') IS NOT NULL
       AND pg_catalog.pg_get_function_result(pg_catalog.to_regprocedure('catalog_sync.lock_schema_tenant(text)'))
           = 'void' THEN
        DROP FUNCTION catalog_sync.lock_schema_tenant(text);
    END IF;
END
$drop$;
CREATE OR REPLACE FUNCTION catalog_sync.lock_schema_tenant(p_schema text)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_tenant_id bigint;
BEGIN
    SELECT g.tenant_id INTO v_tenant_id FROM catalog_sync.schema_registration(p_schema) AS g;
    IF v_tenant_id IS NOT NULL THEN
        PERFORM catalog_sync.lock_for_tenant_change(ARRAY[v_tenant_id]);
    END IF;
    RETURN v_tenant_id;
END
$$;
ALTER FUNCTION catalog_sync.lock_schema_tenant(text) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.lock_schema_tenant(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.lock_schema_tenant(text) TO catalog_sync_installer;
