-- Attach one tenant schema: validate it against the contract, register it,
-- let the machinery read its source tables, install the sync triggers.
-- Idempotent: a second call changes nothing and returns 0 triggers changed.
-- SECURITY INVOKER, for installers (catalog-sync attach, a django-tenants
-- post-schema hook, a DBA): the caller must own the tenant's tables.
-- Does not backfill existing rows; run catalog_sync.backfill_tenant() after.
CREATE OR REPLACE FUNCTION catalog_sync.attach_schema(p_schema text)
RETURNS TABLE (tenant_id bigint, triggers_changed integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_relids oid[];
    v_tables name[];
    v_rel    record;
    v_name   text;
    v_lock   text[] := '{}';
    v_grant  text[] := '{}';
BEGIN
    tenant_id := NULL;
    triggers_changed := 0;
    SELECT array_agg(r.relid ORDER BY r.source_table), array_agg(r.source_table ORDER BY r.source_table),
           min(r.tenant_id)
    INTO v_relids, v_tables, tenant_id
    FROM catalog_sync.register_schema(p_schema) AS r;
    FOR v_rel IN SELECT u.relid, u.source_table
                 FROM unnest(v_relids, v_tables) AS u (relid, source_table) LOOP
        IF NOT pg_catalog.pg_has_role(current_user,
                (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = v_rel.relid), 'USAGE') THEN
            RAISE EXCEPTION 'catalog_sync: role % does not own %', current_user,
                            catalog_sync.qualified_name(v_rel.relid)
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'Attach as the role that owns the tenant tables (or a member of it) that is also a member of catalog_sync_installer.';
        END IF;
        v_name := catalog_sync.qualified_name(v_rel.relid);
        IF NOT pg_catalog.has_table_privilege('catalog_sync_owner', v_rel.relid, 'SELECT') THEN
            v_grant := v_grant || v_name;
            v_lock := v_lock || ('ONLY ' || v_name);
        ELSIF EXISTS (SELECT FROM catalog_sync.trigger_state(v_rel.relid, v_rel.source_table, tenant_id) st
                      WHERE st.state <> 'INSTALLED') THEN
            v_lock := v_lock || ('ONLY ' || v_name);
        END IF;
    END LOOP;
    -- Something to change on these tables: take the lock CREATE TRIGGER needs
    -- first, before the GRANT touches their catalog rows (an autovacuum ANALYZE
    -- in between would otherwise deadlock with us). One statement each for all
    -- tables of the schema (attach of 10,000 schemas runs them 10,000 times).
    IF cardinality(v_lock) > 0 THEN
        EXECUTE format('LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE', array_to_string(v_lock, ', '));
    END IF;
    IF NOT pg_catalog.has_schema_privilege('catalog_sync_owner',
                                           (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname = p_schema),
                                           'USAGE') THEN
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO catalog_sync_owner', p_schema);
    END IF;
    IF cardinality(v_grant) > 0 THEN
        EXECUTE format('GRANT SELECT ON %s TO catalog_sync_owner', array_to_string(v_grant, ', '));
    END IF;
    FOR v_rel IN SELECT u.relid, u.source_table
                 FROM unnest(v_relids, v_tables) AS u (relid, source_table) LOOP
        triggers_changed := triggers_changed
            + catalog_sync.install_triggers(v_rel.relid, v_rel.source_table, tenant_id);
    END LOOP;
    RETURN NEXT;
END
$$;
ALTER FUNCTION catalog_sync.attach_schema(text) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.attach_schema(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.attach_schema(text) TO catalog_sync_installer;
