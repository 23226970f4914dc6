-- The parents a provider's projections read, for locking before projecting:
-- the service categories it is linked to or its services are in, and its
-- skills. Read after the providers' exclusive locks are held, so the links
-- cannot change underneath (every link writer takes the same locks).
-- Hot path, only ever called inside a SECURITY DEFINER sync function.
CREATE OR REPLACE FUNCTION catalog_sync.provider_parents(
    p_tenant_id    bigint,
    p_provider_ids bigint[],
    OUT categories bigint[],
    OUT skills     bigint[]
)
LANGUAGE plpgsql STABLE
SET row_security = off
AS $$
DECLARE
    v_links    oid := catalog_sync.source_relid(p_tenant_id, 'services_serviceprovider_categories');
    v_services oid := catalog_sync.source_relid(p_tenant_id, 'services_service');
    v_skills   oid := catalog_sync.source_relid(p_tenant_id, 'services_providerskill');
    v_lock_timeout text;
BEGIN
    PERFORM catalog_sync.assert_contracts(ARRAY[v_links, v_services, v_skills],
                                          '{services_serviceprovider_categories,services_service,services_providerskill}');
    -- Tables locked and checked: a wait while planning this read could only be
    -- for an index lock the tenant holds (REINDEX) while it adds statistics or
    -- an index over its own code, which this plan would then run. Fail closed
    -- instead of waiting (55P03).
    v_lock_timeout := pg_catalog.current_setting('lock_timeout');
    PERFORM pg_catalog.set_config('lock_timeout', '1ms', true);
    EXECUTE format(
        'SELECT (SELECT array_agg(DISTINCT c) FROM (SELECT l.servicecategory_id FROM ONLY %1$s AS l '
        '        WHERE l.serviceprovider_id = ANY ($1) '
        '        UNION SELECT sv.category_id FROM ONLY %2$s AS sv WHERE sv.provider_id = ANY ($1)) AS x (c) '
        '        WHERE c IS NOT NULL), '
        '       (SELECT array_agg(DISTINCT ps.skill_id) FROM ONLY %3$s AS ps WHERE ps.provider_id = ANY ($1))',
        catalog_sync.qualified_name(v_links), catalog_sync.qualified_name(v_services),
        catalog_sync.qualified_name(v_skills))
        INTO categories, skills
        USING p_provider_ids;
    PERFORM pg_catalog.set_config('lock_timeout', v_lock_timeout, true);
END
$$;
ALTER FUNCTION catalog_sync.provider_parents(bigint, bigint[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.provider_parents(bigint, bigint[]) FROM PUBLIC;
