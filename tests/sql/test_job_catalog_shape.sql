-- The exact public shape of public.job_catalog: columns, key, indexes.
BEGIN;
SELECT plan(14);

SELECT columns_are('public', 'job_catalog', ARRAY[
    'tenant_id', 'tenant_schema', 'job_uuid', 'title', 'slug', 'reference_code', 'category_name',
    'category_slug', 'job_type', 'experience_level', 'remote_policy', 'location_city', 'location_state',
    'location_country', 'location_lat', 'location_lng', 'description', 'responsibilities', 'requirements',
    'benefits', 'salary_min', 'salary_max', 'salary_currency', 'salary_period', 'show_salary',
    'required_skills', 'preferred_skills', 'positions_count', 'team', 'company_name', 'company_logo_url',
    'is_featured', 'application_deadline', 'published_at', 'meta_title', 'meta_description', 'view_count',
    'application_count', 'synced_at', 'search'],
    'job_catalog has exactly the whitelisted columns');

SELECT is(
    (SELECT count(*)::int FROM pg_attribute a
     WHERE a.attrelid = 'public.job_catalog'::regclass AND a.attnum > 0 AND NOT a.attisdropped
       AND (a.attname IN ('hiring_manager_name', 'hiring_manager_email', 'application_email', 'custom_questions',
                          'internal_notes', 'rejection_feedback_template')
            OR a.attname ~ '(hiring|manager|email|question|internal|rejection|notes)')),
    0, 'no sensitive column of ats_jobposting, under any name');

SELECT col_is_pk('public', 'job_catalog', ARRAY['tenant_id', 'job_uuid'], 'key is (tenant_id, job_uuid)');
SELECT fk_ok('public', 'job_catalog', 'tenant_id', 'public', 'tenants_tenant', 'id');
SELECT table_owner_is('public', 'job_catalog', 'catalog_sync_owner', 'catalog owned by the machinery owner');
SELECT has_index('public', 'job_catalog', 'job_catalog_tenant_featured_idx', ARRAY['tenant_id', 'is_featured']);
SELECT has_index('public', 'job_catalog', 'job_catalog_type_level_idx', ARRAY['job_type', 'experience_level']);
SELECT has_index('public', 'job_catalog', 'job_catalog_location_idx', ARRAY['location_country', 'location_city']);
SELECT ok(pg_get_indexdef('public.job_catalog_published_idx'::regclass) LIKE '%(published_at DESC)', 'published_at DESC index');
SELECT has_index('public', 'job_catalog', 'job_catalog_category_idx', ARRAY['category_slug']);
SELECT has_index('public', 'job_catalog', 'job_catalog_remote_idx', ARRAY['remote_policy']);
SELECT index_is_type('public', 'job_catalog', 'job_catalog_search_idx', 'gin');
SELECT ok(pg_get_indexdef('public.job_catalog_deadline_idx'::regclass)
          LIKE '%(application_deadline) WHERE (application_deadline IS NOT NULL)', 'partial deadline index (expire_jobs)');
SELECT col_default_is('public', 'job_catalog', 'view_count', '0'::bigint, 'view_count starts at 0');

SELECT * FROM finish();
ROLLBACK;
