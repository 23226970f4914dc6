-- Recompute part or all of one tenant's rows of one catalog ('jobs',
-- 'providers', 'services') and apply the difference, where no transition table
-- is in play: parent changes (p_reuse: sanitized HTML taken from the catalog
-- rows, the parent change did not touch it), tenant changes, backfill and
-- repair (no reuse). The caller holds the advisory locks; the tables are
-- locked here. A tenant that is not attached
-- is left alone. The counts are those of the filter 'all' (backfill, repair);
-- for jobs and services with another filter they are NULL (the apply is a
-- MERGE, which counts nothing: define_apply()), and no caller reads them.
CREATE OR REPLACE FUNCTION catalog_sync.refresh_catalog(
    p_tenant_id bigint,
    p_catalog   text,
    p_filter    text,
    p_keys      bigint[],
    p_reuse     boolean,
    OUT removed  bigint,
    OUT inserted bigint,
    OUT updated  bigint
)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET row_security = off
SET plan_cache_mode = force_generic_plan   -- for the apply functions (see define_apply())
AS $$
BEGIN
    removed := 0; inserted := 0; updated := 0;
    IF NOT EXISTS (SELECT FROM catalog_sync.attached_table a WHERE a.tenant_id = p_tenant_id) THEN
        RETURN;
    END IF;
    -- The tables the catalog's projection reads, locked before the statement
    -- that reads them (lock_sources(): why).
    PERFORM catalog_sync.lock_sources(p_tenant_id, ARRAY[p_catalog]);
    CASE p_catalog
        WHEN 'jobs' THEN
            SELECT a.removed, a.inserted, a.updated INTO removed, inserted, updated
            FROM catalog_sync.apply_jobs(p_tenant_id, p_filter, p_keys, NULL, p_reuse, NULL, NULL,
                                         p_filter = 'all') AS a;
        WHEN 'providers' THEN
            SELECT a.removed, a.inserted, a.updated INTO removed, inserted, updated
            FROM catalog_sync.apply_providers(p_tenant_id, p_filter, p_keys, NULL, p_reuse, NULL, NULL,
                                              p_filter = 'all') AS a;
        WHEN 'services' THEN
            SELECT a.removed, a.inserted, a.updated INTO removed, inserted, updated
            FROM catalog_sync.apply_services(p_tenant_id, p_filter, p_keys, NULL, p_reuse, NULL, NULL,
                                             p_filter = 'all') AS a;
        ELSE
            RAISE EXCEPTION 'catalog_sync: unknown catalog %', p_catalog
                USING HINT = 'Known catalogs: jobs, providers, services.';
    END CASE;
END
$$;
ALTER FUNCTION catalog_sync.refresh_catalog(bigint, text, text, bigint[], boolean) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.refresh_catalog(bigint, text, text, bigint[], boolean) FROM PUBLIC;
