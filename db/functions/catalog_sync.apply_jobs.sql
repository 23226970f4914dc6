-- Make a tenant's job_catalog rows match project_jobs() for the selected jobs,
-- in one statement: delete the candidate rows the projection no longer yields
-- (p_delete_keys, or every row of the tenant with p_delete_all), insert new
-- rows, update rows whose shown columns differ, leave equal rows untouched (no
-- dead tuple, synced_at kept). The caller holds the locks. Static SQL: its plan
-- is cached per session.
-- Hot path, only ever called inside a SECURITY DEFINER sync function (EXECUTE is
-- the owner's alone), so it runs under the caller's pinned search_path and sets
-- none itself: a SET clause costs a GUC save/restore on every call.
CREATE OR REPLACE FUNCTION catalog_sync.apply_jobs(
    p_tenant_id   bigint,
    p_filter      text,
    p_keys        bigint[],
    p_masks       integer[],
    p_reuse       boolean,
    p_delete_keys uuid[],
    p_delete_all  boolean,
    OUT removed   bigint,
    OUT inserted  bigint,
    OUT updated   bigint
)
LANGUAGE plpgsql
AS $$
BEGIN
    WITH p AS (
        SELECT * FROM catalog_sync.project_jobs(p_tenant_id, p_filter, p_keys, p_masks, p_reuse)
    ),
    removed_keys AS (
        DELETE FROM public.job_catalog AS cat
        WHERE NOT p_delete_all AND cat.tenant_id = p_tenant_id AND cat.job_uuid = ANY (p_delete_keys)
          AND NOT EXISTS (SELECT FROM p WHERE p.job_uuid = cat.job_uuid)
        RETURNING 1
    ),
    removed_all AS (
        DELETE FROM public.job_catalog AS cat
        WHERE p_delete_all AND cat.tenant_id = p_tenant_id
          AND NOT EXISTS (SELECT FROM p WHERE p.job_uuid = cat.job_uuid)
        RETURNING 1
    ),
    written AS (
        INSERT INTO public.job_catalog AS cat (
            tenant_id, tenant_schema, job_uuid, title, slug, reference_code, category_name, category_slug,
            job_type, experience_level, remote_policy, location_city, location_state, location_country,
            location_lat, location_lng, description, responsibilities, requirements, benefits, salary_min,
            salary_max, salary_currency, salary_period, show_salary, required_skills, preferred_skills,
            positions_count, team, company_name, company_logo_url, is_featured, application_deadline,
            published_at, meta_title, meta_description, synced_at)
        SELECT p.tenant_id, p.tenant_schema, p.job_uuid, p.title, p.slug, p.reference_code, p.category_name,
               p.category_slug, p.job_type, p.experience_level, p.remote_policy, p.location_city,
               p.location_state, p.location_country, p.location_lat, p.location_lng, p.description,
               p.responsibilities, p.requirements, p.benefits, p.salary_min, p.salary_max, p.salary_currency,
               p.salary_period, p.show_salary, p.required_skills, p.preferred_skills, p.positions_count, p.team,
               p.company_name, p.company_logo_url, p.is_featured, p.application_deadline, p.published_at,
               p.meta_title, p.meta_description, now()
        FROM p
        ON CONFLICT (tenant_id, job_uuid) DO UPDATE SET
            (tenant_schema, title, slug, reference_code, category_name, category_slug, job_type,
             experience_level, remote_policy, location_city, location_state, location_country, location_lat,
             location_lng, description, responsibilities, requirements, benefits, salary_min, salary_max,
             salary_currency, salary_period, show_salary, required_skills, preferred_skills, positions_count,
             team, company_name, company_logo_url, is_featured, application_deadline, published_at, meta_title,
             meta_description, synced_at)
            = (EXCLUDED.tenant_schema, EXCLUDED.title, EXCLUDED.slug, EXCLUDED.reference_code,
               EXCLUDED.category_name, EXCLUDED.category_slug, EXCLUDED.job_type, EXCLUDED.experience_level,
               EXCLUDED.remote_policy, EXCLUDED.location_city, EXCLUDED.location_state, EXCLUDED.location_country,
               EXCLUDED.location_lat, EXCLUDED.location_lng, EXCLUDED.description, EXCLUDED.responsibilities,
               EXCLUDED.requirements, EXCLUDED.benefits, EXCLUDED.salary_min, EXCLUDED.salary_max,
               EXCLUDED.salary_currency, EXCLUDED.salary_period, EXCLUDED.show_salary, EXCLUDED.required_skills,
               EXCLUDED.preferred_skills, EXCLUDED.positions_count, EXCLUDED.team, EXCLUDED.company_name,
               EXCLUDED.company_logo_url, EXCLUDED.is_featured, EXCLUDED.application_deadline,
               EXCLUDED.published_at, EXCLUDED.meta_title, EXCLUDED.meta_description, EXCLUDED.synced_at)
        WHERE (cat.tenant_schema, cat.title, cat.slug, cat.reference_code, cat.category_name, cat.category_slug,
               cat.job_type, cat.experience_level, cat.remote_policy, cat.location_city, cat.location_state,
               cat.location_country, cat.location_lat, cat.location_lng, cat.description, cat.responsibilities,
               cat.requirements, cat.benefits, cat.salary_min, cat.salary_max, cat.salary_currency,
               cat.salary_period, cat.show_salary, cat.required_skills, cat.preferred_skills, cat.positions_count,
               cat.team, cat.company_name, cat.company_logo_url, cat.is_featured, cat.application_deadline,
               cat.published_at, cat.meta_title, cat.meta_description)
            IS DISTINCT FROM
              (EXCLUDED.tenant_schema, EXCLUDED.title, EXCLUDED.slug, EXCLUDED.reference_code,
               EXCLUDED.category_name, EXCLUDED.category_slug, EXCLUDED.job_type, EXCLUDED.experience_level,
               EXCLUDED.remote_policy, EXCLUDED.location_city, EXCLUDED.location_state, EXCLUDED.location_country,
               EXCLUDED.location_lat, EXCLUDED.location_lng, EXCLUDED.description, EXCLUDED.responsibilities,
               EXCLUDED.requirements, EXCLUDED.benefits, EXCLUDED.salary_min, EXCLUDED.salary_max,
               EXCLUDED.salary_currency, EXCLUDED.salary_period, EXCLUDED.show_salary, EXCLUDED.required_skills,
               EXCLUDED.preferred_skills, EXCLUDED.positions_count, EXCLUDED.team, EXCLUDED.company_name,
               EXCLUDED.company_logo_url, EXCLUDED.is_featured, EXCLUDED.application_deadline,
               EXCLUDED.published_at, EXCLUDED.meta_title, EXCLUDED.meta_description)
        RETURNING (cat.xmax = 0) AS is_insert
    )
    SELECT (SELECT count(*) FROM removed_keys) + (SELECT count(*) FROM removed_all),
           count(*) FILTER (WHERE is_insert),
           count(*) FILTER (WHERE NOT is_insert)
    INTO removed, inserted, updated
    FROM written;
END
$$;
ALTER FUNCTION catalog_sync.apply_jobs(bigint, text, bigint[], integer[], boolean, uuid[], boolean) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.apply_jobs(bigint, text, bigint[], integer[], boolean, uuid[], boolean) FROM PUBLIC;
