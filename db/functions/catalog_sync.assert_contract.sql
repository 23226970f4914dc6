-- Lock a relation the sync is about to read, then raise if it no longer matches
-- the contract (the fast check first; the full list of problems only for the
-- message).
-- Hot path, only ever called inside a SECURITY DEFINER sync function (EXECUTE is
-- the owner's alone), so it runs under the caller's pinned search_path and sets
-- none itself: a SET clause costs a GUC save/restore on every call.
CREATE OR REPLACE FUNCTION catalog_sync.assert_contract(p_relid oid, p_source_table name)
RETURNS void
LANGUAGE plpgsql VOLATILE  -- it takes a lock
AS $$
DECLARE
    v_lock     text;
    v_problems text;
BEGIN
    -- Lock before checking: from here to the end of the transaction the table
    -- cannot become a view or change a column type (ACCESS SHARE, what a read
    -- takes anyway). A relation that no longer exists is reported below.
    SELECT format('LOCK TABLE ONLY %I.%I IN ACCESS SHARE MODE', n.nspname, c.relname) INTO v_lock
    FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.oid = p_relid;
    IF v_lock IS NOT NULL THEN
        EXECUTE v_lock;
    END IF;
    IF catalog_sync.contract_matches(p_relid, p_source_table) THEN
        RETURN;
    END IF;
    SELECT string_agg(p, '; ') INTO v_problems FROM catalog_sync.contract_problems(p_relid, p_source_table) AS p;
    RAISE EXCEPTION 'catalog_sync: % does not match the % contract: %',
                    coalesce(catalog_sync.qualified_name(p_relid), p_relid::text), p_source_table,
                    coalesce(v_problems, 'unknown')
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'The sync reads only tables exactly as django-tenants creates them; restore the table.';
END
$$;
ALTER FUNCTION catalog_sync.assert_contract(oid, name) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.assert_contract(oid, name) FROM PUBLIC;
