-- Lock the tables named ats_jobposting and ats_jobcategory on the caller's
-- search_path ACCESS SHARE, as any read of them would, waiting as long as a
-- read would. For job_sources()'s static read, whose search_path then holds
-- the tenant's schema, and which checks afterwards that the names still mean
-- the registered tables: LOCK looks a name up again after a wait, so it locks
-- what the name means once the lock is granted.
-- Static SQL, nothing parsed per call (lock_relations() locks by OID through
-- EXECUTE, about 90,000 instructions a call). Its own function because a
-- STABLE reader may not run LOCK itself.
-- Hot path, only ever called inside a SECURITY DEFINER sync function (EXECUTE is
-- the owner's alone), under the search_path its caller set; it sets none.
CREATE OR REPLACE FUNCTION catalog_sync.lock_job_tables()
RETURNS void
LANGUAGE plpgsql VOLATILE  -- it takes locks
AS $$
BEGIN
    LOCK TABLE ONLY ats_jobposting, ONLY ats_jobcategory IN ACCESS SHARE MODE;
END
$$;
ALTER FUNCTION catalog_sync.lock_job_tables() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.lock_job_tables() FROM PUBLIC;
