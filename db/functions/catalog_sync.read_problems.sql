-- What would make the sync's read of these tables fail (closed) rather than
-- mismatch: row level security on a table (row_security = off raises there),
-- or catalog_sync_owner without USAGE on its schema or SELECT on it. One row
-- per problem, by table, for verify_tenant() (reported, not raised) and
-- status() (a tenant not counted): one tenant must not make either fail for
-- every tenant. Tables that do not exist have none.
CREATE OR REPLACE FUNCTION catalog_sync.read_problems(p_relids oid[])
RETURNS TABLE (relid oid, problem text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.oid, 'row level security is enabled on ' || catalog_sync.qualified_name(c.oid)
    FROM pg_catalog.pg_class c WHERE c.oid = ANY (p_relids) AND c.relrowsecurity
    UNION ALL
    SELECT c.oid, 'catalog_sync_owner may not read ' || catalog_sync.qualified_name(c.oid)
    FROM pg_catalog.pg_class c
    WHERE c.oid = ANY (p_relids)
      AND NOT (pg_catalog.has_schema_privilege('catalog_sync_owner', c.relnamespace, 'USAGE')
               AND pg_catalog.has_table_privilege('catalog_sync_owner', c.oid, 'SELECT'))
$$;
ALTER FUNCTION catalog_sync.read_problems(oid[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.read_problems(oid[]) FROM PUBLIC;
