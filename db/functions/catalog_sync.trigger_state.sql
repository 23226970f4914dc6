-- INSTALLED / OUTDATED / DISABLED / MISSING for every trigger the spec wants on
-- one relation. A trigger is OUTDATED when its function, arguments (the tenant
-- id, then the definition hash), events or transition tables differ from the
-- spec; DISABLED when it
-- is not ENABLE ALWAYS (a table owner can always switch it off; verify finds
-- it, repair re-attaches).
CREATE OR REPLACE FUNCTION catalog_sync.trigger_state(p_relid oid, p_source_table name, p_tenant_id bigint)
RETURNS TABLE (trigger_name name, state text)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY
    SELECT s.trigger_name,
           CASE
               WHEN tg.oid IS NULL THEN 'MISSING'
               WHEN tg.tgfoid <> ('catalog_sync.' || s.function_name)::regproc::oid
                 OR tg.tgtype <> CASE s.event WHEN 'INSERT' THEN 4 WHEN 'DELETE' THEN 8
                                              WHEN 'UPDATE' THEN 16 ELSE 32 END
                 -- tgargs: each argument followed by a zero byte
                 OR tg.tgargs <> CASE WHEN p_tenant_id IS NULL THEN ''::bytea
                                      ELSE convert_to(p_tenant_id::text, 'UTF8') || '\x00'::bytea END
                                 || convert_to(catalog_sync.trigger_hash(s), 'UTF8') || '\x00'::bytea
                 OR tg.tgoldtable IS DISTINCT FROM CASE WHEN s.event IN ('UPDATE', 'DELETE') THEN 'old_rows' END
                 OR tg.tgnewtable IS DISTINCT FROM CASE WHEN s.event IN ('UPDATE', 'INSERT') THEN 'new_rows' END
                   THEN 'OUTDATED'
               WHEN tg.tgenabled <> 'A' THEN 'DISABLED'
               ELSE 'INSTALLED'
           END
    FROM catalog_sync.trigger_spec s
    LEFT JOIN pg_catalog.pg_trigger tg ON tg.tgrelid = p_relid AND tg.tgname = s.trigger_name
    WHERE s.source_table = p_source_table
    ORDER BY s.trigger_name;
END
$$;
ALTER FUNCTION catalog_sync.trigger_state(oid, name, bigint) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.trigger_state(oid, name, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.trigger_state(oid, name, bigint) TO catalog_sync_installer;
