-- What the projection reads of one service: the whitelisted services_service
-- columns (never internal_cost or private_notes), its category, and what the
-- catalog shows of its provider plus the provider's eligibility flags.
CREATE TYPE catalog_sync.service_source AS (
    id                           bigint,
    uuid                         uuid,
    title                        text,
    slug                         text,
    short_description            text,
    description                  text,
    pricing_type                 text,
    price_min                    numeric,
    price_max                    numeric,
    currency                     text,
    delivery_time_days           smallint,
    revisions_included           smallint,
    tags                         jsonb,
    thumbnail_url                text,
    is_active                    boolean,
    is_public                    boolean,
    is_featured                  boolean,
    published_at                 timestamptz,
    created_at                   timestamptz,
    category_id                  bigint,
    provider_id                  bigint,
    category_name                text,       -- derived: from services_servicecategory
    category_slug                text,       -- derived
    provider_uuid                uuid,       -- derived: from services_serviceprovider
    provider_display_name        text,       -- derived
    provider_avatar_url          text,       -- derived
    provider_rating_avg          numeric, -- derived
    provider_is_verified         boolean,    -- derived
    provider_marketplace_enabled boolean,    -- derived
    provider_is_active           boolean,    -- derived
    html_mask                    integer     -- derived: 1 = description changed (project_services)
);
ALTER TYPE catalog_sync.service_source OWNER TO catalog_sync_owner;
