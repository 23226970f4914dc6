-- catalog_sync.apply_providers(): make a tenant's provider_catalog rows match
-- project_providers() for the selected providers (see define_apply()).
SELECT catalog_sync.define_apply('apply_providers', 'public.provider_catalog', 'provider_uuid', 'project_providers',
                                 NULL, false);
