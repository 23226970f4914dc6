-- Taken by a statement that changed parent rows (a category renamed, ...),
-- before it recomputes their children: exclusive locks on the changed parents,
-- so that the recompute starts after every writer that read the old values has
-- committed, and writers that come later read the new values.
-- More than 64 parents: the exclusive lock on the whole tenant instead.
-- p_serialize: a key that all changes of parents sharing children take
-- exclusively. A provider has many categories and skills: two renames of
-- different parents would each recompute it from a snapshot without the other
-- rename, and the later write would undo the earlier one; they take turns.
CREATE OR REPLACE FUNCTION catalog_sync.lock_for_parent_change(p_tenant_id bigint, p_kind text, p_parent_ids bigint[],
                                                               p_serialize text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_key integer;
BEGIN
    PERFORM pg_catalog.pg_advisory_xact_lock_shared(catalog_sync.lock_key(0, 'tenants', 0));
    IF coalesce(pg_catalog.cardinality(p_parent_ids), 0) > 64 THEN
        PERFORM pg_catalog.pg_advisory_xact_lock(catalog_sync.lock_key(p_tenant_id, 'tenant', 0));
        RETURN;
    END IF;
    PERFORM pg_catalog.pg_advisory_xact_lock_shared(catalog_sync.lock_key(p_tenant_id, 'tenant', 0));
    IF p_serialize IS NOT NULL THEN
        PERFORM pg_catalog.pg_advisory_xact_lock(catalog_sync.lock_key(p_tenant_id, p_serialize, 0));
    END IF;
    PERFORM pg_catalog.pg_advisory_xact_lock_shared(catalog_sync.lock_key(p_tenant_id, p_kind, 0));
    -- in ascending key order, as lock_for_read() takes them
    FOR v_key IN SELECT DISTINCT catalog_sync.parent_lock_key(p_kind, u) FROM pg_catalog.unnest(p_parent_ids) AS u
                 WHERE u IS NOT NULL ORDER BY 1 LOOP
        PERFORM pg_catalog.pg_advisory_xact_lock(catalog_sync.tenant_lock_space(p_tenant_id), v_key);
    END LOOP;
END
$$;
ALTER FUNCTION catalog_sync.lock_for_parent_change(bigint, text, bigint[], text) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.lock_for_parent_change(bigint, text, bigint[], text) FROM PUBLIC;
