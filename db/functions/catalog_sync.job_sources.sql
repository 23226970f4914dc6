-- The only place the sync reads a tenant's job and category tables: the
-- catalog_sync.job_source rows of the jobs selected by p_filter ('all'; 'ids':
-- job ids in p_keys, with their HTML masks from p_masks; 'changed_ids': the
-- same, passed by on_job_change(), which has checked the job and category
-- tables after its last lock wait in this very statement (not twice);
-- 'categories': jobs whose category id is in p_keys). Planned for the actual keys on every call
-- (dynamic SQL), so a 100k-key statement gets hash joins, not a generic plan.
-- Refuses tables that no longer match the contract. Dynamic SQL because the
-- schema varies; identifiers only through the registered OIDs (%I).
CREATE OR REPLACE FUNCTION catalog_sync.job_sources(
    p_job_rel      oid,
    p_category_rel oid,
    p_filter       text,
    p_keys         bigint[],
    p_masks        integer[] DEFAULT NULL
)
RETURNS SETOF catalog_sync.job_source
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET row_security = off
AS $$
DECLARE
    v_columns text;
    v_where   text;
    v_lock_timeout text;
BEGIN
    IF p_filter IS DISTINCT FROM 'changed_ids' THEN
        PERFORM catalog_sync.assert_contracts(ARRAY[p_job_rel, p_category_rel], '{ats_jobposting,ats_jobcategory}');
    END IF;
    v_where := CASE p_filter
        WHEN 'all' THEN 'TRUE'
        WHEN 'ids' THEN 'TRUE'
        WHEN 'changed_ids' THEN 'TRUE'
        WHEN 'categories' THEN 'j.category_id = ANY ($1)'
    END;
    IF v_where IS NULL THEN
        RAISE EXCEPTION 'catalog_sync: unknown filter %', p_filter;
    END IF;
    -- Constant arguments: folded once per session (see source_select_list()).
    v_columns := catalog_sync.source_select_list('catalog_sync.job_source', 'j',
                     '{"category_name": "c.name::text", "category_slug": "c.slug::text", "html_mask": "coalesce(m.mask, 0)"}');

    -- Tables locked and checked: a wait while planning this read could only be
    -- for an index lock the tenant holds (REINDEX) while it adds statistics or
    -- an index over its own code, which this plan would then run. Fail closed
    -- instead of waiting (55P03).
    v_lock_timeout := pg_catalog.current_setting('lock_timeout');
    PERFORM pg_catalog.set_config('lock_timeout', '1ms', true);
    RETURN QUERY EXECUTE format('SELECT %s FROM ONLY %s AS j %s LEFT JOIN ONLY %s AS c ON c.id = j.category_id WHERE %s',
                                v_columns, catalog_sync.qualified_name(p_job_rel),
                                CASE WHEN p_filter IN ('ids', 'changed_ids')
                                     THEN 'JOIN ROWS FROM (unnest($1), unnest($2)) AS m (id, mask) ON m.id = j.id'
                                     ELSE 'CROSS JOIN (SELECT 0) AS m (mask)' END,
                                catalog_sync.qualified_name(p_category_rel), v_where)
        USING p_keys, p_masks;
    PERFORM pg_catalog.set_config('lock_timeout', v_lock_timeout, true);
END
$$;
ALTER FUNCTION catalog_sync.job_sources(oid, oid, text, bigint[], integer[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.job_sources(oid, oid, text, bigint[], integer[]) FROM PUBLIC;
