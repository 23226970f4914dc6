-- How the sync compares a catalog's synced columns (synced_columns(), in
-- table order), as a format() pattern per column, %1$s standing for the row's
-- alias: the column, and for a type whose equality ignores how a value is
-- spelled (jsonb: 1 and 1.000; float4/float8: 0 and -0; numeric without a
-- typmod: 1.0 and 1.00) its text as well, so that the catalog shows the
-- source's spelling (red team, twentieth session: verify was clean while the
-- catalog kept the old one). The applies' guards (define_apply()) and verify
-- compare with it; the triggers' change detection lists the same source
-- columns as text.
CREATE OR REPLACE FUNCTION catalog_sync.compared_columns(p_catalog regclass)
RETURNS TABLE (column_name text, compared text)
-- (PL/pgSQL for its plan: see named_relation())
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN QUERY
    SELECT s.c,
           CASE WHEN a.atttypid IN ('pg_catalog.jsonb'::pg_catalog.regtype, 'pg_catalog.float4'::pg_catalog.regtype,
                                    'pg_catalog.float8'::pg_catalog.regtype)
                  OR (a.atttypid = 'pg_catalog.numeric'::pg_catalog.regtype AND a.atttypmod = -1)
                THEN pg_catalog.format('%%1$s.%1$I, %%1$s.%1$I::text', s.c)
                ELSE pg_catalog.format('%%1$s.%1$I', s.c) END
    FROM pg_catalog.unnest(catalog_sync.synced_columns(p_catalog)) WITH ORDINALITY AS s (c, n)
    JOIN pg_catalog.pg_attribute AS a ON a.attrelid = p_catalog AND a.attname = s.c
    ORDER BY s.n;
END
$$;
ALTER FUNCTION catalog_sync.compared_columns(regclass) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.compared_columns(regclass) FROM PUBLIC;
