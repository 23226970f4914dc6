-- Hot path, only ever called inside a SECURITY DEFINER function (EXECUTE is the
-- owner's alone), so it runs under the caller's pinned search_path.
-- Every definer function that reads public.tenants_tenant calls this first:
-- the application role owns that table and could otherwise route the
-- definer's reads through its own types and casts.
CREATE OR REPLACE FUNCTION catalog_sync.assert_registry()
RETURNS void
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    PERFORM catalog_sync.assert_contract('public.tenants_tenant'::regclass, 'tenants_tenant');
END
$$;
ALTER FUNCTION catalog_sync.assert_registry() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.assert_registry() FROM PUBLIC;
