-- LOCK TABLE of the tables p_relids in p_mode (SHARE ROW EXCLUSIVE: what
-- CREATE TRIGGER takes; ACCESS EXCLUSIVE: DROP TRIGGER's), in the order
-- given, as the tables' owner. LOCK takes names only, and looks a name up
-- again once its wait ends: a tenant that, during the wait, renamed its
-- table away (or its schema, and another schema of its own into the
-- schema's name) and put a view under the name had the view locked, and
-- every relation the view reads, in the same mode, with the privileges of
-- the current user for a security_invoker view. An attach run as a
-- superuser took SHARE ROW EXCLUSIVE on pg_class and public.job_catalog, or
-- queued for ACCESS EXCLUSIVE on pg_class and stalled every session of the
-- database (security red team, fifty-second session; a schema's rename,
-- which takes no lock on its tables, its review). Run as the tables' owner
-- (SET ROLE, for this statement only), LOCK locks what a view reads only
-- where that role could lock it itself: never pg_class or a catalog in these
-- modes (they need UPDATE, DELETE or TRUNCATE). Then every name must still
-- mean its table (else 40001: attach and detach try again). One statement
-- per owner (a chunk of uninstall spans tenants), in the order of their
-- first table. SECURITY INVOKER, for callers that own the tables or are
-- members of their owners (SET ROLE needs that: attach's ownership check,
-- or a superuser). A table whose owner has no USAGE on its schema is locked
-- as the caller (that owner can neither name nor rename it; the schema's
-- owner could). Relations dropped meanwhile are left out.
CREATE OR REPLACE FUNCTION catalog_sync.lock_tables_by_name(p_relids oid[], p_mode text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_group record;
    v_role  text := pg_catalog.current_setting('role');
    v_switch boolean;
BEGIN
    IF p_mode IS DISTINCT FROM 'SHARE ROW EXCLUSIVE' AND p_mode IS DISTINCT FROM 'ACCESS EXCLUSIVE' THEN
        RAISE EXCEPTION 'catalog_sync: lock_tables_by_name() takes SHARE ROW EXCLUSIVE or ACCESS EXCLUSIVE, not %',
            p_mode;
    END IF;
    FOR v_group IN
        SELECT y.rolname, array_agg(y.relid ORDER BY y.n) AS relids, array_agg(y.name ORDER BY y.n) AS names
        FROM (SELECT x.relid, x.n, x.name,
                     -- (an owner without USAGE on its tables' schema cannot name them, nor
                     -- rename them: the caller locks those as itself)
                     CASE WHEN pg_catalog.has_schema_privilege(c.relowner, c.relnamespace, 'USAGE')
                          THEN r.rolname::text ELSE current_user::text END AS rolname
              FROM (SELECT u.relid, u.n, catalog_sync.qualified_name(u.relid) AS name
                    FROM unnest(p_relids) WITH ORDINALITY AS u (relid, n)) AS x
              JOIN pg_catalog.pg_class c ON c.oid = x.relid
              JOIN pg_catalog.pg_roles r ON r.oid = c.relowner
              WHERE x.name IS NOT NULL) AS y
        GROUP BY y.rolname
        ORDER BY min(y.n)
    LOOP
        v_switch := v_group.rolname <> current_user::text;   -- (not for the application role's own tables)
        IF v_switch THEN
            PERFORM pg_catalog.set_config('role', v_group.rolname, true);
        END IF;
        EXECUTE 'LOCK TABLE ONLY ' || array_to_string(v_group.names, ', ONLY ') || ' IN ' || p_mode || ' MODE';
        IF v_switch THEN
            PERFORM pg_catalog.set_config('role', v_role, true);
        END IF;
        IF EXISTS (SELECT FROM unnest(v_group.relids, v_group.names) AS u (relid, name)
                   WHERE pg_catalog.to_regclass(u.name) IS DISTINCT FROM u.relid) THEN
            RAISE EXCEPTION 'catalog_sync: a table to lock was renamed, or its name taken by another relation, '
                            'while this transaction waited for its lock'
                USING ERRCODE = 'serialization_failure',
                      HINT = 'Run it again (catalog-sync attach and detach try again by themselves).';
        END IF;
    END LOOP;
END
$$;
ALTER FUNCTION catalog_sync.lock_tables_by_name(oid[], text) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.lock_tables_by_name(oid[], text) FROM PUBLIC;
-- Used by the SECURITY INVOKER installer functions.
GRANT EXECUTE ON FUNCTION catalog_sync.lock_tables_by_name(oid[], text) TO catalog_sync_installer;
