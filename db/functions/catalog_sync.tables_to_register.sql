-- Per schema named, the tables of an attached tenant that attach registers
-- anew: those replaced_tables() finds replaced (the contract name means
-- another relation: a restore from a dump gives every table a new OID, or a
-- table was swapped in) or moved (the registry names another schema). The
-- triggers came with the dump, so an attach after a restore changes no
-- trigger: attach and its dry run say these instead (DBA trial, forty-fifth
-- session: both said "up to date" while the real run re-registered every
-- restored table, which is what clears verify's table_replaced). Counts
-- only: nothing of the tables is read.
CREATE OR REPLACE FUNCTION catalog_sync.tables_to_register(p_schemas text[])
RETURNS TABLE (schema_name text, tables bigint)
LANGUAGE sql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off   -- see docs/architecture.md, "No JIT in the sync"
SET constraint_exclusion = partition   -- see docs/security.md, "Session settings"
SET row_security = off
AS $$
    SELECT r.tenant_schema::text, pg_catalog.count(*)
    FROM catalog_sync.registry_rows(p_schemas) AS r
    JOIN catalog_sync.tenant AS t ON t.tenant_id = r.tenant_id AND t.detached_at IS NULL
    CROSS JOIN LATERAL catalog_sync.replaced_tables(r.tenant_id) AS x
    WHERE x.why IN ('replaced', 'moved')
      -- Only where a registered table is not where its name says (gone,
      -- renamed, or in another schema than the registry's): a tenant whose
      -- tables all are cannot have one replaced or moved, and
      -- replaced_tables() costs 0.3 ms a tenant (a re-attach of 1,000).
      AND EXISTS (SELECT FROM catalog_sync.attached_table AS a
                  LEFT JOIN pg_catalog.pg_class AS c ON c.oid = a.relid
                  LEFT JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
                  WHERE a.tenant_id = r.tenant_id
                    AND (c.oid IS NULL OR c.relname <> a.source_table OR n.nspname <> r.tenant_schema::name))
    GROUP BY r.tenant_schema
$$;
ALTER FUNCTION catalog_sync.tables_to_register(text[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.tables_to_register(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.tables_to_register(text[]) TO catalog_sync_installer;
