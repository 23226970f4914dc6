-- Statement-level AFTER INSERT / UPDATE / DELETE / TRUNCATE trigger function on
-- a tenant's ats_jobposting. Runs as catalog_sync_owner; the tenant comes from
-- the argument bound at attach and checked against the registry by TG_RELID.
-- Work per statement, not per row: find the changed keys, lock the parents the
-- projection will read, then one set-based statement brings the catalog rows
-- of those keys in line with the projection.
CREATE OR REPLACE FUNCTION catalog_sync.on_job_change()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET row_security = off
AS $$
DECLARE
    v_tenant_id  bigint;
    v_ids        bigint[];
    v_masks      integer[];
    v_uuids      uuid[];
    v_categories bigint[];
    v_rows       catalog_sync.job_source[];
    v_from_rows  boolean;
BEGIN
    -- Checks the table against the contract before any transition row is read.
    v_tenant_id := catalog_sync.guard(TG_RELID, TG_NARGS, TG_ARGV[0], 'ats_jobposting', TG_LEVEL, TG_WHEN);
    IF v_tenant_id IS NULL THEN
        RETURN NULL;                    -- the tenant is gone: publish nothing
    END IF;

    IF TG_OP = 'TRUNCATE' THEN
        PERFORM catalog_sync.lock_for_read(v_tenant_id, NULL, NULL);
        DELETE FROM public.job_catalog WHERE tenant_id = v_tenant_id;
        RETURN NULL;
    ELSIF TG_OP = 'INSERT' THEN
        SELECT array_agg(n.id), array_agg(n.uuid),
               array_agg(DISTINCT n.category_id) FILTER (WHERE n.category_id IS NOT NULL)
        INTO v_ids, v_uuids, v_categories
        FROM new_rows n;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(o.id), array_agg(o.uuid),
               array_agg(DISTINCT o.category_id) FILTER (WHERE o.category_id IS NOT NULL)
        INTO v_ids, v_uuids, v_categories
        FROM old_rows o;
    ELSE
        -- Only rows where an input of the projection changed count: the
        -- columns of catalog_sync.job_source that come from the row (a test
        -- keeps the two lists equal). An update of updated_at or of a
        -- sensitive column costs this comparison and nothing more. The mask
        -- bits say which HTML columns changed (project_jobs() re-sanitizes
        -- only those). Static SQL: planned once per session and table, and a
        -- FULL JOIN is always a hash or merge join, linear at any size.
        WITH ch AS (
            SELECT coalesce(n.id, o.id) AS id,
                   (CASE WHEN n.description IS DISTINCT FROM o.description THEN 1 ELSE 0 END
                    | CASE WHEN n.responsibilities IS DISTINCT FROM o.responsibilities THEN 2 ELSE 0 END
                    | CASE WHEN n.requirements IS DISTINCT FROM o.requirements THEN 4 ELSE 0 END
                    | CASE WHEN n.benefits IS DISTINCT FROM o.benefits THEN 8 ELSE 0 END) AS mask,
                   n.uuid AS new_uuid, o.uuid AS old_uuid, n.category_id AS new_category, o.category_id AS old_category
            FROM new_rows n FULL JOIN old_rows o ON o.id = n.id
            WHERE n.id IS NULL OR o.id IS NULL
               OR (n.id, n.uuid, n.title, n.slug, n.reference_code, n.category_id, n.job_type,
                    n.experience_level, n.remote_policy, n.location_city, n.location_state,
                    n.location_country, n.location_lat, n.location_lng, n.description,
                    n.responsibilities, n.requirements, n.benefits, n.salary_min, n.salary_max,
                    n.salary_currency, n.salary_period, n.show_salary, n.required_skills,
                    n.preferred_skills, n.positions_count, n.team, n.is_featured,
                    n.application_deadline, n.published_at, n.created_at, n.meta_title,
                    n.meta_description, n.status, n.published_on_career_page, n.is_internal_only)
                  IS DISTINCT FROM
                  (o.id, o.uuid, o.title, o.slug, o.reference_code, o.category_id, o.job_type,
                    o.experience_level, o.remote_policy, o.location_city, o.location_state,
                    o.location_country, o.location_lat, o.location_lng, o.description,
                    o.responsibilities, o.requirements, o.benefits, o.salary_min, o.salary_max,
                    o.salary_currency, o.salary_period, o.show_salary, o.required_skills,
                    o.preferred_skills, o.positions_count, o.team, o.is_featured,
                    o.application_deadline, o.published_at, o.created_at, o.meta_title,
                    o.meta_description, o.status, o.published_on_career_page, o.is_internal_only)
        )
        -- ids and masks from one aggregation pass: aligned, and no sort (of
        -- 100,000 rows for a 100,000-row statement).
        SELECT a.ids, a.masks,
               (SELECT array_agg(u) FROM (SELECT new_uuid FROM ch UNION SELECT old_uuid FROM ch) AS x (u)
                WHERE u IS NOT NULL),
               (SELECT array_agg(c ORDER BY c) FROM (SELECT new_category FROM ch UNION SELECT old_category FROM ch)
                AS y (c) WHERE c IS NOT NULL)
        INTO v_ids, v_masks, v_uuids, v_categories
        FROM (SELECT array_agg(ch.id) AS ids, array_agg(ch.mask) AS masks FROM ch) AS a;
    END IF;
    IF v_ids IS NULL THEN
        RETURN NULL;                    -- nothing the catalog shows has changed
    END IF;

    PERFORM catalog_sync.lock_for_read(v_tenant_id, 'job_category', v_categories);

    -- INSERT and UPDATE take the projection's job inputs straight from the
    -- transition table: the row versions this statement wrote, which no other
    -- transaction can change before we commit (we hold their row locks). That
    -- saves reading the table back with a query parsed and planned on every
    -- statement. Not when another trigger on the table (the tenant's own, or a
    -- cascading foreign key) could have written the same rows again during the
    -- statement: then the reader reads the table ('changed_ids'), as it does
    -- for a DELETE, and for statements of more than 1,000 rows (the rows
    -- travel as one array in memory; a big statement is better served by
    -- the reader's hash join, and an array is limited to 1 GB).
    v_from_rows := TG_OP IN ('INSERT', 'UPDATE') AND cardinality(v_ids) <= 1000 AND NOT EXISTS (
        SELECT FROM pg_catalog.pg_trigger t
        WHERE t.tgrelid = TG_RELID
          AND t.tgfoid NOT IN ('catalog_sync.on_job_change'::pg_catalog.regproc,
                               'pg_catalog."RI_FKey_check_ins"'::pg_catalog.regproc,
                               'pg_catalog."RI_FKey_check_upd"'::pg_catalog.regproc,
                               'pg_catalog."RI_FKey_noaction_del"'::pg_catalog.regproc,
                               'pg_catalog."RI_FKey_noaction_upd"'::pg_catalog.regproc,
                               'pg_catalog."RI_FKey_restrict_del"'::pg_catalog.regproc,
                               'pg_catalog."RI_FKey_restrict_upd"'::pg_catalog.regproc));

    -- Everything the projection reads, checked in one call after the last wait
    -- (the tenant can hold a parent lock open and run DDL meanwhile: CREATE
    -- INDEX on the category table, CREATE STATISTICS even on this one). From
    -- here to the read nothing waits, so the readers do not check again. The
    -- job table is read only without v_from_rows (its transition table was
    -- checked by guard(), before it was read).
    IF v_from_rows THEN
        PERFORM catalog_sync.assert_contracts(
            ARRAY[catalog_sync.source_relid(v_tenant_id, 'ats_jobcategory'), 'public.tenants_tenant'::regclass],
            '{ats_jobcategory,tenants_tenant}');
        -- Same column list as the comparison above (a test keeps both equal
        -- to catalog_sync.job_source).
        SELECT array_agg(ROW(n.id, n.uuid, n.title, n.slug, n.reference_code, n.category_id, n.job_type,
                    n.experience_level, n.remote_policy, n.location_city, n.location_state,
                    n.location_country, n.location_lat, n.location_lng, n.description,
                    n.responsibilities, n.requirements, n.benefits, n.salary_min, n.salary_max,
                    n.salary_currency, n.salary_period, n.show_salary, n.required_skills,
                    n.preferred_skills, n.positions_count, n.team, n.is_featured,
                    n.application_deadline, n.published_at, n.created_at, n.meta_title,
                    n.meta_description, n.status, n.published_on_career_page, n.is_internal_only,
                    NULL, NULL, coalesce(m.mask, 0))::catalog_sync.job_source)
        INTO v_rows
        FROM new_rows n JOIN unnest(v_ids, v_masks) AS m (id, mask) ON m.id = n.id;
        -- A new statement, so a new snapshot: it sees every parent change that
        -- committed before the locks above were granted.
        PERFORM catalog_sync.apply_jobs(v_tenant_id, 'rows', v_ids, v_masks, TG_OP = 'UPDATE', v_uuids, NULL, false,
                                        coalesce(v_rows, '{}'));
    ELSE
        PERFORM catalog_sync.assert_contracts(
            ARRAY[TG_RELID, catalog_sync.source_relid(v_tenant_id, 'ats_jobcategory'),
                  'public.tenants_tenant'::regclass],
            '{ats_jobposting,ats_jobcategory,tenants_tenant}');
        PERFORM catalog_sync.apply_jobs(v_tenant_id, 'changed_ids', v_ids, v_masks, TG_OP = 'UPDATE', v_uuids, NULL, false);
    END IF;
    RETURN NULL;
END
$$;
ALTER FUNCTION catalog_sync.on_job_change() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.on_job_change() FROM PUBLIC;
-- CREATE TRIGGER needs EXECUTE on the function: only installers may bind it.
GRANT EXECUTE ON FUNCTION catalog_sync.on_job_change() TO catalog_sync_installer;
