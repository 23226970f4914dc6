-- The rows of public.tenants_tenant (the registry) whose schema_name is in
-- p_schemas, or every row (NULL), for the installer's
-- functions (attach, status, verify, ...): with registry_row() (one tenant,
-- for the sync's hot paths) the only reads of the registry. Locked and
-- checked first (assert_registry(), waiting as any read does, and naming what
-- does not match), then read with lock_timeout = 1ms, for the reason given in
-- registry_row(): the planner must not wait for an index lock the application
-- role holds. The read folds the check into its own plan too (contract_holds(),
-- as every static read does): an index over the application's code committed
-- after assert_registry() would otherwise be folded by this read's planner, as
-- the definer (review, twenty-seventh session).
-- With p_limit, the p_limit rows whose ids follow p_after (NULL: the first),
-- by id, read through the registry's primary key: status() reads one tenant
-- per call, and reading the whole registry each time made a status run
-- quadratic in the number of tenants (0.5 ms a call at 1,000 tenants, 2.6 ms
-- at 10,000: forty-first session).
-- The form without p_after and p_limit (no release has it) is dropped first:
-- the two would make registry_rows() ambiguous. The current one is never
-- dropped, so grants given to it are kept.
DO $drop$
BEGIN
    IF pg_catalog.to_regprocedure('catalog_sync.registry_rows(text[])') IS NOT NULL THEN
        DROP FUNCTION catalog_sync.registry_rows(text[]);
    END IF;
END
$drop$;
CREATE OR REPLACE FUNCTION catalog_sync.registry_rows(p_schemas text[] DEFAULT NULL, p_after bigint DEFAULT NULL,
                                                      p_limit integer DEFAULT NULL)
RETURNS TABLE (tenant_id bigint, tenant_schema text, company_name text, tenant_status text)
LANGUAGE plpgsql STABLE   -- reads on its caller's snapshot (see registry_row())
SET search_path = pg_catalog, pg_temp
-- The application owns the registry: a row level security policy of its own
-- on it would run its code as the definer, and hide rows (a registered tenant
-- then looked gone, and repair purged it: red team, twentieth session). Off,
-- a read the policy would affect fails instead (42501), before any policy
-- expression runs.
SET row_security = off
AS $$
DECLARE
    v_lock_timeout text := pg_catalog.current_setting('lock_timeout');
BEGIN
    PERFORM catalog_sync.assert_registry();
    -- (a wait there for DDL that rewrote the registry: fails rather than read
    -- it as empty on the caller's older snapshot, where the tenants would
    -- look gone; review, fifty-first session. assert_not_rewritten())
    PERFORM catalog_sync.assert_not_rewritten(ARRAY['public.tenants_tenant'::pg_catalog.regclass::pg_catalog.oid]);
    PERFORM pg_catalog.set_config('lock_timeout', '1ms', true);
    -- Two statements, each with a plan of its own: the whole registry (or the
    -- schemas named) as it comes, or the next rows by the primary key.
    IF p_limit IS NULL THEN
        RETURN QUERY
        WITH contract AS MATERIALIZED (
            SELECT catalog_sync.contract_holds('public.tenants_tenant'::pg_catalog.regclass, 'tenants_tenant') AS holds
        )
        SELECT t.id, t.schema_name::text, t.name::text, t.status::text
        FROM contract CROSS JOIN ONLY public.tenants_tenant AS t
        WHERE contract.holds AND (p_schemas IS NULL OR t.schema_name::text = ANY (p_schemas));
    ELSE
        RETURN QUERY
        WITH contract AS MATERIALIZED (
            SELECT catalog_sync.contract_holds('public.tenants_tenant'::pg_catalog.regclass, 'tenants_tenant') AS holds
        )
        SELECT t.id, t.schema_name::text, t.name::text, t.status::text
        FROM contract CROSS JOIN ONLY public.tenants_tenant AS t
        WHERE contract.holds AND (p_schemas IS NULL OR t.schema_name::text = ANY (p_schemas))
          AND t.id > coalesce(p_after, '-9223372036854775808'::bigint)
        ORDER BY t.id
        LIMIT p_limit;
    END IF;
    PERFORM pg_catalog.set_config('lock_timeout', v_lock_timeout, true);
END
$$;
ALTER FUNCTION catalog_sync.registry_rows(text[], bigint, integer) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.registry_rows(text[], bigint, integer) FROM PUBLIC;
