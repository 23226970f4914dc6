-- The schema in which every relation p_relids[i] is named p_tables[i] now,
-- quoted as regclass output quotes it; else NULL (a renamed or dropped table,
-- or the tables in different schemas). For a reader's static SQL, whose table
-- names are resolved through a search_path holding that schema: called after
-- the relations are locked, the names keep meaning these very OIDs until the
-- end of the transaction (see job_sources(), which does the same for two).
-- Hot path, only ever called inside a SECURITY DEFINER sync function (EXECUTE is
-- the owner's alone), so it runs under the caller's pinned search_path and sets
-- none itself: a SET clause costs a GUC save/restore on every call.
CREATE OR REPLACE FUNCTION catalog_sync.schema_naming_all(p_relids oid[], p_tables name[])
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_schema text;
    v_each   text;
BEGIN
    IF coalesce(cardinality(p_relids), 0) = 0 OR cardinality(p_relids) IS DISTINCT FROM cardinality(p_tables) THEN
        RETURN NULL;
    END IF;
    FOR i IN 1 .. cardinality(p_relids) LOOP
        -- qualified_name(): regclass output, from the catalog caches (not from
        -- the caller's snapshot, which may predate the lock)
        -- (a variable: schema_naming() is inlined only over plain arguments)
        v_each := catalog_sync.qualified_name(p_relids[i]);
        v_each := catalog_sync.schema_naming(v_each, p_tables[i]);
        IF v_each IS NULL OR v_each IS DISTINCT FROM coalesce(v_schema, v_each) THEN
            RETURN NULL;
        END IF;
        v_schema := v_each;
    END LOOP;
    RETURN v_schema;
END
$$;
ALTER FUNCTION catalog_sync.schema_naming_all(oid[], name[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.schema_naming_all(oid[], name[]) FROM PUBLIC;
