-- Lock public.tenants_tenant (the registry) ACCESS SHARE, as any read of it
-- would, waiting as long as a read would (for an ALTER TABLE of the
-- application, say). Before registry_row() reads it with lock_timeout = 1ms.
-- By name: LOCK looks the name up again after a wait, so it locks what the
-- name means once the lock is granted, and the check that follows checks that.
-- Its own function because a STABLE reader may not run LOCK itself.
-- Hot path, only ever called inside a SECURITY DEFINER sync function (EXECUTE is
-- the owner's alone), so it runs under the caller's pinned search_path and sets
-- none itself: a SET clause costs a GUC save/restore on every call.
CREATE OR REPLACE FUNCTION catalog_sync.lock_registry()
RETURNS void
LANGUAGE plpgsql VOLATILE  -- it takes a lock
AS $$
BEGIN
    LOCK TABLE ONLY public.tenants_tenant IN ACCESS SHARE MODE;
END
$$;
ALTER FUNCTION catalog_sync.lock_registry() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.lock_registry() FROM PUBLIC;
