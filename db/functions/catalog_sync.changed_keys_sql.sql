-- The query a sync trigger runs over its transition tables to find what it must
-- re-project: (row ids, per-row masks of changed HTML columns, row uuids old and
-- new, parent ids old and new, second parent ids old and new: NULL without
-- p_parent2_column). For an UPDATE only rows where one of p_inputs
-- differs count, so an update of updated_at or of a sensitive column costs one
-- comparison and nothing more. Bit i of a mask (1, 2, 4, ...) is set when the
-- i-th of p_html changed, every bit when the row's uuid changed. A row that
-- moves between parents yields both parents:
-- both get locked.
-- Hot path, only ever called inside a SECURITY DEFINER sync function (EXECUTE is
-- the owner's alone), so it runs under the caller's pinned search_path and sets
-- none itself: a SET clause costs a GUC save/restore on every call.
CREATE OR REPLACE FUNCTION catalog_sync.changed_keys_sql(
    p_op            text,
    p_inputs        text[],
    p_html          text[],
    p_uuid_column    name,
    p_parent_column  name,
    p_parent2_column name DEFAULT NULL
)
RETURNS text
LANGUAGE plpgsql IMMUTABLE
AS $$
DECLARE
    v_rows text;
    v_mask text := '0';
    v_p2n  text := CASE WHEN p_parent2_column IS NULL THEN 'NULL::bigint' ELSE format('n.%I', p_parent2_column) END;
    v_p2o  text := CASE WHEN p_parent2_column IS NULL THEN 'NULL::bigint' ELSE format('o.%I', p_parent2_column) END;
BEGIN
    IF p_op = 'UPDATE' AND cardinality(p_html) > 0 THEN
        SELECT string_agg(format('(CASE WHEN n.%1$I IS DISTINCT FROM o.%1$I THEN %2$s ELSE 0 END)', c, 1 << (i - 1)::int),
                          ' | ')
        INTO v_mask
        FROM unnest(p_html) WITH ORDINALITY AS h (c, i);
        -- another uuid under the same id: the catalog row of that uuid held another
        -- row's HTML, so nothing of it may be reused (as in on_job_change())
        v_mask := format('CASE WHEN n.%1$I IS DISTINCT FROM o.%1$I THEN %2$s ELSE %3$s END',
                         p_uuid_column, (1 << cardinality(p_html)) - 1, v_mask);
    END IF;
    v_rows := CASE p_op
        WHEN 'INSERT' THEN format(
            'SELECT n.id AS id, 0 AS mask, n.%1$I AS new_uuid, NULL::uuid AS old_uuid, n.%2$I AS new_parent, '
            'NULL::bigint AS old_parent, %3$s AS new_parent2, NULL::bigint AS old_parent2 FROM new_rows n',
            p_uuid_column, p_parent_column, v_p2n)
        WHEN 'DELETE' THEN format(
            'SELECT o.id AS id, 0 AS mask, NULL::uuid AS new_uuid, o.%1$I AS old_uuid, NULL::bigint AS new_parent, '
            'o.%2$I AS old_parent, NULL::bigint AS new_parent2, %3$s AS old_parent2 FROM old_rows o',
            p_uuid_column, p_parent_column, v_p2o)
        WHEN 'UPDATE' THEN format(
            'SELECT coalesce(n.id, o.id) AS id, %5$s AS mask, n.%1$I AS new_uuid, o.%1$I AS old_uuid, '
            'n.%2$I AS new_parent, o.%2$I AS old_parent, %6$s AS new_parent2, %7$s AS old_parent2 '
            'FROM new_rows n FULL JOIN old_rows o ON o.id = n.id '
            'WHERE n.id IS NULL OR o.id IS NULL OR (%3$s) IS DISTINCT FROM (%4$s)',
            p_uuid_column, p_parent_column,
            (SELECT string_agg(format('n.%I', c), ', ') FROM unnest(p_inputs) AS c),
            (SELECT string_agg(format('o.%I', c), ', ') FROM unnest(p_inputs) AS c),
            v_mask, v_p2n, v_p2o)
    END;
    RETURN format($sql$
        WITH ch AS (%s)
        SELECT (SELECT array_agg(id ORDER BY id) FROM ch),
               (SELECT array_agg(mask ORDER BY id) FROM ch),
               (SELECT array_agg(u) FROM (SELECT new_uuid FROM ch UNION SELECT old_uuid FROM ch) AS x (u)
                WHERE u IS NOT NULL),
               (SELECT array_agg(p ORDER BY p) FROM (SELECT new_parent FROM ch UNION SELECT old_parent FROM ch) AS y (p)
                WHERE p IS NOT NULL),
               (SELECT array_agg(p ORDER BY p) FROM (SELECT new_parent2 FROM ch UNION SELECT old_parent2 FROM ch)
                AS z (p) WHERE p IS NOT NULL)
        $sql$, v_rows);
END
$$;
ALTER FUNCTION catalog_sync.changed_keys_sql(text, text[], text[], name, name, name) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.changed_keys_sql(text, text[], text[], name, name, name) FROM PUBLIC;
