-- Waits for an attach of the tenant whose schema p_schema is (the registry's
-- tenant of that name) and holds its attach lock, (T, 'attach', 0), which
-- register_schemas() takes, until the transaction ends. detach takes it before
-- it reads the tenant's triggers and tables: an attach in flight, not yet
-- committed, then ends first and is undone by the detach, instead of leaving
-- its triggers and registrations on a tenant marked detached (chaos trial,
-- forty-seventh session: that tenant went on publishing, and repair could not
-- stop it). Before the tables' locks, as in attach.
CREATE OR REPLACE FUNCTION catalog_sync.lock_schema_attach(p_schema text)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_tenant_id bigint;
BEGIN
    SELECT g.tenant_id INTO v_tenant_id FROM catalog_sync.schema_registration(p_schema) AS g;
    IF v_tenant_id IS NOT NULL THEN
        PERFORM pg_catalog.pg_advisory_xact_lock(catalog_sync.lock_key(v_tenant_id, 'attach', 0));
    END IF;
END
$$;
ALTER FUNCTION catalog_sync.lock_schema_attach(text) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.lock_schema_attach(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.lock_schema_attach(text) TO catalog_sync_installer;
