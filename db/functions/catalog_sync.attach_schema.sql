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
    v_rel   record;
    v_grant boolean := false;
BEGIN
    tenant_id := NULL;
    triggers_changed := 0;
    FOR v_rel IN SELECT * FROM catalog_sync.register_schema(p_schema) LOOP
        tenant_id := v_rel.tenant_id;
        IF NOT pg_catalog.pg_has_role(current_user,
                (SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = v_rel.relid), 'USAGE') THEN
            RAISE EXCEPTION 'catalog_sync: role % does not own %', current_user,
                            catalog_sync.qualified_name(v_rel.relid)
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'Attach as the role that owns the tenant tables (or a member of it) that is also a member of catalog_sync_installer.';
        END IF;
        -- Something to change on this table: take the lock CREATE TRIGGER needs
        -- first, before the GRANT touches its catalog row (an autovacuum ANALYZE
        -- in between would otherwise deadlock with us).
        IF NOT pg_catalog.has_table_privilege('catalog_sync_owner', v_rel.relid, 'SELECT')
           OR EXISTS (SELECT FROM catalog_sync.trigger_state(v_rel.relid, v_rel.source_table, v_rel.tenant_id) st
                      WHERE st.state <> 'INSTALLED') THEN
            EXECUTE format('LOCK TABLE ONLY %s IN SHARE ROW EXCLUSIVE MODE', catalog_sync.qualified_name(v_rel.relid));
        END IF;
        IF NOT v_grant AND NOT pg_catalog.has_schema_privilege(
                'catalog_sync_owner',
                (SELECT c.relnamespace FROM pg_catalog.pg_class c WHERE c.oid = v_rel.relid), 'USAGE') THEN
            EXECUTE format('GRANT USAGE ON SCHEMA %I TO catalog_sync_owner', p_schema);
            v_grant := true;
        END IF;
        IF NOT pg_catalog.has_table_privilege('catalog_sync_owner', v_rel.relid, 'SELECT') THEN
            EXECUTE format('GRANT SELECT ON %s TO catalog_sync_owner', catalog_sync.qualified_name(v_rel.relid));
        END IF;
        triggers_changed := triggers_changed
            + catalog_sync.install_triggers(v_rel.relid, v_rel.source_table, v_rel.tenant_id);
    END LOOP;
    RETURN NEXT;
END
$$;
ALTER FUNCTION catalog_sync.attach_schema(text) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.attach_schema(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.attach_schema(text) TO catalog_sync_installer;
