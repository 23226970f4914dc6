-- A schema or table name as one word of a shell command line, for the
-- commands the audit's advice prints (catalog-sync attach NAME): as it is
-- when it holds only letters, digits, '_', '.' and '-', else in single
-- quotes (a quote inside as '"'"'). quote_ident() gave SQL quoting, which
-- the shell strips or breaks on (red team, twenty-second session).
CREATE OR REPLACE FUNCTION catalog_sync.shell_word(p_word text)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT CASE WHEN p_word ~ '^[A-Za-z0-9_.-]+$' THEN p_word
                ELSE '''' || replace(p_word, '''', '''"''"''') || '''' END
$$;
ALTER FUNCTION catalog_sync.shell_word(text) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.shell_word(text) FROM PUBLIC;
