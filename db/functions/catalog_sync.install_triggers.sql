-- Create (or bring up to date) the spec's triggers on each relation
-- p_relids[i] (a p_source_tables[i] of tenant p_tenant_id; NULL for
-- public.tenants_tenant), ENABLE ALWAYS (so session_replication_role = replica
-- does not skip them either), with the definition hash as last trigger
-- argument; drop sync triggers the spec does not have (EXTRA). (An argument, not a
-- COMMENT: one statement less per trigger, and only an installer can write it;
-- a table owner can comment on any trigger.) Triggers already INSTALLED are not
-- touched (no lock taken on their table beyond the catalog reads). All
-- relations of a schema in one call: one query finds what to change, one
-- finds what to drop (attach of 10,000 schemas runs this 10,000 times).
-- SECURITY INVOKER: the caller must own the tables and hold EXECUTE on the
-- sync functions (catalog_sync_installer).
-- Returns the number of triggers created, replaced or dropped.
CREATE OR REPLACE FUNCTION catalog_sync.install_triggers(p_relids oid[], p_source_tables name[], p_tenant_id bigint)
RETURNS integer
LANGUAGE plpgsql
-- (Planned once per session, see trigger_states().)
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_rel     record;
    v_name    text;
    v_spec    catalog_sync.trigger_spec;
    v_changed integer := 0;
    v_enable  text[];
    v_relids  oid[];
    v_tables  name[];
    v_names   name[];
    v_states  text[];
    v_dropping oid[];
    v_locked  boolean := false;
BEGIN
    -- What to change, from one trigger_states() call (attach of 10,000
    -- schemas makes 10,000 of them: review, twenty-second session). A relation
    -- with a trigger to drop gets DROP TRIGGER's lock first: taken after the
    -- weaker one CREATE TRIGGER takes, it is an upgrade, which deadlocks with
    -- a writer that read the table first (attach_schemas() takes it up front
    -- too; the registry's repair comes here alone). Then the states are read
    -- again: the lock may have waited for a change.
    LOOP
        SELECT array_agg(st.relid), array_agg(st.source_table), array_agg(st.trigger_name), array_agg(st.state)
        INTO v_relids, v_tables, v_names, v_states
        FROM catalog_sync.trigger_states(p_relids, p_source_tables, p_tenant_id) AS st
        WHERE st.state <> 'INSTALLED';
        IF v_relids IS NULL THEN
            RETURN 0;
        END IF;
        EXIT WHEN v_locked;
        -- (by name, as LOCK takes them, but never a view put under a name
        -- during the wait: lock_tables_by_name())
        v_dropping := ARRAY(SELECT DISTINCT u.relid FROM unnest(v_relids, v_states) AS u (relid, state)
                            WHERE u.state = 'EXTRA' AND catalog_sync.qualified_name(u.relid) IS NOT NULL
                            ORDER BY u.relid);         -- (no name: dropped meanwhile)
        EXIT WHEN v_dropping = '{}';
        PERFORM catalog_sync.lock_tables_by_name(v_dropping, 'ACCESS EXCLUSIVE');
        v_locked := true;
    END LOOP;
    FOR v_rel IN SELECT u.relid, array_agg(s ORDER BY s.trigger_name) AS specs
                 FROM unnest(v_relids, v_tables, v_names, v_states) AS u (relid, source_table, trigger_name, state)
                 JOIN catalog_sync.trigger_spec s
                   ON s.source_table = u.source_table AND s.trigger_name = u.trigger_name
                 WHERE u.state <> 'EXTRA'
                 GROUP BY u.relid
                 ORDER BY u.relid LOOP
        v_name := catalog_sync.qualified_name(v_rel.relid);
        v_enable := '{}';
        FOREACH v_spec IN ARRAY v_rel.specs LOOP
            EXECUTE format('CREATE OR REPLACE TRIGGER %I AFTER %s ON %s %s FOR EACH STATEMENT '
                           'EXECUTE FUNCTION catalog_sync.%I(%s)',
                           v_spec.trigger_name, v_spec.event, v_name,
                           CASE v_spec.event
                               WHEN 'INSERT' THEN 'REFERENCING NEW TABLE AS new_rows'
                               WHEN 'UPDATE' THEN 'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows'
                               WHEN 'DELETE' THEN 'REFERENCING OLD TABLE AS old_rows'
                               ELSE ''
                           END,
                           v_spec.function_name,
                           concat_ws(', ', quote_literal(p_tenant_id::text),
                                     quote_literal(catalog_sync.trigger_hash(v_spec))));
            v_enable := v_enable || format('ENABLE ALWAYS TRIGGER %I', v_spec.trigger_name);
            v_changed := v_changed + 1;
        END LOOP;
        -- One ALTER TABLE for all triggers of the table.
        EXECUTE format('ALTER TABLE %s %s', v_name, array_to_string(v_enable, ', '));
    END LOOP;

    FOR v_rel IN SELECT u.relid, u.trigger_name
                 FROM unnest(v_relids, v_names, v_states) AS u (relid, trigger_name, state)
                 WHERE u.state = 'EXTRA'
                 ORDER BY u.relid, u.trigger_name LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', v_rel.trigger_name, catalog_sync.qualified_name(v_rel.relid));
        v_changed := v_changed + 1;
    END LOOP;
    RETURN v_changed;
END
$$;
ALTER FUNCTION catalog_sync.install_triggers(oid[], name[], bigint) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.install_triggers(oid[], name[], bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.install_triggers(oid[], name[], bigint) TO catalog_sync_installer;
