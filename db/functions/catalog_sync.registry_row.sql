-- One tenant's row of public.tenants_tenant (the registry), as the sync's
-- hot paths need it: NULLs when there is no such row. With registry_rows()
-- (every row, for the installer's functions) the only reads of the registry.
--
-- The application role owns the registry. Beyond changing it (the contract
-- check, folded into this plan: see contract_holds()), it can hold one of its
-- index locks (REINDEX INDEX, in an open transaction) while the planner waits
-- for it, and meanwhile add a statistics object or an index over its own
-- function, which the planner would evaluate as the definer once the wait
-- ends. So the table is locked first, waiting as any read does (for an
-- ALTER TABLE of the application, say), and the query is planned and run
-- with lock_timeout = 1ms: a wait for an index lock fails closed (55P03).
-- Hot path, only ever called inside a SECURITY DEFINER sync function (EXECUTE is
-- the owner's alone), so it runs under the caller's pinned search_path and sets
-- none itself: a SET clause costs a GUC save/restore on every call.
CREATE OR REPLACE FUNCTION catalog_sync.registry_row(
    p_tenant_id          bigint,
    OUT tenant_id        bigint,
    OUT tenant_schema    text,
    OUT company_name     text,
    OUT company_logo_url text,
    OUT publishable      boolean   -- status 'active' or 'trial'
)
-- STABLE: it reads on its caller's snapshot (verify compares the registry, the
-- tables and the catalog as of one snapshot).
LANGUAGE plpgsql STABLE
AS $$
DECLARE
    v_lock_timeout text := pg_catalog.current_setting('lock_timeout');
    v_void         text;   -- what a call made for its effect returns (see sync_changes())
BEGIN
    v_void := catalog_sync.lock_registry()::text;
    -- (a wait there, where the caller did not lock the registry before its
    -- statement: fails rather than read it on an older snapshot)
    v_void := catalog_sync.assert_not_rewritten(ARRAY['public.tenants_tenant'::pg_catalog.regclass::pg_catalog.oid])::text;
    v_void := pg_catalog.set_config('lock_timeout', '1ms', true);
    BEGIN
        WITH contract AS MATERIALIZED (
            SELECT catalog_sync.contract_holds('public.tenants_tenant'::pg_catalog.regclass, 'tenants_tenant') AS holds
        )
        SELECT t.id, t.schema_name::text, t.name::text, t.logo_url::text, t.status IN ('active', 'trial')
        INTO tenant_id, tenant_schema, company_name, company_logo_url, publishable
        FROM contract CROSS JOIN ONLY public.tenants_tenant AS t
        WHERE contract.holds AND t.id = p_tenant_id;
    EXCEPTION
    WHEN lock_not_available THEN
        -- (as in job_sources(): most often the index locks of an ending
        -- transaction that held the registry; wait for them outside the plan,
        -- then read again, check included, once; the registry stays locked)
        IF NOT catalog_sync.ready_to_read_again(ARRAY['public.tenants_tenant'::pg_catalog.regclass::pg_catalog.oid],
                                                v_lock_timeout) THEN
            RAISE;
        END IF;
        SELECT r.tenant_id, r.tenant_schema, r.company_name, r.company_logo_url, r.publishable
        INTO tenant_id, tenant_schema, company_name, company_logo_url, publishable
        FROM catalog_sync.registry_row(p_tenant_id) AS r;
        v_void := pg_catalog.set_config('catalog_sync.read_again', 'off', true);
    WHEN syntax_error_or_access_rule_violation THEN
        PERFORM catalog_sync.assert_registry();   -- a lost column, named (see explain_failed_read())
        RAISE;
    END;
    v_void := pg_catalog.set_config('lock_timeout', v_lock_timeout, true);
END
$$;
ALTER FUNCTION catalog_sync.registry_row(bigint) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.registry_row(bigint) FROM PUBLIC;
