-- What the sync knows of a schema, for detach and unregister_schema(): its
-- tenant (the registry row that names it, else the sync's record of a tenant by that name: its copy of
-- the name may lag the registry's, see replaced_tables()) and state ('attached', 'detached' on purpose,
-- 'detached by the sync' itself after a source table was gone (detached_because), 'not attached' for a
-- registry tenant never attached; NULL tenant and 'unknown' for a
-- schema that is neither, e.g. a tenant deleted from the registry whose
-- schema stayed), and the tables in it that are registered to another tenant
-- (a table moved between schemas keeps its registration: detach of this
-- schema must not drop that tenant's triggers).
CREATE OR REPLACE FUNCTION catalog_sync.schema_registration(p_schema text)
RETURNS TABLE (tenant_id bigint, state text, other_tenants_relids oid[])
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    SELECT r.tenant_id INTO tenant_id FROM catalog_sync.registry_rows(ARRAY[p_schema]) AS r;
    IF tenant_id IS NOT NULL THEN
        SELECT CASE WHEN t.detached_at IS NULL THEN 'attached'
                    WHEN t.detached_because IS NULL THEN 'detached' ELSE 'detached by the sync' END
        INTO state
        FROM catalog_sync.tenant t WHERE t.tenant_id = schema_registration.tenant_id;
        state := coalesce(state, 'not attached');
    ELSE
        SELECT t.tenant_id, CASE WHEN t.detached_at IS NULL THEN 'attached'
                                 WHEN t.detached_because IS NULL THEN 'detached' ELSE 'detached by the sync' END
        INTO tenant_id, state
        FROM catalog_sync.tenant t WHERE t.schema_name = p_schema
        ORDER BY t.detached_at IS NULL DESC, t.tenant_id LIMIT 1;
        state := coalesce(state, 'unknown');
    END IF;
    SELECT coalesce(array_agg(a.relid), '{}') INTO other_tenants_relids
    FROM catalog_sync.attached_table a
    JOIN pg_catalog.pg_class c ON c.oid = a.relid
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = p_schema AND a.tenant_id IS DISTINCT FROM schema_registration.tenant_id;
    RETURN NEXT;
END
$$;
ALTER FUNCTION catalog_sync.schema_registration(text) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.schema_registration(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.schema_registration(text) TO catalog_sync_installer;
