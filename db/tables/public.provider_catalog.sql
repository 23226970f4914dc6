-- The public marketplace catalog of service providers: one row per eligible
-- provider (marketplace_enabled and is_active, tenant active or trial) of every
-- attached tenant. Whitelisted, denormalized columns only: none of the
-- provider's sensitive columns (contact, address, bank, tax, KYC, notes)
-- exists here under any name.
CREATE TABLE public.provider_catalog (
    tenant_id               bigint NOT NULL REFERENCES public.tenants_tenant (id) ON DELETE CASCADE,
    tenant_schema           text NOT NULL,
    provider_uuid           uuid NOT NULL,
    display_name            text NOT NULL,
    provider_type           text NOT NULL,
    bio                     text NOT NULL,
    tagline                 text NOT NULL,
    avatar_url              text,
    cover_image_url         text,
    city                    text NOT NULL,
    state                   text NOT NULL,
    country                 text NOT NULL,
    location                jsonb,
    category_names          jsonb NOT NULL,
    category_slugs          jsonb NOT NULL,
    skills_data             jsonb NOT NULL,
    hourly_rate             numeric(10,2),
    minimum_budget          numeric(10,2),
    currency                text NOT NULL,
    rating_avg              numeric(3,2) NOT NULL,
    total_reviews           integer NOT NULL,
    completed_jobs_count    integer NOT NULL,
    response_rate           numeric(5,2),
    avg_response_time_hours numeric(6,2),
    availability_status     text NOT NULL,
    is_verified             boolean NOT NULL,
    is_featured             boolean NOT NULL,
    is_accepting_projects   boolean NOT NULL,
    can_work_remotely       boolean NOT NULL,
    can_work_onsite         boolean NOT NULL,
    company_name            text NOT NULL,
    published_at            timestamptz NOT NULL,
    synced_at               timestamptz NOT NULL DEFAULT pg_catalog.now(),
    search                  tsvector GENERATED ALWAYS AS (
        pg_catalog.setweight(pg_catalog.to_tsvector('pg_catalog.simple'::pg_catalog.regconfig, display_name), 'A')
        || pg_catalog.setweight(pg_catalog.to_tsvector('pg_catalog.simple'::pg_catalog.regconfig, tagline), 'B')
        || pg_catalog.setweight(pg_catalog.jsonb_to_tsvector('pg_catalog.simple'::pg_catalog.regconfig,
               skills_data, '["string"]'), 'B')
        || pg_catalog.setweight(pg_catalog.to_tsvector('pg_catalog.simple'::pg_catalog.regconfig, bio), 'C')
    ) STORED,
    PRIMARY KEY (tenant_id, provider_uuid)
);
ALTER TABLE public.provider_catalog OWNER TO catalog_sync_owner;
REVOKE ALL ON public.provider_catalog FROM PUBLIC;
GRANT SELECT ON public.provider_catalog TO catalog_reader;

-- The marketplace's filters and orders.
CREATE INDEX provider_catalog_tenant_featured_idx ON public.provider_catalog (tenant_id, is_featured);
CREATE INDEX provider_catalog_rating_idx ON public.provider_catalog (rating_avg DESC);
CREATE INDEX provider_catalog_location_idx ON public.provider_catalog (country, city);
CREATE INDEX provider_catalog_published_idx ON public.provider_catalog (published_at DESC);
CREATE INDEX provider_catalog_verified_idx ON public.provider_catalog (is_verified);
CREATE INDEX provider_catalog_search_idx ON public.provider_catalog USING gin (search);
