-- The sync triggers and the indexes of the given tables that an extension
-- has a dependency on (ALTER TRIGGER / ALTER INDEX ... DEPENDS ON EXTENSION):
-- DROP EXTENSION drops them with it, silently (red team, twentieth session: a
-- sync trigger, then a tenant suspended stayed public; the contract's uuid
-- key, which protect otherwise keeps). protect refuses making such a
-- dependency; audit reports one made before protect was on, or by a
-- superuser.
CREATE OR REPLACE FUNCTION catalog_sync.extension_dependents(p_relids oid[])
RETURNS TABLE (relid oid, what text, extname name)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT o.relid, o.what, e.extname
    FROM (SELECT tg.oid, 'pg_catalog.pg_trigger'::pg_catalog.regclass AS classid, tg.tgrelid AS relid,
                 'trigger ' || pg_catalog.quote_ident(tg.tgname) AS what
          FROM pg_catalog.pg_trigger tg
          WHERE tg.tgrelid = ANY (p_relids) AND tg.tgname LIKE E'catalog\\_sync\\_%'
          UNION ALL
          SELECT i.indexrelid, 'pg_catalog.pg_class'::pg_catalog.regclass, i.indrelid,
                 'index ' || pg_catalog.quote_ident(c.relname)
          FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
          WHERE i.indrelid = ANY (p_relids)) AS o
    JOIN pg_catalog.pg_depend d ON d.classid = o.classid AND d.objid = o.oid AND d.deptype = 'x'
    JOIN pg_catalog.pg_extension e ON e.oid = d.refobjid
    ORDER BY o.relid, o.what, e.extname
$$;
ALTER FUNCTION catalog_sync.extension_dependents(oid[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.extension_dependents(oid[]) FROM PUBLIC;
