-- Wraps a projection query into the one statement that makes a catalog match
-- it for a set of keys: delete the candidate rows the projection no longer
-- yields, insert new rows, update rows whose shown columns differ and leave
-- equal rows untouched (no dead tuple, synced_at kept). Returns
-- (removed, inserted, updated). Parameters: $1 tenant id, $2 projection keys,
-- $3 the catalog keys that may have to go (p_delete 'keys'), or every row of
-- the tenant (p_delete 'all'), or none (p_delete 'none').
CREATE OR REPLACE FUNCTION catalog_sync.apply_sql(
    p_catalog    regclass,
    p_key_column name,
    p_projection text,
    p_delete     text
)
RETURNS text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_cols      text[] := catalog_sync.synced_columns(p_catalog);
    v_list      text;
    v_set       text;
    v_changed   text;
    v_candidate text;
BEGIN
    SELECT string_agg(format('%I', c), ', '),
           string_agg(format('%1$I = EXCLUDED.%1$I', c), ', '),
           format('(%s) IS DISTINCT FROM (%s)',
                  string_agg(format('cat.%I', c), ', '), string_agg(format('EXCLUDED.%I', c), ', '))
    INTO v_list, v_set, v_changed
    FROM unnest(v_cols) AS c;

    v_candidate := CASE p_delete
        WHEN 'all' THEN 'TRUE'
        WHEN 'keys' THEN format('cat.%I = ANY ($3)', p_key_column)
        WHEN 'none' THEN 'FALSE'
    END;
    IF v_candidate IS NULL THEN
        RAISE EXCEPTION 'catalog_sync: unknown delete mode %', p_delete;
    END IF;

    RETURN format($sql$
        WITH p AS (%1$s),
        removed AS (
            DELETE FROM %2$s AS cat
            WHERE cat.tenant_id = $1 AND %3$s
              AND NOT EXISTS (SELECT FROM p WHERE p.%4$I = cat.%4$I)
            RETURNING 1
        ),
        written AS (
            INSERT INTO %2$s AS cat (%5$s, synced_at)
            SELECT %5$s, now() FROM p
            ON CONFLICT (tenant_id, %4$I) DO UPDATE SET %6$s, synced_at = EXCLUDED.synced_at
            WHERE %7$s
            RETURNING (cat.xmax = 0) AS inserted
        )
        SELECT (SELECT count(*) FROM removed),
               count(*) FILTER (WHERE inserted),
               count(*) FILTER (WHERE NOT inserted)
        FROM written
        $sql$,
        p_projection, p_catalog, v_candidate, p_key_column, v_list, v_set, v_changed);
END
$$;
ALTER FUNCTION catalog_sync.apply_sql(regclass, name, text, text) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.apply_sql(regclass, name, text, text) FROM PUBLIC;
