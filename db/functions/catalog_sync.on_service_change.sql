-- Statement-level trigger function on a tenant's services_service: reads the
-- changed services from its transition tables into arrays; sync_changes()
-- groups them, takes shared locks on the old and new provider and category
-- of every changed service, then one set-based statement re-projects them.
-- Only guard() and those reads are in the body: PL/pgSQL compiles a trigger
-- function per trigger, and each statement of a compiled copy keeps a plan
-- of its own, per tenant a pooled backend writes for (docs/benchmarks.md,
-- section 8).
CREATE OR REPLACE FUNCTION catalog_sync.on_service_change()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off   -- see docs/architecture.md, "No JIT in the sync"
SET constraint_exclusion = partition   -- see docs/security.md, "Session settings"
SET row_security = off
SET plan_cache_mode = force_generic_plan   -- for sync_changes(), see there
AS $$
DECLARE
    v_tenant_id  bigint;
    v_ids        bigint[];
    v_masks      integer[];
    v_uuids      uuid[];
    v_left       uuid[];         -- the rows' old uuids (DELETE, UPDATE)
    v_providers  bigint[];
    v_old_providers  bigint[];   -- UPDATE
    v_categories bigint[];
    v_old_categories bigint[];   -- UPDATE
BEGIN
    v_tenant_id := catalog_sync.guard(TG_RELID, TG_NARGS, TG_ARGV[0], 'services_service', TG_LEVEL, TG_WHEN);
    IF v_tenant_id IS NULL THEN
        RETURN NULL;
    END IF;
    -- Static SQL (planned once per trigger; docs/architecture.md, "Changed
    -- keys"), the comments outside the statements (their text is kept in
    -- every compiled copy). UPDATE: only rows where an input of the source
    -- type changed, written out (a test keeps the lists equal); the mask is
    -- 1 when the description (the HTML column) or the uuid changed; the last
    -- comparison catches the same value spelled otherwise (jsonb 1 and 1.000:
    -- equal by the type's equality, shown otherwise; red team, twentieth
    -- session; compared_columns() for the catalog).
    IF TG_OP = 'UPDATE' THEN
        SELECT array_agg(coalesce(n.id, o.id)),
               array_agg(CASE WHEN n.uuid IS DISTINCT FROM o.uuid THEN 1
                              WHEN n.description IS DISTINCT FROM o.description THEN 1 ELSE 0 END),
               array_agg(n.uuid), array_agg(o.uuid), array_agg(n.provider_id), array_agg(o.provider_id),
               array_agg(n.category_id), array_agg(o.category_id)
        INTO v_ids, v_masks, v_uuids, v_left, v_providers, v_old_providers, v_categories, v_old_categories
        FROM new_rows n FULL JOIN old_rows o ON o.id = n.id
        WHERE n.id IS NULL OR o.id IS NULL
           OR (n.id, n.uuid, n.title, n.slug, n.short_description, n.description,
                n.pricing_type, n.price_min, n.price_max, n.currency, n.delivery_time_days,
                n.revisions_included, n.tags, n.thumbnail_url, n.is_active, n.is_public,
                n.is_featured, n.published_at, n.created_at, n.category_id, n.provider_id)
              IS DISTINCT FROM
              (o.id, o.uuid, o.title, o.slug, o.short_description, o.description,
                o.pricing_type, o.price_min, o.price_max, o.currency, o.delivery_time_days,
                o.revisions_included, o.tags, o.thumbnail_url, o.is_active, o.is_public,
                o.is_featured, o.published_at, o.created_at, o.category_id, o.provider_id)
           OR n.tags::text IS DISTINCT FROM o.tags::text;
    ELSIF TG_OP = 'INSERT' THEN
        SELECT array_agg(n.id), array_agg(n.uuid), array_agg(n.provider_id), array_agg(n.category_id)
        INTO v_ids, v_uuids, v_providers, v_categories
        FROM new_rows n;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(o.id), array_agg(o.uuid), array_agg(o.provider_id), array_agg(o.category_id)
        INTO v_ids, v_left, v_providers, v_categories
        FROM old_rows o;
    END IF;
    -- The reader checks its tables right before it plans its read, after every
    -- wait of this statement (service_sources()); the registry is checked
    -- where it is read (registry_row()).
    PERFORM catalog_sync.sync_changes(v_tenant_id, TG_RELID, 'services_service', TG_OP, v_ids, v_masks, v_uuids,
                                      v_left, v_providers, v_old_providers, v_categories, v_old_categories);
    RETURN NULL;
END
$$;
ALTER FUNCTION catalog_sync.on_service_change() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.on_service_change() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.on_service_change() TO catalog_sync_installer;
