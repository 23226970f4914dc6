-- The contract check of the relations a dynamic read names, as the body of
-- the read's first CTE, so that the read's own planner runs the check
-- (contract_holds()) before it plans anything of those tables, as every
-- static read does:
--     format('WITH %s SELECT ... FROM contract CROSS JOIN ONLY %s AS t ... WHERE contract.holds AND ...',
--            catalog_sync.folded_check(ARRAY[relid], '{ats_jobposting}'), ...)
-- A dynamic read comes right after an explicit check of the same tables,
-- under their locks; a statistics object or an index over the tenant's code
-- committed between the two would otherwise be folded by the read's planner,
-- as the definer (review, twenty-seventh session; docs/security.md, "The
-- window that remains": folded, the window is the one inside the planner).
-- The relations by OID (regclass input of a number: no name is looked up).
CREATE OR REPLACE FUNCTION catalog_sync.folded_check(p_relids oid[], p_source_tables name[])
RETURNS text
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT 'contract AS MATERIALIZED (SELECT '
           || string_agg(format('catalog_sync.contract_holds(%L::pg_catalog.regclass, %L)', r.relid::text, r.source_table),
                         ' AND ' ORDER BY r.n)
           || ' AS holds)'
    FROM unnest(p_relids, p_source_tables) WITH ORDINALITY AS r (relid, source_table, n)
$$;
ALTER FUNCTION catalog_sync.folded_check(oid[], name[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.folded_check(oid[], name[]) FROM PUBLIC;
