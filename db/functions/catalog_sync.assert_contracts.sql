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
    v_relid    oid;
    v_name     text;
    v_names    text;
    v_locked   text;
    v_problems text;
BEGIN
    IF coalesce(cardinality(p_relids), 0) = 0 THEN
        RETURN;                         -- nothing to read, nothing to check
    END IF;
    -- Lock before checking: from here to the end of the transaction no table
    -- can become a view or change a column type (ACCESS SHARE, what a read
    -- takes anyway). A relation that no longer exists is reported below.
    -- Names come from regclass output (quoted, schema-qualified under the
    -- pinned search_path): a simple expression, no query per relation. An OID
    -- without a relation prints as a number: it is left out here and fails
    -- contract_matches() below. Pass 1 locks; pass 2 builds the list again:
    -- LOCK resolves names, and looks them up again after waiting, so if one
    -- was renamed meanwhile (and another table took its name), it locked the
    -- wrong table. The names of the OIDs must be the ones just locked.
    FOR v_pass IN 1 .. 2 LOOP
        v_names := NULL;
        FOREACH v_relid IN ARRAY p_relids LOOP
            v_name := v_relid::pg_catalog.regclass::text;
            IF v_name !~ '^[0-9]+$' THEN
                v_names := concat_ws(', ', v_names, 'ONLY ' || v_name);
            END IF;
        END LOOP;
        EXIT WHEN v_pass = 1 AND v_names IS NULL;   -- nothing to lock
        IF v_pass = 1 THEN
            EXECUTE 'LOCK TABLE ' || v_names || ' IN ACCESS SHARE MODE';
            v_locked := v_names;
        ELSIF v_names IS DISTINCT FROM v_locked THEN
            RAISE EXCEPTION 'catalog_sync: a relation the sync reads was renamed while it waited for its lock'
                USING ERRCODE = 'lock_not_available', HINT = 'Retry the statement.';
        END IF;
    END LOOP;
    IF catalog_sync.contract_matches(p_relids, p_source_tables) THEN
        RETURN;
    END IF;
    SELECT string_agg(coalesce(catalog_sync.qualified_name(r.relid), r.relid::text) || ' does not match the '
                      || r.source_table || ' contract: ' || p.problems, '; ')
    INTO v_problems
    FROM unnest(p_relids, p_source_tables) AS r (relid, source_table)
    CROSS JOIN LATERAL (SELECT string_agg(x, '; ') AS problems
                        FROM catalog_sync.contract_problems(r.relid, r.source_table) AS x) AS p
    WHERE p.problems IS NOT NULL;
    RAISE EXCEPTION 'catalog_sync: %', coalesce(v_problems, 'a relation does not match the contract: unknown')
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'The sync reads only tables exactly as django-tenants creates them; restore the table.';
END
$$;
ALTER FUNCTION catalog_sync.assert_contracts(oid[], name[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.assert_contracts(oid[], name[]) FROM PUBLIC;
