-- Create (or bring up to date) the spec's triggers on one relation, ENABLE
-- ALWAYS (so session_replication_role = replica does not skip them either), with
-- the definition hash as last trigger argument; drop sync triggers the spec no
-- longer has. (An argument, not a COMMENT: one statement less per trigger, and
-- only an installer can write it; a table owner can comment on any trigger.)
-- Triggers already INSTALLED are not touched (no lock taken on their table
-- beyond the catalog reads). SECURITY INVOKER: the caller must own the table
-- and hold EXECUTE on the sync functions (catalog_sync_installer).
-- Returns the number of triggers created or replaced.
CREATE OR REPLACE FUNCTION catalog_sync.install_triggers(p_relid oid, p_source_table name, p_tenant_id bigint)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_rel     text := catalog_sync.qualified_name(p_relid);
    v_spec    catalog_sync.trigger_spec;
    v_stale   name;
    v_changed integer := 0;
    v_enable  text[] := '{}';
BEGIN
    FOR v_spec IN SELECT s.* FROM catalog_sync.trigger_spec s
                  JOIN catalog_sync.trigger_state(p_relid, p_source_table, p_tenant_id) st
                    ON st.trigger_name = s.trigger_name
                  WHERE s.source_table = p_source_table AND st.state <> 'INSTALLED'
                  ORDER BY s.trigger_name LOOP
        EXECUTE format('CREATE OR REPLACE TRIGGER %I AFTER %s ON %s %s FOR EACH STATEMENT '
                       'EXECUTE FUNCTION catalog_sync.%I(%s)',
                       v_spec.trigger_name, v_spec.event, v_rel,
                       CASE v_spec.event
                           WHEN 'INSERT' THEN 'REFERENCING NEW TABLE AS new_rows'
                           WHEN 'UPDATE' THEN 'REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows'
                           WHEN 'DELETE' THEN 'REFERENCING OLD TABLE AS old_rows'
                           ELSE ''
                       END,
                       v_spec.function_name,
                       concat_ws(', ', quote_literal(p_tenant_id::text), quote_literal(catalog_sync.trigger_hash(v_spec))));
        v_enable := v_enable || format('ENABLE ALWAYS TRIGGER %I', v_spec.trigger_name);
        v_changed := v_changed + 1;
    END LOOP;
    -- One ALTER TABLE for all of them (attach of 10,000 schemas runs this 80,000 times).
    IF cardinality(v_enable) > 0 THEN
        EXECUTE format('ALTER TABLE %s %s', v_rel, array_to_string(v_enable, ', '));
    END IF;

    FOR v_stale IN
        SELECT tg.tgname FROM pg_catalog.pg_trigger tg
        JOIN pg_catalog.pg_proc p ON p.oid = tg.tgfoid
        WHERE tg.tgrelid = p_relid AND p.pronamespace = 'catalog_sync'::regnamespace
          AND tg.tgname NOT IN (SELECT s.trigger_name FROM catalog_sync.trigger_spec s
                                WHERE s.source_table = p_source_table)
    LOOP
        EXECUTE format('DROP TRIGGER %I ON %s', v_stale, v_rel);
        v_changed := v_changed + 1;
    END LOOP;
    RETURN v_changed;
END
$$;
ALTER FUNCTION catalog_sync.install_triggers(oid, name, bigint) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.install_triggers(oid, name, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.install_triggers(oid, name, bigint) TO catalog_sync_installer;
