-- Detach one tenant schema: drop its sync triggers, forget its tables and mark
-- it detached (verify then leaves it alone). Its catalog rows stay (verify
-- reports them as unattached_rows) unless p_purge. SECURITY INVOKER: the caller
-- must own the tenant's tables.
CREATE OR REPLACE FUNCTION catalog_sync.detach_schema(p_schema text, p_purge boolean DEFAULT false)
RETURNS TABLE (tenant_id bigint, triggers_dropped integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_rel record;
BEGIN
    triggers_dropped := 0;
    -- (Tables already dropped are gone from pg_class, so not listed.)
    FOR v_rel IN SELECT r.relid FROM catalog_sync.schema_sync_triggers(p_schema) AS r LOOP
        triggers_dropped := triggers_dropped + catalog_sync.drop_triggers(v_rel.relid);
    END LOOP;
    -- A schema the sync knows nothing of any more (its tenant deleted from the
    -- registry) only loses the triggers left on it; with none, it is an error
    -- (unregister_schema() says which).
    IF triggers_dropped = 0 OR (SELECT g.state FROM catalog_sync.schema_registration(p_schema) AS g) <> 'unknown' THEN
        SELECT u.tenant_id INTO tenant_id FROM catalog_sync.unregister_schema(p_schema, p_purge) AS u;
    END IF;
    RETURN NEXT;
END
$$;
ALTER FUNCTION catalog_sync.detach_schema(text, boolean) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.detach_schema(text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.detach_schema(text, boolean) TO catalog_sync_installer;
