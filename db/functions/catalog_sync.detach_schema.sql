-- Detach one tenant schema: drop its sync triggers, forget its tables and mark
-- it detached (verify then leaves it alone). Its catalog rows stay (verify
-- reports them as unattached_rows) unless p_purge, which says how many rows of
-- each catalog it deleted. SECURITY INVOKER: the caller
-- must own the tenant's tables. p_because: detached by the sync itself, not on
-- purpose (repair, after a source table was gone: see
-- catalog_sync.tenant.detached_because).
-- (An older form without p_because is dropped.)
DROP FUNCTION IF EXISTS catalog_sync.detach_schema(text, boolean);
-- (An older form returned no purged counts: dropped, since CREATE OR REPLACE
-- cannot change a function's result type.)
DO $$
BEGIN
    IF pg_catalog.pg_get_function_result(pg_catalog.to_regprocedure('catalog_sync.detach_schema(text, boolean, text)'))
       NOT LIKE '%jobs_purged%' THEN
        DROP FUNCTION catalog_sync.detach_schema(text, boolean, text);
    END IF;
END
$$;
CREATE OR REPLACE FUNCTION catalog_sync.detach_schema(p_schema text, p_purge boolean DEFAULT false,
                                                      p_because text DEFAULT NULL)
RETURNS TABLE (tenant_id bigint, triggers_dropped integer, jobs_purged bigint, providers_purged bigint,
               services_purged bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_rel     record;
    v_problem text;
BEGIN
    triggers_dropped := 0;
    jobs_purged := 0;
    providers_purged := 0;
    services_purged := 0;
    -- An attach of the tenant in flight ends first; what follows reads what it
    -- committed (lock_attaches()).
    PERFORM catalog_sync.lock_attaches(ARRAY[p_schema]);
    -- Refused before anything is dropped, in attach's words: DROP TRIGGER
    -- needs the owner, and its own error names neither the schema nor the fix
    -- ("permission denied for schema" without USAGE on it).
    v_problem := catalog_sync.ownership_problem(
                     ARRAY(SELECT r.relid FROM catalog_sync.schema_sync_triggers(p_schema) AS r
                           WHERE r.triggers > 0 ORDER BY r.relid));
    IF v_problem IS NOT NULL THEN
        RAISE EXCEPTION 'catalog_sync: %', v_problem
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Detach as the role that owns the tenant tables (or a member of it) that is also a member of catalog_sync_installer, or as a superuser.';
    END IF;
    -- (Tables already dropped are gone from pg_class, so not listed.)
    FOR v_rel IN SELECT r.relid FROM catalog_sync.schema_sync_triggers(p_schema) AS r LOOP
        triggers_dropped := triggers_dropped + catalog_sync.drop_triggers(v_rel.relid);
    END LOOP;
    -- A schema the sync knows nothing of any more (its tenant deleted from the
    -- registry) only loses the triggers left on it; with none, it is an error
    -- (unregister_schema() says which).
    IF triggers_dropped = 0 OR (SELECT g.state FROM catalog_sync.schema_registration(p_schema) AS g) <> 'unknown' THEN
        SELECT u.tenant_id, u.jobs_purged, u.providers_purged, u.services_purged
        INTO tenant_id, jobs_purged, providers_purged, services_purged
        FROM catalog_sync.unregister_schema(p_schema, p_purge, p_because) AS u;
    END IF;
    RETURN NEXT;
END
$$;
ALTER FUNCTION catalog_sync.detach_schema(text, boolean, text) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.detach_schema(text, boolean, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.detach_schema(text, boolean, text) TO catalog_sync_installer;
