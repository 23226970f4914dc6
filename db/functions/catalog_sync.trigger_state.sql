-- trigger_states() of one relation: INSTALLED / OUTDATED / DISABLED / MISSING
-- for every trigger the spec wants on it, EXTRA for a sync trigger it does not
-- (status, verify and audit ask per relation).
CREATE OR REPLACE FUNCTION catalog_sync.trigger_state(p_relid oid, p_source_table name, p_tenant_id bigint)
RETURNS TABLE (trigger_name name, state text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY
    SELECT st.trigger_name, st.state
    FROM catalog_sync.trigger_states(ARRAY[p_relid], ARRAY[p_source_table], p_tenant_id) AS st;
END
$$;
ALTER FUNCTION catalog_sync.trigger_state(oid, name, bigint) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.trigger_state(oid, name, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.trigger_state(oid, name, bigint) TO catalog_sync_installer;
