-- Record a tenant schema and its source tables in the registry. The tenant id
-- is read from public.tenants_tenant by schema_name, never taken from the
-- caller; every table must match the contract (schema_problems()). SECURITY DEFINER (the registry
-- is private), callable by installers through attach_schema().
CREATE OR REPLACE FUNCTION catalog_sync.register_schema(p_schema text)
RETURNS TABLE (tenant_id bigint, relid oid, source_table name)
LANGUAGE plpgsql
SECURITY DEFINER
-- (Planned once per session, see trigger_states().)
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_nsp       oid;
    v_tenant_id bigint;
    v_relids    oid[];
    v_tables    name[];
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

    SELECT array_agg(c.oid ORDER BY s.source_table), array_agg(s.source_table ORDER BY s.source_table)
    INTO v_relids, v_tables
    FROM (SELECT DISTINCT t.source_table FROM catalog_sync.trigger_spec t
          WHERE t.source_table <> 'tenants_tenant') AS s
    JOIN pg_catalog.pg_class c ON c.relnamespace = v_nsp AND c.relname = s.source_table;
    -- Forget whatever contradicts the new rows: another table registered for
    -- one of these (tenant, source table) pairs, or one of these tables
    -- registered for another tenant or source table.
    DELETE FROM catalog_sync.attached_table a
    WHERE ((a.tenant_id = v_tenant_id AND a.source_table = ANY (v_tables)) OR a.relid = ANY (v_relids))
      AND (a.relid, a.tenant_id, a.source_table) NOT IN
          (SELECT u.relid, v_tenant_id, u.source_table FROM unnest(v_relids, v_tables) AS u (relid, source_table));
    INSERT INTO catalog_sync.attached_table AS a (relid, tenant_id, source_table)
    SELECT u.relid, v_tenant_id, u.source_table FROM unnest(v_relids, v_tables) AS u (relid, source_table)
    ON CONFLICT ON CONSTRAINT attached_table_pkey DO NOTHING;
    RETURN QUERY SELECT v_tenant_id, u.relid, u.source_table
                 FROM unnest(v_relids, v_tables) AS u (relid, source_table);
END
$$;
ALTER FUNCTION catalog_sync.register_schema(text) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.register_schema(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.register_schema(text) TO catalog_sync_installer;
