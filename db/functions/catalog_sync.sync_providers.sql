-- Re-project providers (and, with p_services, their services) after a change
-- to what they show: the provider row itself, or its category or skill links.
-- Providers are parents of their services and their rows have several writers
-- (the provider row, the link tables), so every writer takes the providers'
-- EXCLUSIVE locks, then shared locks on the categories and skills the
-- projections read (p_more_categories / p_more_skills: links removed by this
-- statement, whose old parents must be locked too), then projects in new
-- statements. Lock order: tenant, providers, service categories, skills.
-- Hot path, only ever called inside a SECURITY DEFINER sync function.
CREATE OR REPLACE FUNCTION catalog_sync.sync_providers(
    p_tenant_id       bigint,
    p_provider_ids    bigint[],
    p_masks           integer[],
    p_provider_uuids  uuid[],
    p_reuse           boolean,
    p_more_categories bigint[],
    p_more_skills     bigint[],
    p_services        boolean
)
RETURNS void
LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan   -- for the apply functions (see define_apply())
AS $$
DECLARE
    v_parents record;
BEGIN
    PERFORM catalog_sync.lock_for_parent_change(p_tenant_id, 'provider', p_provider_ids);
    -- the tables provider_parents() and the projections read, before the
    -- statements that read them (lock_sources(): why)
    PERFORM catalog_sync.lock_sources(p_tenant_id, '{providers,services}');
    SELECT * INTO v_parents FROM catalog_sync.provider_parents(p_tenant_id, p_provider_ids);
    PERFORM catalog_sync.lock_for_read(p_tenant_id, 'service_category',
                                       coalesce(v_parents.categories, '{}') || coalesce(p_more_categories, '{}'));
    PERFORM catalog_sync.lock_for_read(p_tenant_id, 'skill',
                                       coalesce(v_parents.skills, '{}') || coalesce(p_more_skills, '{}'));
    PERFORM catalog_sync.apply_providers(p_tenant_id, 'ids', p_provider_ids, p_masks, p_reuse,
                                         p_provider_uuids, NULL, false);
    IF p_services THEN
        -- Services show the provider's name, avatar, rating, verification and
        -- follow its eligibility; their own HTML is unchanged: reuse it.
        PERFORM catalog_sync.apply_services(p_tenant_id, 'providers', p_provider_ids, NULL, true,
                                            NULL, p_provider_uuids, false);
    END IF;
END
$$;
ALTER FUNCTION catalog_sync.sync_providers(bigint, bigint[], integer[], uuid[], boolean, bigint[], bigint[], boolean)
    OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.sync_providers(bigint, bigint[], integer[], uuid[], boolean, bigint[], bigint[], boolean)
    FROM PUBLIC;
