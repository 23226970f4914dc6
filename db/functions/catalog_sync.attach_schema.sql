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
    v_relids  oid[];
    v_tables  name[];
    v_foreign oid;
    v_pending oid[];
    v_grant   text;
    v_lock    text;
BEGIN
    tenant_id := NULL;
    triggers_changed := 0;
    SELECT array_agg(r.relid ORDER BY r.source_table), array_agg(r.source_table ORDER BY r.source_table),
           min(r.tenant_id)
    INTO v_relids, v_tables, tenant_id
    FROM catalog_sync.register_schema(p_schema) AS r;
    SELECT u.relid INTO v_foreign
    FROM unnest(v_relids) WITH ORDINALITY AS u (relid, n)
    JOIN pg_catalog.pg_class c ON c.oid = u.relid
    WHERE NOT pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE')
    ORDER BY u.n
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'catalog_sync: role % does not own %', current_user, catalog_sync.qualified_name(v_foreign)
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Attach as the role that owns the tenant tables (or a member of it) that is also a member of catalog_sync_installer.';
    END IF;
    -- Tables the machinery cannot read yet get a GRANT; they and the tables
    -- with a trigger to change get a lock. One query each for the whole schema.
    SELECT array_agg(DISTINCT st.relid) INTO v_pending
    FROM catalog_sync.trigger_states(v_relids, v_tables, tenant_id) AS st
    WHERE st.state <> 'INSTALLED';
    SELECT string_agg(q.name, ', ' ORDER BY q.n) FILTER (WHERE NOT q.readable),
           string_agg('ONLY ' || q.name, ', ' ORDER BY q.n) FILTER (WHERE NOT q.readable OR q.relid = ANY (v_pending))
    INTO v_grant, v_lock
    FROM (SELECT u.relid, u.n, catalog_sync.qualified_name(u.relid) AS name,
                 pg_catalog.has_table_privilege('catalog_sync_owner', u.relid, 'SELECT') AS readable
          FROM unnest(v_relids) WITH ORDINALITY AS u (relid, n)) AS q;
    -- Something to change on these tables: take the lock CREATE TRIGGER needs
    -- first, before the GRANT touches their catalog rows (an autovacuum ANALYZE
    -- in between would otherwise deadlock with us). One statement each for all
    -- tables of the schema (attach of 10,000 schemas runs them 10,000 times).
    IF v_lock IS NOT NULL THEN
        EXECUTE 'LOCK TABLE ' || v_lock || ' IN SHARE ROW EXCLUSIVE MODE';
    END IF;
    IF NOT pg_catalog.has_schema_privilege('catalog_sync_owner',
                                           (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname = p_schema),
                                           'USAGE') THEN
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO catalog_sync_owner', p_schema);
    END IF;
    IF v_grant IS NOT NULL THEN
        EXECUTE 'GRANT SELECT ON ' || v_grant || ' TO catalog_sync_owner';
    END IF;
    -- (Looks at the triggers again: the lock may have waited for a change.)
    triggers_changed := catalog_sync.install_triggers(v_relids, v_tables, tenant_id);
    RETURN NEXT;
END
$$;
ALTER FUNCTION catalog_sync.attach_schema(text) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.attach_schema(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.attach_schema(text) TO catalog_sync_installer;
