-- What a job's write reads besides its own table (which the firing
-- statement holds), locked ACCESS SHARE, as any read of them would, waiting
-- as long as a read would, before the statement that reads them: the
-- registry and the tenant's category table. guard() calls it for a job
-- table's trigger, so that the sync's read (job_sources(), STABLE, on the
-- snapshot of the statement that applies the write) is planned and run
-- after any wait for those tables, never on a snapshot older than DDL that
-- rewrote or truncated one of them (lock_sources(): why).
-- By name, static SQL, nothing parsed per write (lock_relations() parses a
-- LOCK per call), where a relation named ats_jobcategory in p_schema (the
-- job table's) exists that the definer may read: then it puts p_schema on
-- the search_path (pg_catalog, <schema>, pg_temp), which it leaves for
-- guard()'s caller, locks, and returns true. Else (the category table
-- renamed; or another relation under its name that the definer may not
-- read, whose lock would fail every job write of the tenant: review,
-- fifty-first session) it changes nothing and returns false, and guard()
-- locks the registered tables by OID. A readable relation under that name
-- that is not the registered table is locked for nothing: job_sources()
-- reads by name only where the names mean the registered OIDs, else the
-- registered table by OID, and fails rather than read it on an older
-- snapshot where it waited for it (assert_not_rewritten()). (Comparing
-- with the registered OID, read by guard()'s query, cost a single-row
-- write 30,000 instructions more; a relation that LOCK refuses though the
-- definer may read it, a sequence, materialized view or foreign table the
-- tenant put under that name, fails only that tenant's job writes
-- ("cannot lock relation"), as any of its tables made unreadable does:
-- docs/security.md, Limits.) The name
-- is tested on the caller's pinned path, so no expression here is planned
-- under a tenant's path (PostgreSQL plans such an expression again
-- whenever the path changes: a pooled session writing for tenants in
-- turns; review, fifty-first session). LOCK resolves the name again after
-- a wait: if the table was renamed meanwhile and another took its name,
-- that one is locked (see above).
-- Hot path, only ever called inside a SECURITY DEFINER sync function (EXECUTE is
-- the owner's alone), under its caller's pinned search_path.
-- (lock_job_tables(), which job_sources() called inside its statement until
-- the fifty-first session, is dropped; and this function's first form)
DROP FUNCTION IF EXISTS catalog_sync.lock_job_tables();
DROP FUNCTION IF EXISTS catalog_sync.lock_job_parents();
DROP FUNCTION IF EXISTS catalog_sync.lock_job_parents(name, oid);
CREATE OR REPLACE FUNCTION catalog_sync.lock_job_parents(p_schema name)
RETURNS boolean
LANGUAGE plpgsql VOLATILE  -- it takes locks
AS $$
DECLARE
    v_void     text;   -- what a call made for its effect returns (see sync_changes())
    v_category regclass;
BEGIN
    v_category := pg_catalog.to_regclass(pg_catalog.quote_ident(p_schema) || '.ats_jobcategory');
    IF v_category IS NULL OR NOT pg_catalog.has_table_privilege(v_category, 'SELECT') THEN
        RETURN false;
    END IF;
    v_void := pg_catalog.set_config('search_path', 'pg_catalog, ' || pg_catalog.quote_ident(p_schema) || ', pg_temp',
                                    true);
    LOCK TABLE ONLY public.tenants_tenant, ONLY ats_jobcategory IN ACCESS SHARE MODE;
    RETURN true;
END
$$;
ALTER FUNCTION catalog_sync.lock_job_parents(name) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.lock_job_parents(name) FROM PUBLIC;
