-- The ats_jobposting columns the projection reads: the attributes of
-- catalog_sync.job_source that come from the job row itself, in order.
-- Hot path, only ever called inside a SECURITY DEFINER sync function (EXECUTE is
-- the owner's alone), so it runs under the caller's pinned search_path and sets
-- none itself: a SET clause costs a GUC save/restore on every call.
CREATE OR REPLACE FUNCTION catalog_sync.job_source_columns()
RETURNS text[]
LANGUAGE plpgsql STABLE
AS $$
BEGIN
    RETURN (SELECT array_agg(a.attname::text ORDER BY a.attnum)
            FROM pg_catalog.pg_attribute a
            WHERE a.attrelid = (SELECT t.typrelid FROM pg_catalog.pg_type t
                                WHERE t.oid = 'catalog_sync.job_source'::regtype)
              AND a.attnum > 0 AND NOT a.attisdropped
              AND a.attname NOT IN ('category_name', 'category_slug'));
END
$$;
ALTER FUNCTION catalog_sync.job_source_columns() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.job_source_columns() FROM PUBLIC;
