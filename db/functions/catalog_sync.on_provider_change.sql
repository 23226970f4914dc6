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
    v_left      uuid[];          -- uuids that left their rows (deleted, or changed)
    v_holders   bigint[];
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

    IF TG_OP = 'UPDATE' THEN
        -- Static SQL (planned once per session and trigger), as for INSERT
        -- and DELETE below (docs/architecture.md, "Changed keys"); the
        -- inputs of the source type written out (a test keeps the lists
        -- equal).
        WITH ch AS (
            SELECT coalesce(n.id, o.id) AS id,
                   CASE WHEN n.uuid IS DISTINCT FROM o.uuid THEN 1
                        WHEN n.bio IS DISTINCT FROM o.bio THEN 1 ELSE 0 END AS mask,
                   n.uuid AS new_uuid, o.uuid AS old_uuid, n.id AS new_parent, o.id AS old_parent,
                   NULL::bigint AS new_parent2, NULL::bigint AS old_parent2
            FROM new_rows n FULL JOIN old_rows o ON o.id = n.id
            WHERE n.id IS NULL OR o.id IS NULL
               OR (n.id, n.uuid, n.display_name, n.provider_type, n.bio, n.tagline, n.avatar_url,
                    n.cover_image_url, n.city, n.state, n.country, n.location_lat, n.location_lng,
                    n.hourly_rate, n.minimum_budget, n.currency, n.rating_avg, n.total_reviews,
                    n.completed_jobs_count, n.response_rate, n.avg_response_time_hours,
                    n.availability_status, n.is_verified, n.is_featured, n.is_accepting_projects,
                    n.can_work_remotely, n.can_work_onsite, n.marketplace_enabled, n.is_active,
                    n.published_at, n.created_at)
                  IS DISTINCT FROM
                  (o.id, o.uuid, o.display_name, o.provider_type, o.bio, o.tagline, o.avatar_url,
                    o.cover_image_url, o.city, o.state, o.country, o.location_lat, o.location_lng,
                    o.hourly_rate, o.minimum_budget, o.currency, o.rating_avg, o.total_reviews,
                    o.completed_jobs_count, o.response_rate, o.avg_response_time_hours,
                    o.availability_status, o.is_verified, o.is_featured, o.is_accepting_projects,
                    o.can_work_remotely, o.can_work_onsite, o.marketplace_enabled, o.is_active,
                    o.published_at, o.created_at)
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
        INTO v_ids, v_masks, v_uuids, v_providers, v_unused, v_left;
    ELSIF TG_OP = 'INSERT' THEN
        -- Every inserted row counts (mask 0: no catalog row to reuse).
        SELECT array_agg(n.id ORDER BY n.id), array_agg(0 ORDER BY n.id),
               array_agg(DISTINCT n.uuid) FILTER (WHERE n.uuid IS NOT NULL),
               array_agg(DISTINCT n.id)
        INTO v_ids, v_masks, v_uuids, v_providers
        FROM new_rows n;
    ELSE
        SELECT array_agg(o.id ORDER BY o.id), array_agg(0 ORDER BY o.id),
               array_agg(DISTINCT o.uuid) FILTER (WHERE o.uuid IS NOT NULL),
               array_agg(DISTINCT o.id)
        INTO v_ids, v_masks, v_uuids, v_providers
        FROM old_rows o;
    END IF;
    IF v_ids IS NULL THEN
        RETURN NULL;                    -- nothing the marketplace shows has changed
    END IF;
    IF TG_OP = 'DELETE' THEN
        v_left := v_uuids;
    END IF;
    -- A uuid that left these rows may now be another provider's: project it
    -- (and its services) too (see on_job_change(); sync_providers() locks).
    IF v_left IS NOT NULL THEN
        SELECT h.ids INTO v_holders
        FROM catalog_sync.uuid_holders(TG_RELID, 'services_serviceprovider', v_left, v_ids) AS h;
        IF v_holders IS NOT NULL THEN
            v_ids := v_ids || v_holders;
            IF v_masks IS NOT NULL THEN         -- their bio sanitized again
                v_masks := v_masks || pg_catalog.array_fill(1, ARRAY[pg_catalog.cardinality(v_holders)]);
            END IF;
        END IF;
    END IF;
    PERFORM catalog_sync.sync_providers(v_tenant_id, v_ids, v_masks, v_uuids, TG_OP = 'UPDATE', NULL, NULL, true);
    RETURN NULL;
END
$$;
ALTER FUNCTION catalog_sync.on_provider_change() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.on_provider_change() FROM PUBLIC;
-- CREATE TRIGGER needs EXECUTE on the function: only installers may bind it.
GRANT EXECUTE ON FUNCTION catalog_sync.on_provider_change() TO catalog_sync_installer;
