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
    v_left       uuid[];         -- uuids that left their rows (deleted, or changed)
    v_holders    bigint[];
    v_holder_providers  bigint[];
    v_holder_categories bigint[];
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
    IF TG_OP = 'UPDATE' THEN
        -- Static SQL (planned once per session and trigger), as for INSERT
        -- and DELETE below (docs/architecture.md, "Changed keys"); the
        -- inputs of the source type written out (a test keeps the lists
        -- equal).
        WITH ch AS (
            SELECT coalesce(n.id, o.id) AS id,
                   CASE WHEN n.uuid IS DISTINCT FROM o.uuid THEN 1
                        WHEN n.description IS DISTINCT FROM o.description THEN 1 ELSE 0 END AS mask,
                   n.uuid AS new_uuid, o.uuid AS old_uuid, n.provider_id AS new_parent, o.provider_id AS old_parent,
                   n.category_id AS new_parent2, o.category_id AS old_parent2
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
               -- the same value spelled otherwise (jsonb 1 and 1.000, float8 0
               -- and -0): equal by their types' equality, shown otherwise (red
               -- team, twentieth session; compared_columns() for the catalog)
               OR n.tags::text IS DISTINCT FROM o.tags::text
        )
        SELECT (SELECT array_agg(ch.id ORDER BY ch.id) FROM ch),
               (SELECT array_agg(ch.mask ORDER BY ch.id) FROM ch),
               (SELECT array_agg(x.u) FROM (SELECT ch.new_uuid FROM ch UNION SELECT ch.old_uuid FROM ch) AS x (u)
                WHERE x.u IS NOT NULL),
               (SELECT array_agg(y.p ORDER BY y.p)
                FROM (SELECT ch.new_parent FROM ch UNION SELECT ch.old_parent FROM ch) AS y (p) WHERE y.p IS NOT NULL),
               (SELECT array_agg(z.p ORDER BY z.p)
                FROM (SELECT ch.new_parent2 FROM ch UNION SELECT ch.old_parent2 FROM ch) AS z (p) WHERE z.p IS NOT NULL),
               (SELECT array_agg(ch.old_uuid) FILTER (WHERE ch.old_uuid IS DISTINCT FROM ch.new_uuid
                                                        AND ch.old_uuid IS NOT NULL) FROM ch)
        INTO v_ids, v_masks, v_uuids, v_providers, v_categories, v_left;
    ELSIF TG_OP = 'INSERT' THEN
        -- Every inserted row counts (mask 0: no catalog row to reuse).
        SELECT array_agg(n.id ORDER BY n.id), array_agg(0 ORDER BY n.id),
               array_agg(DISTINCT n.uuid) FILTER (WHERE n.uuid IS NOT NULL),
               array_agg(DISTINCT n.provider_id) FILTER (WHERE n.provider_id IS NOT NULL),
               array_agg(DISTINCT n.category_id) FILTER (WHERE n.category_id IS NOT NULL)
        INTO v_ids, v_masks, v_uuids, v_providers, v_categories
        FROM new_rows n;
    ELSE
        SELECT array_agg(o.id ORDER BY o.id), array_agg(0 ORDER BY o.id),
               array_agg(DISTINCT o.uuid) FILTER (WHERE o.uuid IS NOT NULL),
               array_agg(DISTINCT o.provider_id) FILTER (WHERE o.provider_id IS NOT NULL),
               array_agg(DISTINCT o.category_id) FILTER (WHERE o.category_id IS NOT NULL)
        INTO v_ids, v_masks, v_uuids, v_providers, v_categories
        FROM old_rows o;
    END IF;
    IF v_ids IS NULL THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        v_left := v_uuids;
    END IF;
    -- A uuid that left these rows may now be another service's: project it
    -- too, its parents locked with the others (see on_job_change()).
    IF v_left IS NOT NULL THEN
        SELECT h.ids, h.parents, h.parents2 INTO v_holders, v_holder_providers, v_holder_categories
        FROM catalog_sync.uuid_holders(TG_RELID, 'services_service', v_left, v_ids) AS h;
        IF v_holders IS NOT NULL THEN
            v_ids := v_ids || v_holders;
            IF v_masks IS NOT NULL THEN         -- their description sanitized again
                v_masks := v_masks || pg_catalog.array_fill(1, ARRAY[pg_catalog.cardinality(v_holders)]);
            END IF;
            v_providers := v_providers || v_holder_providers;
            v_categories := v_categories || v_holder_categories;
        END IF;
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
