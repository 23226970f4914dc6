-- schema.table of a relation, each part quoted as %I would, for dynamic SQL;
-- NULL for an OID without a relation.
-- From regclass output, which reads the catalog caches: it names the relation
-- as it is now. A query on pg_class would read the caller's snapshot instead,
-- and a STABLE caller's snapshot is its calling query's, which can predate the
-- lock the caller took on the relation: a name the tenant swapped meanwhile
-- (the registered table renamed away, a view of its own renamed into its
-- place) would then send the dynamic read to the tenant's view. After the
-- caller's lock no rename can happen (ACCESS EXCLUSIVE), and the lock made
-- the caches current. Under this function's search_path no tenant relation is
-- visible, so the output is always schema-qualified. relation_name() is the
-- same for the sync's hot path, inlined, under its callers' pinned path (the
-- installers may not call a function without a pinned path: test_privileges).
CREATE OR REPLACE FUNCTION catalog_sync.qualified_name(p_relid oid)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_name text := p_relid::pg_catalog.regclass::text;
BEGIN
    IF v_name ~ '^[0-9]+$' THEN
        RETURN NULL;                    -- no such relation: regclass prints the number
    END IF;
    RETURN v_name;
END
$$;
ALTER FUNCTION catalog_sync.qualified_name(oid) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.qualified_name(oid) FROM PUBLIC;
-- Used by the SECURITY INVOKER installer functions.
GRANT EXECUTE ON FUNCTION catalog_sync.qualified_name(oid) TO catalog_sync_installer;
