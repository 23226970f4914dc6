-- Delete the catalog rows of jobs whose application_deadline has passed. Time
-- made them ineligible, not a write, so no trigger removed them. Cheap (a
-- partial index on the deadline), so it can run often: `catalog-sync expire`
-- from cron, or pg_cron (docs/operations.md, "Expired jobs").
-- A row whose deadline passed is ineligible whatever its sources say, so there
-- is no projection and no lock beyond the rows' own. It never waits for a row:
-- a row a writer holds is skipped (SKIP LOCKED). Waiting would queue that tenant's
-- next writes of the expired rows this run already holds behind the writer;
-- the writer's own sync decides the row (a later deadline keeps it), or the
-- next run takes it. A writer whose transaction began before the deadline may
-- still write the row back after this ran; the next run takes it. (A table
-- lock it does wait for, behind DDL on the catalog: `catalog-sync expire`
-- bounds that wait with --lock-timeout.)
-- p_dry_run: count only.
CREATE OR REPLACE FUNCTION catalog_sync.expire_jobs(p_dry_run boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off   -- see docs/architecture.md, "No JIT in the sync"
SET constraint_exclusion = partition   -- see docs/security.md, "Session settings"
AS $$
DECLARE
    v_count bigint;
BEGIN
    IF p_dry_run THEN
        SELECT count(*) INTO v_count FROM public.job_catalog c WHERE c.application_deadline <= now();
    ELSE
        WITH doomed AS (SELECT c.tenant_id, c.job_uuid FROM public.job_catalog c
                        WHERE c.application_deadline <= now() FOR UPDATE SKIP LOCKED),
             gone AS (DELETE FROM public.job_catalog c USING doomed d
                      WHERE c.tenant_id = d.tenant_id AND c.job_uuid = d.job_uuid RETURNING 1)
        SELECT count(*) INTO v_count FROM gone;
    END IF;
    RETURN v_count;
END
$$;
ALTER FUNCTION catalog_sync.expire_jobs(boolean) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.expire_jobs(boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.expire_jobs(boolean) TO catalog_sync_installer;
