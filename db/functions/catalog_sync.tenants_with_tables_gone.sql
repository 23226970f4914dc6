-- The tenants of the registry that the sync detached itself (a source table
-- was gone, or an uninstall stopped part-way) whose schema still lacks a
-- contract table, by name (or the schema itself): their rows are off the
-- catalogs, and attach --all leaves them alone (tenant_schemas(): detached).
-- detail: 'schema (detached by the sync at T: why); missing: t1, t2' or
-- '...; missing: the schema itself'. verify reports them (tenant_tables_gone)
-- and audit too (DBA trial, forty-ninth session: a Django DeleteModel
-- unpublished every tenant it reached, and verify, audit and status exited
-- 0). Reads the registry through registry_rows() (its callers checked it).
CREATE OR REPLACE FUNCTION catalog_sync.tenants_with_tables_gone()
RETURNS TABLE (tenant_id bigint, schema_name text, detail text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT r.tenant_id, r.tenant_schema::text,
           format('%s (detached by the sync at %s: %s); missing: %s', r.tenant_schema,
                  -- (ISO 8601, as the tool's other timestamps)
                  to_char(t.detached_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), t.detached_because,
                  CASE WHEN NOT EXISTS (SELECT FROM pg_namespace n WHERE n.nspname = r.tenant_schema::name)
                       THEN 'the schema itself'
                       ELSE gone.tables END)
    FROM catalog_sync.registry_rows() AS r
    JOIN catalog_sync.tenant t ON t.tenant_id = r.tenant_id
    CROSS JOIN LATERAL (SELECT string_agg(s.source_table, ', ' ORDER BY s.source_table) AS tables
                        FROM catalog_sync.tenant_source_tables() AS s
                        WHERE NOT EXISTS (SELECT FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                                          WHERE n.nspname = r.tenant_schema::name AND c.relname = s.source_table)
                        ) AS gone
    WHERE r.tenant_id IS NOT NULL AND t.detached_at IS NOT NULL AND t.detached_because IS NOT NULL
      AND gone.tables IS NOT NULL
    ORDER BY r.tenant_id
$$;
ALTER FUNCTION catalog_sync.tenants_with_tables_gone() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.tenants_with_tables_gone() FROM PUBLIC;
