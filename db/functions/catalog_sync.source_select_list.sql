-- The SELECT list that reads a *_source type from a source row: every
-- attribute is `alias.column::type`, cast to the type's own column type (so a
-- tenant table's own types never leak further), except the derived ones, whose
-- expressions p_derived gives ({"attribute": "expression"}).
-- Hot path, only ever called inside a SECURITY DEFINER sync function.
-- Declared IMMUTABLE although it reads pg_attribute: the *_source types change
-- only by a migration, which also re-creates the functions that call this one.
-- With constant arguments the planner then folds the call into the caller's
-- cached plan: computed once per session instead of on every statement.
CREATE OR REPLACE FUNCTION catalog_sync.source_select_list(p_type regtype, p_alias text, p_derived jsonb)
RETURNS text
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    RETURN (SELECT string_agg(coalesce(p_derived ->> a.attname::text,
                                       format('%I.%I::%s', p_alias, a.attname, format_type(a.atttypid, a.atttypmod))),
                              ', ' ORDER BY a.attnum)
            FROM pg_catalog.pg_attribute a
            WHERE a.attrelid = (SELECT t.typrelid FROM pg_catalog.pg_type t WHERE t.oid = p_type)
              AND a.attnum > 0 AND NOT a.attisdropped);
END
$$;
ALTER FUNCTION catalog_sync.source_select_list(regtype, text, jsonb) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.source_select_list(regtype, text, jsonb) FROM PUBLIC;
