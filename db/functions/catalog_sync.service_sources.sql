-- The only place the sync reads a tenant's services: the
-- catalog_sync.service_source rows of the services selected by p_filter
-- ('all'; 'ids': service ids; 'providers': services of the provider ids;
-- 'categories': services in the service category ids), with their category
-- and what the catalog shows of their provider. Refuses tables that no longer
-- match the contract, checked here, right before the read is planned: after
-- every lock wait of the statement, whatever the caller waited for (a caller
-- that checked before its own waits, and let this skip the check, was open
-- to a wait the tenant held: a lock it queued on the registry or a catalog).
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
    v_where    text;
    v_lock_timeout text;
BEGIN
    PERFORM catalog_sync.assert_contracts(ARRAY[v_service, v_provider, v_category],
                                          '{services_service,services_serviceprovider,services_servicecategory}');
    v_where := CASE p_filter
        WHEN 'all' THEN 'TRUE'
        WHEN 'ids' THEN 'TRUE'
        WHEN 'providers' THEN 'sv.provider_id = ANY ($1)'
        WHEN 'categories' THEN 'sv.category_id = ANY ($1)'
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
        'SELECT %s FROM ONLY %s AS sv %s JOIN ONLY %s AS sp ON sp.id = sv.provider_id '
        'LEFT JOIN ONLY %s AS c ON c.id = sv.category_id WHERE %s',
        -- Constant arguments: folded once per session (see source_select_list()).
        catalog_sync.source_select_list('catalog_sync.service_source', 'sv', '{
            "category_name": "c.name::text", "category_slug": "c.slug::text", "provider_uuid": "sp.uuid",
            "provider_display_name": "sp.display_name::text", "provider_avatar_url": "sp.avatar_url::text",
            "provider_rating_avg": "sp.rating_avg::numeric(3,2)", "provider_is_verified": "sp.is_verified",
            "provider_marketplace_enabled": "sp.marketplace_enabled", "provider_is_active": "sp.is_active",
            "html_mask": "coalesce(m.mask, 0)"}'),
        catalog_sync.qualified_name(v_service),
        CASE WHEN p_filter = 'ids'
             THEN 'JOIN ROWS FROM (unnest($1), unnest($2)) AS m (id, mask) ON m.id = sv.id'
             ELSE 'CROSS JOIN (SELECT 0) AS m (mask)' END,
        catalog_sync.qualified_name(v_provider), catalog_sync.qualified_name(v_category), v_where)
        USING p_keys, p_masks;
    PERFORM pg_catalog.set_config('lock_timeout', v_lock_timeout, true);
END
$$;
ALTER FUNCTION catalog_sync.service_sources(bigint, text, bigint[], integer[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.service_sources(bigint, text, bigint[], integer[]) FROM PUBLIC;
