-- Why schemas cannot be attached: one row per problem (schema, problem), in
-- the order of p_schemas; none: all of them can be. Checks that each exists,
-- that the tenant registry names it, that every source table is there and
-- matches the contract. Reads the catalogs and the registry only; the
-- installer's pre-flight (catalog-sync attach) and register_schemas() share it.
-- Many schemas per call: the registry's own contract check and the per-call
-- overhead are paid once (attach of 10,000 schemas checks them all twice).
CREATE OR REPLACE FUNCTION catalog_sync.schema_problems(p_schemas text[])
RETURNS TABLE (schema_name text, problem text)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_schema record;
    v_relids oid[];
    v_tables name[];
    v_registered text[];
BEGIN
    v_registered := ARRAY(SELECT r.tenant_schema FROM catalog_sync.registry_rows(p_schemas) AS r);
    -- (nspname = name: a text comparison would not use the index; and text
    -- again: the cast to name cuts a name longer than 63 bytes, which must not
    -- find the schema whose name is its first 63 bytes.)
    FOR v_schema IN
        SELECT s.name, n.oid AS nsp, length(s.name) BETWEEN 1 AND 63 AS valid,
               s.name = ANY (v_registered) AS registered
        FROM unnest(p_schemas) WITH ORDINALITY AS s (name, n)
        LEFT JOIN pg_catalog.pg_namespace n ON n.nspname = s.name::name AND n.nspname::text = s.name
        ORDER BY s.n
    LOOP
        schema_name := v_schema.name;
        IF v_schema.valid IS NOT TRUE THEN
            problem := 'invalid schema name (1 to 63 characters)';
            RETURN NEXT;
            CONTINUE;
        ELSIF v_schema.nsp IS NULL THEN
            problem := format('schema %s does not exist', quote_ident(v_schema.name));
            RETURN NEXT;
            CONTINUE;
        ELSIF v_schema.name = 'public' THEN
            -- (not "public.ats_jobcategory is missing", and the rest of the list)
            problem := 'schema public holds the tenant registry (django-tenants'' public tenant), not a tenant''s '
                       'tables: there is nothing to attach';
            RETURN NEXT;
            CONTINUE;
        ELSIF NOT v_schema.registered THEN
            problem := format('schema %s is not a tenant schema: no row of public.tenants_tenant has this schema_name',
                              quote_ident(v_schema.name));
            RETURN NEXT;
        END IF;
        SELECT array_agg(c.oid ORDER BY s.source_table), array_agg(s.source_table ORDER BY s.source_table)
        INTO v_relids, v_tables
        FROM catalog_sync.tenant_source_tables() AS s
        LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = v_schema.nsp AND c.relname = s.source_table;
        -- The common case first: every table there and matching, one check for
        -- all of them (a missing table is a NULL, which does not match).
        CONTINUE WHEN catalog_sync.contract_matches(v_relids, v_tables);
        FOR i IN 1 .. cardinality(v_tables) LOOP
            IF v_relids[i] IS NULL THEN
                problem := format('%s.%s is missing', quote_ident(v_schema.name), v_tables[i]);
                RETURN NEXT;
            ELSE
                RETURN QUERY SELECT v_schema.name, format('%s.%s: %s', quote_ident(v_schema.name), v_tables[i], p)
                             FROM catalog_sync.contract_problems(v_relids[i], v_tables[i]) AS p;
            END IF;
        END LOOP;
    END LOOP;
END
$$;
ALTER FUNCTION catalog_sync.schema_problems(text[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.schema_problems(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.schema_problems(text[]) TO catalog_sync_installer;
