-- ANALYZE of the three catalogs, which the tool runs after its bulk writes
-- (a backfill that inserted rows, a repair that re-synced tenants). The
-- projections look a job's current catalog row up by tenant and uuid (their
-- reuse of sanitized HTML): where the planner's statistics last saw a tenant
-- with no catalog rows (a new tenant, a purge), every tenant they do not
-- list is estimated at one row, and the lookup scanned all of the tenant's
-- rows by the (tenant_id, is_featured) index for each job it projected:
-- quadratic (DBA walkthrough, twenty-seventh session: status counted a
-- 131,766-row tenant for a quarter of an hour after its backfill; reproduced
-- at 25,010 rows, 118 s instead of a fraction of one). Autovacuum analyzes
-- later, but only after a tenth of a catalog changed. The catalog owner's,
-- so a definer: installers run it.
CREATE OR REPLACE FUNCTION catalog_sync.analyze_catalogs()
RETURNS void
LANGUAGE plpgsql VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    ANALYZE public.job_catalog, public.provider_catalog, public.service_catalog;
END
$$;
ALTER FUNCTION catalog_sync.analyze_catalogs() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.analyze_catalogs() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.analyze_catalogs() TO catalog_sync_installer;
