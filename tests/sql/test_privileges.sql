-- Privileges and definer hygiene (DESIGN.md, "Security rules").
BEGIN;
SELECT plan(16);

SELECT is(
    (SELECT count(*)::int FROM pg_proc p
     WHERE p.pronamespace IN ('catalog_sync'::regnamespace, 'catalog_sync_protect'::regnamespace) AND p.prosecdef
       AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false)),
    0, 'every SECURITY DEFINER function pins search_path = pg_catalog, pg_temp');

SELECT cmp_ok(
    (SELECT count(*)::int FROM pg_proc p WHERE p.pronamespace = 'catalog_sync'::regnamespace AND p.prosecdef),
    '>=', 10, 'the machinery has its definer functions');

SELECT is(
    (SELECT count(*)::int FROM pg_proc p
     WHERE p.pronamespace = 'catalog_sync'::regnamespace
       AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false)
       AND (p.prosecdef OR has_function_privilege('catalog_sync_installer', p.oid, 'EXECUTE'))),
    0, 'a function without a pinned search_path is no definer and only the owner (inside a definer) may call it');

SELECT is(
    (SELECT count(*)::int FROM pg_proc p
     WHERE p.pronamespace = 'catalog_sync'::regnamespace
       AND has_function_privilege('public', p.oid, 'EXECUTE')),
    0, 'PUBLIC may execute no machinery function');

SELECT is(
    (SELECT count(*)::int FROM pg_proc p
     WHERE p.pronamespace = 'catalog_sync'::regnamespace
       AND has_function_privilege('zumodra_app', p.oid, 'EXECUTE')),
    0, 'the application role may execute no machinery function');

SELECT is(
    (SELECT array_agg(DISTINCT pg_get_userbyid(p.proowner)) FROM pg_proc p
     WHERE p.pronamespace = 'catalog_sync'::regnamespace),
    ARRAY['catalog_sync_owner']::name[], 'catalog_sync_owner owns every machinery function');

SELECT ok(
    (SELECT NOT rolsuper AND NOT rolbypassrls AND NOT rolcanlogin FROM pg_roles WHERE rolname = 'catalog_sync_owner'),
    'the definer role is no superuser, cannot bypass RLS and cannot log in');

SELECT ok(NOT has_table_privilege('zumodra_app', 'public.job_catalog', 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER'),
    'the application role has no privilege on the catalog');

SELECT ok(has_table_privilege('catalog_reader', 'public.job_catalog', 'SELECT'), 'catalog_reader can read the catalog');

SELECT ok(NOT has_table_privilege('catalog_reader', 'public.job_catalog', 'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER'),
    'catalog_reader can only read');

SELECT ok(NOT has_schema_privilege('zumodra_app', 'catalog_sync', 'USAGE, CREATE'),
    'the application role cannot even look into the machinery schema');

SELECT is(
    (SELECT count(*)::int FROM pg_class c
     WHERE c.relnamespace = 'catalog_sync'::regnamespace AND c.relkind = 'r'
       AND (has_table_privilege('catalog_reader', c.oid, 'SELECT, INSERT, UPDATE, DELETE')
            OR has_table_privilege('zumodra_app', c.oid, 'SELECT, INSERT, UPDATE, DELETE'))),
    0, 'no machinery table is readable or writable by the app or the reader');

SELECT ok(
    (SELECT p.prosecdef FROM pg_proc p WHERE p.oid = 'catalog_sync.on_job_change'::regproc)
    AND (SELECT p.proconfig @> ARRAY['row_security=off'] FROM pg_proc p WHERE p.oid = 'catalog_sync.on_job_change'::regproc),
    'the job trigger function is SECURITY DEFINER with row_security = off (fails closed under RLS)');

-- Every trigger function and the four readers set it themselves: a reader's setting is a second
-- safeguard, should a caller without it ever reach the reader (mutation test, thirty-ninth session).
-- (uuid_holders() reads a tenant table too; it is called only from the triggers' sync_changes().)
SELECT is(
    (SELECT array_agg(p.proname::text ORDER BY p.proname) FROM pg_proc p
     WHERE p.pronamespace = 'catalog_sync'::regnamespace
       AND (p.prorettype = 'trigger'::regtype
            OR p.proname IN ('job_sources', 'provider_sources', 'service_sources', 'provider_parents'))
       AND NOT coalesce(p.proconfig @> ARRAY['row_security=off'], false)),
    NULL, 'every sync trigger function and the four readers of tenant tables run with row_security = off');

SELECT is(
    (SELECT count(DISTINCT p.proname)::int FROM pg_proc p WHERE p.pronamespace = 'catalog_sync'::regnamespace
       AND p.proname IN ('job_sources', 'provider_sources', 'service_sources', 'provider_parents')),
    4, 'the four readers the check above names exist (a rename would make it check nothing)');

SELECT is(
    (SELECT count(*)::int FROM pg_constraint c
     WHERE c.conrelid = 'public.job_catalog'::regclass AND c.contype IN ('u', 'x')),
    0, 'no unique constraint across tenants besides the key');

SELECT * FROM finish();
ROLLBACK;
