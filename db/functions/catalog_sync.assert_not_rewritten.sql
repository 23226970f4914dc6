-- Raises serialization_failure (40001) when one of p_relids was rewritten or
-- truncated by a transaction that committed after the snapshot this call
-- reads on was taken: its rows, which carry that transaction's id, are then
-- invisible to that snapshot, and the table would read as empty. Called by
-- the STABLE readers right after they locked their tables by OID, inside a
-- statement whose snapshot may predate a wait for those locks: where the
-- caller locked them before that statement (lock_sources(): every sync
-- write, backfill, repair, the CLI's verify), it never raises; where it did
-- not (verify_tenant(), status() or tenant_schemas() called from SQL; a
-- relation the definer may read put under the category table's name, which
-- guard() then locks for nothing), the statement fails instead of reading a
-- table as empty (deleting a tenant's public rows, or reporting them
-- orphans). The snapshot's pg_class row holds the relfilenode it read;
-- pg_relation_filenode() reads the catalog caches, current once the lock
-- was granted. VACUUM FULL and CLUSTER, which keep every row's visibility,
-- are also caught (a retry reads them whole). A relation gone is left out.
-- Only ever called inside a SECURITY DEFINER sync function (EXECUTE is the
-- owner's alone), under its caller's pinned search_path.
CREATE OR REPLACE FUNCTION catalog_sync.assert_not_rewritten(p_relids oid[])
RETURNS void
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_names text;
BEGIN
    SELECT pg_catalog.string_agg(catalog_sync.qualified_name(c.oid), ', ' ORDER BY c.oid) INTO v_names
    FROM pg_catalog.pg_class AS c
    WHERE c.oid = ANY (p_relids) AND c.relfilenode <> pg_catalog.pg_relation_filenode(c.oid);
    IF v_names IS NOT NULL THEN
        RAISE EXCEPTION 'catalog_sync: % was rewritten or truncated by a transaction that committed while this '
                        'statement waited for its lock: read on the statement''s snapshot, taken before, it would '
                        'look empty', v_names
            USING ERRCODE = 'serialization_failure', HINT = 'Retry the transaction.';
    END IF;
END
$$;
ALTER FUNCTION catalog_sync.assert_not_rewritten(oid[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.assert_not_rewritten(oid[]) FROM PUBLIC;
