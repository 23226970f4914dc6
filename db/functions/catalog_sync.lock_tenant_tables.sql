-- Locks ACCESS SHARE the registry and every registered table of the tenant,
-- for a caller about to read them on one snapshot in its next statement:
-- the CLI's verify before verify_tenant(), backfill_tenant()'s dry run. That
-- statement's snapshot is then taken after any wait for those locks (behind
-- an application's ALTER TABLE, say); called from SQL without it,
-- verify_tenant() fails with serialization_failure where it waited for a
-- table that was rewritten or truncated meanwhile (assert_not_rewritten()),
-- rather than report its rows missing or orphans. The locks are held to the
-- end of the transaction. A tenant not attached, or NULL (before a read of
-- the registry: the CLI's verify, before its list of tenants), locks the
-- registry only; a table the definer may not read is left out.
CREATE OR REPLACE FUNCTION catalog_sync.lock_tenant_tables(p_tenant_id bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE  -- it takes locks
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- (not a table the definer may not read, or whose schema it may not
    -- use: LOCK would fail on it, where verify_tenant() reports it
    -- unreadable and reads none of the tenant's tables)
    PERFORM catalog_sync.lock_registry();
    PERFORM catalog_sync.lock_relations(ARRAY(
        SELECT a.relid
        FROM catalog_sync.attached_table AS a JOIN pg_catalog.pg_class AS c ON c.oid = a.relid
        WHERE a.tenant_id = p_tenant_id AND pg_catalog.has_schema_privilege(c.relnamespace, 'USAGE')
          AND pg_catalog.has_table_privilege(c.oid, 'SELECT')
        ORDER BY a.relid));
END
$$;
ALTER FUNCTION catalog_sync.lock_tenant_tables(bigint) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.lock_tenant_tables(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.lock_tenant_tables(bigint) TO catalog_sync_installer;
