-- The triggers attach installs on each tenant table, one row per trigger.
-- Transition tables need one trigger per event. status/verify compare the live
-- pg_trigger rows with this table (and with the hash in the trigger comment).
CREATE TABLE catalog_sync.trigger_spec (
    source_table  name NOT NULL,
    trigger_name  name NOT NULL,
    event         text NOT NULL CHECK (event IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE')),
    function_name name NOT NULL,
    PRIMARY KEY (source_table, trigger_name)
);
ALTER TABLE catalog_sync.trigger_spec OWNER TO catalog_sync_owner;
-- Read by the SECURITY INVOKER installer functions; not secret.
GRANT SELECT ON catalog_sync.trigger_spec TO catalog_sync_installer;

INSERT INTO catalog_sync.trigger_spec (source_table, trigger_name, event, function_name) VALUES
    ('ats_jobposting',  'catalog_sync_job_insert',      'INSERT',   'on_job_change'),
    ('ats_jobposting',  'catalog_sync_job_update',      'UPDATE',   'on_job_change'),
    ('ats_jobposting',  'catalog_sync_job_delete',      'DELETE',   'on_job_change'),
    ('ats_jobposting',  'catalog_sync_job_truncate',    'TRUNCATE', 'on_job_change'),
    ('ats_jobcategory', 'catalog_sync_jobcat_insert',   'INSERT',   'on_job_category_change'),
    ('ats_jobcategory', 'catalog_sync_jobcat_update',   'UPDATE',   'on_job_category_change'),
    ('ats_jobcategory', 'catalog_sync_jobcat_delete',   'DELETE',   'on_job_category_change'),
    ('ats_jobcategory', 'catalog_sync_jobcat_truncate', 'TRUNCATE', 'on_job_category_change'),
    ('services_serviceprovider', 'catalog_sync_provider_insert',   'INSERT',   'on_provider_change'),
    ('services_serviceprovider', 'catalog_sync_provider_update',   'UPDATE',   'on_provider_change'),
    ('services_serviceprovider', 'catalog_sync_provider_delete',   'DELETE',   'on_provider_change'),
    ('services_serviceprovider', 'catalog_sync_provider_truncate', 'TRUNCATE', 'on_provider_change'),
    ('services_serviceprovider_categories', 'catalog_sync_provcat_insert',   'INSERT',   'on_provider_link_change'),
    ('services_serviceprovider_categories', 'catalog_sync_provcat_update',   'UPDATE',   'on_provider_link_change'),
    ('services_serviceprovider_categories', 'catalog_sync_provcat_delete',   'DELETE',   'on_provider_link_change'),
    ('services_serviceprovider_categories', 'catalog_sync_provcat_truncate', 'TRUNCATE', 'on_provider_link_change'),
    ('services_providerskill',   'catalog_sync_provskill_insert',   'INSERT',   'on_provider_link_change'),
    ('services_providerskill',   'catalog_sync_provskill_update',   'UPDATE',   'on_provider_link_change'),
    ('services_providerskill',   'catalog_sync_provskill_delete',   'DELETE',   'on_provider_link_change'),
    ('services_providerskill',   'catalog_sync_provskill_truncate', 'TRUNCATE', 'on_provider_link_change'),
    ('services_servicecategory', 'catalog_sync_svccat_insert',     'INSERT',   'on_marketplace_parent_change'),
    ('services_servicecategory', 'catalog_sync_svccat_update',     'UPDATE',   'on_marketplace_parent_change'),
    ('services_servicecategory', 'catalog_sync_svccat_delete',     'DELETE',   'on_marketplace_parent_change'),
    ('services_servicecategory', 'catalog_sync_svccat_truncate',   'TRUNCATE', 'on_marketplace_parent_change'),
    ('services_skill',           'catalog_sync_skill_insert',      'INSERT',   'on_marketplace_parent_change'),
    ('services_skill',           'catalog_sync_skill_update',      'UPDATE',   'on_marketplace_parent_change'),
    ('services_skill',           'catalog_sync_skill_delete',      'DELETE',   'on_marketplace_parent_change'),
    ('services_skill',           'catalog_sync_skill_truncate',    'TRUNCATE', 'on_marketplace_parent_change'),
    ('services_service',         'catalog_sync_service_insert',    'INSERT',   'on_service_change'),
    ('services_service',         'catalog_sync_service_update',    'UPDATE',   'on_service_change'),
    ('services_service',         'catalog_sync_service_delete',    'DELETE',   'on_service_change'),
    ('services_service',         'catalog_sync_service_truncate',  'TRUNCATE', 'on_service_change'),
    ('tenants_tenant',  'catalog_sync_tenant_update',   'UPDATE',   'on_tenant_change'),
    ('tenants_tenant',  'catalog_sync_tenant_delete',   'DELETE',   'on_tenant_change');
