-- The machinery schema: private to catalog_sync_owner. Only the functions
-- granted to catalog_sync_installer are an interface; the tables are not.
CREATE SCHEMA catalog_sync AUTHORIZATION catalog_sync_owner;
REVOKE ALL ON SCHEMA catalog_sync FROM PUBLIC;
GRANT USAGE ON SCHEMA catalog_sync TO catalog_sync_installer;

-- The definer reads the tenant registry to denormalize company name and logo.
GRANT SELECT ON public.tenants_tenant TO catalog_sync_owner;

-- The one door of the optional DDL protection (catalog-sync protect): its event
-- trigger functions run as whoever runs the DDL, so the six hardened functions
-- they call (the checks, and the re-sync of a rewritten table) live in a schema
-- everybody may use, and nothing else does.
CREATE SCHEMA catalog_sync_protect AUTHORIZATION catalog_sync_owner;
REVOKE ALL ON SCHEMA catalog_sync_protect FROM PUBLIC;
GRANT USAGE ON SCHEMA catalog_sync_protect TO PUBLIC;
