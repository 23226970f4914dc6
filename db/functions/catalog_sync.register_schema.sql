-- Record a tenant schema and its source tables in the registry. The tenant id
-- is read from public.tenants_tenant by schema_name, never taken from the
-- caller; every table must match the contract. SECURITY DEFINER (the registry
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
    IF p_schema IS NULL OR length(p_schema) NOT BETWEEN 1 AND 63 THEN
        RAISE EXCEPTION 'catalog_sync: invalid schema name' USING ERRCODE = 'invalid_schema_name';
    END IF;
    SELECT n.oid INTO v_nsp FROM pg_catalog.pg_namespace n WHERE n.nspname = p_schema;
    IF v_nsp IS NULL THEN
        RAISE EXCEPTION 'catalog_sync: schema % does not exist', quote_ident(p_schema)
            USING ERRCODE = 'invalid_schema_name';
    END IF;
    SELECT t.id INTO v_tenant_id FROM public.tenants_tenant t WHERE t.schema_name = p_schema;
    IF v_tenant_id IS NULL THEN
        RAISE EXCEPTION 'catalog_sync: schema % is not a tenant schema', quote_ident(p_schema)
            USING ERRCODE = 'invalid_schema_name',
                  HINT = 'No row of public.tenants_tenant has this schema_name; create the tenant first.';
    END IF;

    PERFORM pg_catalog.pg_advisory_xact_lock(catalog_sync.lock_key(v_tenant_id, 'attach', 0));
    INSERT INTO catalog_sync.tenant AS t (tenant_id, schema_name) VALUES (v_tenant_id, p_schema)
    ON CONFLICT ON CONSTRAINT tenant_pkey DO UPDATE SET schema_name = EXCLUDED.schema_name
    WHERE t.schema_name IS DISTINCT FROM EXCLUDED.schema_name;

    FOR v_table IN SELECT DISTINCT s.source_table FROM catalog_sync.trigger_spec s
                   WHERE s.source_table <> 'tenants_tenant' ORDER BY 1 LOOP
        SELECT c.oid INTO v_relid FROM pg_catalog.pg_class c
        WHERE c.relnamespace = v_nsp AND c.relname = v_table;
        IF v_relid IS NULL THEN
            RAISE EXCEPTION 'catalog_sync: schema % has no table %', quote_ident(p_schema), v_table
                USING ERRCODE = 'undefined_table',
                      HINT = 'Run the tenant migrations (django-tenants migrate_schemas) first.';
        END IF;
        SELECT string_agg(p, '; ') INTO v_problems FROM catalog_sync.contract_problems(v_relid, v_table) AS p;
        IF v_problems IS NOT NULL THEN
            RAISE EXCEPTION 'catalog_sync: %.% does not match the contract: %', quote_ident(p_schema), v_table, v_problems
                USING ERRCODE = 'invalid_table_definition';
        END IF;
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
