-- catalog_sync.compare_providers(): verify's comparison of a tenant's
-- provider_catalog rows with project_providers() (see define_compare()).
SELECT catalog_sync.define_compare('compare_providers', 'public.provider_catalog', 'provider_uuid',
                                   'project_providers');
