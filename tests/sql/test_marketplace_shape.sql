-- The exact public shape of public.provider_catalog and public.service_catalog
-- (issue 3): columns, keys, indexes, owner and privileges; no sensitive column
-- of services_serviceprovider / services_service under any name.
BEGIN;
SELECT plan(30);

-- ------------------------------------------------------------------ columns

SELECT columns_are('public', 'provider_catalog', ARRAY[
    'tenant_id', 'tenant_schema', 'provider_uuid', 'display_name', 'provider_type', 'bio', 'tagline',
    'avatar_url', 'cover_image_url', 'city', 'state', 'country', 'location', 'category_names',
    'category_slugs', 'skills_data', 'hourly_rate', 'minimum_budget', 'currency', 'rating_avg',
    'total_reviews', 'completed_jobs_count', 'response_rate', 'avg_response_time_hours',
    'availability_status', 'is_verified', 'is_featured', 'is_accepting_projects', 'can_work_remotely',
    'can_work_onsite', 'company_name', 'published_at', 'synced_at', 'search'],
    'provider_catalog has exactly the whitelisted columns');

SELECT columns_are('public', 'service_catalog', ARRAY[
    'tenant_id', 'tenant_schema', 'service_uuid', 'provider_uuid', 'title', 'slug', 'short_description',
    'description', 'category_name', 'category_slug', 'pricing_type', 'price_min', 'price_max', 'currency',
    'delivery_time_days', 'revisions_included', 'tags', 'thumbnail_url', 'is_featured',
    'provider_display_name', 'provider_avatar_url', 'provider_rating_avg', 'provider_is_verified',
    'company_name', 'published_at', 'synced_at', 'search'],
    'service_catalog has exactly the whitelisted columns');

SELECT is(
    (SELECT count(*)::int FROM pg_attribute a
     WHERE a.attrelid IN ('public.provider_catalog'::regclass, 'public.service_catalog'::regclass)
       AND a.attnum > 0 AND NOT a.attisdropped
       AND (a.attname IN ('user_email', 'phone', 'address_line1', 'postal_code', 'stripe_account_id',
                          'bank_account_number', 'bank_routing_number', 'tax_id', 'emergency_contact_name',
                          'emergency_contact_phone', 'kyc_document_url', 'private_notes', 'internal_cost')
            OR a.attname ~ '(email|phone|address|postal|stripe|bank|routing|tax|emergency|kyc|notes|private|internal|cost)')),
    0, 'no sensitive column of services_serviceprovider or services_service, under any name');

SELECT col_type_is('public', 'provider_catalog', 'location', 'jsonb', 'location is jsonb');
SELECT col_type_is('public', 'provider_catalog', 'skills_data', 'jsonb', 'skills_data is jsonb');
SELECT col_type_is('public', 'provider_catalog', 'search', 'tsvector', 'provider search is a tsvector');
SELECT col_type_is('public', 'service_catalog', 'search', 'tsvector', 'service search is a tsvector');

-- --------------------------------------------------------------------- keys

SELECT col_is_pk('public', 'provider_catalog', ARRAY['tenant_id', 'provider_uuid'],
                 'provider_catalog key is (tenant_id, provider_uuid)');
SELECT col_is_pk('public', 'service_catalog', ARRAY['tenant_id', 'service_uuid'],
                 'service_catalog key is (tenant_id, service_uuid)');
SELECT fk_ok('public', 'provider_catalog', 'tenant_id', 'public', 'tenants_tenant', 'id');
SELECT fk_ok('public', 'service_catalog', 'tenant_id', 'public', 'tenants_tenant', 'id');

-- ------------------------------------------------------------------ indexes
-- Checked by definition, not by name: the issue fixes what is indexed.

SELECT ok(EXISTS (SELECT FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'provider_catalog'
                  AND indexdef LIKE '%USING btree (tenant_id, is_featured)'),
          'provider_catalog index (tenant_id, is_featured)');
SELECT ok(EXISTS (SELECT FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'provider_catalog'
                  AND indexdef LIKE '%USING btree (rating_avg DESC)'),
          'provider_catalog index (rating_avg DESC)');
SELECT ok(EXISTS (SELECT FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'provider_catalog'
                  AND indexdef LIKE '%USING btree (country, city)'),
          'provider_catalog index (country, city)');
SELECT ok(EXISTS (SELECT FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'provider_catalog'
                  AND indexdef LIKE '%USING btree (published_at DESC)'),
          'provider_catalog index (published_at DESC)');
SELECT ok(EXISTS (SELECT FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'provider_catalog'
                  AND indexdef LIKE '%USING btree (is_verified)'),
          'provider_catalog index (is_verified)');
SELECT ok(EXISTS (SELECT FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'provider_catalog'
                  AND indexdef LIKE '%USING gin (search)'),
          'provider_catalog gin index on search');
SELECT ok(EXISTS (SELECT FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'service_catalog'
                  AND indexdef LIKE '%USING gin (search)'),
          'service_catalog gin index on search');
SELECT ok(EXISTS (SELECT FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'service_catalog'
                  AND indexdef LIKE '%USING btree (tenant_id, provider_uuid)'),
          'service_catalog index (tenant_id, provider_uuid): a provider flip finds its services');
-- the full-text column covers name, tagline, bio and skills
SELECT ok(pg_get_expr(d.adbin, d.adrelid) ~ 'display_name' AND pg_get_expr(d.adbin, d.adrelid) ~ 'tagline'
          AND pg_get_expr(d.adbin, d.adrelid) ~ 'bio' AND pg_get_expr(d.adbin, d.adrelid) ~ 'skills_data',
          'provider search is generated from display_name, tagline, bio and skills_data')
FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
WHERE d.adrelid = 'public.provider_catalog'::regclass AND a.attname = 'search';

-- ------------------------------------------------------- owner, privileges

SELECT table_owner_is('public', 'provider_catalog', 'catalog_sync_owner', 'provider_catalog owned by catalog_sync_owner');
SELECT table_owner_is('public', 'service_catalog', 'catalog_sync_owner', 'service_catalog owned by catalog_sync_owner');
SELECT table_privs_are('public', 'provider_catalog', 'catalog_reader', ARRAY['SELECT'],
                       'catalog_reader may only SELECT provider_catalog');
SELECT table_privs_are('public', 'service_catalog', 'catalog_reader', ARRAY['SELECT'],
                       'catalog_reader may only SELECT service_catalog');
SELECT table_privs_are('public', 'provider_catalog', 'zumodra_app', ARRAY[]::text[],
                       'the application role has no privilege on provider_catalog');
SELECT table_privs_are('public', 'service_catalog', 'zumodra_app', ARRAY[]::text[],
                       'the application role has no privilege on service_catalog');
SELECT ok(NOT has_any_column_privilege('zumodra_app', 'public.provider_catalog', 'SELECT, INSERT, UPDATE, REFERENCES')
          AND NOT has_any_column_privilege('zumodra_app', 'public.service_catalog', 'SELECT, INSERT, UPDATE, REFERENCES'),
          'the application role has no column privilege on either catalog');
SELECT table_privs_are('public', 'provider_catalog', 'public', ARRAY[]::text[], 'PUBLIC has no privilege on provider_catalog');
SELECT table_privs_are('public', 'service_catalog', 'public', ARRAY[]::text[], 'PUBLIC has no privilege on service_catalog');

-- the projection's input types carry no sensitive attribute either
SELECT is(
    (SELECT count(*)::int FROM pg_attribute a JOIN pg_type t ON t.typrelid = a.attrelid
     WHERE t.oid IN ('catalog_sync.provider_source'::regtype, 'catalog_sync.service_source'::regtype)
       AND a.attnum > 0 AND NOT a.attisdropped
       AND a.attname IN ('user_email', 'phone', 'address_line1', 'postal_code', 'stripe_account_id',
                         'bank_account_number', 'bank_routing_number', 'tax_id', 'emergency_contact_name',
                         'emergency_contact_phone', 'kyc_document_url', 'private_notes', 'internal_cost')),
    0, 'the projection input types read no sensitive column');

SELECT * FROM finish();
ROLLBACK;
