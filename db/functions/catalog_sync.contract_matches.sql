-- The fast form of contract_problems() for the trigger path: true when every
-- relation p_relids[i] matches the contract of p_source_tables[i]: a plain
-- table outside any inheritance tree and not typed (OF a composite type, whose
-- ALTER TYPE ... RENAME ATTRIBUTE ... CASCADE renames the table's columns under
-- a tag that protect does not see), every contract column with exactly the
-- contract's type (the oid and typmod resolved at install; a contract type
-- without a typmod, such as character varying, accepts any; where it says
-- text or character varying, either type passes, as the sync reads both as
-- text; a numeric of a larger precision and the same scale passes,
-- numeric_precision_ok()) and the default collation, and nothing the planner evaluates while planning a read of the
-- table (index expressions and predicates, CHECK constraints, statistics
-- expressions, index operator classes and collations) is code that is not
-- built in. Whatever it rejects, contract_problems() reports.
-- Several relations in one call: a sync trigger checks everything its
-- statement will read at once, one query instead of one per table.
-- PL/pgSQL so that the plan of its query is cached for the session; every
-- lookup is an index lookup whose plan does not depend on the arguments.
-- A relation that does not exist, a source table the contract does not name,
-- or a NULL, does not match.
-- Hot path, only ever called inside a SECURITY DEFINER sync function (EXECUTE is
-- the owner's alone), so it runs under the caller's pinned search_path and sets
-- none itself: a SET clause costs a GUC save/restore on every call.
CREATE OR REPLACE FUNCTION catalog_sync.contract_matches(p_relids oid[], p_source_tables name[])
RETURNS boolean
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_relid oid;
    v_table name;
BEGIN
    IF cardinality(p_relids) IS DISTINCT FROM cardinality(p_source_tables) THEN
        RETURN false;
    END IF;
    -- One relation at a time: with a scalar parameter the planner hashes the
    -- contract columns against the table's attributes; over an array of
    -- relations it would compare every pair of names.
    FOR i IN 1 .. cardinality(p_relids) LOOP
        v_relid := p_relids[i];
        v_table := p_source_tables[i];
        IF NOT ((SELECT c.relkind = 'r' AND NOT c.relispartition AND c.reloftype = 0
                 FROM pg_catalog.pg_class c WHERE c.oid = v_relid) IS TRUE
           AND NOT EXISTS (SELECT FROM pg_catalog.pg_inherits i WHERE i.inhrelid = v_relid)
           AND NOT EXISTS (SELECT FROM pg_catalog.pg_inherits i WHERE i.inhparent = v_relid)
           AND (SELECT count(*) FILTER (WHERE (a.atttypid = cc.type_oid
                                           AND (a.atttypmod = cc.type_mod OR cc.type_mod = -1)
                                           -- text and character varying, each for the other
                                           OR cc.type_oid IN ('pg_catalog.text'::pg_catalog.regtype,
                                                              'pg_catalog.varchar'::pg_catalog.regtype)
                                              AND cc.type_mod = -1
                                              AND a.atttypid IN ('pg_catalog.text'::pg_catalog.regtype,
                                                                 'pg_catalog.varchar'::pg_catalog.regtype)
                                           -- a numeric of a larger precision and the same scale
                                           -- (numeric_precision_ok())
                                           OR a.atttypid = cc.type_oid
                                              AND catalog_sync.numeric_precision_ok(cc.type_oid, cc.type_mod,
                                                                                    a.atttypmod))
                                          AND a.atttypid < 16384
                                          AND a.attcollation IN (0, 100) AND a.attnum > 0 AND NOT a.attisdropped)
                       = count(*) AND count(*) > 0     -- a name the contract lacks (or NULL) matches nothing
                FROM catalog_sync.contract_column cc
                LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = v_relid AND a.attname = cc.column_name
                WHERE cc.source_table = v_table)
           AND NOT EXISTS (
                   SELECT FROM pg_catalog.pg_index i
                   WHERE i.indrelid = v_relid
                     AND (16384 <= ANY (i.indclass::oid[]) OR 16384 <= ANY (i.indcollation::oid[])))
           -- A catalog's key: the contract's unique constraint on uuid (immediate,
           -- valid, not partial), which makes a transaction that takes a uuid
           -- wait for the one that gives it up. Without it, two transactions
           -- moving a uuid at once each synced from a snapshot without the
           -- other's change: a public job missing, a private one left public
           -- (red team, eighteenth session).
           AND (v_table NOT IN ('ats_jobposting', 'services_serviceprovider', 'services_service')
                OR EXISTS (SELECT FROM pg_catalog.pg_index i
                           JOIN pg_catalog.pg_attribute a ON a.attrelid = v_relid AND a.attname = 'uuid'
                           WHERE i.indrelid = v_relid AND i.indisunique AND i.indimmediate AND i.indisvalid
                             AND i.indpred IS NULL AND i.indnkeyatts = 1 AND i.indkey[0] = a.attnum
                             -- (a constraint's index: DROP INDEX [CONCURRENTLY] of a bare
                             -- unique index fires no ddl_command_end, and left the table
                             -- without its key; review, forty-sixth session)
                             AND EXISTS (SELECT FROM pg_catalog.pg_constraint k
                                         WHERE k.conrelid = v_relid AND k.conindid = i.indexrelid
                                           AND k.contype IN ('u', 'p'))))
           -- Only objects that carry an expression can call code: look their
           -- dependencies up (most tables have none or one, a CHECK constraint).
           AND NOT EXISTS (
                   SELECT FROM (SELECT 'pg_catalog.pg_class'::regclass AS classid, i.indexrelid AS objid
                                FROM pg_catalog.pg_index i
                                WHERE i.indrelid = v_relid AND (i.indexprs IS NOT NULL OR i.indpred IS NOT NULL)
                                UNION ALL
                                SELECT 'pg_catalog.pg_constraint'::regclass, k.oid
                                FROM pg_catalog.pg_constraint k WHERE k.conrelid = v_relid AND k.conbin IS NOT NULL
                                UNION ALL
                                SELECT 'pg_catalog.pg_statistic_ext'::regclass, x.oid
                                FROM pg_catalog.pg_statistic_ext x
                                WHERE x.stxrelid = v_relid AND x.stxexprs IS NOT NULL) AS o
                   JOIN pg_catalog.pg_depend d ON d.classid = o.classid AND d.objid = o.objid   -- index lookups
                   WHERE d.refobjid >= 16384
                     AND d.refclassid IN ('pg_catalog.pg_proc'::regclass, 'pg_catalog.pg_operator'::regclass,
                                          'pg_catalog.pg_type'::regclass, 'pg_catalog.pg_collation'::regclass,
                                          'pg_catalog.pg_opclass'::regclass, 'pg_catalog.pg_opfamily'::regclass))) THEN
            RETURN false;
        END IF;
    END LOOP;
    RETURN true;
END
$$;
ALTER FUNCTION catalog_sync.contract_matches(oid[], name[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.contract_matches(oid[], name[]) FROM PUBLIC;
