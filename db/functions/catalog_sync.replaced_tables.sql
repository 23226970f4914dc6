-- The registered tables (of one tenant, or of all) that the sync can no longer
-- vouch for, decided by name as verify decides: the contract name in the
-- tenant's schema means another table than the registered OID (a restore from
-- a dump gives every table a new OID, and may hand the old OIDs to unrelated
-- objects; a table rebuilt and swapped in), or the registered table is gone
-- and nothing took its name. named_relid is that other table, NULL when the
-- table was dropped. audit and status report these rather than check the
-- registered OIDs, which may now name anything.
CREATE OR REPLACE FUNCTION catalog_sync.replaced_tables(p_tenant_id bigint)
RETURNS TABLE (tenant_id bigint, relid oid, source_table name, schema_name name, named_relid oid)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT a.tenant_id, a.relid, a.source_table, t.schema_name, named.oid
    FROM catalog_sync.attached_table AS a
    JOIN catalog_sync.tenant AS t ON t.tenant_id = a.tenant_id
    CROSS JOIN LATERAL (SELECT catalog_sync.named_relation(t.schema_name, a.source_table, a.relid) AS oid) AS named
    WHERE (p_tenant_id IS NULL OR a.tenant_id = p_tenant_id)
      AND named.oid IS DISTINCT FROM a.relid
      AND (named.oid IS NOT NULL OR NOT EXISTS (SELECT FROM pg_catalog.pg_class AS c WHERE c.oid = a.relid))
$$;
ALTER FUNCTION catalog_sync.replaced_tables(bigint) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.replaced_tables(bigint) FROM PUBLIC;
