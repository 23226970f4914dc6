-- Raise if a relation the sync is about to read no longer matches the contract.
CREATE OR REPLACE FUNCTION catalog_sync.assert_contract(p_relid oid, p_source_table name)
RETURNS void
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_problems text;
BEGIN
    SELECT string_agg(p, '; ') INTO v_problems FROM catalog_sync.contract_problems(p_relid, p_source_table) AS p;
    IF v_problems IS NOT NULL THEN
        RAISE EXCEPTION 'catalog_sync: % does not match the % contract: %',
                        coalesce(catalog_sync.qualified_name(p_relid), p_relid::text), p_source_table, v_problems
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'The sync reads only tables exactly as django-tenants creates them; restore the table.';
    END IF;
END
$$;
ALTER FUNCTION catalog_sync.assert_contract(oid, name) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.assert_contract(oid, name) FROM PUBLIC;
