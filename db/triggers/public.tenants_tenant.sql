-- The registry triggers: tenant renamed, new logo, suspended, reactivated or
-- deleted. Installed from the same spec and with the same hash as tenant triggers.
SELECT catalog_sync.install_triggers(ARRAY['public.tenants_tenant'::regclass::oid], '{tenants_tenant}', NULL);
