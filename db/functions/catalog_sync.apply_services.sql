-- catalog_sync.apply_services(): make a tenant's service_catalog rows match
-- project_services() for the selected services; p_delete_scope takes the
-- services of providers (by provider_uuid) as delete candidates.
SELECT catalog_sync.define_apply('apply_services', 'public.service_catalog', 'service_uuid', 'project_services',
                                 'provider_uuid', true);
