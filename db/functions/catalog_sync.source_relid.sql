-- The registered OID of one of a tenant's source tables (NULL if not attached).
-- Hot path, only ever called inside a SECURITY DEFINER sync function (EXECUTE is
-- the owner's alone), so it runs under the caller's pinned search_path and sets
-- none itself: a SET clause costs a GUC save/restore on every call.
CREATE OR REPLACE FUNCTION catalog_sync.source_relid(p_tenant_id bigint, p_source_table name)
RETURNS oid
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RETURN (SELECT a.relid FROM catalog_sync.attached_table a
            WHERE a.tenant_id = p_tenant_id AND a.source_table = p_source_table);
END
$$;
ALTER FUNCTION catalog_sync.source_relid(bigint, name) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.source_relid(bigint, name) FROM PUBLIC;
