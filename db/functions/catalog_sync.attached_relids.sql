-- The registered tables of a tenant schema (for detach_schema(), which drops
-- their triggers as the caller before unregister_schema() forgets them).
CREATE OR REPLACE FUNCTION catalog_sync.attached_relids(p_schema text)
RETURNS TABLE (tenant_id bigint, relid oid)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY
    SELECT a.tenant_id, a.relid
    FROM catalog_sync.tenant t JOIN catalog_sync.attached_table a ON a.tenant_id = t.tenant_id
    WHERE t.schema_name = p_schema
    ORDER BY a.relid;
END
$$;
ALTER FUNCTION catalog_sync.attached_relids(text) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.attached_relids(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.attached_relids(text) TO catalog_sync_installer;
