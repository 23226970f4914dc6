-- schema.table of a relation, each part quoted with %I, for dynamic SQL.
CREATE OR REPLACE FUNCTION catalog_sync.qualified_name(p_relid oid)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (SELECT pg_catalog.format('%I.%I', n.nspname, c.relname)
            FROM pg_catalog.pg_class c
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            WHERE c.oid = p_relid);
END
$$;
ALTER FUNCTION catalog_sync.qualified_name(oid) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.qualified_name(oid) FROM PUBLIC;
-- Used by the SECURITY INVOKER installer functions.
GRANT EXECUTE ON FUNCTION catalog_sync.qualified_name(oid) TO catalog_sync_installer;
