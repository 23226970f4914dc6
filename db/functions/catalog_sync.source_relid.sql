-- The registered OID of one of a tenant's source tables (NULL if not attached).
CREATE OR REPLACE FUNCTION catalog_sync.source_relid(p_tenant_id bigint, p_source_table name)
RETURNS oid
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT a.relid FROM catalog_sync.attached_table a
    WHERE a.tenant_id = p_tenant_id AND a.source_table = p_source_table
$$;
ALTER FUNCTION catalog_sync.source_relid(bigint, name) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.source_relid(bigint, name) FROM PUBLIC;
