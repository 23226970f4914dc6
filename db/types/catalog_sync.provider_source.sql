-- What the projection reads of one service provider: the whitelisted
-- services_serviceprovider columns and the eligibility flags (never a
-- sensitive one), plus its categories and skills aggregated from the
-- many-to-many and skill-link tables (the derived attributes at the end).
CREATE TYPE catalog_sync.provider_source AS (
    id                      bigint,
    uuid                    uuid,
    display_name            text,
    provider_type           text,
    bio                     text,
    tagline                 text,
    avatar_url              text,
    cover_image_url         text,
    city                    text,
    state                   text,
    country                 text,
    location_lat            double precision,
    location_lng            double precision,
    hourly_rate             numeric,
    minimum_budget          numeric,
    currency                text,
    rating_avg              numeric,
    total_reviews           integer,
    completed_jobs_count    integer,
    response_rate           numeric,
    avg_response_time_hours numeric,
    availability_status     text,
    is_verified             boolean,
    is_featured             boolean,
    is_accepting_projects   boolean,
    can_work_remotely       boolean,
    can_work_onsite         boolean,
    marketplace_enabled     boolean,
    is_active               boolean,
    published_at            timestamptz,
    created_at              timestamptz,
    category_names          jsonb,      -- derived: sorted by category slug
    category_slugs          jsonb,      -- derived
    skills_data             jsonb,      -- derived: sorted by skill slug
    html_mask               integer     -- derived: 1 = bio changed (project_providers)
);
ALTER TYPE catalog_sync.provider_source OWNER TO catalog_sync_owner;
