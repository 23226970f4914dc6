-- Hot path, only ever called inside a SECURITY DEFINER function (EXECUTE is the
-- owner's alone), so it runs under the caller's pinned search_path.
-- Every definer function that reads public.tenants_tenant calls this first:
-- the application role owns that table and could otherwise route the
-- definer's reads through its own types and casts. READ COMMITTED first, for
-- the reason given in assert_read_committed(): under REPEATABLE READ an index
-- over the application's own code, committed after the transaction's
-- snapshot, passed the check and ran as the definer when an installer's
-- function (purge_tenant(), schema_registration(), ...) read the registry
-- (review, twenty-fifth session). registry_row(), the triggers' reader, folds
-- the contract check into its plan instead and leaves READ COMMITTED to its
-- callers (guard(), on_tenant_change(), purge_tenant(), audit(), ...).
CREATE OR REPLACE FUNCTION catalog_sync.assert_registry()
RETURNS void
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    PERFORM catalog_sync.assert_read_committed();
    PERFORM catalog_sync.assert_contract('public.tenants_tenant'::regclass, 'tenants_tenant');
END
$$;
ALTER FUNCTION catalog_sync.assert_registry() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.assert_registry() FROM PUBLIC;
