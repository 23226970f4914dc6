-- The contract check of the relations a dynamic read names, as the body of
-- the read's first CTE, so that the read's own planner runs the check
-- (contract_holds()) before it plans anything of those tables, as every
-- static read does:
--     format('WITH %s SELECT ... FROM ONLY %s AS t ... WHERE (SELECT contract.holds FROM contract) AND (...)',
--            catalog_sync.folded_check(ARRAY[relid], '{ats_jobposting}'), ...)
-- The read must select from the CTE (a CTE nothing reads is never planned);
-- as a one-time filter (an InitPlan), not a join, it leaves the read's plan
-- as it was, parallel workers included.
-- A dynamic read comes right after an explicit check of the same tables,
-- under their locks; a statistics object or an index over the tenant's code
-- committed between the two would otherwise be folded by the read's planner,
-- as the definer (review, twenty-seventh session; docs/security.md, "The
-- check-then-read race, and the window that remains": folded, the window is
-- the one inside the planner).
-- The relations by OID (regclass input of a number: no name is looked up).
CREATE OR REPLACE FUNCTION catalog_sync.folded_check(p_relids oid[], p_source_tables name[])
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF coalesce(cardinality(p_relids), 0) = 0 OR cardinality(p_relids) IS DISTINCT FROM cardinality(p_source_tables) THEN
        RAISE EXCEPTION 'catalog_sync: folded_check() needs as many relations as contract tables, at least one';
    END IF;
    RETURN 'contract AS MATERIALIZED (SELECT '
           || (SELECT string_agg(format('catalog_sync.contract_holds(%L::pg_catalog.regclass, %L)', r.relid::text,
                                        r.source_table), ' AND ' ORDER BY r.n)
               FROM unnest(p_relids, p_source_tables) WITH ORDINALITY AS r (relid, source_table, n))
           || ' AS holds)';
END
$$;
ALTER FUNCTION catalog_sync.folded_check(oid[], name[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.folded_check(oid[], name[]) FROM PUBLIC;
