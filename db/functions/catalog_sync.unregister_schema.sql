-- Forget a tenant's tables and mark it detached (and, with p_purge, delete its
-- catalog rows).
-- Returns the OIDs that were registered so the caller can drop the triggers.
CREATE OR REPLACE FUNCTION catalog_sync.unregister_schema(p_schema text, p_purge boolean)
RETURNS TABLE (tenant_id bigint, relid oid)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_tenant_id bigint;
BEGIN
    SELECT t.tenant_id INTO v_tenant_id FROM catalog_sync.tenant t WHERE t.schema_name = p_schema;
    IF v_tenant_id IS NULL THEN
        SELECT r.id INTO v_tenant_id FROM public.tenants_tenant r WHERE r.schema_name = p_schema;
        IF v_tenant_id IS NULL THEN
            RAISE EXCEPTION 'catalog_sync: schema % is neither attached nor a tenant schema', quote_ident(p_schema)
                USING ERRCODE = 'invalid_schema_name';
        END IF;
    END IF;
    PERFORM catalog_sync.lock_for_tenant_change(ARRAY[v_tenant_id]);
    RETURN QUERY SELECT a.tenant_id, a.relid FROM catalog_sync.attached_table a WHERE a.tenant_id = v_tenant_id;
    DELETE FROM catalog_sync.attached_table a WHERE a.tenant_id = v_tenant_id;
    UPDATE catalog_sync.tenant t SET detached_at = clock_timestamp() WHERE t.tenant_id = v_tenant_id;
    IF p_purge THEN
        DELETE FROM public.job_catalog c WHERE c.tenant_id = v_tenant_id;
    END IF;
END
$$;
ALTER FUNCTION catalog_sync.unregister_schema(text, boolean) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.unregister_schema(text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.unregister_schema(text, boolean) TO catalog_sync_installer;
