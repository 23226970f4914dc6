-- The only place the sync reads a tenant's marketplace provider tables: the
-- catalog_sync.provider_source rows of the providers selected by p_filter
-- ('all'; 'ids': provider ids; 'categories': providers linked to one of the
-- service category ids; 'skills': providers holding one of the skill ids),
-- with their categories (sorted by slug) and skills (sorted by skill slug).
-- Refuses tables that no longer match the contract.
CREATE OR REPLACE FUNCTION catalog_sync.provider_sources(p_tenant_id bigint, p_filter text, p_keys bigint[],
                                                         p_masks integer[] DEFAULT NULL)
RETURNS SETOF catalog_sync.provider_source
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET row_security = off
AS $$
DECLARE
    v_provider text;
    v_links    text;
    v_category text;
    v_skills   text;
    v_skill    text;
    v_where    text;
    v_lock_timeout text;
    v_tables   name[] := '{services_serviceprovider,services_serviceprovider_categories,services_servicecategory,services_providerskill,services_skill}';
    v_relids   oid[];
BEGIN
    -- The registered OIDs, in v_tables' order, looked up once.
    v_relids := ARRAY(SELECT catalog_sync.source_relid(p_tenant_id, t.name)
                      FROM unnest(v_tables) WITH ORDINALITY AS t (name, i) ORDER BY t.i);
    PERFORM catalog_sync.assert_contracts(v_relids, v_tables);
    v_provider := catalog_sync.qualified_name(v_relids[1]);
    v_links := catalog_sync.qualified_name(v_relids[2]);
    v_category := catalog_sync.qualified_name(v_relids[3]);
    v_skills := catalog_sync.qualified_name(v_relids[4]);
    v_skill := catalog_sync.qualified_name(v_relids[5]);
    v_where := CASE p_filter
        WHEN 'all' THEN 'TRUE'
        WHEN 'ids' THEN 'TRUE'
        WHEN 'categories' THEN format('EXISTS (SELECT FROM ONLY %s AS l WHERE l.serviceprovider_id = sp.id '
                                      'AND l.servicecategory_id = ANY ($1))', v_links)
        WHEN 'skills' THEN format('EXISTS (SELECT FROM ONLY %s AS ps WHERE ps.provider_id = sp.id '
                                  'AND ps.skill_id = ANY ($1))', v_skills)
    END;
    IF v_where IS NULL THEN
        RAISE EXCEPTION 'catalog_sync: unknown filter %', p_filter;
    END IF;

    -- Tables locked and checked: a wait while planning this read could only be
    -- for an index lock the tenant holds (REINDEX) while it adds statistics or
    -- an index over its own code, which this plan would then run. Fail closed
    -- instead of waiting (55P03).
    v_lock_timeout := pg_catalog.current_setting('lock_timeout');
    PERFORM pg_catalog.set_config('lock_timeout', '1ms', true);
    RETURN QUERY EXECUTE format(
        'SELECT %s FROM ONLY %s AS sp %s WHERE %s',
        catalog_sync.source_select_list('catalog_sync.provider_source', 'sp', jsonb_build_object(
            'category_names', format(
                'coalesce((SELECT jsonb_agg(c.name::text ORDER BY c.slug, c.id) FROM ONLY %s AS l '
                'JOIN ONLY %s AS c ON c.id = l.servicecategory_id WHERE l.serviceprovider_id = sp.id), ''[]''::jsonb)',
                v_links, v_category),
            'category_slugs', format(
                'coalesce((SELECT jsonb_agg(c.slug::text ORDER BY c.slug, c.id) FROM ONLY %s AS l '
                'JOIN ONLY %s AS c ON c.id = l.servicecategory_id WHERE l.serviceprovider_id = sp.id), ''[]''::jsonb)',
                v_links, v_category),
            'skills_data', format(
                'coalesce((SELECT jsonb_agg(jsonb_build_object(''name'', s.name::text, ''slug'', s.slug::text, '
                '''level'', ps.level::text, ''years_experience'', ps.years_experience::integer) '
                'ORDER BY s.slug, s.id) FROM ONLY %s AS ps JOIN ONLY %s AS s ON s.id = ps.skill_id '
                'WHERE ps.provider_id = sp.id), ''[]''::jsonb)',
                v_skills, v_skill),
            'html_mask', CASE WHEN p_filter = 'ids' THEN 'coalesce(m.mask, 0)' ELSE '0' END)),
        v_provider,
        CASE WHEN p_filter = 'ids' THEN 'JOIN ROWS FROM (unnest($1), unnest($2)) AS m (id, mask) ON m.id = sp.id' END,
        v_where)
        USING p_keys, p_masks;
    PERFORM pg_catalog.set_config('lock_timeout', v_lock_timeout, true);
END
$$;
ALTER FUNCTION catalog_sync.provider_sources(bigint, text, bigint[], integer[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.provider_sources(bigint, text, bigint[], integer[]) FROM PUBLIC;
