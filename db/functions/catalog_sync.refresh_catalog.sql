-- Recompute part or all of one tenant's rows of one catalog and apply the
-- difference, where no transition table is in play: parent changes (p_reuse:
-- sanitized HTML taken from the catalog rows, the parent change did not touch
-- it), tenant changes, backfill and repair (no reuse). The caller holds the
-- locks. A tenant that is not attached is left alone.
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
AS $$
BEGIN
    removed := 0; inserted := 0; updated := 0;
    IF p_catalog <> 'jobs' THEN
        RAISE EXCEPTION 'catalog_sync: unknown catalog %', p_catalog USING HINT = 'Known catalogs: jobs.';
    END IF;
    IF catalog_sync.source_relid(p_tenant_id, 'ats_jobposting') IS NULL THEN
        RETURN;
    END IF;
    SELECT a.removed, a.inserted, a.updated INTO removed, inserted, updated
    FROM catalog_sync.apply_jobs(p_tenant_id, p_filter, p_keys, NULL, p_reuse, NULL, p_filter = 'all') AS a;
END
$$;
ALTER FUNCTION catalog_sync.refresh_catalog(bigint, text, text, bigint[], boolean) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.refresh_catalog(bigint, text, text, bigint[], boolean) FROM PUBLIC;
