-- The fast form of contract_problems() for the trigger path: true when the
-- relation is a plain table whose contract columns all have exactly the
-- contract's built-in type and the default collation. PL/pgSQL so that the
-- plan of its one query is cached for the session.
-- Hot path, only ever called inside a SECURITY DEFINER sync function (EXECUTE is
-- the owner's alone), so it runs under the caller's pinned search_path and sets
-- none itself: a SET clause costs a GUC save/restore on every call.
CREATE OR REPLACE FUNCTION catalog_sync.contract_matches(p_relid oid, p_source_table name)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RETURN (
        SELECT c.relkind = 'r' AND NOT c.relispartition
           AND NOT EXISTS (SELECT FROM pg_catalog.pg_inherits i WHERE i.inhrelid = p_relid OR i.inhparent = p_relid)
           AND NOT EXISTS (
               SELECT FROM catalog_sync.contract_column cc
               LEFT JOIN pg_catalog.pg_attribute a
                      ON a.attrelid = p_relid AND a.attname = cc.column_name AND a.attnum > 0 AND NOT a.attisdropped
               WHERE cc.source_table = p_source_table
                 AND (a.attname IS NULL OR a.atttypid >= 16384 OR a.attcollation NOT IN (0, 100)
                      OR pg_catalog.format_type(a.atttypid, a.atttypmod) <> cc.type_name))
           -- The planner evaluates index expressions and predicates, CHECK
           -- constraints and statistics expressions of a table it plans a query
           -- on: none of them may call code that is not built in.
           AND NOT EXISTS (
               SELECT FROM (SELECT 'pg_catalog.pg_class'::regclass AS classid, i.indexrelid AS objid
                            FROM pg_catalog.pg_index i WHERE i.indrelid = p_relid
                            UNION ALL
                            SELECT 'pg_catalog.pg_constraint'::regclass, k.oid
                            FROM pg_catalog.pg_constraint k WHERE k.conrelid = p_relid
                            UNION ALL
                            SELECT 'pg_catalog.pg_statistic_ext'::regclass, x.oid
                            FROM pg_catalog.pg_statistic_ext x WHERE x.stxrelid = p_relid) AS o
               JOIN pg_catalog.pg_depend d ON d.classid = o.classid AND d.objid = o.objid   -- index lookups
               WHERE d.refobjid >= 16384
                 AND d.refclassid IN ('pg_catalog.pg_proc'::regclass, 'pg_catalog.pg_operator'::regclass,
                                      'pg_catalog.pg_type'::regclass, 'pg_catalog.pg_collation'::regclass,
                                      'pg_catalog.pg_opclass'::regclass, 'pg_catalog.pg_opfamily'::regclass))
        FROM pg_catalog.pg_class c
        WHERE c.oid = p_relid) IS TRUE;
END
$$;
ALTER FUNCTION catalog_sync.contract_matches(oid, name) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.contract_matches(oid, name) FROM PUBLIC;
