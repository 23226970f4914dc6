-- Forget a tenant's tables and mark it detached (and, with p_purge, delete its
-- catalog rows, and say how many of each catalog): on purpose, or, with p_because, by the sync itself (see
-- catalog_sync.tenant.detached_because).
-- Called by detach_schema() after it dropped the triggers.
-- (An older form without p_because is dropped.)
DROP FUNCTION IF EXISTS catalog_sync.unregister_schema(text, boolean);
-- (An older form returned no purged counts: dropped, since CREATE OR REPLACE
-- cannot change a function's result type.)
DO $$
BEGIN
    IF pg_catalog.pg_get_function_result(pg_catalog.to_regprocedure('catalog_sync.unregister_schema(text, boolean, text)'))
       NOT LIKE '%jobs_purged%' THEN
        DROP FUNCTION catalog_sync.unregister_schema(text, boolean, text);
    END IF;
END
$$;
CREATE OR REPLACE FUNCTION catalog_sync.unregister_schema(p_schema text, p_purge boolean, p_because text DEFAULT NULL)
RETURNS TABLE (tenant_id bigint, jobs_purged bigint, providers_purged bigint, services_purged bigint)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_tenant_id bigint;
BEGIN
    -- (its bigint form: a release that lists this file lists lock_schema_tenant.sql before it)
    v_tenant_id := catalog_sync.lock_schema_tenant(p_schema);
    IF v_tenant_id IS NULL THEN
        RAISE EXCEPTION 'catalog_sync: schema % is neither attached nor a tenant schema', quote_ident(p_schema)
            USING ERRCODE = 'invalid_schema_name';
    END IF;
    -- Only who can drop the sync triggers (the tables' owner, via detach_schema)
    -- may forget the tenant: an installer that does not own the tables cannot
    -- stop a tenant's sync by unregistering it.
    IF EXISTS (SELECT FROM catalog_sync.attached_table a
               JOIN pg_catalog.pg_trigger tg ON tg.tgrelid = a.relid
               JOIN pg_catalog.pg_proc p ON p.oid = tg.tgfoid AND p.pronamespace = 'catalog_sync'::regnamespace
               WHERE a.tenant_id = v_tenant_id) THEN
        RAISE EXCEPTION 'catalog_sync: the sync triggers of schema % are still installed', quote_ident(p_schema)
            USING ERRCODE = 'object_in_use', HINT = 'Use catalog_sync.detach_schema() as the owner of the tables.';
    END IF;
    tenant_id := v_tenant_id;
    jobs_purged := 0;
    providers_purged := 0;
    services_purged := 0;
    DELETE FROM catalog_sync.attached_table a WHERE a.tenant_id = v_tenant_id;
    -- Recorded even for a tenant never attached: "do not sync this one" (no attached_at).
    -- A second detach keeps the time of the first (DBA review, nineteenth session);
    -- a detach on purpose makes one of the sync's an opt-out, never the reverse.
    INSERT INTO catalog_sync.tenant AS t (tenant_id, schema_name, attached_at, detached_at, detached_because)
    VALUES (v_tenant_id, p_schema, NULL, clock_timestamp(), p_because)
    ON CONFLICT ON CONSTRAINT tenant_pkey DO UPDATE
    SET detached_at = coalesce(t.detached_at, EXCLUDED.detached_at),
        detached_because = CASE WHEN t.detached_at IS NULL OR EXCLUDED.detached_because IS NULL
                                THEN EXCLUDED.detached_because ELSE t.detached_because END
    WHERE t.detached_at IS NULL OR (t.detached_because IS NOT NULL AND EXCLUDED.detached_because IS NULL);
    IF p_purge THEN
        DELETE FROM public.job_catalog c WHERE c.tenant_id = v_tenant_id;
        GET DIAGNOSTICS jobs_purged = ROW_COUNT;
        DELETE FROM public.provider_catalog c WHERE c.tenant_id = v_tenant_id;
        GET DIAGNOSTICS providers_purged = ROW_COUNT;
        DELETE FROM public.service_catalog c WHERE c.tenant_id = v_tenant_id;
        GET DIAGNOSTICS services_purged = ROW_COUNT;
    END IF;
    RETURN NEXT;
END
$$;
ALTER FUNCTION catalog_sync.unregister_schema(text, boolean, text) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.unregister_schema(text, boolean, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.unregister_schema(text, boolean, text) TO catalog_sync_installer;
