-- A sync trigger's check of its own table, folded into a plan cached for the
-- session (contract_holds(), as job_sources() folds its read's check): true
-- when p_relid is the table the folded check checked; false when it could not
-- be used (the table is not named p_source_table in its schema now: renamed),
-- and the caller then checks explicitly (guard(): contract_matches()). Raises,
-- naming the problems, when the table no longer matches its contract.
-- Called by guard(), after assert_read_committed() (a check folded under
-- REPEATABLE READ would keep a result read on an old snapshot). The firing
-- statement holds a lock on the table (by OID) until the end of the
-- transaction, so the name checked here keeps meaning it for the query below.
-- One static query per table: the regclass literal must be a constant for the
-- planner to fold the call. Its plan is cached per session and search_path:
-- consecutive writes to one tenant's table check nothing, a write to another
-- tenant's plans (and checks) again, about what an explicit check costs.
-- (on_job_change() folds its check in its own body instead: PL/pgSQL caches a
-- trigger function's plans per trigger, so per table.) The search_path holds the tenant's schema for that
-- one query only: it names nothing but the table (every function, type and
-- cast schema-qualified), and the caller's is restored before anything else.
-- Hot path, only ever called inside a SECURITY DEFINER sync function (EXECUTE is
-- the owner's alone), so it runs under the caller's pinned search_path and sets
-- none itself: a SET clause costs a GUC save/restore on every call.
CREATE OR REPLACE FUNCTION catalog_sync.trigger_table_holds(p_relid oid, p_source_table name)
RETURNS boolean
LANGUAGE plpgsql VOLATILE   -- it changes the search_path for one query
AS $$
DECLARE
    v_name    text := catalog_sync.qualified_name(p_relid);   -- (a variable: schema_naming() is inlined)
    v_schema  text := catalog_sync.schema_naming(v_name, p_source_table);
    v_path    text;
    v_checked oid;
BEGIN
    IF v_schema IS NULL THEN
        RETURN false;
    END IF;
    v_path := pg_catalog.current_setting('search_path');
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, ' || v_schema || ', pg_temp', true);
    CASE p_source_table
        WHEN 'ats_jobposting' THEN
            WITH contract AS MATERIALIZED (
                SELECT catalog_sync.contract_holds('ats_jobposting'::pg_catalog.regclass, 'ats_jobposting') AS holds,
                       'ats_jobposting'::pg_catalog.regclass::pg_catalog.oid AS relid)
            SELECT contract.relid INTO v_checked FROM contract WHERE contract.holds;
        WHEN 'ats_jobcategory' THEN
            WITH contract AS MATERIALIZED (
                SELECT catalog_sync.contract_holds('ats_jobcategory'::pg_catalog.regclass, 'ats_jobcategory') AS holds,
                       'ats_jobcategory'::pg_catalog.regclass::pg_catalog.oid AS relid)
            SELECT contract.relid INTO v_checked FROM contract WHERE contract.holds;
        WHEN 'services_serviceprovider' THEN
            WITH contract AS MATERIALIZED (
                SELECT catalog_sync.contract_holds('services_serviceprovider'::pg_catalog.regclass, 'services_serviceprovider') AS holds,
                       'services_serviceprovider'::pg_catalog.regclass::pg_catalog.oid AS relid)
            SELECT contract.relid INTO v_checked FROM contract WHERE contract.holds;
        WHEN 'services_serviceprovider_categories' THEN
            WITH contract AS MATERIALIZED (
                SELECT catalog_sync.contract_holds('services_serviceprovider_categories'::pg_catalog.regclass, 'services_serviceprovider_categories') AS holds,
                       'services_serviceprovider_categories'::pg_catalog.regclass::pg_catalog.oid AS relid)
            SELECT contract.relid INTO v_checked FROM contract WHERE contract.holds;
        WHEN 'services_servicecategory' THEN
            WITH contract AS MATERIALIZED (
                SELECT catalog_sync.contract_holds('services_servicecategory'::pg_catalog.regclass, 'services_servicecategory') AS holds,
                       'services_servicecategory'::pg_catalog.regclass::pg_catalog.oid AS relid)
            SELECT contract.relid INTO v_checked FROM contract WHERE contract.holds;
        WHEN 'services_providerskill' THEN
            WITH contract AS MATERIALIZED (
                SELECT catalog_sync.contract_holds('services_providerskill'::pg_catalog.regclass, 'services_providerskill') AS holds,
                       'services_providerskill'::pg_catalog.regclass::pg_catalog.oid AS relid)
            SELECT contract.relid INTO v_checked FROM contract WHERE contract.holds;
        WHEN 'services_skill' THEN
            WITH contract AS MATERIALIZED (
                SELECT catalog_sync.contract_holds('services_skill'::pg_catalog.regclass, 'services_skill') AS holds,
                       'services_skill'::pg_catalog.regclass::pg_catalog.oid AS relid)
            SELECT contract.relid INTO v_checked FROM contract WHERE contract.holds;
        WHEN 'services_service' THEN
            WITH contract AS MATERIALIZED (
                SELECT catalog_sync.contract_holds('services_service'::pg_catalog.regclass, 'services_service') AS holds,
                       'services_service'::pg_catalog.regclass::pg_catalog.oid AS relid)
            SELECT contract.relid INTO v_checked FROM contract WHERE contract.holds;
        ELSE
            v_checked := NULL;
    END CASE;
    PERFORM pg_catalog.set_config('search_path', v_path, true);
    RETURN coalesce(v_checked = p_relid, false);
END
$$;
ALTER FUNCTION catalog_sync.trigger_table_holds(oid, name) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.trigger_table_holds(oid, name) FROM PUBLIC;
