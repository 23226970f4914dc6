-- Taken by a statement that projects child rows: shared locks on every parent
-- it is about to read (docs/architecture.md,
-- "Consistency under concurrency"), before the projecting
-- statement starts. Order: all tenants, the tenant, then the parents' keys
-- ascending (parent_lock_key(): two parents may share one).
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
    v_key  integer;
    v_last integer;   -- the greater key of one or two parents
    v_void text;   -- what a call made for its effect returns (see sync_changes())
BEGIN
    v_void := pg_catalog.pg_advisory_xact_lock_shared(catalog_sync.lock_key(0, 'tenants', 0))::text;
    v_void := pg_catalog.pg_advisory_xact_lock_shared(catalog_sync.lock_key(p_tenant_id, 'tenant', 0))::text;
    IF pg_catalog.cardinality(p_parent_ids) <= 2 AND p_kind IS NOT NULL THEN
        -- A single-row write (its new and old parent): no statement to sort
        -- them (the loop's query: docs/benchmarks-log.md, Diagnosis, thirty-first session).
        -- The smaller key first; a NULL id has a NULL key, and a comparison
        -- with NULL is not true. (The callers' arrays come from array_agg()
        -- and array_cat(): one dimension, subscripts from 1.)
        v_key := catalog_sync.parent_lock_key(p_kind, p_parent_ids[1]);
        v_last := catalog_sync.parent_lock_key(p_kind, p_parent_ids[2]);
        IF v_last < v_key OR v_key IS NULL THEN
            v_key := v_last;
            v_last := catalog_sync.parent_lock_key(p_kind, p_parent_ids[1]);
        END IF;
        IF v_key IS NOT NULL THEN
            v_void := pg_catalog.pg_advisory_xact_lock_shared(catalog_sync.tenant_lock_space(p_tenant_id), v_key)::text;
        END IF;
        IF v_last > v_key THEN
            v_void := pg_catalog.pg_advisory_xact_lock_shared(catalog_sync.tenant_lock_space(p_tenant_id), v_last)::text;
        END IF;
        RETURN;
    END IF;
    IF p_kind IS NULL OR coalesce(pg_catalog.cardinality(p_parent_ids), 0) = 0 THEN
        RETURN;
    END IF;
    IF pg_catalog.cardinality(p_parent_ids) > 64 THEN
        v_void := pg_catalog.pg_advisory_xact_lock(catalog_sync.lock_key(p_tenant_id, p_kind, 0))::text;
        RETURN;
    END IF;
    FOR v_key IN SELECT DISTINCT catalog_sync.parent_lock_key(p_kind, u) FROM pg_catalog.unnest(p_parent_ids) AS u
                 WHERE u IS NOT NULL ORDER BY 1 LOOP
        v_void := pg_catalog.pg_advisory_xact_lock_shared(catalog_sync.tenant_lock_space(p_tenant_id), v_key)::text;
    END LOOP;
END
$$;
ALTER FUNCTION catalog_sync.lock_for_read(bigint, text, bigint[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.lock_for_read(bigint, text, bigint[]) FROM PUBLIC;
