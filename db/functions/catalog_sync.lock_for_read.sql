-- Taken by a statement that projects child rows: shared locks on every parent
-- it is about to read (DESIGN.md, "Consistency"), before the projecting
-- statement starts. Order: all tenants, the tenant, then parent ids ascending.
-- More than 64 parents: one exclusive lock on the whole kind instead of one
-- lock per parent (the shared lock table is small).
-- Hot path, only ever called inside a SECURITY DEFINER sync function (EXECUTE is
-- the owner's alone), so it runs under the caller's pinned search_path and sets
-- none itself: a SET clause costs a GUC save/restore on every call.
CREATE OR REPLACE FUNCTION catalog_sync.lock_for_read(p_tenant_id bigint, p_kind text, p_parent_ids bigint[])
RETURNS void
LANGUAGE plpgsql
AS $$
DECLARE
    v_id bigint;
BEGIN
    PERFORM pg_catalog.pg_advisory_xact_lock_shared(catalog_sync.lock_key(0, 'tenants', 0));
    PERFORM pg_catalog.pg_advisory_xact_lock_shared(catalog_sync.lock_key(p_tenant_id, 'tenant', 0));
    IF p_kind IS NULL OR coalesce(pg_catalog.cardinality(p_parent_ids), 0) = 0 THEN
        RETURN;
    END IF;
    IF pg_catalog.cardinality(p_parent_ids) > 64 THEN
        PERFORM pg_catalog.pg_advisory_xact_lock(catalog_sync.lock_key(p_tenant_id, p_kind, 0));
        RETURN;
    END IF;
    FOR v_id IN SELECT DISTINCT u FROM pg_catalog.unnest(p_parent_ids) AS u WHERE u IS NOT NULL ORDER BY u LOOP
        PERFORM pg_catalog.pg_advisory_xact_lock_shared(catalog_sync.lock_key(p_tenant_id, p_kind, v_id));
    END LOOP;
END
$$;
ALTER FUNCTION catalog_sync.lock_for_read(bigint, text, bigint[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.lock_for_read(bigint, text, bigint[]) FROM PUBLIC;
