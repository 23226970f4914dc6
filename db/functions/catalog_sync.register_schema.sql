-- Record a tenant schema and its source tables in the registry. The tenant id
-- is read from public.tenants_tenant by schema_name, never taken from the
-- caller; every table must match the contract (schema_problems()). SECURITY DEFINER (the registry
-- is private), callable by installers through attach_schema().
CREATE OR REPLACE FUNCTION catalog_sync.register_schema(p_schema text)
RETURNS TABLE (tenant_id bigint, relid oid, source_table name)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_nsp       oid;
    v_tenant_id bigint;
    v_table     name;
    v_relid     oid;
    v_problems  text;
BEGIN
    SELECT string_agg(p, '; ') INTO v_problems FROM catalog_sync.schema_problems(p_schema) AS p;
    IF v_problems IS NOT NULL THEN
        RAISE EXCEPTION 'catalog_sync: cannot attach schema %: %', quote_ident(p_schema), v_problems
            USING ERRCODE = 'invalid_schema_name',
                  HINT = 'Create the tenant (public.tenants_tenant row and tenant migrations) as django-tenants does.';
    END IF;
    SELECT n.oid INTO v_nsp FROM pg_catalog.pg_namespace n WHERE n.nspname = p_schema;
    SELECT t.id INTO v_tenant_id FROM public.tenants_tenant t WHERE t.schema_name = p_schema;

    PERFORM pg_catalog.pg_advisory_xact_lock(catalog_sync.lock_key(v_tenant_id, 'attach', 0));
    INSERT INTO catalog_sync.tenant AS t (tenant_id, schema_name) VALUES (v_tenant_id, p_schema)
    ON CONFLICT ON CONSTRAINT tenant_pkey DO UPDATE SET schema_name = EXCLUDED.schema_name, detached_at = NULL
    WHERE (t.schema_name, t.detached_at) IS DISTINCT FROM (EXCLUDED.schema_name, NULL);

    FOR v_table IN SELECT DISTINCT s.source_table FROM catalog_sync.trigger_spec s
                   WHERE s.source_table <> 'tenants_tenant' ORDER BY 1 LOOP
        SELECT c.oid INTO v_relid FROM pg_catalog.pg_class c
        WHERE c.relnamespace = v_nsp AND c.relname = v_table;
        DELETE FROM catalog_sync.attached_table a
        WHERE (a.tenant_id = v_tenant_id AND a.source_table = v_table AND a.relid <> v_relid)
           OR (a.relid = v_relid AND (a.tenant_id, a.source_table) <> (v_tenant_id, v_table));
        INSERT INTO catalog_sync.attached_table AS a (relid, tenant_id, source_table)
        VALUES (v_relid, v_tenant_id, v_table)
        ON CONFLICT ON CONSTRAINT attached_table_pkey DO NOTHING;
        tenant_id := v_tenant_id; relid := v_relid; source_table := v_table;
        RETURN NEXT;
    END LOOP;
END
$$;
ALTER FUNCTION catalog_sync.register_schema(text) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.register_schema(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.register_schema(text) TO catalog_sync_installer;
