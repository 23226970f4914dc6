-- THE definition of a job's catalog row: eligibility, whitelisted columns,
-- conditional salary, denormalized company and category, sanitized HTML.
-- Triggers, backfill and verify all run the query this function returns, so
-- they cannot disagree. Parameters of the returned query: $1 tenant id,
-- $2 bigint[] keys (job ids for p_filter 'ids', category ids for 'categories',
-- unused for 'all').
--
-- p_reuse decides where a sanitized HTML column may come from without running
-- the sanitizer again (its cost dominates; DESIGN.md, "Skip no-op work"):
--   'none'      always sanitize (backfill, verify, repair);
--   'old_rows'  keep the catalog's value when the source column equals the
--               trigger's OLD value (UPDATE triggers; old_rows is the transition
--               table, visible to the EXECUTE that runs in the trigger function);
--   'catalog'   keep the catalog's value when the row is already there (parent
--               changes: a category or tenant rename does not touch job HTML).
CREATE OR REPLACE FUNCTION catalog_sync.job_projection_sql(
    p_job_rel      oid,
    p_category_rel oid,
    p_filter       text,
    p_reuse        text
)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_html  text[] := '{}';
    v_col   text;
    v_joins text := '';
    v_where text;
BEGIN
    -- Nothing is projected from a table that stopped matching the contract.
    PERFORM catalog_sync.assert_contract(p_job_rel, 'ats_jobposting');
    PERFORM catalog_sync.assert_contract(p_category_rel, 'ats_jobcategory');
    FOREACH v_col IN ARRAY ARRAY['description', 'responsibilities', 'requirements', 'benefits'] LOOP
        v_html := v_html || CASE p_reuse
            WHEN 'none' THEN format('catalog_sync.sanitize_html(j.%1$I)', v_col)
            WHEN 'old_rows' THEN format(
                'CASE WHEN cur.job_uuid IS NOT NULL AND o.%1$I = j.%1$I THEN cur.%1$I '
                'ELSE catalog_sync.sanitize_html(j.%1$I) END', v_col)
            WHEN 'catalog' THEN format(
                'CASE WHEN cur.job_uuid IS NOT NULL THEN cur.%1$I ELSE catalog_sync.sanitize_html(j.%1$I) END', v_col)
        END;
    END LOOP;
    IF v_html[1] IS NULL THEN
        RAISE EXCEPTION 'catalog_sync: unknown reuse mode %', p_reuse;
    END IF;
    IF p_reuse <> 'none' THEN
        v_joins := 'LEFT JOIN public.job_catalog AS cur ON cur.tenant_id = t.id AND cur.job_uuid = j.uuid';
        IF p_reuse = 'old_rows' THEN
            v_joins := v_joins || ' LEFT JOIN old_rows AS o ON o.id = j.id';
        END IF;
    END IF;
    v_where := CASE p_filter
        WHEN 'all' THEN 'TRUE'
        WHEN 'ids' THEN 'j.id = ANY ($2)'
        WHEN 'categories' THEN 'j.category_id = ANY ($2)'
    END;
    IF v_where IS NULL THEN
        RAISE EXCEPTION 'catalog_sync: unknown filter %', p_filter;
    END IF;

    RETURN format($sql$
        SELECT t.id                           AS tenant_id,
               t.schema_name::text            AS tenant_schema,
               j.uuid                         AS job_uuid,
               j.title::text                  AS title,
               j.slug::text                   AS slug,
               j.reference_code::text         AS reference_code,
               c.name::text                   AS category_name,
               c.slug::text                   AS category_slug,
               j.job_type::text               AS job_type,
               j.experience_level::text       AS experience_level,
               j.remote_policy::text          AS remote_policy,
               j.location_city::text          AS location_city,
               j.location_state::text         AS location_state,
               j.location_country::text       AS location_country,
               j.location_lat                 AS location_lat,
               j.location_lng                 AS location_lng,
               %4$s                           AS description,
               %5$s                           AS responsibilities,
               %6$s                           AS requirements,
               %7$s                           AS benefits,
               CASE WHEN j.show_salary THEN j.salary_min END             AS salary_min,
               CASE WHEN j.show_salary THEN j.salary_max END             AS salary_max,
               CASE WHEN j.show_salary THEN j.salary_currency::text END  AS salary_currency,
               CASE WHEN j.show_salary THEN j.salary_period::text END    AS salary_period,
               j.show_salary                  AS show_salary,
               CASE WHEN jsonb_typeof(j.required_skills) = 'array'
                    THEN j.required_skills ELSE '[]'::jsonb END          AS required_skills,
               CASE WHEN jsonb_typeof(j.preferred_skills) = 'array'
                    THEN j.preferred_skills ELSE '[]'::jsonb END         AS preferred_skills,
               j.positions_count              AS positions_count,
               j.team::text                   AS team,
               t.name::text                   AS company_name,
               catalog_sync.safe_url(t.logo_url) AS company_logo_url,
               j.is_featured                  AS is_featured,
               j.application_deadline         AS application_deadline,
               coalesce(j.published_at, j.created_at) AS published_at,
               j.meta_title::text             AS meta_title,
               j.meta_description::text       AS meta_description
        FROM %1$s AS j
        JOIN public.tenants_tenant AS t ON t.id = $1
        LEFT JOIN %2$s AS c ON c.id = j.category_id
        %3$s
        WHERE %8$s
          AND t.status IN ('active', 'trial')
          AND j.published_on_career_page
          AND NOT j.is_internal_only
          AND j.status = 'open'
          AND (j.application_deadline IS NULL OR j.application_deadline > now())
        $sql$,
        catalog_sync.qualified_name(p_job_rel), catalog_sync.qualified_name(p_category_rel), v_joins,
        v_html[1], v_html[2], v_html[3], v_html[4], v_where);
END
$$;
ALTER FUNCTION catalog_sync.job_projection_sql(oid, oid, text, text) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.job_projection_sql(oid, oid, text, text) FROM PUBLIC;

-- The job columns the projection reads: an UPDATE that changes none of them
-- (updated_at, sensitive columns, ...) cannot change the catalog and is skipped.
CREATE OR REPLACE FUNCTION catalog_sync.job_source_columns()
RETURNS text[]
LANGUAGE sql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT ARRAY[
        'uuid', 'title', 'slug', 'reference_code', 'category_id', 'job_type', 'experience_level',
        'remote_policy', 'location_city', 'location_state', 'location_country', 'location_lat',
        'location_lng', 'description', 'responsibilities', 'requirements', 'benefits', 'salary_min',
        'salary_max', 'salary_currency', 'salary_period', 'show_salary', 'required_skills',
        'preferred_skills', 'positions_count', 'team', 'is_featured', 'application_deadline',
        'published_at', 'created_at', 'meta_title', 'meta_description', 'status',
        'published_on_career_page', 'is_internal_only']
$$;
ALTER FUNCTION catalog_sync.job_source_columns() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.job_source_columns() FROM PUBLIC;
