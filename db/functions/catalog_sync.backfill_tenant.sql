-- Bring one attached tenant's catalog rows in line with the projection, set
-- based, in the caller's transaction: insert what is missing, update what
-- differs, delete what is no longer eligible. Idempotent; a second run writes
-- nothing. Holds the tenant's exclusive lock, so live writers of that tenant
-- wait for it (and it for them) instead of racing it. p_dry_run counts what
-- would change and writes nothing.
CREATE OR REPLACE FUNCTION catalog_sync.backfill_tenant(p_tenant_id bigint, p_dry_run boolean DEFAULT false)
RETURNS TABLE (source_rows bigint, eligible bigint, inserted bigint, updated bigint, removed bigint)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET row_security = off
AS $$
DECLARE
    v_job_rel oid := catalog_sync.source_relid(p_tenant_id, 'ats_jobposting');
BEGIN
    IF v_job_rel IS NULL THEN
        RAISE EXCEPTION 'catalog_sync: tenant % is not attached', p_tenant_id
            USING ERRCODE = 'undefined_object', HINT = 'Run catalog-sync attach first.';
    END IF;
    -- Nothing of a tenant table is read before it passed the contract check.
    PERFORM catalog_sync.assert_registry();
    PERFORM catalog_sync.assert_contract(v_job_rel, 'ats_jobposting');
    PERFORM catalog_sync.assert_contract(catalog_sync.source_relid(p_tenant_id, 'ats_jobcategory'), 'ats_jobcategory');
    PERFORM catalog_sync.lock_for_tenant_change(ARRAY[p_tenant_id]);

    EXECUTE format('SELECT count(*) FROM %s', catalog_sync.qualified_name(v_job_rel)) INTO source_rows;
    IF p_dry_run THEN
        SELECT count(*) FILTER (WHERE v.problem = 'missing'),
               count(*) FILTER (WHERE v.problem = 'stale'),
               count(*) FILTER (WHERE v.problem IN ('orphan', 'expired'))
        INTO inserted, updated, removed
        FROM catalog_sync.verify_tenant(p_tenant_id) v;
        SELECT count(*) INTO eligible FROM catalog_sync.project_jobs(p_tenant_id, 'all', NULL, NULL, true);
    ELSE
        SELECT r.removed, r.inserted, r.updated INTO removed, inserted, updated
        FROM catalog_sync.refresh_catalog(p_tenant_id, 'jobs', 'all', NULL, false) r;
        SELECT count(*) INTO eligible FROM public.job_catalog c WHERE c.tenant_id = p_tenant_id;
        UPDATE catalog_sync.tenant t SET last_backfill_at = clock_timestamp() WHERE t.tenant_id = p_tenant_id;
    END IF;
    RETURN NEXT;
END
$$;
ALTER FUNCTION catalog_sync.backfill_tenant(bigint, boolean) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.backfill_tenant(bigint, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.backfill_tenant(bigint, boolean) TO catalog_sync_installer;
