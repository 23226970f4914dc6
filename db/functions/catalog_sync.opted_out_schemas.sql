-- Of p_schemas, those whose tenant is detached on purpose (an opt-out:
-- detached_at set, not by the sync itself), read after taking the tenants'
-- attach locks (lock_attaches()). attach --all and repair read their list of
-- schemas before they attach: a detach committed since was undone by the
-- attach (chaos trial, forty-seventh session). Called first in the attach's
-- transaction, it sees that detach, and a later one waits for the attach
-- (lock_attaches()) and undoes it.
CREATE OR REPLACE FUNCTION catalog_sync.opted_out_schemas(p_schemas text[])
RETURNS SETOF text
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM catalog_sync.lock_attaches(p_schemas);
    RETURN QUERY
    SELECT r.tenant_schema
    FROM catalog_sync.registry_rows(p_schemas) AS r
    JOIN catalog_sync.tenant t ON t.tenant_id = r.tenant_id
    WHERE t.detached_at IS NOT NULL AND t.detached_because IS NULL;
END
$$;
ALTER FUNCTION catalog_sync.opted_out_schemas(text[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.opted_out_schemas(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.opted_out_schemas(text[]) TO catalog_sync_installer;
