-- INSTALLED / OUTDATED / DISABLED / MISSING for every trigger the spec wants on
-- each relation p_relids[i] (a p_source_tables[i] of tenant p_tenant_id; NULL
-- for public.tenants_tenant), and EXTRA for each sync trigger it does not.
-- A trigger is OUTDATED when its function,
-- arguments (the tenant id, then the definition hash), events or transition
-- tables differ from the spec; DISABLED when it is not ENABLE ALWAYS (a table
-- owner can always switch it off; verify finds it, repair re-attaches).
-- EXTRA: a trigger that calls a sync function under a name the spec does not
-- have for the relation (copied by a schema clone, bound to the template's
-- tenant: every write then fails; or renamed). It fires with the others and
-- nothing else reported it (red team, twenty-second session); attach drops it.
-- Several relations in one query: attach asks for the 8 tables of a schema at
-- once (attach of 10,000 schemas asks 20,000 times).
-- Each relation's triggers are looked up by its OID (LATERAL ... OFFSET 0: a
-- nested loop whatever the statistics say). Left to the planner, the first
-- attach into a new database (pg_trigger never analyzed, pg_proc's statistics
-- older than the sync's functions) hashed all of pg_trigger on every call:
-- 14 ms a schema at 1,000 schemas, growing with every trigger attach added
-- (forty-first session; benchmarks.md, section 3).
CREATE OR REPLACE FUNCTION catalog_sync.trigger_states(p_relids oid[], p_source_tables name[], p_tenant_id bigint)
RETURNS TABLE (relid oid, source_table name, trigger_name name, state text)
LANGUAGE plpgsql STABLE
-- Planned once per session: left to choose, the plan cache plans the query
-- again on every call (a custom plan knows the array lengths and looks
-- cheaper), which costs more than running it.
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    RETURN QUERY
    SELECT r.relid, r.source_table, s.trigger_name,
           CASE
               WHEN tg.oid IS NULL THEN 'MISSING'
               WHEN tg.tgfoid <> ('catalog_sync.' || s.function_name)::regproc::oid
                 OR tg.tgtype <> CASE s.event WHEN 'INSERT' THEN 4 WHEN 'DELETE' THEN 8
                                              WHEN 'UPDATE' THEN 16 ELSE 32 END
                 -- tgargs: each argument followed by a zero byte
                 OR tg.tgargs <> CASE WHEN p_tenant_id IS NULL THEN ''::bytea
                                      ELSE convert_to(p_tenant_id::text, 'UTF8') || E'\\x00'::bytea END
                                 || convert_to(catalog_sync.trigger_hash(s), 'UTF8') || E'\\x00'::bytea
                 OR tg.tgoldtable IS DISTINCT FROM CASE WHEN s.event IN ('UPDATE', 'DELETE') THEN 'old_rows' END
                 OR tg.tgnewtable IS DISTINCT FROM CASE WHEN s.event IN ('UPDATE', 'INSERT') THEN 'new_rows' END
                   THEN 'OUTDATED'
               WHEN tg.tgenabled <> 'A' THEN 'DISABLED'
               ELSE 'INSTALLED'
           END
    FROM unnest(p_relids, p_source_tables) AS r (relid, source_table)
    JOIN catalog_sync.trigger_spec s ON s.source_table = r.source_table
    LEFT JOIN LATERAL (SELECT t.* FROM pg_catalog.pg_trigger t
                       WHERE t.tgrelid = r.relid AND t.tgname = s.trigger_name OFFSET 0) AS tg ON true
    UNION ALL
    SELECT r.relid, r.source_table, tg.tgname, 'EXTRA'
    FROM unnest(p_relids, p_source_tables) AS r (relid, source_table)
    CROSS JOIN LATERAL (SELECT t.tgname, t.tgfoid FROM pg_catalog.pg_trigger t
                        WHERE t.tgrelid = r.relid OFFSET 0) AS tg
    JOIN LATERAL (SELECT p.pronamespace FROM pg_catalog.pg_proc p WHERE p.oid = tg.tgfoid OFFSET 0) AS p ON true
    WHERE p.pronamespace = 'catalog_sync'::regnamespace
      AND NOT EXISTS (SELECT FROM catalog_sync.trigger_spec s
                      WHERE s.source_table = r.source_table AND s.trigger_name = tg.tgname)
    ORDER BY 1, 3;
END
$$;
ALTER FUNCTION catalog_sync.trigger_states(oid[], name[], bigint) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.trigger_states(oid[], name[], bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.trigger_states(oid[], name[], bigint) TO catalog_sync_installer;

