-- schema.table of a relation as regclass prints it under the caller's
-- search_path, each part quoted as %I would; NULL for an OID without a
-- relation. qualified_name() is this under a pinned search_path, for the
-- installers.
-- For the sync's hot path, whose callers run under a pinned search_path
-- (pg_catalog, pg_temp: every tenant relation printed schema-qualified), or
-- compare the name with one they printed so: a plain SQL function, no SET
-- clause, inlined into the caller's expression (qualified_name(), PL/pgSQL
-- with a SET clause, cost about 14,000 instructions a call:
-- docs/benchmarks-log.md, Diagnosis, thirty-first session). Every name in the
-- body is pg_catalog-qualified all the same: inlined, it is parsed under the
-- search_path of the statement calling it.
CREATE OR REPLACE FUNCTION catalog_sync.relation_name(p_relid oid)
RETURNS text
LANGUAGE sql STABLE
AS $$
    SELECT CASE WHEN p_relid::pg_catalog.regclass::pg_catalog.text OPERATOR(pg_catalog.!~) '^[0-9]+$'
                THEN p_relid::pg_catalog.regclass::pg_catalog.text END   -- regclass prints a lost OID's number
$$;
ALTER FUNCTION catalog_sync.relation_name(oid) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.relation_name(oid) FROM PUBLIC;
