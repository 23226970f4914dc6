-- Why the calling role may not change the sync triggers of these tables, or
-- NULL when it may: CREATE and DROP TRIGGER need the table's owner (or a
-- member of it, or a superuser). With p_schema, also the schema's owner when
-- the machinery has no USAGE on it yet (attach grants it). The one check and
-- the one wording of attach_schemas(), detach_schema() and the tool's
-- pre-flight (attach --all, verify --repair, detach --dry-run).
-- SECURITY INVOKER: it asks about current_user, so it must not be called from
-- a definer function (the callers are the installer's invoker functions and
-- the tool's own session).
CREATE OR REPLACE FUNCTION catalog_sync.ownership_problem(p_relids oid[], p_schema oid DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql STABLE   -- (not sql: a SQL function with a SET clause is planned on every call)
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_problem text;
BEGIN
    SELECT 'role ' || quote_ident(current_user) || ' does not own ' || catalog_sync.qualified_name(c.oid)
    INTO v_problem
    FROM unnest(p_relids) WITH ORDINALITY AS u (relid, n)
    JOIN pg_catalog.pg_class c ON c.oid = u.relid
    WHERE NOT pg_catalog.pg_has_role(c.relowner, 'USAGE')
    ORDER BY u.n
    LIMIT 1;
    IF v_problem IS NULL THEN
        SELECT 'role ' || quote_ident(current_user) || ' does not own schema ' || quote_ident(n.nspname)
               || ' (attach grants catalog_sync_owner USAGE on it)'
        INTO v_problem
        FROM pg_catalog.pg_namespace n
        WHERE n.oid = p_schema
          AND NOT pg_catalog.has_schema_privilege('catalog_sync_owner', n.oid, 'USAGE')
          AND NOT pg_catalog.pg_has_role(n.nspowner, 'USAGE');
    END IF;
    RETURN v_problem;
END
$$;
ALTER FUNCTION catalog_sync.ownership_problem(oid[], oid) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.ownership_problem(oid[], oid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.ownership_problem(oid[], oid) TO catalog_sync_installer;
