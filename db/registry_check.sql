-- The registry must hold the contract before anything is installed over it:
-- every sync function reads it, so on a registry without a column the sync
-- reads (or with another type) every tenant's writes would fail from the
-- first one on. The install stops here, and rolls back (final review,
-- twenty-third session: migrate installed onto such a registry and said
-- nothing).
DO $$
DECLARE
    v_problems text;
BEGIN
    SELECT string_agg(cp, '; ') INTO v_problems
    FROM catalog_sync.contract_problems('public.tenants_tenant'::pg_catalog.regclass, 'tenants_tenant') AS cp;
    IF v_problems IS NOT NULL THEN
        RAISE EXCEPTION 'catalog_sync: public.tenants_tenant does not match the tenants_tenant contract: %', v_problems
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'Nothing was installed. The sync reads these registry columns (docs/operations.md, '
                         '"The columns the sync reads"): restore them, then migrate again.';
    END IF;
END
$$;
