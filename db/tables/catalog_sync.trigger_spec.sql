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
    ('tenants_tenant',  'catalog_sync_tenant_update',   'UPDATE',   'on_tenant_change'),
    ('tenants_tenant',  'catalog_sync_tenant_delete',   'DELETE',   'on_tenant_change');
