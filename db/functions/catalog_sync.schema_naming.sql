-- The schema of a relation, quoted as in a search_path, when the relation is
-- named p_table in it; else NULL. p_name is the relation's qualified_name()
-- (regclass output: the catalog caches, the name as it is now), which the
-- caller usually has already. Also NULL for a schema named $user, which a
-- search_path cannot name (it reads as the $user token). A caller that holds a
-- lock on the relation can then name it in static SQL, resolved through
-- search_path = pg_catalog, <schema>, pg_temp, and be sure the name means it.
-- Hot path, only ever called inside a SECURITY DEFINER sync function (EXECUTE is
-- the owner's alone), so it runs under the caller's pinned search_path and sets
-- none itself: a SET clause costs a GUC save/restore on every call.
CREATE OR REPLACE FUNCTION catalog_sync.schema_naming(p_name text, p_table name)
RETURNS text
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_suffix text := '.' || pg_catalog.quote_ident(p_table);
    v_schema text;
BEGIN
    IF pg_catalog.right(p_name, pg_catalog.length(v_suffix)) IS DISTINCT FROM v_suffix THEN
        RETURN NULL;
    END IF;
    v_schema := pg_catalog.left(p_name, -pg_catalog.length(v_suffix));
    IF v_schema = '' OR v_schema = '"$user"' THEN
        RETURN NULL;
    END IF;
    RETURN v_schema;
END
$$;
ALTER FUNCTION catalog_sync.schema_naming(text, name) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.schema_naming(text, name) FROM PUBLIC;
