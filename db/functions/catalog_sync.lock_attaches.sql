-- Takes the attach locks, (T, 'attach', 0), of the registry's tenants of
-- p_schemas, in tenant order, until the transaction ends: the one place they
-- are taken. register_schemas() takes them before it checks what it
-- registers (concurrent attaches of a tenant queue there); opted_out_schemas()
-- before it reads which tenants were detached on purpose; detach before it
-- reads the tenant's triggers and tables, so that an attach in flight, not yet
-- committed, ends first and is undone by the detach, instead of leaving its
-- triggers and registrations on a tenant marked detached (chaos trial,
-- forty-seventh session: that tenant went on publishing, and repair could not
-- stop it). Before any lock of the tenants' tables.
-- (The form of one schema of that session is dropped.)
DROP FUNCTION IF EXISTS catalog_sync.lock_schema_attach(text);
CREATE OR REPLACE FUNCTION catalog_sync.lock_attaches(p_schemas text[])
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM pg_catalog.pg_advisory_xact_lock(catalog_sync.lock_key(x.id, 'attach', 0))
    FROM (SELECT DISTINCT r.tenant_id AS id FROM catalog_sync.registry_rows(p_schemas) AS r ORDER BY 1) AS x;
END
$$;
ALTER FUNCTION catalog_sync.lock_attaches(text[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.lock_attaches(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.lock_attaches(text[]) TO catalog_sync_installer;
