-- After on_job_change()'s folded contract check (see job_trigger_entry()):
-- pins the search_path again, and checks the table explicitly when the folded
-- check did not check this very table (p_checked: the OID it checked, NULL
-- when it did not run), raising with the problems named. Hot path, only ever
-- called inside on_job_change(): no SET clause, so that its set_config()
-- outlives the call.
CREATE OR REPLACE FUNCTION catalog_sync.job_trigger_checked(p_relid oid, p_checked oid)
RETURNS void
LANGUAGE plpgsql VOLATILE   -- it changes the search_path
AS $$
BEGIN
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    IF p_checked IS DISTINCT FROM p_relid THEN
        PERFORM catalog_sync.assert_contract(p_relid, 'ats_jobposting');   -- raises, naming the problems
    END IF;
END
$$;
ALTER FUNCTION catalog_sync.job_trigger_checked(oid, oid) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.job_trigger_checked(oid, oid) FROM PUBLIC;
