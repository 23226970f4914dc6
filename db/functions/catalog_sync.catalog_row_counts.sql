-- A tenant's rows in the three catalogs, for detach --purge --dry-run (how
-- many rows the purge would delete). Reads the catalogs only, never the
-- tenant's tables: a dry run takes no lock on them. The installer reads no
-- catalog itself (catalog_reader is the web tier's), hence SECURITY DEFINER;
-- the counts are of public rows.
CREATE OR REPLACE FUNCTION catalog_sync.catalog_row_counts(p_tenant_id bigint)
RETURNS TABLE (jobs bigint, providers bigint, services bigint)
LANGUAGE sql STABLE STRICT
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT (SELECT count(*) FROM public.job_catalog c WHERE c.tenant_id = p_tenant_id),
           (SELECT count(*) FROM public.provider_catalog c WHERE c.tenant_id = p_tenant_id),
           (SELECT count(*) FROM public.service_catalog c WHERE c.tenant_id = p_tenant_id)
$$;
ALTER FUNCTION catalog_sync.catalog_row_counts(bigint) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.catalog_row_counts(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.catalog_row_counts(bigint) TO catalog_sync_installer;
