-- Taken before a tenant's catalog rows are recomputed as a whole (tenant row
-- changed, backfill, repair): exclusive lock on each tenant, or on all tenants
-- when more than 64 change in one statement.
CREATE OR REPLACE FUNCTION catalog_sync.lock_for_tenant_change(p_tenant_ids bigint[])
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_id bigint;
BEGIN
    IF coalesce(pg_catalog.cardinality(p_tenant_ids), 0) > 64 THEN
        PERFORM pg_catalog.pg_advisory_xact_lock(catalog_sync.lock_key(0, 'tenants', 0));
        RETURN;
    END IF;
    PERFORM pg_catalog.pg_advisory_xact_lock_shared(catalog_sync.lock_key(0, 'tenants', 0));
    FOR v_id IN SELECT DISTINCT u FROM pg_catalog.unnest(p_tenant_ids) AS u WHERE u IS NOT NULL ORDER BY u LOOP
        PERFORM pg_catalog.pg_advisory_xact_lock(catalog_sync.lock_key(v_id, 'tenant', 0));
    END LOOP;
END
$$;
ALTER FUNCTION catalog_sync.lock_for_tenant_change(bigint[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.lock_for_tenant_change(bigint[]) FROM PUBLIC;
