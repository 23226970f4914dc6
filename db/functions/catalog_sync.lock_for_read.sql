-- Taken by a statement that projects child rows: shared locks on every parent
-- it is about to read (docs/architecture.md,
-- "Consistency under concurrency"), before the projecting
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
    v_id   bigint;
    v_last bigint;   -- the greater of one or two parents
    v_void text;   -- what a call made for its effect returns (see sync_changes())
BEGIN
    v_void := pg_catalog.pg_advisory_xact_lock_shared(catalog_sync.lock_key(0, 'tenants', 0))::text;
    v_void := pg_catalog.pg_advisory_xact_lock_shared(catalog_sync.lock_key(p_tenant_id, 'tenant', 0))::text;
    IF pg_catalog.cardinality(p_parent_ids) <= 2 AND p_kind IS NOT NULL THEN
        -- A single-row write (its new and old parent): no statement to sort
        -- them (the loop's query: docs/benchmarks.md, Diagnosis, thirty-first session).
        -- least() and greatest() (keywords, not functions) skip NULLs. (The
        -- callers' arrays come from array_agg() and array_cat(): one
        -- dimension, subscripts from 1.)
        v_id := least(p_parent_ids[1], p_parent_ids[2]);
        v_last := greatest(p_parent_ids[1], p_parent_ids[2]);
        IF v_id IS NOT NULL THEN
            v_void := pg_catalog.pg_advisory_xact_lock_shared(catalog_sync.lock_key(p_tenant_id, p_kind, v_id))::text;
        END IF;
        IF v_last > v_id THEN
            v_void := pg_catalog.pg_advisory_xact_lock_shared(catalog_sync.lock_key(p_tenant_id, p_kind, v_last))::text;
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
    FOR v_id IN SELECT DISTINCT u FROM pg_catalog.unnest(p_parent_ids) AS u WHERE u IS NOT NULL ORDER BY u LOOP
        v_void := pg_catalog.pg_advisory_xact_lock_shared(catalog_sync.lock_key(p_tenant_id, p_kind, v_id))::text;
    END LOOP;
END
$$;
ALTER FUNCTION catalog_sync.lock_for_read(bigint, text, bigint[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.lock_for_read(bigint, text, bigint[]) FROM PUBLIC;
