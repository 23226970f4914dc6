-- Statement-level trigger function on a tenant's services_serviceprovider:
-- an edit of what the marketplace shows, an eligibility flip (its services
-- follow), an insert or a delete re-projects the provider and its services.
CREATE OR REPLACE FUNCTION catalog_sync.on_provider_change()
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
    v_ids       bigint[];
    v_masks     integer[];
    v_uuids     uuid[];
    v_providers bigint[];
    v_unused    bigint[];
BEGIN
    -- Checks the table against the contract before any transition row is read.
    v_tenant_id := catalog_sync.guard(TG_RELID, TG_NARGS, TG_ARGV[0], 'services_serviceprovider', TG_LEVEL, TG_WHEN, true);
    IF v_tenant_id IS NULL THEN
        RETURN NULL;                    -- the tenant is gone: publish nothing
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        PERFORM catalog_sync.lock_for_read(v_tenant_id, NULL, NULL);
        DELETE FROM public.service_catalog WHERE tenant_id = v_tenant_id;
        DELETE FROM public.provider_catalog WHERE tenant_id = v_tenant_id;
        RETURN NULL;
    END IF;

    EXECUTE catalog_sync.changed_keys_sql(
                TG_OP,
                catalog_sync.source_columns('catalog_sync.provider_source',
                                            '{category_names,category_slugs,skills_data,html_mask}'),
                ARRAY['bio'], 'uuid', 'id')
        INTO v_ids, v_masks, v_uuids, v_providers, v_unused;
    IF v_ids IS NULL THEN
        RETURN NULL;                    -- nothing the marketplace shows has changed
    END IF;
    PERFORM catalog_sync.sync_providers(v_tenant_id, v_ids, v_masks, v_uuids, TG_OP = 'UPDATE', NULL, NULL, true);
    RETURN NULL;
END
$$;
ALTER FUNCTION catalog_sync.on_provider_change() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.on_provider_change() FROM PUBLIC;
-- CREATE TRIGGER needs EXECUTE on the function: only installers may bind it.
GRANT EXECUTE ON FUNCTION catalog_sync.on_provider_change() TO catalog_sync_installer;
