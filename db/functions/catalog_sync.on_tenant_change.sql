-- Statement-level trigger function on public.tenants_tenant. A tenant renamed,
-- given a new logo or schema name, suspended, reactivated or deleted changes
-- every catalog row of that tenant: exclusive tenant lock, then recompute
-- (HTML reused from the catalog: a tenant change does not touch job HTML).
CREATE OR REPLACE FUNCTION catalog_sync.on_tenant_change()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off   -- see docs/architecture.md, "No JIT in the sync"
SET constraint_exclusion = partition   -- see docs/security.md, "Session settings"
SET row_security = off
AS $$
DECLARE
    v_ids       bigint[];
    v_tenant_id bigint;
BEGIN
    IF TG_RELID <> 'public.tenants_tenant'::regclass OR TG_LEVEL <> 'STATEMENT' OR TG_WHEN <> 'AFTER' THEN
        RAISE EXCEPTION 'catalog_sync: on_tenant_change called by an unexpected trigger on relation %', TG_RELID
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM catalog_sync.assert_read_committed();
    PERFORM catalog_sync.assert_registry();

    IF TG_OP = 'DELETE' THEN
        SELECT array_agg(o.id ORDER BY o.id) INTO v_ids FROM old_rows o;
        PERFORM catalog_sync.lock_for_tenant_change(v_ids);
        -- The catalog's foreign key cascades too; this keeps the intent explicit.
        DELETE FROM public.job_catalog WHERE tenant_id = ANY (v_ids);
        DELETE FROM public.provider_catalog WHERE tenant_id = ANY (v_ids);
        DELETE FROM public.service_catalog WHERE tenant_id = ANY (v_ids);
        RETURN NULL;
    END IF;

    SELECT array_agg(n.id ORDER BY n.id) INTO v_ids
    FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE (n.name, n.logo_url, n.status, n.schema_name) IS DISTINCT FROM (o.name, o.logo_url, o.status, o.schema_name);
    IF v_ids IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM catalog_sync.lock_for_tenant_change(v_ids);
    FOR v_tenant_id IN SELECT t.tenant_id FROM catalog_sync.tenant t WHERE t.tenant_id = ANY (v_ids) ORDER BY 1 LOOP
        UPDATE catalog_sync.tenant t SET schema_name = r.tenant_schema
        FROM catalog_sync.registry_row(v_tenant_id) AS r WHERE t.tenant_id = r.tenant_id
          AND t.schema_name IS DISTINCT FROM r.tenant_schema::name;
        PERFORM catalog_sync.refresh_catalog(v_tenant_id, 'jobs', 'all', NULL, true);
        PERFORM catalog_sync.refresh_catalog(v_tenant_id, 'providers', 'all', NULL, true);
        PERFORM catalog_sync.refresh_catalog(v_tenant_id, 'services', 'all', NULL, true);
    END LOOP;
    RETURN NULL;
END
$$;
ALTER FUNCTION catalog_sync.on_tenant_change() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.on_tenant_change() FROM PUBLIC;
