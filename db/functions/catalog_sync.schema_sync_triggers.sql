-- The tables of a tenant schema that detach_schema() drops sync triggers
-- from: the registered ones, and any other table of the schema that still has
-- sync triggers (left behind when protection detached the tenant because one
-- of its tables was dropped: the definer cannot drop them; or when the tenant
-- was deleted from the registry), but none registered to another tenant.
-- With the number of sync triggers on each, so that detach --dry-run can
-- tell without taking a lock (whether the caller may drop them:
-- ownership_problem()). A development database from before that had the
-- column owned too: rebuild it (CREATE OR REPLACE cannot drop a column).
CREATE OR REPLACE FUNCTION catalog_sync.schema_sync_triggers(p_schema text)
RETURNS TABLE (relid oid, triggers integer)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.oid,
           (SELECT count(*)::integer FROM pg_catalog.pg_trigger tg
            JOIN pg_catalog.pg_proc p ON p.oid = tg.tgfoid
            WHERE tg.tgrelid = c.oid AND p.pronamespace = 'catalog_sync'::regnamespace)
    FROM pg_catalog.pg_class c
    WHERE c.oid IN (SELECT r.relid FROM catalog_sync.attached_relids(p_schema) AS r
                    UNION
                    SELECT tg.tgrelid FROM pg_catalog.pg_trigger tg
                    JOIN pg_catalog.pg_class t ON t.oid = tg.tgrelid
                    JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
                    JOIN pg_catalog.pg_proc p ON p.oid = tg.tgfoid
                    WHERE n.nspname = p_schema AND p.pronamespace = 'catalog_sync'::regnamespace
                      AND tg.tgrelid <> ALL ((SELECT g.other_tenants_relids
                                              FROM catalog_sync.schema_registration(p_schema) AS g)::oid[]))
      AND c.oid <> 'public.tenants_tenant'::regclass
    ORDER BY c.oid
$$;
ALTER FUNCTION catalog_sync.schema_sync_triggers(text) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.schema_sync_triggers(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.schema_sync_triggers(text) TO catalog_sync_installer;
