-- Statement-level AFTER INSERT / UPDATE / DELETE / TRUNCATE trigger function on
-- a tenant's ats_jobposting. Runs as catalog_sync_owner; the tenant comes from
-- the argument bound at attach and checked against the registry by TG_RELID.
-- Work per statement, not per row: find the changed keys, lock the parents the
-- projection will read, then one set-based statement brings the catalog rows
-- of those keys in line with the projection.
CREATE OR REPLACE FUNCTION catalog_sync.on_job_change()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET row_security = off
AS $$
DECLARE
    v_tenant_id  bigint;
    v_ids        bigint[];
    v_masks      integer[];
    v_uuids      uuid[];
    v_categories bigint[];
    v_unused     bigint[];
BEGIN
    -- Checks the table against the contract before any transition row is read.
    v_tenant_id := catalog_sync.guard(TG_RELID, TG_NARGS, TG_ARGV[0], 'ats_jobposting', TG_LEVEL, TG_WHEN);
    IF v_tenant_id IS NULL THEN
        RETURN NULL;                    -- the tenant is gone: publish nothing
    END IF;

    IF TG_OP = 'TRUNCATE' THEN
        PERFORM catalog_sync.lock_for_read(v_tenant_id, NULL, NULL);
        DELETE FROM public.job_catalog WHERE tenant_id = v_tenant_id;
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN
        SELECT array_agg(n.id), array_agg(n.uuid),
               array_agg(DISTINCT n.category_id) FILTER (WHERE n.category_id IS NOT NULL)
        INTO v_ids, v_uuids, v_categories
        FROM new_rows n;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(o.id), array_agg(o.uuid),
               array_agg(DISTINCT o.category_id) FILTER (WHERE o.category_id IS NOT NULL)
        INTO v_ids, v_uuids, v_categories
        FROM old_rows o;
    ELSE
        EXECUTE catalog_sync.changed_keys_sql(
                    'UPDATE', catalog_sync.source_columns('catalog_sync.job_source', '{category_name,category_slug,html_mask}'),
                    ARRAY['description', 'responsibilities', 'requirements', 'benefits'], 'uuid', 'category_id')
            INTO v_ids, v_masks, v_uuids, v_categories, v_unused;
    END IF;
    IF v_ids IS NULL THEN
        RETURN NULL;                    -- nothing the catalog shows has changed
    END IF;

    PERFORM catalog_sync.lock_for_read(v_tenant_id, 'job_category', v_categories);

    -- A new statement, so a new snapshot: it sees every parent change that
    -- committed before the locks above were granted.
    PERFORM catalog_sync.apply_jobs(v_tenant_id, 'ids', v_ids, v_masks, TG_OP = 'UPDATE', v_uuids, NULL, false);
    RETURN NULL;
END
$$;
ALTER FUNCTION catalog_sync.on_job_change() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.on_job_change() FROM PUBLIC;
-- CREATE TRIGGER needs EXECUTE on the function: only installers may bind it.
GRANT EXECUTE ON FUNCTION catalog_sync.on_job_change() TO catalog_sync_installer;
