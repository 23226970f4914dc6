-- The public marketplace catalog of services: one row per eligible service
-- (is_active and is_public, its provider eligible, tenant active or trial).
-- None of the service's sensitive columns (internal_cost, private_notes).
CREATE TABLE public.service_catalog (
    tenant_id              bigint NOT NULL REFERENCES public.tenants_tenant (id) ON DELETE CASCADE,
    tenant_schema          text NOT NULL,
    service_uuid           uuid NOT NULL,
    provider_uuid          uuid NOT NULL,
    title                  text NOT NULL,
    slug                   text NOT NULL,
    short_description      text NOT NULL,
    description            text NOT NULL,
    category_name          text,
    category_slug          text,
    pricing_type           text NOT NULL,
    price_min              numeric(10,2),
    price_max              numeric(10,2),
    currency               text NOT NULL,
    delivery_time_days     smallint,
    revisions_included     smallint NOT NULL,
    tags                   jsonb NOT NULL,
    thumbnail_url          text,
    is_featured            boolean NOT NULL,
    provider_display_name  text NOT NULL,
    provider_avatar_url    text,
    provider_rating_avg    numeric(3,2) NOT NULL,
    provider_is_verified   boolean NOT NULL,
    company_name           text NOT NULL,
    published_at           timestamptz NOT NULL,
    synced_at              timestamptz NOT NULL DEFAULT pg_catalog.now(),
    search                 tsvector GENERATED ALWAYS AS (
        pg_catalog.setweight(pg_catalog.to_tsvector('pg_catalog.simple'::pg_catalog.regconfig, title), 'A')
        || pg_catalog.setweight(pg_catalog.to_tsvector('pg_catalog.simple'::pg_catalog.regconfig,
               short_description || ' ' || coalesce(category_name, '') || ' ' || provider_display_name), 'B')
        || pg_catalog.setweight(pg_catalog.jsonb_to_tsvector('pg_catalog.simple'::pg_catalog.regconfig,
               tags, '["string"]'), 'B')
    ) STORED,
    PRIMARY KEY (tenant_id, service_uuid)
);
ALTER TABLE public.service_catalog OWNER TO catalog_sync_owner;
REVOKE ALL ON public.service_catalog FROM PUBLIC;
GRANT SELECT ON public.service_catalog TO catalog_reader;

CREATE INDEX service_catalog_tenant_featured_idx ON public.service_catalog (tenant_id, is_featured);
CREATE INDEX service_catalog_provider_idx ON public.service_catalog (tenant_id, provider_uuid);
CREATE INDEX service_catalog_category_idx ON public.service_catalog (category_slug);
CREATE INDEX service_catalog_published_idx ON public.service_catalog (published_at DESC);
CREATE INDEX service_catalog_pricing_idx ON public.service_catalog (pricing_type, price_min);
CREATE INDEX service_catalog_search_idx ON public.service_catalog USING gin (search);
