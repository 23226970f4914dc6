-- Drift of one attached tenant, read-only: compares the catalog with the
-- projection (run in full, no reuse) by key and by every shown column, and the
-- live triggers with the spec. Problems:
--   missing   an eligible job has no catalog row
--   stale     a catalog row differs from its projection (detail: the columns)
--   orphan    a catalog row whose job is gone or not eligible
--   expired   an orphan whose job only lost eligibility by its deadline passing
--   trigger_missing / trigger_disabled / trigger_outdated  (detail: table.trigger)
--   contract  a source table no longer matches the contract (rows not compared)
-- Run it inside one REPEATABLE READ transaction for a single snapshot.
CREATE OR REPLACE FUNCTION catalog_sync.verify_tenant(p_tenant_id bigint)
RETURNS TABLE (problem text, key uuid, detail text)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET row_security = off
AS $$
DECLARE
    v_rel      record;
    v_job_rel  oid := catalog_sync.source_relid(p_tenant_id, 'ats_jobposting');
    v_readable boolean := true;
    v_cols     text[] := catalog_sync.synced_columns('public.job_catalog');
    v_diff     text;
    v_p        text;
    v_c        text;
BEGIN
    PERFORM catalog_sync.assert_registry();
    IF v_job_rel IS NULL THEN
        RAISE EXCEPTION 'catalog_sync: tenant % is not attached', p_tenant_id USING ERRCODE = 'undefined_object';
    END IF;
    FOR v_rel IN SELECT a.relid, a.source_table FROM catalog_sync.attached_table a
                 WHERE a.tenant_id = p_tenant_id ORDER BY a.source_table LOOP
        FOR problem, detail IN SELECT 'contract', cp FROM catalog_sync.contract_problems(v_rel.relid, v_rel.source_table) cp LOOP
            v_readable := false;
            key := NULL;
            RETURN NEXT;
        END LOOP;
        FOR problem, detail IN
            SELECT 'trigger_' || lower(st.state), v_rel.source_table || '.' || st.trigger_name
            FROM catalog_sync.trigger_state(v_rel.relid, v_rel.source_table, p_tenant_id) st
            WHERE st.state <> 'INSTALLED'
        LOOP
            key := NULL;
            RETURN NEXT;
        END LOOP;
    END LOOP;
    IF NOT v_readable THEN
        RETURN;
    END IF;

    SELECT string_agg(format('CASE WHEN p.%1$I IS DISTINCT FROM cat.%1$I THEN %1$L END', c), ', '),
           string_agg(format('p.%I', c), ', '), string_agg(format('cat.%I', c), ', ')
    INTO v_diff, v_p, v_c
    FROM unnest(v_cols) AS c;

    RETURN QUERY EXECUTE format($sql$
        WITH p AS (SELECT * FROM catalog_sync.project_jobs($1, 'all', NULL, NULL, false)),
        cat AS (SELECT * FROM public.job_catalog WHERE tenant_id = $1)
        SELECT CASE
                   WHEN p.job_uuid IS NULL THEN
                       CASE WHEN EXISTS (SELECT FROM %2$s AS j WHERE j.uuid = cat.job_uuid
                                         AND j.application_deadline <= now()) THEN 'expired' ELSE 'orphan' END
                   WHEN cat.job_uuid IS NULL THEN 'missing'
                   ELSE 'stale'
               END,
               coalesce(p.job_uuid, cat.job_uuid),
               CASE WHEN p.job_uuid IS NOT NULL AND cat.job_uuid IS NOT NULL THEN concat_ws(', ', %3$s) END
        FROM p FULL JOIN cat ON cat.job_uuid = p.job_uuid
        WHERE p.job_uuid IS NULL OR cat.job_uuid IS NULL OR (%4$s) IS DISTINCT FROM (%5$s)
        ORDER BY 1, 2
        $sql$,
        NULL, catalog_sync.qualified_name(v_job_rel), v_diff, v_p, v_c)
    USING p_tenant_id;
END
$$;
ALTER FUNCTION catalog_sync.verify_tenant(bigint) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.verify_tenant(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.verify_tenant(bigint) TO catalog_sync_installer;
