-- The only place the sync reads a tenant's marketplace provider tables: the
-- catalog_sync.provider_source rows of the providers selected by p_filter
-- ('all'; 'ids': provider ids; 'categories': providers linked to one of the
-- service category ids; 'skills': providers holding one of the skill ids),
-- with their categories (sorted by slug) and skills (sorted by skill slug).
-- Refuses tables that no longer match the contract.
--
-- Two ways to read, the same rows (as job_sources() does, which explains
-- why each is safe): a trigger's few provider ids through static SQL naming
-- the tables, resolved through a search_path of pg_catalog, the tenant's
-- schema, pg_temp, with the contract check of the five tables folded into
-- its cached plan (contract_holds()); taken only when the registered OIDs,
-- locked, carry those very names in one schema. Otherwise an explicit
-- contract check and dynamic SQL through the registered OIDs.
CREATE OR REPLACE FUNCTION catalog_sync.provider_sources(p_tenant_id bigint, p_filter text, p_keys bigint[],
                                                         p_masks integer[] DEFAULT NULL)
RETURNS SETOF catalog_sync.provider_source
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET row_security = off
-- (its read is a cursor, below, fetched whole: planned for all its rows, as a
-- query is, not for the first tenth a cursor's plan assumes)
SET cursor_tuple_fraction = 1
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
    v_schema   text;
    v_static   boolean;
    v_rows     refcursor;
    v_row      catalog_sync.provider_source;
BEGIN
    -- The registered OIDs, in v_tables' order, looked up once.
    v_relids := ARRAY(SELECT catalog_sync.source_relid(p_tenant_id, t.name)
                      FROM unnest(v_tables) WITH ORDINALITY AS t (name, i) ORDER BY t.i);
    PERFORM catalog_sync.lock_relations(v_relids);
    PERFORM catalog_sync.assert_not_rewritten(v_relids);   -- (a wait there: see there)
    v_schema := catalog_sync.schema_naming_all(v_relids, v_tables);
    v_static := p_filter = 'ids' AND coalesce(cardinality(p_keys), 0) <= 100 AND v_schema IS NOT NULL;
    IF NOT v_static THEN
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
    END IF;
    -- Tables locked (and checked, or the static read checks them in its plan):
    -- a wait while planning a read could only be for an index lock the tenant
    -- holds (REINDEX) while it adds statistics or an index over its own code,
    -- which this plan would then run. Fail closed instead of waiting (55P03).
    -- The read is opened as a cursor in the block (planned, its executor
    -- started: every index lock taken) and fetched after it, under the
    -- caller's lock_timeout: its aggregates detoast the names of categories
    -- and skills, which takes their TOAST table's and index's locks while
    -- rows are returned, and rows returned before a 55P03 that the block
    -- caught stayed in the result when it read again: each twice, and the
    -- write failed (21000; security review, forty-ninth session). A wait
    -- while executing a plan made under the locks plans nothing. (A cursor's
    -- plan is never parallel, where RETURN QUERY's could be: a tenant's
    -- providers are too few for a parallel scan to pay, backfill included.)
    v_lock_timeout := pg_catalog.current_setting('lock_timeout');
    PERFORM pg_catalog.set_config('lock_timeout', '1ms', true);
    BEGIN
        IF v_static THEN
            -- Undone when the function returns (its SET clause): the
            -- search_path. Every function, operator and type below is
            -- pg_catalog-qualified or a keyword; only the tables are looked up
            -- in the tenant's schema.
            PERFORM pg_catalog.set_config('search_path', 'pg_catalog, ' || v_schema || ', pg_temp', true);
            OPEN v_rows FOR
            WITH contract AS MATERIALIZED (
                SELECT catalog_sync.contract_holds('services_serviceprovider'::pg_catalog.regclass,
                                                   'services_serviceprovider')
                   AND catalog_sync.contract_holds('services_serviceprovider_categories'::pg_catalog.regclass,
                                                   'services_serviceprovider_categories')
                   AND catalog_sync.contract_holds('services_servicecategory'::pg_catalog.regclass,
                                                   'services_servicecategory')
                   AND catalog_sync.contract_holds('services_providerskill'::pg_catalog.regclass,
                                                   'services_providerskill')
                   AND catalog_sync.contract_holds('services_skill'::pg_catalog.regclass, 'services_skill') AS holds
            )
            SELECT sp.id::bigint, sp.uuid::pg_catalog.uuid, sp.display_name::pg_catalog.text,
                   sp.provider_type::pg_catalog.text, sp.bio::pg_catalog.text, sp.tagline::pg_catalog.text,
                   sp.avatar_url::pg_catalog.text, sp.cover_image_url::pg_catalog.text, sp.city::pg_catalog.text,
                   sp.state::pg_catalog.text, sp.country::pg_catalog.text, sp.location_lat::double precision,
                   sp.location_lng::double precision, sp.hourly_rate::numeric, sp.minimum_budget::numeric,
                   sp.currency::pg_catalog.text, sp.rating_avg::numeric, sp.total_reviews::integer,
                   sp.completed_jobs_count::integer, sp.response_rate::numeric,
                   sp.avg_response_time_hours::numeric, sp.availability_status::pg_catalog.text,
                   sp.is_verified::boolean, sp.is_featured::boolean, sp.is_accepting_projects::boolean,
                   sp.can_work_remotely::boolean, sp.can_work_onsite::boolean, sp.marketplace_enabled::boolean,
                   sp.is_active::boolean, sp.published_at::timestamp with time zone,
                   sp.created_at::timestamp with time zone,
                   coalesce((SELECT pg_catalog.jsonb_agg(c.name::pg_catalog.text ORDER BY c.slug, c.id)
                             FROM ONLY services_serviceprovider_categories AS l
                             JOIN ONLY services_servicecategory AS c ON c.id OPERATOR(pg_catalog.=) l.servicecategory_id
                             WHERE l.serviceprovider_id OPERATOR(pg_catalog.=) sp.id), '[]'::pg_catalog.jsonb),
                   coalesce((SELECT pg_catalog.jsonb_agg(c.slug::pg_catalog.text ORDER BY c.slug, c.id)
                             FROM ONLY services_serviceprovider_categories AS l
                             JOIN ONLY services_servicecategory AS c ON c.id OPERATOR(pg_catalog.=) l.servicecategory_id
                             WHERE l.serviceprovider_id OPERATOR(pg_catalog.=) sp.id), '[]'::pg_catalog.jsonb),
                   coalesce((SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                                        'name', s.name::pg_catalog.text, 'slug', s.slug::pg_catalog.text,
                                        'level', ps.level::pg_catalog.text,
                                        'years_experience', ps.years_experience::integer) ORDER BY s.slug, s.id)
                             FROM ONLY services_providerskill AS ps
                             JOIN ONLY services_skill AS s ON s.id OPERATOR(pg_catalog.=) ps.skill_id
                             WHERE ps.provider_id OPERATOR(pg_catalog.=) sp.id), '[]'::pg_catalog.jsonb),
                   coalesce(m.mask, 0)
            FROM contract
            CROSS JOIN ONLY services_serviceprovider AS sp
            JOIN ROWS FROM (pg_catalog.unnest(p_keys), pg_catalog.unnest(p_masks)) AS m (id, mask)
              ON m.id OPERATOR(pg_catalog.=) sp.id
            WHERE contract.holds;
        ELSE
            OPEN v_rows FOR EXECUTE format(
                'WITH %s SELECT %s FROM ONLY %s AS sp %s WHERE (SELECT contract.holds FROM contract) AND (%s)',
                catalog_sync.folded_check(v_relids, v_tables),
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
        END IF;
    EXCEPTION
    WHEN lock_not_available THEN
        -- (the index locks of a transaction that is ending, most often: see
        -- job_sources(); waited for outside the plan, then the whole read
        -- again, lock and check included, once)
        IF NOT catalog_sync.ready_to_read_again(v_relids, v_lock_timeout) THEN
            RAISE;
        END IF;
        RETURN QUERY SELECT * FROM catalog_sync.provider_sources(p_tenant_id, p_filter, p_keys, p_masks);
        PERFORM pg_catalog.set_config('catalog_sync.read_again', 'off', true);
        RETURN;
    WHEN syntax_error_or_access_rule_violation THEN
        -- a lost column, named
        PERFORM catalog_sync.explain_failed_read(v_relids, v_tables);
        RAISE;
    END;
    PERFORM pg_catalog.set_config('lock_timeout', v_lock_timeout, true);
    -- (the tenant's schema off the path before the fetch, which resolves no
    -- name: defence in depth; red team, forty-ninth session)
    PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    -- (PL/pgSQL's FETCH, a row at a time: an SQL FETCH is refused in a STABLE
    -- function)
    LOOP
        FETCH v_rows INTO v_row;
        EXIT WHEN NOT FOUND;
        RETURN NEXT v_row;
    END LOOP;
    CLOSE v_rows;
END
$$;
ALTER FUNCTION catalog_sync.provider_sources(bigint, text, bigint[], integer[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.provider_sources(bigint, text, bigint[], integer[]) FROM PUBLIC;
