-- The only place the sync reads a tenant's services: the
-- catalog_sync.service_source rows of the services selected by p_filter
-- ('all'; 'ids': service ids; 'providers': services of the provider ids;
-- 'categories': services in the service category ids), with their category
-- and what the catalog shows of their provider. Refuses tables that no longer
-- match the contract, checked here, right before the read is planned: after
-- every lock wait of the statement, whatever the caller waited for (a caller
-- that checked before its own waits, and let this skip the check, was open
-- to a wait the tenant held: a lock it queued on the registry or a catalog).
--
-- Two ways to read, the same rows (as job_sources() does, which explains why
-- each is safe): a trigger's few service or provider ids through static SQL
-- naming the tables, resolved through a search_path of pg_catalog, the
-- tenant's schema, pg_temp, with the contract check of the three tables
-- folded into its cached plan (contract_holds(): made, and so checked, again
-- after any change to them); taken only when the registered OIDs, locked,
-- carry those very names in one schema. Otherwise an explicit contract check
-- and dynamic SQL through the registered OIDs.
CREATE OR REPLACE FUNCTION catalog_sync.service_sources(p_tenant_id bigint, p_filter text, p_keys bigint[],
                                                        p_masks integer[] DEFAULT NULL)
RETURNS SETOF catalog_sync.service_source
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET row_security = off
AS $$
DECLARE
    v_service  oid := catalog_sync.source_relid(p_tenant_id, 'services_service');
    v_provider oid := catalog_sync.source_relid(p_tenant_id, 'services_serviceprovider');
    v_category oid := catalog_sync.source_relid(p_tenant_id, 'services_servicecategory');
    v_relids   oid[] := ARRAY[v_service, v_provider, v_category];   -- in v_tables' order
    v_tables   name[] := '{services_service,services_serviceprovider,services_servicecategory}';
    v_where    text;
    v_lock_timeout text;
    v_schema   text;
    v_static   boolean;
BEGIN
    PERFORM catalog_sync.lock_relations(v_relids);
    PERFORM catalog_sync.assert_not_rewritten(v_relids);   -- (a wait there: see there)
    v_schema := catalog_sync.schema_naming_all(v_relids, v_tables);
    v_static := p_filter IN ('ids', 'providers') AND coalesce(cardinality(p_keys), 0) <= 100
                AND v_schema IS NOT NULL;
    IF NOT v_static THEN
        PERFORM catalog_sync.assert_contracts(v_relids, v_tables);
        v_where := CASE p_filter
            WHEN 'all' THEN 'TRUE'
            WHEN 'ids' THEN 'TRUE'
            WHEN 'providers' THEN 'sv.provider_id = ANY ($1)'
            WHEN 'categories' THEN 'sv.category_id = ANY ($1)'
        END;
        IF v_where IS NULL THEN
            RAISE EXCEPTION 'catalog_sync: unknown filter %', p_filter;
        END IF;
    END IF;
    -- (no wait for a lock while planning a read: see provider_sources(); it
    -- detoasts nothing, so its rows are returned as they are read)
    v_lock_timeout := pg_catalog.current_setting('lock_timeout');
    PERFORM pg_catalog.set_config('lock_timeout', '1ms', true);
    BEGIN
        IF v_static THEN
            -- Undone when the function returns (its SET clause): the
            -- search_path. Every function, operator and type below is
            -- pg_catalog-qualified or a keyword; only the tables are looked up
            -- in the tenant's schema. One plan for both filters: each selects
            -- by its own index (the other's array is NULL and matches nothing).
            PERFORM pg_catalog.set_config('search_path', 'pg_catalog, ' || v_schema || ', pg_temp', true);
            RETURN QUERY
            WITH contract AS MATERIALIZED (
                SELECT catalog_sync.contract_holds('services_service'::pg_catalog.regclass, 'services_service')
                   AND catalog_sync.contract_holds('services_serviceprovider'::pg_catalog.regclass,
                                                   'services_serviceprovider')
                   AND catalog_sync.contract_holds('services_servicecategory'::pg_catalog.regclass,
                                                   'services_servicecategory') AS holds
            )
            SELECT sv.id::bigint, sv.uuid::pg_catalog.uuid, sv.title::pg_catalog.text, sv.slug::pg_catalog.text,
                   sv.short_description::pg_catalog.text, sv.description::pg_catalog.text,
                   sv.pricing_type::pg_catalog.text, sv.price_min::numeric, sv.price_max::numeric,
                   sv.currency::pg_catalog.text, sv.delivery_time_days::smallint, sv.revisions_included::smallint,
                   sv.tags::pg_catalog.jsonb, sv.thumbnail_url::pg_catalog.text, sv.is_active::boolean,
                   sv.is_public::boolean, sv.is_featured::boolean, sv.published_at::timestamp with time zone,
                   sv.created_at::timestamp with time zone, sv.category_id::bigint, sv.provider_id::bigint,
                   c.name::pg_catalog.text, c.slug::pg_catalog.text, sp.uuid::pg_catalog.uuid,
                   sp.display_name::pg_catalog.text, sp.avatar_url::pg_catalog.text, sp.rating_avg::numeric,
                   sp.is_verified::boolean, sp.marketplace_enabled::boolean, sp.is_active::boolean,
                   coalesce(m.mask, 0)
            FROM contract
            CROSS JOIN ONLY services_service AS sv
            JOIN ONLY services_serviceprovider AS sp ON sp.id OPERATOR(pg_catalog.=) sv.provider_id
            LEFT JOIN ONLY services_servicecategory AS c ON c.id OPERATOR(pg_catalog.=) sv.category_id
            LEFT JOIN ROWS FROM (pg_catalog.unnest(p_keys), pg_catalog.unnest(p_masks)) AS m (id, mask)
              ON p_filter OPERATOR(pg_catalog.=) 'ids' AND m.id OPERATOR(pg_catalog.=) sv.id
            WHERE contract.holds
              AND (sv.id OPERATOR(pg_catalog.=) ANY (CASE WHEN p_filter OPERATOR(pg_catalog.=) 'ids' THEN p_keys END)
                   OR sv.provider_id OPERATOR(pg_catalog.=)
                      ANY (CASE WHEN p_filter OPERATOR(pg_catalog.=) 'providers' THEN p_keys END));
        ELSE
            RETURN QUERY EXECUTE format(
                'WITH %s SELECT %s FROM ONLY %s AS sv %s JOIN ONLY %s AS sp ON sp.id = sv.provider_id '
                'LEFT JOIN ONLY %s AS c ON c.id = sv.category_id WHERE (SELECT contract.holds FROM contract) AND (%s)',
                catalog_sync.folded_check(v_relids, v_tables),
                -- Constant arguments: folded once per session (see source_select_list()).
                catalog_sync.source_select_list('catalog_sync.service_source', 'sv', '{
                    "category_name": "c.name::text", "category_slug": "c.slug::text", "provider_uuid": "sp.uuid",
                    "provider_display_name": "sp.display_name::text", "provider_avatar_url": "sp.avatar_url::text",
                    "provider_rating_avg": "sp.rating_avg::numeric", "provider_is_verified": "sp.is_verified",
                    "provider_marketplace_enabled": "sp.marketplace_enabled", "provider_is_active": "sp.is_active",
                    "html_mask": "coalesce(m.mask, 0)"}'),
                catalog_sync.qualified_name(v_service),
                CASE WHEN p_filter = 'ids'
                     THEN 'JOIN ROWS FROM (unnest($1), unnest($2)) AS m (id, mask) ON m.id = sv.id'
                     ELSE 'CROSS JOIN (SELECT 0) AS m (mask)' END,
                catalog_sync.qualified_name(v_provider), catalog_sync.qualified_name(v_category), v_where)
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
        RETURN QUERY SELECT * FROM catalog_sync.service_sources(p_tenant_id, p_filter, p_keys, p_masks);
        PERFORM pg_catalog.set_config('catalog_sync.read_again', 'off', true);
        RETURN;
    WHEN syntax_error_or_access_rule_violation THEN
        -- a lost column, named
        PERFORM catalog_sync.explain_failed_read(v_relids, v_tables);
        RAISE;
    END;
    PERFORM pg_catalog.set_config('lock_timeout', v_lock_timeout, true);
END
$$;
ALTER FUNCTION catalog_sync.service_sources(bigint, text, bigint[], integer[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.service_sources(bigint, text, bigint[], integer[]) FROM PUBLIC;
