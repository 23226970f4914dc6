-- Delete every catalog row of a tenant that is not attached (repair of
-- unattached_rows). Refuses attached tenants: their rows are repaired by backfill.
-- A tenant the machinery still has attached but the registry no longer has
-- (its row gone without the foreign keys that cascade its delete: see
-- verify_global()) is purged and forgotten, as the keys would have done.
CREATE OR REPLACE FUNCTION catalog_sync.purge_tenant(p_tenant_id bigint)
RETURNS bigint
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off   -- see docs/architecture.md, "No JIT in the sync"
SET constraint_exclusion = partition   -- see docs/security.md, "Session settings"
SET row_security = off  -- (registry_row(): see registry_rows())
AS $$
DECLARE
    v_deleted    bigint;
    v_registered boolean;
BEGIN
    -- (registry_row(), the hot path's reader, leaves this to its callers)
    PERFORM catalog_sync.assert_read_committed();
    -- Locked first, then checked: an attach (and its backfill) committed
    -- while this waited is seen (red team, twenty-first session: repair
    -- purged a tenant attached meanwhile). The registry before the tenant,
    -- in the order every other path takes them.
    PERFORM catalog_sync.lock_registry();
    PERFORM catalog_sync.lock_for_tenant_change(ARRAY[p_tenant_id]);
    v_registered := (SELECT r.tenant_id FROM catalog_sync.registry_row(p_tenant_id) AS r) IS NOT NULL;
    IF v_registered
       AND EXISTS (SELECT FROM catalog_sync.tenant t WHERE t.tenant_id = p_tenant_id AND t.detached_at IS NULL) THEN
        RAISE EXCEPTION 'catalog_sync: tenant % is attached; use backfill_tenant() to repair it', p_tenant_id
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    WITH j AS (DELETE FROM public.job_catalog c WHERE c.tenant_id = p_tenant_id RETURNING 1),
         p AS (DELETE FROM public.provider_catalog c WHERE c.tenant_id = p_tenant_id RETURNING 1),
         s AS (DELETE FROM public.service_catalog c WHERE c.tenant_id = p_tenant_id RETURNING 1)
    SELECT (SELECT count(*) FROM j) + (SELECT count(*) FROM p) + (SELECT count(*) FROM s) INTO v_deleted;
    IF NOT v_registered THEN
        DELETE FROM catalog_sync.tenant t WHERE t.tenant_id = p_tenant_id;      -- (its attached_table rows cascade)
    END IF;
    RETURN v_deleted;
END
$$;
ALTER FUNCTION catalog_sync.purge_tenant(bigint) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.purge_tenant(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.purge_tenant(bigint) TO catalog_sync_installer;
