-- What the projection reads of one job: the ats_jobposting columns it uses
-- (never a sensitive one) plus its category's name and slug and its tenant's
-- registry columns. This type is the single list of projection inputs:
-- job_sources() selects exactly these columns, and an UPDATE that changes
-- none of the job's own cannot change the catalog.
CREATE TYPE catalog_sync.job_source AS (
    id                       bigint,
    uuid                     uuid,
    title                    text,
    slug                     text,
    reference_code           text,
    category_id              bigint,
    job_type                 text,
    experience_level         text,
    remote_policy            text,
    location_city            text,
    location_state           text,
    location_country         text,
    location_lat             double precision,
    location_lng             double precision,
    description              text,
    responsibilities         text,
    requirements             text,
    benefits                 text,
    salary_min               numeric,
    salary_max               numeric,
    salary_currency          text,
    salary_period            text,
    show_salary              boolean,
    required_skills          jsonb,
    preferred_skills         jsonb,
    positions_count          integer,
    team                     text,
    is_featured              boolean,
    application_deadline     timestamptz,
    published_at             timestamptz,
    created_at               timestamptz,
    meta_title               text,
    meta_description         text,
    status                   text,
    published_on_career_page boolean,
    is_internal_only         boolean,
    category_name            text,      -- from ats_jobcategory
    category_slug            text,      -- from ats_jobcategory
    html_mask                integer,   -- derived: the HTML columns a trigger saw change (project_jobs)
    tenant_schema            text,      -- from the registry (public.tenants_tenant): schema_name,
    company_name             text,      -- name,
    company_logo_url         text       -- safe_url(logo_url)
);
ALTER TYPE catalog_sync.job_source OWNER TO catalog_sync_owner;
