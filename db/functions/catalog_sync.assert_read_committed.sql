-- The sync reads tenant tables only in READ COMMITTED transactions. The
-- contract checks read pg_catalog with a statement's snapshot. Under
-- REPEATABLE READ or SERIALIZABLE that is the transaction's first one, older
-- than what the parser and planner see: an index over tenant code committed
-- since, or a table swapped for a view, would pass the check and run as the
-- definer. Fail closed. Called by guard(), on_tenant_change(), the entry
-- points that read tenant tables for installers: verify_tenant(),
-- backfill_tenant(), status(), purge_tenant(), audit(), and assert_registry(),
-- through which registry_rows(), the installers' reader of the registry, passes.
-- Hot path, only ever called inside a SECURITY DEFINER sync function (EXECUTE is
-- the owner's alone), so it runs under the caller's pinned search_path and sets
-- none itself: a SET clause costs a GUC save/restore on every call.
CREATE OR REPLACE FUNCTION catalog_sync.assert_read_committed()
RETURNS void
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    IF pg_catalog.current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'catalog_sync: the sync reads tenant tables only in READ COMMITTED transactions (this one is %)',
                        pg_catalog.current_setting('transaction_isolation')
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Write tenant tables and public.tenants_tenant, and run verify, backfill and status, in '
                         'READ COMMITTED transactions (Django''s default).';
    END IF;
END
$$;
ALTER FUNCTION catalog_sync.assert_read_committed() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.assert_read_committed() FROM PUBLIC;
