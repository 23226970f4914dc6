-- Locks the registry and the table named ats_jobcategory on the caller's
-- search_path ACCESS SHARE, as any read of them would, waiting as long as a
-- read would: what a job's write reads besides its own table, which the
-- firing statement holds. guard() calls it for a job table's trigger, with
-- the table's schema on the path, so that the sync's read (job_sources(),
-- STABLE, on the snapshot of the statement that applies the write) is
-- planned and run after any wait for those tables, never on a snapshot
-- older than DDL that rewrote or truncated one of them (lock_sources():
-- why). By name: static SQL, nothing parsed per write (lock_relations()
-- parses a LOCK per call). False when the path has no table of that name
-- (the tenant renamed its category table): guard() then locks the
-- registered tables by OID (lock_sources()). A table of that name that is
-- not the registered one is locked for nothing: job_sources() then reads
-- the registered one by OID, and fails, rather than read it on an older
-- snapshot, where it waited for it (assert_not_rewritten()).
-- Hot path, only ever called inside a SECURITY DEFINER sync function (EXECUTE is
-- the owner's alone), under the search_path its caller set; it sets none.
-- (lock_job_tables(), which job_sources() called inside its statement until
-- the fifty-first session, is dropped; and this function's first form)
DROP FUNCTION IF EXISTS catalog_sync.lock_job_tables();
DO $drop$
BEGIN
    IF pg_catalog.to_regprocedure('catalog_sync.lock_job_parents()') IS NOT NULL
       AND (SELECT p.prorettype FROM pg_catalog.pg_proc p
            WHERE p.oid = pg_catalog.to_regprocedure('catalog_sync.lock_job_parents()')) <> 'boolean'::pg_catalog.regtype THEN
        DROP FUNCTION catalog_sync.lock_job_parents();
    END IF;
END
$drop$;
CREATE OR REPLACE FUNCTION catalog_sync.lock_job_parents()
RETURNS boolean
LANGUAGE plpgsql VOLATILE  -- it takes locks
AS $$
BEGIN
    IF pg_catalog.to_regclass('ats_jobcategory') IS NULL THEN
        RETURN false;
    END IF;
    LOCK TABLE ONLY public.tenants_tenant, ONLY ats_jobcategory IN ACCESS SHARE MODE;
    RETURN true;
END
$$;
ALTER FUNCTION catalog_sync.lock_job_parents() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.lock_job_parents() FROM PUBLIC;
