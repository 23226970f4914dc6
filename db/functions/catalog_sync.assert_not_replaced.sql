-- Raises when one of a tenant's registered tables is no longer what the
-- application writes (replaced_tables(): another relation has the contract
-- name, or the table is outside the schema the registry names): a backfill
-- would read a table the application no longer writes.
CREATE OR REPLACE FUNCTION catalog_sync.assert_not_replaced(p_tenant_id bigint)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_what text;
BEGIN
    SELECT CASE r.why
               WHEN 'moved' THEN format('the registry names schema %I, and the registered %s is %s', r.schema_name,
                                        r.source_table, catalog_sync.qualified_name(r.relid))
               ELSE format('%I.%I is relation %s, not the registered table (oid %s)', r.schema_name, r.source_table,
                           r.named_relid, r.relid) END
    INTO v_what
    FROM catalog_sync.replaced_tables(p_tenant_id) AS r
    WHERE r.why <> 'dropped'    -- (a dropped one fails the contract check, with its own hint)
    ORDER BY r.source_table LIMIT 1;
    IF v_what IS NOT NULL THEN
        RAISE EXCEPTION 'catalog_sync: %: the application writes another table than the registered one', v_what
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Run catalog-sync verify --repair: it attaches the table the name means and re-syncs '
                         'the tenant.';
    END IF;
END
$$;
ALTER FUNCTION catalog_sync.assert_not_replaced(bigint) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.assert_not_replaced(bigint) FROM PUBLIC;
