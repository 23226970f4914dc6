-- The public careers catalog: one row per eligible job of every attached tenant.
-- Only whitelisted, denormalized columns; none of the contract's sensitive
-- columns exists here under any name. view_count and application_count belong
-- to the public side: the sync never writes them after the first insert.
CREATE TABLE public.job_catalog (
    tenant_id            bigint NOT NULL REFERENCES public.tenants_tenant (id) ON DELETE CASCADE,
    tenant_schema        text NOT NULL,
    job_uuid             uuid NOT NULL,
    title                text NOT NULL,
    slug                 text NOT NULL,
    reference_code       text NOT NULL,
    category_name        text,
    category_slug        text,
    job_type             text NOT NULL,
    experience_level     text NOT NULL,
    remote_policy        text NOT NULL,
    location_city        text NOT NULL,
    location_state       text NOT NULL,
    location_country     text NOT NULL,
    location_lat         double precision,
    location_lng         double precision,
    description          text NOT NULL,
    responsibilities     text NOT NULL,
    requirements         text NOT NULL,
    benefits             text NOT NULL,
    salary_min           numeric(12,2),
    salary_max           numeric(12,2),
    salary_currency      text,
    salary_period        text,
    show_salary          boolean NOT NULL,
    required_skills      jsonb NOT NULL,
    preferred_skills     jsonb NOT NULL,
    positions_count      integer NOT NULL,
    team                 text NOT NULL,
    company_name         text NOT NULL,
    company_logo_url     text,
    is_featured          boolean NOT NULL,
    application_deadline timestamptz,
    published_at         timestamptz NOT NULL,
    meta_title           text NOT NULL,
    meta_description     text NOT NULL,
    view_count           bigint NOT NULL DEFAULT 0,
    application_count    bigint NOT NULL DEFAULT 0,
    synced_at            timestamptz NOT NULL DEFAULT pg_catalog.now(),
    search               tsvector GENERATED ALWAYS AS (
        pg_catalog.setweight(pg_catalog.to_tsvector('pg_catalog.simple'::pg_catalog.regconfig, title), 'A')
        || pg_catalog.setweight(pg_catalog.to_tsvector('pg_catalog.simple'::pg_catalog.regconfig,
               company_name || ' ' || coalesce(category_name, '') || ' ' || team), 'B')
        || pg_catalog.setweight(pg_catalog.to_tsvector('pg_catalog.simple'::pg_catalog.regconfig,
               location_city || ' ' || location_country), 'C')
    ) STORED,
    PRIMARY KEY (tenant_id, job_uuid)
);
ALTER TABLE public.job_catalog OWNER TO catalog_sync_owner;
REVOKE ALL ON public.job_catalog FROM PUBLIC;
GRANT SELECT ON public.job_catalog TO catalog_reader;

-- The careers page filters and orders.
CREATE INDEX job_catalog_tenant_featured_idx ON public.job_catalog (tenant_id, is_featured);
CREATE INDEX job_catalog_type_level_idx ON public.job_catalog (job_type, experience_level);
CREATE INDEX job_catalog_location_idx ON public.job_catalog (location_country, location_city);
CREATE INDEX job_catalog_published_idx ON public.job_catalog (published_at DESC);
CREATE INDEX job_catalog_category_idx ON public.job_catalog (category_slug);
CREATE INDEX job_catalog_remote_idx ON public.job_catalog (remote_policy);
CREATE INDEX job_catalog_search_idx ON public.job_catalog USING gin (search);
-- expire_jobs(): the rows whose deadline passed, found without a scan.
CREATE INDEX job_catalog_deadline_idx ON public.job_catalog (application_deadline)
    WHERE application_deadline IS NOT NULL;
