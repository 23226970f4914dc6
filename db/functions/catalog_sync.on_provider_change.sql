-- Statement-level trigger function on a tenant's services_serviceprovider:
-- an edit of what the marketplace shows, an eligibility flip (its services
-- follow), an insert or a delete re-projects the provider and its services.
-- Reads the changed providers from its transition tables into arrays;
-- sync_changes() groups them and calls sync_providers(), which locks and
-- re-projects. Only guard() and those reads are in the body: PL/pgSQL
-- compiles a trigger function per trigger, and each statement of a compiled
-- copy keeps a plan of its own, per tenant a pooled backend writes for
-- (docs/benchmarks.md, section 8).
CREATE OR REPLACE FUNCTION catalog_sync.on_provider_change()
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
    v_tenant_id bigint;
    v_ids       bigint[];
    v_masks     integer[];
    v_uuids     uuid[];
    v_left      uuid[];          -- the rows' old uuids (DELETE, UPDATE)
BEGIN
    v_tenant_id := catalog_sync.guard(TG_RELID, TG_NARGS, TG_ARGV[0], 'services_serviceprovider', TG_LEVEL, TG_WHEN);
    IF v_tenant_id IS NULL THEN
        RETURN NULL;                    -- the tenant is gone: publish nothing
    END IF;
    -- Static SQL (planned once per trigger; docs/architecture.md, "Changed
    -- keys"), the comments outside the statements (their text is kept in
    -- every compiled copy). UPDATE: only rows where an input of the source
    -- type changed, written out (a test keeps the lists equal); the mask is
    -- 1 when the bio (the HTML column) or the uuid changed.
    IF TG_OP = 'UPDATE' THEN
        SELECT array_agg(coalesce(n.id, o.id)),
               array_agg(CASE WHEN n.uuid IS DISTINCT FROM o.uuid THEN 1
                              WHEN n.bio IS DISTINCT FROM o.bio THEN 1 ELSE 0 END),
               array_agg(n.uuid), array_agg(o.uuid)
        INTO v_ids, v_masks, v_uuids, v_left
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
                o.published_at, o.created_at);
    ELSIF TG_OP = 'INSERT' THEN
        SELECT array_agg(n.id), array_agg(n.uuid) INTO v_ids, v_uuids FROM new_rows n;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(o.id), array_agg(o.uuid) INTO v_ids, v_left FROM old_rows o;
    END IF;
    PERFORM catalog_sync.sync_changes(v_tenant_id, TG_RELID, 'services_serviceprovider', TG_OP, v_ids, v_masks,
                                      v_uuids, v_left, NULL, NULL, NULL, NULL);
    RETURN NULL;
END
$$;
ALTER FUNCTION catalog_sync.on_provider_change() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.on_provider_change() FROM PUBLIC;
-- CREATE TRIGGER needs EXECUTE on the function: only installers may bind it.
GRANT EXECUTE ON FUNCTION catalog_sync.on_provider_change() TO catalog_sync_installer;
