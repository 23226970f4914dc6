-- Recompute part or all of one tenant's rows of one catalog from the
-- projection and apply the difference. Used where no transition table is in
-- play: parent changes, tenant changes, backfill and repair. The caller holds
-- the locks. A tenant that is not attached is left alone.
CREATE OR REPLACE FUNCTION catalog_sync.refresh_catalog(
    p_tenant_id bigint,
    p_catalog   text,
    p_filter    text,
    p_keys      bigint[],
    p_reuse     text,
    OUT removed  bigint,
    OUT inserted bigint,
    OUT updated  bigint
)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET row_security = off
AS $$
DECLARE
    v_job_rel oid;
BEGIN
    removed := 0; inserted := 0; updated := 0;
    IF p_catalog <> 'jobs' THEN
        RAISE EXCEPTION 'catalog_sync: unknown catalog %', p_catalog
            USING HINT = 'Known catalogs: jobs.';
    END IF;
    v_job_rel := catalog_sync.source_relid(p_tenant_id, 'ats_jobposting');
    IF v_job_rel IS NULL THEN
        RETURN;
    END IF;
    EXECUTE catalog_sync.apply_sql(
                'public.job_catalog', 'job_uuid',
                catalog_sync.job_projection_sql(
                    v_job_rel, catalog_sync.source_relid(p_tenant_id, 'ats_jobcategory'), p_filter, p_reuse),
                CASE p_filter WHEN 'all' THEN 'all' ELSE 'none' END)
        INTO removed, inserted, updated
        USING p_tenant_id, p_keys;
END
$$;
ALTER FUNCTION catalog_sync.refresh_catalog(bigint, text, text, bigint[], text) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.refresh_catalog(bigint, text, text, bigint[], text) FROM PUBLIC;
