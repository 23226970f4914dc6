-- What the application role (owner of every tenant table) cannot do to the
-- catalog, and what it can do that the product must detect.
BEGIN;
SELECT plan(12);

SET LOCAL ROLE zumodra_app;

SELECT throws_ok(
    $$INSERT INTO public.job_catalog (tenant_id, tenant_schema, job_uuid, title, slug, reference_code, job_type,
        experience_level, remote_policy, location_city, location_state, location_country, description,
        responsibilities, requirements, benefits, show_salary, required_skills, preferred_skills,
        positions_count, team, company_name, is_featured, published_at, meta_title, meta_description)
      SELECT id, 'x', gen_random_uuid(), 'forged', '', '', '', '', '', '', '', '', '', '', '', '', false,
             '[]', '[]', 1, '', 'forged', false, now(), '', '' FROM public.tenants_tenant LIMIT 1$$,
    '42501', NULL, 'the app cannot insert catalog rows');
SELECT throws_ok($$DELETE FROM public.job_catalog$$, '42501', NULL, 'the app cannot delete catalog rows');
SELECT throws_ok($$SELECT catalog_sync.backfill_tenant(1)$$, '42501', 'permission denied for schema catalog_sync',
    'the app cannot call the backfill (no USAGE on the machinery)');
SELECT throws_ok($$SELECT * FROM catalog_sync.attached_table$$, '42501', NULL, 'the app cannot read the registry');

-- Binding the sync function to a table of the app's choosing needs USAGE on
-- the machinery's schema, and EXECUTE on the function: the app has neither.
CREATE TABLE tenant_acme.decoy (LIKE tenant_acme.ats_jobposting);
SELECT throws_ok(
    $$CREATE TRIGGER forged AFTER INSERT ON tenant_acme.decoy REFERENCING NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION catalog_sync.on_job_change('2')$$,
    '42501', 'permission denied for schema catalog_sync', 'the app cannot bind the sync function to its own table');
-- Granted USAGE by mistake, it still lacks EXECUTE (each refusal on its own).
RESET ROLE;
GRANT USAGE ON SCHEMA catalog_sync TO zumodra_app;
SET LOCAL ROLE zumodra_app;
SELECT throws_ok(
    $$CREATE TRIGGER forged AFTER INSERT ON tenant_acme.decoy REFERENCING NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION catalog_sync.on_job_change('2')$$,
    '42501', 'permission denied for function catalog_sync.on_job_change', 'with USAGE, binding still needs EXECUTE');
SELECT throws_ok($$SELECT catalog_sync.backfill_tenant(1, false, NULL)$$, '42501',
    'permission denied for function backfill_tenant', 'with USAGE, the backfill still needs EXECUTE');
RESET ROLE;
REVOKE USAGE ON SCHEMA catalog_sync FROM zumodra_app;
SET LOCAL ROLE zumodra_app;
SELECT throws_ok(
    $$CREATE OR REPLACE TRIGGER catalog_sync_job_insert AFTER INSERT ON tenant_acme.ats_jobposting
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION catalog_sync.on_job_change('2')$$,
    '42501', NULL, 'the app cannot re-bind the trigger with another tenant id');

-- A table owner can switch the trigger off: the product must see it.
ALTER TABLE tenant_acme.ats_jobposting DISABLE TRIGGER catalog_sync_job_update;
ALTER TABLE tenant_acme.ats_jobposting ENABLE REPLICA TRIGGER catalog_sync_job_insert;
DROP TRIGGER catalog_sync_job_delete ON tenant_acme.ats_jobposting;
RESET ROLE;

SELECT is(
    (SELECT state FROM catalog_sync.trigger_state('tenant_acme.ats_jobposting'::regclass, 'ats_jobposting',
        (SELECT id FROM public.tenants_tenant WHERE schema_name = 'tenant_acme'))
     WHERE trigger_name = 'catalog_sync_job_update'),
    'DISABLED', 'a disabled trigger is reported DISABLED');
SELECT is(
    (SELECT state FROM catalog_sync.trigger_state('tenant_acme.ats_jobposting'::regclass, 'ats_jobposting',
        (SELECT id FROM public.tenants_tenant WHERE schema_name = 'tenant_acme'))
     WHERE trigger_name = 'catalog_sync_job_insert'),
    'DISABLED', 'ENABLE REPLICA (not ALWAYS) is reported DISABLED');
SELECT is(
    (SELECT state FROM catalog_sync.trigger_state('tenant_acme.ats_jobposting'::regclass, 'ats_jobposting',
        (SELECT id FROM public.tenants_tenant WHERE schema_name = 'tenant_acme'))
     WHERE trigger_name = 'catalog_sync_job_delete'),
    'MISSING', 'a dropped trigger is reported MISSING');
SELECT set_eq(
    $$SELECT problem FROM catalog_sync.verify_tenant((SELECT id FROM public.tenants_tenant WHERE schema_name = 'tenant_acme'))$$,
    ARRAY['trigger_disabled', 'trigger_missing'],
    'verify reports the switched-off triggers as drift');

SELECT * FROM finish();
ROLLBACK;
