-- Statement-level trigger function on a tenant's services_servicecategory and
-- services_skill: a category or skill inserted, renamed, re-slugged or deleted
-- re-projects the providers linked to it (and, for a category, the services in
-- it). Parent-change protocol: exclusive locks on the changed parents (renames
-- of any provider parent take turns: 'provider_parents'), then the recompute
-- in new statements, sanitized HTML reused (a parent change does not touch it).
CREATE OR REPLACE FUNCTION catalog_sync.on_marketplace_parent_change()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off   -- see docs/architecture.md, "No JIT in the sync"
SET constraint_exclusion = partition   -- see docs/security.md, "Session settings"
SET row_security = off
AS $$
DECLARE
    v_tenant_id bigint;
    v_table     name;
    v_kind      text;
    v_filter    text;
    v_parents   bigint[];
BEGIN
    -- Which table this is comes from the registry (by OID), not its name.
    SELECT a.source_table INTO v_table FROM catalog_sync.attached_table a WHERE a.relid = TG_RELID;
    IF v_table IS DISTINCT FROM 'services_skill' THEN
        v_table := 'services_servicecategory';
    END IF;
    v_tenant_id := catalog_sync.guard(TG_RELID, TG_NARGS, TG_ARGV[0], v_table, TG_LEVEL, TG_WHEN);
    IF v_tenant_id IS NULL THEN
        RETURN NULL;
    END IF;
    v_kind := CASE v_table WHEN 'services_skill' THEN 'skill' ELSE 'service_category' END;
    v_filter := CASE v_table WHEN 'services_skill' THEN 'skills' ELSE 'categories' END;
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM catalog_sync.lock_for_tenant_change(ARRAY[v_tenant_id]);
        v_filter := 'all';
    ELSE
        -- The parents' ids are the keys, ascending (the lock order), as in
        -- on_job_category_change(). Static SQL, planned once per session and
        -- table (both tables show their name and slug).
        IF TG_OP = 'INSERT' THEN
            SELECT array_agg(DISTINCT n.id) INTO v_parents FROM new_rows n;
        ELSIF TG_OP = 'DELETE' THEN
            SELECT array_agg(DISTINCT o.id) INTO v_parents FROM old_rows o;
        ELSE
            SELECT array_agg(DISTINCT coalesce(n.id, o.id)) INTO v_parents
            FROM new_rows n FULL JOIN old_rows o ON o.id = n.id
            WHERE n.id IS NULL OR o.id IS NULL OR (n.name, n.slug) IS DISTINCT FROM (o.name, o.slug);
        END IF;
        IF v_parents IS NULL THEN
            RETURN NULL;
        END IF;
        PERFORM catalog_sync.lock_for_parent_change(v_tenant_id, v_kind, v_parents, 'provider_parents');
    END IF;
    PERFORM catalog_sync.refresh_catalog(v_tenant_id, 'providers', v_filter, v_parents, true);
    IF v_table = 'services_servicecategory' THEN
        PERFORM catalog_sync.refresh_catalog(v_tenant_id, 'services', v_filter, v_parents, true);
    END IF;
    RETURN NULL;
END
$$;
ALTER FUNCTION catalog_sync.on_marketplace_parent_change() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.on_marketplace_parent_change() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.on_marketplace_parent_change() TO catalog_sync_installer;
