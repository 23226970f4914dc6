-- LOCK TABLE of the tables p_relids in p_mode (SHARE ROW EXCLUSIVE: what
-- CREATE TRIGGER takes; ACCESS EXCLUSIVE: DROP TRIGGER's), in the order
-- given, without the trap of a name that moves during the wait. LOCK takes
-- names only, and looks a name up again once its wait ends: a tenant that
-- renamed its table away meanwhile and put a view under the name had the
-- view locked, with every relation the view reads, in the same mode,
-- checked as the current user. An attach run as a superuser took SHARE ROW
-- EXCLUSIVE on pg_class and public.job_catalog, or queued for ACCESS
-- EXCLUSIVE on pg_class and stalled every session of the database (security
-- red team, fifty-second session). So the names are locked ACCESS SHARE
-- first, a mode that waits only for DDL and that a view's relations may
-- take harmlessly (any reader takes it); then every name must still mean
-- its table (else 40001: the caller tries again), and while that lock is
-- held nothing can rename it or take its name, so the LOCK in p_mode, which
-- may wait for the tenant's writers, locks exactly these tables. (A
-- transaction of the tenant that wrote the table and then alters it
-- deadlocks with that wait; PostgreSQL ends one, and attach tries a chunk
-- again after a deadlock.) SECURITY INVOKER: the caller's own privileges.
-- Relations dropped meanwhile are left out.
CREATE OR REPLACE FUNCTION catalog_sync.lock_tables_by_name(p_relids oid[], p_mode text)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_names text[];
    v_relids oid[];
BEGIN
    IF p_mode IS DISTINCT FROM 'SHARE ROW EXCLUSIVE' AND p_mode IS DISTINCT FROM 'ACCESS EXCLUSIVE' THEN
        RAISE EXCEPTION 'catalog_sync: lock_tables_by_name() takes SHARE ROW EXCLUSIVE or ACCESS EXCLUSIVE, not %',
            p_mode;
    END IF;
    SELECT array_agg(x.name ORDER BY x.n), array_agg(x.relid ORDER BY x.n)
    INTO v_names, v_relids
    FROM (SELECT u.relid, u.n, catalog_sync.qualified_name(u.relid) AS name
          FROM unnest(p_relids) WITH ORDINALITY AS u (relid, n)) AS x
    WHERE x.name IS NOT NULL;
    IF v_names IS NULL THEN
        RETURN;
    END IF;
    EXECUTE 'LOCK TABLE ONLY ' || array_to_string(v_names, ', ONLY ') || ' IN ACCESS SHARE MODE';
    -- Whatever a name meant when its lock was granted keeps that name while
    -- the lock is held (a rename or a drop needs ACCESS EXCLUSIVE): the name
    -- meaning its table now is the proof that the table is the one locked.
    -- (No pg_locks: it copies the whole lock table, and an attach of 200
    -- schemas a chunk would read it 200 times while holding 1,600 locks.)
    IF EXISTS (SELECT FROM unnest(v_relids, v_names) AS u (relid, name)
               WHERE pg_catalog.to_regclass(u.name) IS DISTINCT FROM u.relid) THEN
        RAISE EXCEPTION 'catalog_sync: a table to lock was renamed, or its name taken by another relation, '
                        'while this transaction waited for its lock'
            USING ERRCODE = 'serialization_failure',
                  HINT = 'Run it again (catalog-sync attach and detach try again by themselves).';
    END IF;
    EXECUTE 'LOCK TABLE ONLY ' || array_to_string(v_names, ', ONLY ') || ' IN ' || p_mode || ' MODE';
END
$$;
ALTER FUNCTION catalog_sync.lock_tables_by_name(oid[], text) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.lock_tables_by_name(oid[], text) FROM PUBLIC;
-- Used by the SECURITY INVOKER installer functions.
GRANT EXECUTE ON FUNCTION catalog_sync.lock_tables_by_name(oid[], text) TO catalog_sync_installer;
