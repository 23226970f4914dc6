-- Drift that belongs to no single attached tenant:
--   tenant_not_attached  a registered tenant whose schema has the contract
--                        tables but was never attached, or was detached by the
--                        sync itself after a source table was gone and the
--                        schema has every contract table again (by name) (its jobs are
--                        not synced; a tenant detached on purpose is not
--                        reported: tenant_schemas())
--   tenant_tables_gone   a tenant of the registry that the sync detached
--                        itself whose schema still lacks a contract table, by
--                        name: its rows are off the catalogs
--                        (tenants_with_tables_gone())
--   unattached_rows      catalog rows of a tenant that is not attached (detached
--                        without --purge, or never attached), or that is not in
--                        the registry (gone without its delete trigger firing:
--                        a registry whose keys the application dropped, then
--                        truncated, or whose id it changed: red team, twentieth
--                        session)
--   trigger_*            the triggers on public.tenants_tenant
CREATE OR REPLACE FUNCTION catalog_sync.verify_global()
RETURNS TABLE (problem text, tenant_id bigint, detail text)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off   -- see docs/architecture.md, "No JIT in the sync"
SET constraint_exclusion = partition   -- see docs/security.md, "Session settings"
AS $$
BEGIN
    PERFORM catalog_sync.assert_registry();
    RETURN QUERY
    WITH registered AS MATERIALIZED (SELECT r.tenant_id FROM catalog_sync.registry_rows() AS r
                                     WHERE r.tenant_id IS NOT NULL)
    SELECT 'tenant_not_attached'::text, ts.tenant_id,
           ts.schema_name || CASE WHEN t.tenant_id IS NOT NULL
                                  THEN format(' (detached by the sync at %s: %s)',
                                              -- (ISO 8601, as the tool's other timestamps: DBA trial)
                                              to_char(t.detached_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), t.detached_because)
                                  ELSE '' END
    FROM catalog_sync.tenant_schemas() ts
    LEFT JOIN catalog_sync.tenant t ON t.tenant_id = ts.tenant_id AND t.detached_because IS NOT NULL
    WHERE NOT ts.attached AND NOT ts.detached
    UNION ALL
    SELECT 'tenant_tables_gone'::text, g.tenant_id, g.detail FROM catalog_sync.tenants_with_tables_gone() AS g
    UNION ALL
    -- Counted per tenant and catalog first, then each group checked: one
    -- probe per group, not per catalog row (NOT IN over the registry's ids:
    -- a hashed subplan).
    SELECT 'unattached_rows'::text, g.tenant_id,
           g.n::text || ' ' || g.catalog || ' rows'
           || CASE WHEN g.tenant_id NOT IN (SELECT registered.tenant_id FROM registered)
                   THEN ' (tenant not in the registry)' ELSE '' END
    FROM (SELECT c.tenant_id, c.catalog, count(*) AS n
          FROM (SELECT 'job_catalog' AS catalog, j.tenant_id FROM public.job_catalog j
                UNION ALL SELECT 'provider_catalog', p.tenant_id FROM public.provider_catalog p
                UNION ALL SELECT 'service_catalog', s.tenant_id FROM public.service_catalog s) AS c
          GROUP BY c.tenant_id, c.catalog) AS g
    WHERE NOT EXISTS (SELECT FROM catalog_sync.tenant t WHERE t.tenant_id = g.tenant_id AND t.detached_at IS NULL)
       OR g.tenant_id NOT IN (SELECT registered.tenant_id FROM registered)
    UNION ALL
    SELECT 'trigger_' || lower(st.state), NULL::bigint, 'tenants_tenant.' || quote_ident(st.trigger_name)
    FROM catalog_sync.trigger_state('public.tenants_tenant'::regclass, 'tenants_tenant', NULL) st
    WHERE st.state <> 'INSTALLED'
    ORDER BY 1, 2;
END
$$;
ALTER FUNCTION catalog_sync.verify_global() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.verify_global() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.verify_global() TO catalog_sync_installer;
