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
-- A plain SQL function, so that PostgreSQL inlines it into the calling
-- expression (with a constant p_table, the suffix is folded): its PL/pgSQL
-- body cost about 27,000 instructions a call (docs/benchmarks-log.md, Diagnosis,
-- thirty-second session). Inlining substitutes the arguments for each use,
-- and PostgreSQL refuses when an argument used more than once is costly: a
-- caller passes variables, not calls (qualified_name() assigned first).
-- Every name in the body is pg_catalog-qualified: inlined, it is parsed
-- under the caller's search_path.
CREATE OR REPLACE FUNCTION catalog_sync.schema_naming(p_name text, p_table name)
RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
    -- (OPERATOR() gives = and || one precedence: the suffix in parentheses)
    SELECT CASE WHEN pg_catalog.right(p_name, pg_catalog.length('.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(p_table)))
                     OPERATOR(pg_catalog.=) ('.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(p_table))
                 AND pg_catalog.left(p_name, -pg_catalog.length('.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(p_table)))
                     OPERATOR(pg_catalog.<>) ALL (ARRAY['', '"$user"'])
                THEN pg_catalog.left(p_name, -pg_catalog.length('.' OPERATOR(pg_catalog.||) pg_catalog.quote_ident(p_table)))
           END
$$;
ALTER FUNCTION catalog_sync.schema_naming(text, name) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.schema_naming(text, name) FROM PUBLIC;
