-- The catalog columns the sync writes, in table order: every column except the
-- generated ones and those owned by the public side (counters, synced_at).
CREATE OR REPLACE FUNCTION catalog_sync.synced_columns(p_catalog regclass)
RETURNS text[]
-- (PL/pgSQL for its plan: see named_relation())
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (
    SELECT pg_catalog.array_agg(a.attname::text ORDER BY a.attnum)
    FROM pg_catalog.pg_attribute a
    WHERE a.attrelid = p_catalog AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
      AND a.attname NOT IN ('view_count', 'application_count', 'synced_at')
    );
END
$$;
ALTER FUNCTION catalog_sync.synced_columns(regclass) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.synced_columns(regclass) FROM PUBLIC;
