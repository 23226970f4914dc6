-- Drop every trigger on a relation that calls a catalog_sync function.
-- SECURITY INVOKER: the caller must own the table.
CREATE OR REPLACE FUNCTION catalog_sync.drop_triggers(p_relid oid)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_name    name;
    v_dropped integer := 0;
BEGIN
    FOR v_name IN
        SELECT tg.tgname FROM pg_catalog.pg_trigger tg
        JOIN pg_catalog.pg_proc p ON p.oid = tg.tgfoid
        WHERE tg.tgrelid = p_relid AND p.pronamespace = 'catalog_sync'::regnamespace
        ORDER BY tg.tgname
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', v_name, catalog_sync.qualified_name(p_relid));
        v_dropped := v_dropped + 1;
    END LOOP;
    RETURN v_dropped;
END
$$;
ALTER FUNCTION catalog_sync.drop_triggers(oid) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.drop_triggers(oid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.drop_triggers(oid) TO catalog_sync_installer;
