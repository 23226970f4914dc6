-- Lock the relations the sync is about to read, then raise if one of them no
-- longer matches its contract (p_relids[i] against p_source_tables[i]; the
-- fast check first, the full list of problems only for the message). One LOCK
-- and one check for all of them: a sync trigger checks every table its
-- statement reads in one call (see guard()).
-- Hot path, only ever called inside a SECURITY DEFINER sync function (EXECUTE is
-- the owner's alone), so it runs under the caller's pinned search_path and sets
-- none itself: a SET clause costs a GUC save/restore on every call.
CREATE OR REPLACE FUNCTION catalog_sync.assert_contracts(p_relids oid[], p_source_tables name[])
RETURNS void
LANGUAGE plpgsql VOLATILE  -- it takes locks
AS $$
DECLARE
    v_problems text;
    v_dropped  boolean;
BEGIN
    IF coalesce(cardinality(p_relids), 0) = 0 THEN
        RETURN;                         -- nothing to read, nothing to check
    END IF;
    -- Lock before checking: from here to the end of the transaction no table
    -- can become a view or change a column type (ACCESS SHARE, what a read
    -- takes anyway). A relation that no longer exists fails the check below.
    -- VOLATILE, so the check runs on a snapshot taken after the locks were
    -- granted (a STABLE caller's statements reuse the snapshot of the query
    -- that called it, which may predate a wait here).
    PERFORM catalog_sync.lock_relations(p_relids);
    IF catalog_sync.contract_matches(p_relids, p_source_tables) THEN
        RETURN;
    END IF;
    -- A table dropped since it was registered is named by its contract table
    -- and its old OID (it has no name any more), and has a fix of its own.
    SELECT string_agg(CASE WHEN c.oid IS NULL
                           THEN 'the tenant''s ' || r.source_table || ' table (oid ' || r.relid || ') was dropped'
                           ELSE catalog_sync.qualified_name(r.relid) || ' does not match the '
                                || r.source_table || ' contract: ' || p.problems END, '; '),
           bool_or(c.oid IS NULL)
    INTO v_problems, v_dropped
    FROM unnest(p_relids, p_source_tables) AS r (relid, source_table)
    LEFT JOIN pg_catalog.pg_class AS c ON c.oid = r.relid
    CROSS JOIN LATERAL (SELECT string_agg(x, '; ') AS problems
                        FROM catalog_sync.contract_problems(r.relid, r.source_table) AS x) AS p
    WHERE p.problems IS NOT NULL;
    RAISE EXCEPTION 'catalog_sync: %', coalesce(v_problems, 'a relation does not match the contract: unknown')
        USING ERRCODE = 'insufficient_privilege',
              HINT = CASE WHEN v_dropped
                          THEN 'catalog-sync verify --repair removes the tenant''s catalog rows and detaches it '
                               '(or restore the table and attach the schema again).'
                          ELSE 'The sync reads the contract''s columns with their types (docs/operations.md, '
                               '"The columns the sync reads"); restore the table.'
                     END;
END
$$;
ALTER FUNCTION catalog_sync.assert_contracts(oid[], name[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.assert_contracts(oid[], name[]) FROM PUBLIC;
