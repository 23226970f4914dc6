-- Hash of one trigger's definition; attach passes it as the trigger's last
-- argument so that status can tell a current trigger from one left by an older
-- release.
CREATE OR REPLACE FUNCTION catalog_sync.trigger_hash(p_spec catalog_sync.trigger_spec)
RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN 'catalog_sync:' || pg_catalog.md5(pg_catalog.concat_ws('|', 'v1', p_spec.source_table,
           p_spec.trigger_name, p_spec.event, p_spec.function_name));
END
$$;
ALTER FUNCTION catalog_sync.trigger_hash(catalog_sync.trigger_spec) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.trigger_hash(catalog_sync.trigger_spec) FROM PUBLIC;
-- Used by the SECURITY INVOKER installer functions.
GRANT EXECUTE ON FUNCTION catalog_sync.trigger_hash(catalog_sync.trigger_spec) TO catalog_sync_installer;
