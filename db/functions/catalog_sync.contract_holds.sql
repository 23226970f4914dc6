-- The contract check of one relation, folded into the plan of the query that
-- reads it: true, or it raises (assert_contract(): VOLATILE, so the check
-- reads the catalogs on a snapshot of its own, taken after the lock, not on
-- the snapshot of the query being planned, which may predate a wait for it).
--
-- Declared IMMUTABLE on purpose (it reads pg_catalog), and called with literal
-- arguments only: by the job trigger for its own table in a plain expression,
-- which reads nothing else (on_job_change()), and otherwise from a
-- MATERIALIZED CTE that the reading query selects from:
--     WITH contract AS MATERIALIZED (SELECT catalog_sync.contract_holds('ats_jobposting'::pg_catalog.regclass,
--                                                                      'ats_jobposting') AS holds)
--     SELECT ... FROM contract CROSS JOIN ONLY ats_jobposting AS j ... WHERE contract.holds
-- * The regclass literal becomes a constant OID when the query is analyzed,
--   so the planner evaluates the call once, while it plans; the result lives
--   in the cached plan. Any change to the relation that could make the check
--   fail (column type or collation, index, CHECK constraint, statistics
--   object, inheritance, partition, ON SELECT rule, drop, rename; also
--   VACUUM and ANALYZE) sends a relcache invalidation, which invalidates the
--   plan: the next use plans again, and checks again. Between invalidations
--   the check costs nothing.
-- * A CTE is planned before anything else of the query (subquery_planner:
--   SS_process_ctes), so the check runs before the planner folds anything of
--   the relation (a view pulled up, an inlined SQL cast function, index and
--   statistics expressions). In a WHERE clause it would run after JOIN
--   quals and the target list, too late. MATERIALIZED and selected from, so
--   that it is neither inlined nor skipped.
-- * A query is parsed before it is planned: a column it names and the table
--   lost fails its parse with PostgreSQL's bare 'column ... does not exist'
--   (42703; a cast that no longer exists, 42846) before the check runs. So
--   each read that names columns is a block whose handler of class 42 runs
--   the explicit check (explain_failed_read()), which names the problem,
--   and raises the error as it was otherwise. A
--   block costs a subtransaction without an XID per call (well under a
--   microsecond); a second check made first (a simple expression) cost a
--   second check each time a session moved to another tenant, which plans
--   the read again (review, twenty-fifth session).
-- * Its own inputs do not invalidate a plan: a release that changes
--   contract_column or contract_matches() must list this file again
--   (CREATE OR REPLACE of a function a plan calls invalidates that plan).
-- tests/test_attacks.py ("folded into cached plans") proves the folding, the re-check after DDL and
-- the fail-closed order.
CREATE OR REPLACE FUNCTION catalog_sync.contract_holds(p_relid pg_catalog.regclass, p_source_table name)
RETURNS boolean
LANGUAGE plpgsql IMMUTABLE
-- Folded while the leader plans; restricted, not unsafe (the default), so
-- that a dynamic read of a large table may still use parallel workers below
-- it (review, twenty-seventh session).
PARALLEL RESTRICTED
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM catalog_sync.assert_contract(p_relid, p_source_table);
    RETURN true;
END
$$;
ALTER FUNCTION catalog_sync.contract_holds(pg_catalog.regclass, name) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.contract_holds(pg_catalog.regclass, name) FROM PUBLIC;
