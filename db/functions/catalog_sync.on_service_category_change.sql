-- Statement-level trigger function on a tenant's services_servicecategory: a
-- category inserted, renamed, re-slugged or deleted re-projects the providers
-- linked to it and the services in it. Parent-change protocol: exclusive locks
-- on the changed categories, then the recompute in new statements (sanitized
-- HTML reused: a category change does not touch it).
CREATE OR REPLACE FUNCTION catalog_sync.on_service_category_change()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET row_security = off
AS $$
DECLARE
    v_tenant_id bigint;
    v_ids       bigint[];
    v_masks     integer[];
    v_uuids     uuid[];
    v_parents   bigint[];
    v_unused    bigint[];
BEGIN
    v_tenant_id := catalog_sync.guard(TG_RELID, TG_NARGS, TG_ARGV[0], 'services_servicecategory', TG_LEVEL, TG_WHEN);
    IF v_tenant_id IS NULL THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM catalog_sync.lock_for_tenant_change(ARRAY[v_tenant_id]);
        PERFORM catalog_sync.refresh_catalog(v_tenant_id, 'providers', 'all', NULL, true);
        PERFORM catalog_sync.refresh_catalog(v_tenant_id, 'services', 'all', NULL, true);
        RETURN NULL;
    END IF;
    EXECUTE catalog_sync.changed_keys_sql(TG_OP, ARRAY['name', 'slug'], '{}', 'uuid', 'id')
        INTO v_ids, v_masks, v_uuids, v_parents, v_unused;
    IF v_ids IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM catalog_sync.lock_for_parent_change(v_tenant_id, 'service_category', v_parents, 'provider_parents');
    PERFORM catalog_sync.refresh_catalog(v_tenant_id, 'providers', 'categories', v_parents, true);
    PERFORM catalog_sync.refresh_catalog(v_tenant_id, 'services', 'categories', v_parents, true);
    RETURN NULL;
END
$$;
ALTER FUNCTION catalog_sync.on_service_category_change() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.on_service_category_change() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.on_service_category_change() TO catalog_sync_installer;
