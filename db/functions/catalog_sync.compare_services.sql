-- catalog_sync.compare_services(): verify's comparison of a tenant's
-- service_catalog rows with project_services() (see define_compare()).
SELECT catalog_sync.define_compare('compare_services', 'public.service_catalog', 'service_uuid',
                                   'project_services');
