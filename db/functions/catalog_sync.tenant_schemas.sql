-- Every attached tenant, every tenant the sync detached whose tables are still
-- gone (tenants_with_tables_gone()), and every other tenant of the registry
-- whose schema holds the job table (django-tenants' public tenant does not):
-- whether it is attached, and
-- whether it is detached (attach --all leaves those alone): on purpose, or
-- by the sync itself after a source table was gone (detached_because) while
-- one of the contract's tables is still missing from its schema, by name;
-- once they are all there again, such a tenant is only not attached: verify
-- reports it, and attach (--all, or repair) attaches it, or refuses it
-- naming the contract problem (red team, twenty-first session: a table back
-- with an index over the tenant's code kept it detached, unreported).
-- And whether it was ever backfilled (backfilled: an attached tenant whose
-- attach stopped before its backfill, which attach names when run again;
-- crash trial, forty-eighth session).
-- The result gained the column backfilled: applying this file over the older
-- form (psql -f) drops that first (CREATE OR REPLACE cannot change a result
-- type); the current one is never dropped, so grants given to it are kept.
DO $drop$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_proc p
               WHERE p.oid = pg_catalog.to_regprocedure('catalog_sync.tenant_schemas()')
                 AND NOT 'backfilled' = ANY (p.proargnames)) THEN
        DROP FUNCTION catalog_sync.tenant_schemas();
    END IF;
END
$drop$;
CREATE OR REPLACE FUNCTION catalog_sync.tenant_schemas()
RETURNS TABLE (tenant_id bigint, schema_name text, attached boolean, detached boolean, backfilled boolean)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
-- (the estimate of the still_gone probe, never run for most calls, passes
-- jit_above_cost: the query was compiled on every call, 0.6 s)
SET jit = off   -- see docs/architecture.md, "No JIT in the sync"
SET constraint_exclusion = partition   -- see docs/security.md, "Session settings"
AS $$
BEGIN
    RETURN QUERY
    WITH registry AS MATERIALIZED (SELECT * FROM catalog_sync.registry_rows()),
    -- the tenants the sync detached whose schema still misses a contract table
    -- (one definition, verify's and audit's tenant_tables_gone)
    still_gone AS MATERIALIZED (SELECT g.tenant_id FROM catalog_sync.tenants_with_tables_gone() AS g)
    SELECT r.tenant_id, r.tenant_schema, t.tenant_id IS NOT NULL AND t.detached_at IS NULL,
           t.detached_at IS NOT NULL
           AND (t.detached_because IS NULL OR r.tenant_id IN (SELECT g.tenant_id FROM still_gone g)),
           t.last_backfill_at IS NOT NULL
    FROM registry AS r
    LEFT JOIN catalog_sync.tenant t ON t.tenant_id = r.tenant_id
    -- Attached tenants by their registration (their tables may have been
    -- renamed or dropped since), those whose tables are still gone (their
    -- job table may be among them: named here, so that verify, status and
    -- the errors that name a schema find them), others by a table of the
    -- contract's name.
    WHERE (t.tenant_id IS NOT NULL AND t.detached_at IS NULL)
       OR r.tenant_id IN (SELECT g.tenant_id FROM still_gone g)
       OR EXISTS (SELECT FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = r.tenant_schema::name AND c.relname = 'ats_jobposting')
    ORDER BY r.tenant_schema;
END
$$;
ALTER FUNCTION catalog_sync.tenant_schemas() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.tenant_schemas() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.tenant_schemas() TO catalog_sync_installer;
