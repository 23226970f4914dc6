-- catalog_sync.apply_jobs(): make a tenant's job_catalog rows match
-- project_jobs() for the selected jobs (see define_apply()).
SELECT catalog_sync.define_apply('apply_jobs', 'public.job_catalog', 'job_uuid', 'project_jobs', NULL, true);
