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
    v_uuids      uuid[];
    v_categories bigint[];
    v_removed    bigint;
    v_inserted   bigint;
    v_updated    bigint;
BEGIN
    v_tenant_id := catalog_sync.guard(TG_RELID, TG_NARGS, TG_ARGV[0], 'ats_jobposting', TG_LEVEL, TG_WHEN);

    IF TG_OP = 'TRUNCATE' THEN
        PERFORM catalog_sync.lock_for_read(v_tenant_id, NULL, NULL);
        DELETE FROM public.job_catalog WHERE tenant_id = v_tenant_id;
        RETURN NULL;
    END IF;

    EXECUTE catalog_sync.changed_keys_sql(TG_OP, catalog_sync.job_source_columns(), 'uuid', 'category_id')
        INTO v_ids, v_uuids, v_categories;
    IF v_ids IS NULL THEN
        RETURN NULL;                    -- nothing the catalog shows has changed
    END IF;

    PERFORM catalog_sync.lock_for_read(v_tenant_id, 'job_category', v_categories);

    -- A new statement, so a new snapshot: it sees every parent change that
    -- committed before the locks above were granted.
    EXECUTE catalog_sync.apply_sql(
                'public.job_catalog', 'job_uuid',
                catalog_sync.job_projection_sql(
                    TG_RELID, catalog_sync.source_relid(v_tenant_id, 'ats_jobcategory'), 'ids',
                    CASE TG_OP WHEN 'UPDATE' THEN 'old_rows' ELSE 'none' END),
                'keys')
        INTO v_removed, v_inserted, v_updated
        USING v_tenant_id, v_ids, v_uuids;
    RETURN NULL;
END
$$;
ALTER FUNCTION catalog_sync.on_job_change() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.on_job_change() FROM PUBLIC;
-- CREATE TRIGGER needs EXECUTE on the function: only installers may bind it.
GRANT EXECUTE ON FUNCTION catalog_sync.on_job_change() TO catalog_sync_installer;
