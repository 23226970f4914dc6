-- Roles of the catalog machinery. Roles are cluster-wide, so they are created
-- only when absent; none of them can log in.
--   catalog_sync_owner      owns the machinery schema, the catalog tables and every
--                           function; SECURITY DEFINER functions run as this role.
--                           Not a superuser, no BYPASSRLS.
--   catalog_reader          SELECT on the catalog tables (grant it to the web tier).
--   catalog_sync_installer  may attach/detach tenant schemas, backfill and verify
--                           (grant it to the DBA or deploy role, never to tenants).
DO $roles$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'catalog_sync_owner') THEN
        CREATE ROLE catalog_sync_owner NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'catalog_reader') THEN
        CREATE ROLE catalog_reader NOLOGIN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'catalog_sync_installer') THEN
        CREATE ROLE catalog_sync_installer NOLOGIN;
    END IF;
END
$roles$;
-- USAGE on schema public, where PUBLIC lacks it: a DBA who closed public to
-- PUBLIC (docs/operations.md, "Per-tenant roles: attach --tenant-role") granted
-- it to these roles by name, and an uninstall dropped the roles with their
-- grants. The roles created again would lack it, and every command, the web
-- tier's reads included, would fail with "permission denied for schema public".
DO $usage$
BEGIN
    IF NOT pg_catalog.has_schema_privilege('public', 'public', 'USAGE') THEN
        GRANT USAGE ON SCHEMA public TO catalog_sync_owner, catalog_reader, catalog_sync_installer;
    END IF;
END
$usage$;
