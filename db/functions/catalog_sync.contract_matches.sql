-- The fast form of contract_problems() for the trigger path: true when the
-- relation is a plain table outside any inheritance tree, every contract column
-- has exactly the contract's type (the oid and typmod resolved at install) and
-- the default collation, and nothing the planner evaluates while planning a
-- read of the table (index expressions and predicates, CHECK constraints,
-- statistics expressions, index operator classes and collations) is code that
-- is not built in. Whatever it rejects, contract_problems() reports.
-- PL/pgSQL so that the plans of its queries are cached for the session; every
-- query is an index lookup whose plan does not depend on the arguments.
-- Hot path, only ever called inside a SECURITY DEFINER sync function (EXECUTE is
-- the owner's alone), so it runs under the caller's pinned search_path and sets
-- none itself: a SET clause costs a GUC save/restore on every call.
CREATE OR REPLACE FUNCTION catalog_sync.contract_matches(p_relid oid, p_source_table name)
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RETURN (SELECT c.relkind = 'r' AND NOT c.relispartition FROM pg_catalog.pg_class c WHERE c.oid = p_relid) IS TRUE
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_inherits i WHERE i.inhrelid = p_relid)
       AND NOT EXISTS (SELECT FROM pg_catalog.pg_inherits i WHERE i.inhparent = p_relid)
       AND (SELECT count(*) FILTER (WHERE a.atttypid = cc.type_oid AND a.atttypmod = cc.type_mod
                                      AND a.attcollation IN (0, 100) AND a.attnum > 0 AND NOT a.attisdropped)
                   = count(*)
            FROM catalog_sync.contract_column cc
            LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = p_relid AND a.attname = cc.column_name
            WHERE cc.source_table = p_source_table)
       AND NOT EXISTS (
               SELECT FROM pg_catalog.pg_index i
               WHERE i.indrelid = p_relid
                 AND (16384 <= ANY (i.indclass::oid[]) OR 16384 <= ANY (i.indcollation::oid[])))
       -- Only objects that carry an expression can call code: look their
       -- dependencies up (most tables have none or one, a CHECK constraint).
       AND NOT EXISTS (
               SELECT FROM (SELECT 'pg_catalog.pg_class'::regclass AS classid, i.indexrelid AS objid
                            FROM pg_catalog.pg_index i
                            WHERE i.indrelid = p_relid AND (i.indexprs IS NOT NULL OR i.indpred IS NOT NULL)
                            UNION ALL
                            SELECT 'pg_catalog.pg_constraint'::regclass, k.oid
                            FROM pg_catalog.pg_constraint k WHERE k.conrelid = p_relid AND k.conbin IS NOT NULL
                            UNION ALL
                            SELECT 'pg_catalog.pg_statistic_ext'::regclass, x.oid
                            FROM pg_catalog.pg_statistic_ext x
                            WHERE x.stxrelid = p_relid AND x.stxexprs IS NOT NULL) AS o
               JOIN pg_catalog.pg_depend d ON d.classid = o.classid AND d.objid = o.objid   -- index lookups
               WHERE d.refobjid >= 16384
                 AND d.refclassid IN ('pg_catalog.pg_proc'::regclass, 'pg_catalog.pg_operator'::regclass,
                                      'pg_catalog.pg_type'::regclass, 'pg_catalog.pg_collation'::regclass,
                                      'pg_catalog.pg_opclass'::regclass, 'pg_catalog.pg_opfamily'::regclass));
END
$$;
ALTER FUNCTION catalog_sync.contract_matches(oid, name) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.contract_matches(oid, name) FROM PUBLIC;
