-- Record tenant schemas and their source tables in the registry. Returns one
-- row per registered table (schema_name, tenant_id, relid, source_table), each
-- schema once, in the order of p_schemas. The tenant id is read from
-- public.tenants_tenant by schema_name, never taken from the caller; every
-- table of every schema must match the contract (schema_problems()), else the
-- call raises, naming the first schema that does not, and records nothing.
-- Set-based over all the schemas (attach registers a chunk of them at once).
-- SECURITY DEFINER (the registry is private), callable by installers through
-- attach_schemas().
CREATE OR REPLACE FUNCTION catalog_sync.register_schemas(p_schemas text[])
RETURNS TABLE (schema_name text, tenant_id bigint, relid oid, source_table name)
LANGUAGE plpgsql
SECURITY DEFINER
-- (Planned once per session, see trigger_states().)
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_names       text[];
    v_failed      text;
    v_problems    text;
    v_schemas     text[];
    v_tenants     bigint[];
    v_rel_schemas text[];
    v_rel_tenants bigint[];
    v_relids      oid[];
    v_tables      name[];
    v_missing     integer;
BEGIN
    -- Each schema once, in the order named.
    SELECT array_agg(s.name ORDER BY s.first) INTO v_names
    FROM (SELECT u.name, min(u.n) AS first FROM unnest(p_schemas) WITH ORDINALITY AS u (name, n)
          GROUP BY u.name) AS s;
    -- Concurrent attaches of one tenant queue here, before anything is
    -- checked: what is checked below is what gets registered (in tenant
    -- order: two batches cannot deadlock on each other).
    PERFORM catalog_sync.lock_attaches(v_names);

    SELECT p.schema_name, string_agg(p.problem, '; ' ORDER BY p.n) INTO v_failed, v_problems
    FROM catalog_sync.schema_problems(v_names) WITH ORDINALITY AS p (schema_name, problem, n)
    GROUP BY p.schema_name
    ORDER BY min(p.n)
    LIMIT 1;
    IF v_problems IS NOT NULL THEN
        RAISE EXCEPTION 'catalog_sync: cannot attach schema %: %', quote_ident(v_failed), v_problems
            USING ERRCODE = 'invalid_schema_name',
                  HINT = 'Create the tenant (public.tenants_tenant row and tenant migrations) as django-tenants does.';
    END IF;

    SELECT array_agg(s.name ORDER BY s.n), array_agg(t.id ORDER BY s.n)
    INTO v_schemas, v_tenants
    FROM unnest(v_names) WITH ORDINALITY AS s (name, n)
    JOIN catalog_sync.registry_rows(v_names) AS t (id, schema_name) ON t.schema_name = s.name;
    INSERT INTO catalog_sync.tenant AS t (tenant_id, schema_name)
    SELECT u.id, u.name FROM unnest(v_tenants, v_schemas) AS u (id, name)
    -- (attached again after a detach: what its backfill published may be gone,
    -- purged, or not synced since; attach names it until it is backfilled
    -- again: review, forty-eighth session)
    ON CONFLICT ON CONSTRAINT tenant_pkey DO UPDATE SET schema_name = EXCLUDED.schema_name, detached_at = NULL,
                                                       detached_because = NULL,
                                                       last_backfill_at = CASE WHEN t.detached_at IS NULL
                                                                               THEN t.last_backfill_at END,
                                                       attached_at = coalesce(t.attached_at, EXCLUDED.attached_at)
    WHERE (t.schema_name, t.detached_at) IS DISTINCT FROM (EXCLUDED.schema_name, NULL) OR t.attached_at IS NULL;

    SELECT array_agg(u.name ORDER BY u.n, s.source_table), array_agg(u.id ORDER BY u.n, s.source_table),
           array_agg(c.oid ORDER BY u.n, s.source_table), array_agg(s.source_table ORDER BY u.n, s.source_table)
    INTO v_rel_schemas, v_rel_tenants, v_relids, v_tables
    FROM unnest(v_schemas, v_tenants) WITH ORDINALITY AS u (name, id, n)
    CROSS JOIN catalog_sync.tenant_source_tables() AS s
    LEFT JOIN pg_catalog.pg_namespace ns ON ns.nspname = u.name::name AND ns.nspname::text = u.name
    LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = ns.oid AND c.relname = s.source_table;
    -- Dropped (or the schema renamed) since the check: register nothing.
    v_missing := array_position(v_relids, NULL);
    IF v_missing IS NOT NULL THEN
        RAISE EXCEPTION 'catalog_sync: cannot attach schema %: %.% was dropped, or the schema renamed, while attaching',
                        quote_ident(v_rel_schemas[v_missing]), quote_ident(v_rel_schemas[v_missing]),
                        v_tables[v_missing]
            USING ERRCODE = 'invalid_schema_name', HINT = 'Retry the attach.';
    END IF;
    -- Forget whatever contradicts the new rows: another table registered for
    -- one of these (tenant, source table) pairs, or one of these tables
    -- registered for another tenant or source table.
    DELETE FROM catalog_sync.attached_table a
    WHERE ((a.tenant_id = ANY (v_tenants) AND a.source_table = ANY (v_tables)) OR a.relid = ANY (v_relids))
      AND (a.relid, a.tenant_id, a.source_table) NOT IN
          (SELECT u.relid, u.id, u.source_table FROM unnest(v_relids, v_rel_tenants, v_tables) AS u (relid, id, source_table));
    INSERT INTO catalog_sync.attached_table AS a (relid, tenant_id, source_table)
    SELECT u.relid, u.id, u.source_table FROM unnest(v_relids, v_rel_tenants, v_tables) AS u (relid, id, source_table)
    ON CONFLICT ON CONSTRAINT attached_table_pkey DO NOTHING;
    RETURN QUERY SELECT u.name, u.id, u.relid, u.source_table
                 FROM unnest(v_rel_schemas, v_rel_tenants, v_relids, v_tables) AS u (name, id, relid, source_table);
END
$$;
ALTER FUNCTION catalog_sync.register_schemas(text[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.register_schemas(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.register_schemas(text[]) TO catalog_sync_installer;
