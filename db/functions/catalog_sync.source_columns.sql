-- The attributes of a *_source type that come straight from the source row
-- (all but the derived ones), in order: the projection's inputs. An UPDATE that
-- changes none of them cannot change the catalog.
-- Hot path, only ever called inside a SECURITY DEFINER sync function (EXECUTE is
-- the owner's alone), so it runs under the caller's pinned search_path.
-- Declared IMMUTABLE although it reads pg_attribute: the *_source types change
-- only by a migration, which also re-creates the functions that call this one.
-- With constant arguments the planner then folds the call into the caller's
-- cached plan: computed once per session instead of on every statement.
CREATE OR REPLACE FUNCTION catalog_sync.source_columns(p_type regtype, p_derived text[])
RETURNS text[]
LANGUAGE plpgsql IMMUTABLE
AS $$
BEGIN
    RETURN (SELECT array_agg(a.attname::text ORDER BY a.attnum)
            FROM pg_catalog.pg_attribute a
            WHERE a.attrelid = (SELECT t.typrelid FROM pg_catalog.pg_type t WHERE t.oid = p_type)
              AND a.attnum > 0 AND NOT a.attisdropped
              AND a.attname <> ALL (p_derived));
END
$$;
ALTER FUNCTION catalog_sync.source_columns(regtype, text[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.source_columns(regtype, text[]) FROM PUBLIC;
