-- Advisory-lock key for one node of the lock hierarchy:
--   (0, 'tenants', 0)      every tenant          (tenant-row writers of many rows)
--   (T, 'tenant', 0)       one tenant
--   (T, kind, 0)           every parent of a kind in tenant T
--   (T, kind, id)          one parent row (a category, a provider, ...)
-- Hot path, only ever called inside a SECURITY DEFINER sync function (EXECUTE is
-- the owner's alone), so it runs under the caller's pinned search_path and sets
-- none itself: a SET clause costs a GUC save/restore on every call.
CREATE OR REPLACE FUNCTION catalog_sync.lock_key(p_tenant_id bigint, p_kind text, p_id bigint)
RETURNS bigint
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    RETURN pg_catalog.hashtextextended('catalog_sync/' || p_kind || '/' || p_tenant_id || '/' || p_id, 0);
END
$$;
ALTER FUNCTION catalog_sync.lock_key(bigint, text, bigint) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.lock_key(bigint, text, bigint) FROM PUBLIC;
