-- Lock relations ACCESS SHARE by OID (what a read takes anyway): from here to
-- the end of the transaction none of them can become a view, change a column
-- type or be renamed. An OID without a relation is left out (a check that
-- follows fails on it). LOCK resolves names, and looks them up again after
-- waiting: if one was renamed meanwhile (and another table took its name), it
-- locked the wrong table, so the names of the OIDs are built again after the
-- lock and must be the ones just locked (55P03 otherwise: retry).
-- Names come from regclass output (quoted, schema-qualified under the pinned
-- search_path): a simple expression, no query per relation.
-- Hot path, only ever called inside a SECURITY DEFINER sync function (EXECUTE is
-- the owner's alone), so it runs under the caller's pinned search_path and sets
-- none itself: a SET clause costs a GUC save/restore on every call.
CREATE OR REPLACE FUNCTION catalog_sync.lock_relations(p_relids oid[])
RETURNS void
LANGUAGE plpgsql VOLATILE  -- it takes locks
AS $$
DECLARE
    v_relid  oid;
    v_name   text;
    v_names  text;
    v_locked text;
BEGIN
    FOR v_pass IN 1 .. 2 LOOP
        v_names := NULL;
        FOREACH v_relid IN ARRAY coalesce(p_relids, '{}') LOOP
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
END
$$;
ALTER FUNCTION catalog_sync.lock_relations(oid[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.lock_relations(oid[]) FROM PUBLIC;
