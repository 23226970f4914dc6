-- Attach tenant schemas (what `catalog-sync attach` runs per chunk, and what
-- attach_schema() runs for one): validate them against the contract, register
-- them, let the machinery read their source tables, install the sync
-- triggers. One row per schema, each once, in the order named. Idempotent: a
-- second call changes nothing and returns 0 triggers changed. An error rolls
-- the whole call back. SECURITY INVOKER, for installers (catalog-sync attach, a
-- django-tenants post-schema hook, a DBA): the caller must own the tenants'
-- tables, and the schema where the machinery has no USAGE on it yet
-- (ownership_problem(); a grantee WITH GRANT OPTION is refused too: a GRANT
-- that grants nothing only warns, and the tenant's writes would then fail).
-- Does not backfill existing rows; run catalog_sync.backfill_tenant() after.
-- Batched where a batch is cheaper: the contract check and the registry rows
-- of all schemas in one register_schemas() call, and the GRANT USAGE ON
-- SCHEMA ... TO catalog_sync_owner of every listed schema that lacks it and
-- that the caller may grant (it owns it, or is a member of its owner) in one
-- statement. Each such GRANT updates pg_namespace, which invalidates every
-- cached plan of the session, so granting schema by schema re-plans every query
-- of the attach path once per schema (about 7 ms per schema, measured).
CREATE OR REPLACE FUNCTION catalog_sync.attach_schemas(p_schemas text[])
RETURNS TABLE (schema_name text, tenant_id bigint, triggers_changed integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_schema  record;
    v_problem text;
    v_pending oid[];
    v_dropping oid[];
    v_grant   text;
    v_lock    oid[];
    v_lock_exclusive oid[];
    v_granted boolean := false;
BEGIN
    FOR v_schema IN
        SELECT r.schema_name, min(r.tenant_id) AS tenant_id,
               array_agg(r.relid ORDER BY r.n) AS relids, array_agg(r.source_table ORDER BY r.n) AS tables
        FROM catalog_sync.register_schemas(p_schemas) WITH ORDINALITY AS r (schema_name, tenant_id, relid, source_table, n)
        GROUP BY r.schema_name
        ORDER BY min(r.n)
    LOOP
        -- Once, first: the schema grants of the batch. Not before
        -- register_schemas(): it takes the tenants' attach locks, so a
        -- concurrent attach of the same schemas has committed its grants by
        -- now (two GRANTs of one schema at once fail: tuple concurrently updated).
        IF NOT v_granted THEN
            SELECT string_agg(format('%I', n.nspname), ', ' ORDER BY n.nspname) INTO v_grant
            FROM pg_catalog.pg_namespace n
            WHERE n.nspname = ANY (p_schemas)
              AND pg_catalog.pg_has_role(current_user, n.nspowner, 'USAGE')
              AND NOT pg_catalog.has_schema_privilege('catalog_sync_owner', n.oid, 'USAGE');
            IF v_grant IS NOT NULL THEN
                EXECUTE 'GRANT USAGE ON SCHEMA ' || v_grant || ' TO catalog_sync_owner';
            END IF;
            v_granted := true;
        END IF;
        schema_name := v_schema.schema_name;
        tenant_id := v_schema.tenant_id;
        v_problem := catalog_sync.ownership_problem(
                         v_schema.relids,
                         (SELECT n.oid FROM pg_catalog.pg_namespace n
                          WHERE n.nspname = v_schema.schema_name::name AND n.nspname::text = v_schema.schema_name));
        IF v_problem IS NOT NULL THEN
            RAISE EXCEPTION 'catalog_sync: %', v_problem
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'Attach as the role that owns the tenant tables (or a member of it) that is also a member of catalog_sync_installer, or as a superuser.';
        END IF;
        -- Tables the machinery cannot read yet get a GRANT; they and the tables
        -- with a trigger to change get a lock. One query each for the schema.
        -- A table with an EXTRA trigger gets the lock DROP TRIGGER takes
        -- (ACCESS EXCLUSIVE) at once: upgrading from the lock CREATE TRIGGER
        -- takes deadlocked with an application transaction that read the
        -- table and then wrote it (review, twenty-second session).
        SELECT coalesce(array_agg(DISTINCT st.relid) FILTER (WHERE st.state <> 'EXTRA'), '{}'),
               coalesce(array_agg(DISTINCT st.relid) FILTER (WHERE st.state = 'EXTRA'), '{}')
        INTO v_pending, v_dropping
        FROM catalog_sync.trigger_states(v_schema.relids, v_schema.tables, v_schema.tenant_id) AS st
        WHERE st.state <> 'INSTALLED';
        SELECT string_agg(q.name, ', ' ORDER BY q.n) FILTER (WHERE NOT q.readable),
               array_agg(q.relid ORDER BY q.n)
                   FILTER (WHERE (NOT q.readable OR q.relid = ANY (v_pending)) AND q.relid <> ALL (v_dropping)),
               array_agg(q.relid ORDER BY q.n) FILTER (WHERE q.relid = ANY (v_dropping))
        INTO v_grant, v_lock, v_lock_exclusive
        FROM (SELECT u.relid, u.n, catalog_sync.qualified_name(u.relid) AS name,
                     pg_catalog.has_table_privilege('catalog_sync_owner', u.relid, 'SELECT') AS readable
              FROM unnest(v_schema.relids) WITH ORDINALITY AS u (relid, n)) AS q;
        -- Something to change on these tables: take the lock CREATE TRIGGER
        -- needs first, before the GRANT touches their catalog rows (an
        -- autovacuum ANALYZE in between would otherwise deadlock with us).
        -- One statement each for all tables of the schema, through
        -- lock_tables_by_name(): a name the tenant moves during the wait must
        -- not lock what it then names (a view, and what the view reads).
        IF v_lock_exclusive IS NOT NULL THEN
            PERFORM catalog_sync.lock_tables_by_name(v_lock_exclusive, 'ACCESS EXCLUSIVE');
        END IF;
        IF v_lock IS NOT NULL THEN
            PERFORM catalog_sync.lock_tables_by_name(v_lock, 'SHARE ROW EXCLUSIVE');
        END IF;
        IF NOT pg_catalog.has_schema_privilege('catalog_sync_owner',
                                               (SELECT n.oid FROM pg_catalog.pg_namespace n
                                                WHERE n.nspname = v_schema.schema_name::name
                                                  AND n.nspname::text = v_schema.schema_name),
                                               'USAGE') THEN
            EXECUTE format('GRANT USAGE ON SCHEMA %I TO catalog_sync_owner', v_schema.schema_name);
        END IF;
        IF v_grant IS NOT NULL THEN
            EXECUTE 'GRANT SELECT ON ' || v_grant || ' TO catalog_sync_owner';
        END IF;
        -- (Looks at the triggers again: the lock may have waited for a change.)
        triggers_changed := catalog_sync.install_triggers(v_schema.relids, v_schema.tables, v_schema.tenant_id);
        RETURN NEXT;
    END LOOP;
END
$$;
ALTER FUNCTION catalog_sync.attach_schemas(text[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.attach_schemas(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.attach_schemas(text[]) TO catalog_sync_installer;
