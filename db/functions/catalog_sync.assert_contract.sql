-- assert_contracts() for one relation.
-- Hot path, only ever called inside a SECURITY DEFINER sync function (EXECUTE is
-- the owner's alone), so it runs under the caller's pinned search_path and sets
-- none itself: a SET clause costs a GUC save/restore on every call.
CREATE OR REPLACE FUNCTION catalog_sync.assert_contract(p_relid oid, p_source_table name)
RETURNS void
LANGUAGE plpgsql VOLATILE  -- it takes a lock
AS $$
BEGIN
    PERFORM catalog_sync.assert_contracts(ARRAY[p_relid], ARRAY[p_source_table]);
END
$$;
ALTER FUNCTION catalog_sync.assert_contract(oid, name) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.assert_contract(oid, name) FROM PUBLIC;
