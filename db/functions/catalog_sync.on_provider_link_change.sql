-- Statement-level trigger function on a tenant's provider link tables:
-- services_serviceprovider_categories (the categories many-to-many; Django's
-- add(), remove(), set() and clear() insert and delete its rows) and
-- services_providerskill (skills, with level and years). Re-projects the
-- providers of every old and new link row, locking the old and new linked
-- categories or skills too.
CREATE OR REPLACE FUNCTION catalog_sync.on_provider_link_change()
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
    v_providers bigint[];
    v_linked    bigint[];
BEGIN
    -- Which link table this is comes from the registry (by OID), not its name.
    SELECT a.source_table INTO v_table FROM catalog_sync.attached_table a WHERE a.relid = TG_RELID;
    IF v_table IS DISTINCT FROM 'services_providerskill' THEN
        v_table := 'services_serviceprovider_categories';
    END IF;
    v_tenant_id := catalog_sync.guard(TG_RELID, TG_NARGS, TG_ARGV[0], v_table, TG_LEVEL, TG_WHEN);
    IF v_tenant_id IS NULL THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        -- Every provider of the tenant may have lost links: re-project them all.
        PERFORM catalog_sync.lock_for_tenant_change(ARRAY[v_tenant_id]);
        PERFORM catalog_sync.refresh_catalog(v_tenant_id, 'providers', 'all', NULL, true);
        RETURN NULL;
    END IF;

    IF v_table = 'services_providerskill' THEN
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            SELECT array_agg(n.provider_id), array_agg(n.skill_id) INTO v_providers, v_linked FROM new_rows n;
        END IF;
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            SELECT coalesce(v_providers, '{}') || array_agg(o.provider_id),
                   coalesce(v_linked, '{}') || array_agg(o.skill_id)
            INTO v_providers, v_linked FROM old_rows o;
        END IF;
    ELSE
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            SELECT array_agg(n.serviceprovider_id), array_agg(n.servicecategory_id) INTO v_providers, v_linked
            FROM new_rows n;
        END IF;
        IF TG_OP IN ('DELETE', 'UPDATE') THEN
            SELECT coalesce(v_providers, '{}') || array_agg(o.serviceprovider_id),
                   coalesce(v_linked, '{}') || array_agg(o.servicecategory_id)
            INTO v_providers, v_linked FROM old_rows o;
        END IF;
    END IF;
    SELECT array_agg(DISTINCT p ORDER BY p) INTO v_providers FROM unnest(v_providers) AS p WHERE p IS NOT NULL;
    IF v_providers IS NULL THEN
        RETURN NULL;
    END IF;
    -- Services do not show categories or skills of their provider: not touched.
    PERFORM catalog_sync.sync_providers(
        v_tenant_id, v_providers, NULL, NULL, true,
        CASE WHEN v_table = 'services_serviceprovider_categories' THEN v_linked END,
        CASE WHEN v_table = 'services_providerskill' THEN v_linked END,
        false);
    RETURN NULL;
END
$$;
ALTER FUNCTION catalog_sync.on_provider_link_change() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.on_provider_link_change() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.on_provider_link_change() TO catalog_sync_installer;
