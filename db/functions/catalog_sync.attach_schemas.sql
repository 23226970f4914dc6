-- attach_schema() for several schemas in one call (what `catalog-sync attach`
-- runs per chunk). Same rules, same result per schema, plus one thing done for
-- the whole batch first: the GRANT USAGE ON SCHEMA ... TO catalog_sync_owner
-- of every listed schema that lacks it and that the caller may grant (it owns
-- it, or is a member of its owner). Each such GRANT updates pg_namespace, which
-- invalidates every cached plan of the session, so granting schema by schema
-- re-plans every query of the attach path once per schema (about 7 ms per
-- schema, measured); one statement re-plans once per batch. Schemas are still
-- validated one by one by attach_schema(); an error rolls the whole call back,
-- the GRANT included. SECURITY INVOKER, like attach_schema().
CREATE OR REPLACE FUNCTION catalog_sync.attach_schemas(p_schemas text[])
RETURNS TABLE (schema_name text, tenant_id bigint, triggers_changed integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_grant  text;
    v_schema text;
BEGIN
    SELECT string_agg(format('%I', n.nspname), ', ' ORDER BY n.nspname) INTO v_grant
    FROM pg_catalog.pg_namespace n
    WHERE n.nspname = ANY (p_schemas)
      AND pg_catalog.pg_has_role(current_user, n.nspowner, 'USAGE')
      AND NOT pg_catalog.has_schema_privilege('catalog_sync_owner', n.oid, 'USAGE');
    IF v_grant IS NOT NULL THEN
        EXECUTE 'GRANT USAGE ON SCHEMA ' || v_grant || ' TO catalog_sync_owner';
    END IF;
    FOREACH v_schema IN ARRAY coalesce(p_schemas, '{}') LOOP
        SELECT v_schema, a.tenant_id, a.triggers_changed INTO schema_name, tenant_id, triggers_changed
        FROM catalog_sync.attach_schema(v_schema) AS a;
        RETURN NEXT;
    END LOOP;
END
$$;
ALTER FUNCTION catalog_sync.attach_schemas(text[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.attach_schemas(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.attach_schemas(text[]) TO catalog_sync_installer;
