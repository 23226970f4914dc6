-- The parents a provider's projections read, for locking before projecting:
-- the service categories it is linked to or its services are in, and its
-- skills. Read after the providers' exclusive locks are held, so the links
-- cannot change underneath (every link writer takes the same locks).
-- A trigger's few providers are read through static SQL with the contract
-- check folded into its cached plan, as job_sources() reads a few jobs (see
-- there why that is safe); anything else through the registered OIDs.
-- Hot path, only ever called inside a SECURITY DEFINER sync function.
CREATE OR REPLACE FUNCTION catalog_sync.provider_parents(
    p_tenant_id    bigint,
    p_provider_ids bigint[],
    OUT categories bigint[],
    OUT skills     bigint[]
)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp   -- restored on return (the static read below changes it)
SET row_security = off
-- The static read's plan is linear for up to 100 providers: planned once per
-- session (left to choose, the plan cache would plan it, and so check the
-- contract, again on every call: a custom plan knows the array's length)
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_links    oid := catalog_sync.source_relid(p_tenant_id, 'services_serviceprovider_categories');
    v_services oid := catalog_sync.source_relid(p_tenant_id, 'services_service');
    v_skills   oid := catalog_sync.source_relid(p_tenant_id, 'services_providerskill');
    v_relids   oid[] := ARRAY[v_links, v_services, v_skills];   -- in v_tables' order
    v_tables   name[] := '{services_serviceprovider_categories,services_service,services_providerskill}';
    v_lock_timeout text;
    v_schema   text;
    v_static   boolean;
BEGIN
    PERFORM catalog_sync.lock_relations(v_relids);
    PERFORM catalog_sync.assert_not_rewritten(v_relids);   -- (a wait there: see there)
    v_schema := catalog_sync.schema_naming_all(v_relids, v_tables);
    v_static := coalesce(cardinality(p_provider_ids), 0) <= 100 AND v_schema IS NOT NULL;
    IF NOT v_static THEN
        PERFORM catalog_sync.assert_contracts(v_relids, v_tables);
    END IF;
    -- (no wait for a lock while planning a read: see provider_sources(); its
    -- result is two arrays of ids, nothing detoasted)
    v_lock_timeout := pg_catalog.current_setting('lock_timeout');
    PERFORM pg_catalog.set_config('lock_timeout', '1ms', true);
    BEGIN
        IF v_static THEN
            -- Undone when the function returns (its SET clause): the
            -- search_path. Every function and operator below is
            -- pg_catalog-qualified; only the tables are looked up in the
            -- tenant's schema.
            PERFORM pg_catalog.set_config('search_path', 'pg_catalog, ' || v_schema || ', pg_temp', true);
            WITH contract AS MATERIALIZED (
                SELECT catalog_sync.contract_holds('services_serviceprovider_categories'::pg_catalog.regclass,
                                                   'services_serviceprovider_categories')
                   AND catalog_sync.contract_holds('services_service'::pg_catalog.regclass, 'services_service')
                   AND catalog_sync.contract_holds('services_providerskill'::pg_catalog.regclass,
                                                   'services_providerskill') AS holds
            )
            SELECT (SELECT pg_catalog.array_agg(DISTINCT x.c)
                    FROM (SELECT l.servicecategory_id::bigint FROM ONLY services_serviceprovider_categories AS l
                          WHERE l.serviceprovider_id OPERATOR(pg_catalog.=) ANY (p_provider_ids)
                          UNION
                          SELECT sv.category_id::bigint FROM ONLY services_service AS sv
                          WHERE sv.provider_id OPERATOR(pg_catalog.=) ANY (p_provider_ids)) AS x (c)
                    WHERE x.c IS NOT NULL),
                   (SELECT pg_catalog.array_agg(DISTINCT ps.skill_id::bigint) FROM ONLY services_providerskill AS ps
                    WHERE ps.provider_id OPERATOR(pg_catalog.=) ANY (p_provider_ids))
            INTO categories, skills
            FROM contract
            WHERE contract.holds;
        ELSE
            EXECUTE format(
                'WITH %4$s '
                'SELECT (SELECT array_agg(DISTINCT c) FROM (SELECT l.servicecategory_id FROM ONLY %1$s AS l '
                '        WHERE l.serviceprovider_id = ANY ($1) '
                '        UNION SELECT sv.category_id FROM ONLY %2$s AS sv WHERE sv.provider_id = ANY ($1)) AS x (c) '
                '        WHERE c IS NOT NULL), '
                '       (SELECT array_agg(DISTINCT ps.skill_id) FROM ONLY %3$s AS ps WHERE ps.provider_id = ANY ($1)) '
                'WHERE (SELECT contract.holds FROM contract)',
                catalog_sync.qualified_name(v_links), catalog_sync.qualified_name(v_services),
                catalog_sync.qualified_name(v_skills), catalog_sync.folded_check(v_relids, v_tables))
                INTO categories, skills
                USING p_provider_ids;
        END IF;
    EXCEPTION
    WHEN lock_not_available THEN
        -- (the index locks of a transaction that is ending, most often: see
        -- job_sources(); waited for outside the plan, then the whole read
        -- again, lock and check included, once)
        IF NOT catalog_sync.ready_to_read_again(v_relids, v_lock_timeout) THEN
            RAISE;
        END IF;
        SELECT r.categories, r.skills INTO categories, skills
        FROM catalog_sync.provider_parents(p_tenant_id, p_provider_ids) AS r;
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
ALTER FUNCTION catalog_sync.provider_parents(bigint, bigint[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.provider_parents(bigint, bigint[]) FROM PUBLIC;
