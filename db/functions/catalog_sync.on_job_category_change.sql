-- Statement-level trigger function on a tenant's ats_jobcategory: a category
-- inserted (a job may already point at it: Django's foreign keys are deferred),
-- renamed, re-slugged or deleted recomputes the jobs that point at it.
-- Parent-change protocol: exclusive locks on the changed categories first,
-- then the recompute in a new statement.
CREATE OR REPLACE FUNCTION catalog_sync.on_job_category_change()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off   -- see docs/architecture.md, "No JIT in the sync"
SET constraint_exclusion = partition   -- see docs/security.md, "Session settings"
SET row_security = off
AS $$
DECLARE
    v_tenant_id  bigint;
    v_parents    bigint[];
    v_filter     text := 'categories';
BEGIN
    v_tenant_id := catalog_sync.guard(TG_RELID, TG_NARGS, TG_ARGV[0], 'ats_jobcategory', TG_LEVEL, TG_WHEN);
    IF v_tenant_id IS NULL THEN
        RETURN NULL;                    -- the tenant is gone: publish nothing
    END IF;

    IF TG_OP = 'TRUNCATE' THEN
        PERFORM catalog_sync.lock_for_tenant_change(ARRAY[v_tenant_id]);
        v_filter := 'all';
    ELSE
        -- The category ids themselves are the keys, ascending (the lock
        -- order). Static SQL, planned once per session and trigger.
        IF TG_OP = 'INSERT' THEN
            SELECT array_agg(DISTINCT n.id) INTO v_parents FROM new_rows n;
        ELSIF TG_OP = 'DELETE' THEN
            SELECT array_agg(DISTINCT o.id) INTO v_parents FROM old_rows o;
        ELSE
            -- Only what the catalog shows of a category counts (a test keeps
            -- this list equal to what the job reader reads of it); a changed
            -- id counts under both ids.
            SELECT array_agg(DISTINCT coalesce(n.id, o.id)) INTO v_parents
            FROM new_rows n FULL JOIN old_rows o ON o.id = n.id
            WHERE n.id IS NULL OR o.id IS NULL OR (n.name, n.slug) IS DISTINCT FROM (o.name, o.slug);
        END IF;
        IF v_parents IS NULL THEN
            RETURN NULL;
        END IF;
        PERFORM catalog_sync.lock_for_parent_change(v_tenant_id, 'job_category', v_parents);
    END IF;

    PERFORM catalog_sync.refresh_catalog(v_tenant_id, 'jobs', v_filter, v_parents, true);
    RETURN NULL;
END
$$;
ALTER FUNCTION catalog_sync.on_job_category_change() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.on_job_category_change() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.on_job_category_change() TO catalog_sync_installer;
