-- Why a schema cannot be attached (one line per problem; none: it can be).
-- Checks that it exists, that the tenant registry names it, that every source
-- table is there and matches the contract. Reads the catalogs and the registry
-- only; the installer's pre-flight (catalog-sync attach) and register_schema()
-- share it.
CREATE OR REPLACE FUNCTION catalog_sync.schema_problems(p_schema text)
RETURNS SETOF text
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_nsp    oid;
    v_relids oid[];
    v_tables name[];
BEGIN
    PERFORM catalog_sync.assert_registry();
    IF p_schema IS NULL OR length(p_schema) NOT BETWEEN 1 AND 63 THEN
        RETURN NEXT 'invalid schema name (1 to 63 characters)';
        RETURN;
    END IF;
    SELECT n.oid INTO v_nsp FROM pg_catalog.pg_namespace n WHERE n.nspname = p_schema;
    IF v_nsp IS NULL THEN
        RETURN NEXT format('schema %s does not exist', quote_ident(p_schema));
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT FROM public.tenants_tenant t WHERE t.schema_name = p_schema) THEN
        RETURN NEXT format('schema %s is not a tenant schema: no row of public.tenants_tenant has this schema_name',
                           quote_ident(p_schema));
    END IF;
    SELECT array_agg(c.oid ORDER BY s.source_table), array_agg(s.source_table ORDER BY s.source_table)
    INTO v_relids, v_tables
    FROM (SELECT DISTINCT t.source_table FROM catalog_sync.trigger_spec t
          WHERE t.source_table <> 'tenants_tenant') AS s
    LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = v_nsp AND c.relname = s.source_table;
    -- The common case first: every table there and matching, one check for all
    -- of them (a missing table is a NULL, which does not match).
    IF catalog_sync.contract_matches(v_relids, v_tables) THEN
        RETURN;
    END IF;
    FOR i IN 1 .. cardinality(v_tables) LOOP
        IF v_relids[i] IS NULL THEN
            RETURN NEXT format('%s.%s is missing', quote_ident(p_schema), v_tables[i]);
        ELSE
            RETURN QUERY SELECT format('%s.%s: %s', quote_ident(p_schema), v_tables[i], p)
                         FROM catalog_sync.contract_problems(v_relids[i], v_tables[i]) AS p;
        END IF;
    END LOOP;
END
$$;
ALTER FUNCTION catalog_sync.schema_problems(text) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.schema_problems(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.schema_problems(text) TO catalog_sync_installer;
