-- catalog_sync.compare_jobs(): verify's comparison of a tenant's job_catalog
-- rows with project_jobs() (see define_compare()).
SELECT catalog_sync.define_compare('compare_jobs', 'public.job_catalog', 'job_uuid', 'project_jobs');
