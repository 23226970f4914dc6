-- Statement-level trigger function on a tenant's services_service: shared
-- locks on the old and new provider and category of every changed service,
-- then one set-based statement re-projects them.
CREATE OR REPLACE FUNCTION catalog_sync.on_service_change()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off   -- see docs/architecture.md, "No JIT in the sync"
SET constraint_exclusion = partition   -- see docs/security.md, "Session settings"
SET row_security = off
AS $$
DECLARE
    v_tenant_id  bigint;
    v_ids        bigint[];
    v_masks      integer[];
    v_uuids      uuid[];
    v_providers  bigint[];
    v_categories bigint[];
BEGIN
    v_tenant_id := catalog_sync.guard(TG_RELID, TG_NARGS, TG_ARGV[0], 'services_service', TG_LEVEL, TG_WHEN, true);
    IF v_tenant_id IS NULL THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM catalog_sync.lock_for_read(v_tenant_id, NULL, NULL);
        DELETE FROM public.service_catalog WHERE tenant_id = v_tenant_id;
        RETURN NULL;
    END IF;
    EXECUTE catalog_sync.changed_keys_sql(
                TG_OP,
                catalog_sync.source_columns('catalog_sync.service_source',
                    '{category_name,category_slug,provider_uuid,provider_display_name,provider_avatar_url,'
                    'provider_rating_avg,provider_is_verified,provider_marketplace_enabled,provider_is_active,html_mask}'),
                ARRAY['description'], 'uuid', 'provider_id', 'category_id')
        INTO v_ids, v_masks, v_uuids, v_providers, v_categories;
    IF v_ids IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM catalog_sync.lock_for_read(v_tenant_id, 'provider', v_providers);
    PERFORM catalog_sync.lock_for_read(v_tenant_id, 'service_category', v_categories);
    -- The reader checks its tables right before it plans its read, after every
    -- wait of this statement (service_sources()); the registry is checked
    -- where it is read (registry_row()).
    PERFORM catalog_sync.apply_services(v_tenant_id, 'ids', v_ids, v_masks, TG_OP = 'UPDATE', v_uuids, NULL, false);
    RETURN NULL;
END
$$;
ALTER FUNCTION catalog_sync.on_service_change() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.on_service_change() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.on_service_change() TO catalog_sync_installer;
