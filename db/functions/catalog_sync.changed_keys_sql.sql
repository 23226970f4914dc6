-- The query a sync trigger runs over its transition tables to find what it must
-- re-project: (row ids, row uuids old and new, parent ids old and new). For an
-- UPDATE only rows where one of p_inputs differs count, so an update of
-- updated_at or a sensitive column costs one cheap comparison and nothing more.
-- A row that moves between parents yields both parents: both are locked.
CREATE OR REPLACE FUNCTION catalog_sync.changed_keys_sql(
    p_op            text,
    p_inputs        text[],
    p_uuid_column   name,
    p_parent_column name
)
RETURNS text
LANGUAGE plpgsql IMMUTABLE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_rows text;
BEGIN
    v_rows := CASE p_op
        WHEN 'INSERT' THEN format(
            'SELECT n.id AS id, n.%1$I AS new_uuid, NULL::uuid AS old_uuid, n.%2$I AS new_parent, '
            'NULL::bigint AS old_parent FROM new_rows n', p_uuid_column, p_parent_column)
        WHEN 'DELETE' THEN format(
            'SELECT o.id AS id, NULL::uuid AS new_uuid, o.%1$I AS old_uuid, NULL::bigint AS new_parent, '
            'o.%2$I AS old_parent FROM old_rows o', p_uuid_column, p_parent_column)
        WHEN 'UPDATE' THEN format(
            'SELECT coalesce(n.id, o.id) AS id, n.%1$I AS new_uuid, o.%1$I AS old_uuid, '
            'n.%2$I AS new_parent, o.%2$I AS old_parent '
            'FROM new_rows n FULL JOIN old_rows o ON o.id = n.id '
            'WHERE n.id IS NULL OR o.id IS NULL OR (%3$s) IS DISTINCT FROM (%4$s)',
            p_uuid_column, p_parent_column,
            (SELECT string_agg(format('n.%I', c), ', ') FROM unnest(p_inputs) AS c),
            (SELECT string_agg(format('o.%I', c), ', ') FROM unnest(p_inputs) AS c))
    END;
    RETURN format($sql$
        WITH ch AS (%s)
        SELECT (SELECT array_agg(id) FROM ch),
               (SELECT array_agg(u) FROM (SELECT new_uuid FROM ch UNION SELECT old_uuid FROM ch) AS x (u)
                WHERE u IS NOT NULL),
               (SELECT array_agg(p ORDER BY p) FROM (SELECT new_parent FROM ch UNION SELECT old_parent FROM ch) AS y (p)
                WHERE p IS NOT NULL)
        $sql$, v_rows);
END
$$;
ALTER FUNCTION catalog_sync.changed_keys_sql(text, text[], name, name) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.changed_keys_sql(text, text[], name, name) FROM PUBLIC;
