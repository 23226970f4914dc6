-- The registered tables of a tenant schema (for detach_schema(), which drops
-- their triggers as the caller before unregister_schema() forgets them): of
-- the tenant schema_registration() finds for it, the registry's first (the
-- machinery's copy of the name may lag: red team, twenty-first session: by
-- the copy, detach found no table of a tenant renamed unseen and then refused
-- it, and opting out a new tenant that reused an old name dropped another
-- tenant's triggers).
CREATE OR REPLACE FUNCTION catalog_sync.attached_relids(p_schema text)
RETURNS TABLE (tenant_id bigint, relid oid)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY
    SELECT a.tenant_id, a.relid
    FROM catalog_sync.attached_table a
    WHERE a.tenant_id = (SELECT g.tenant_id FROM catalog_sync.schema_registration(p_schema) AS g)
    ORDER BY a.relid;
END
$$;
ALTER FUNCTION catalog_sync.attached_relids(text) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.attached_relids(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.attached_relids(text) TO catalog_sync_installer;
