-- Bring one attached tenant's catalog rows in line with the projections, set
-- based, in the caller's transaction: insert what is missing, update what
-- differs, delete what is no longer eligible. Idempotent; a second run writes
-- nothing. Holds the tenant's exclusive lock, so live writers of that tenant
-- wait for it (and it for them) instead of racing it. One row per catalog
-- (jobs, providers, services; p_catalog: just one). p_dry_run counts what would
-- change and writes nothing.
CREATE OR REPLACE FUNCTION catalog_sync.backfill_tenant(
    p_tenant_id bigint,
    p_dry_run   boolean DEFAULT false,
    p_catalog   text DEFAULT NULL
)
RETURNS TABLE (catalog text, source_rows bigint, eligible bigint, inserted bigint, updated bigint, removed bigint)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off   -- see docs/architecture.md, "No JIT in the sync"
SET constraint_exclusion = partition   -- see docs/security.md, "Session settings"
SET row_security = off
AS $$
DECLARE
    v_catalog record;
    v_relid   oid;      -- the catalog's source table in this tenant
    v_would   jsonb;    -- dry run: per catalog, [missing, stale, orphan or expired]
    v_lock_timeout text;
BEGIN
    -- (first: the public tenant's no-op below must not pass a bad one; review, forty-sixth session)
    IF p_catalog IS NOT NULL AND p_catalog NOT IN ('jobs', 'providers', 'services') THEN
        RAISE EXCEPTION 'catalog_sync: unknown catalog %', p_catalog
            USING ERRCODE = 'invalid_parameter_value', HINT = 'Known catalogs: jobs, providers, services.';
    END IF;
    IF NOT EXISTS (SELECT FROM catalog_sync.attached_table a WHERE a.tenant_id = p_tenant_id) THEN
        -- django-tenants' public tenant, which attach_schema() attaches as
        -- nothing: nothing to backfill either (see there).
        IF (SELECT r.tenant_schema FROM catalog_sync.registry_row(p_tenant_id) AS r) = 'public' THEN
            RAISE NOTICE 'catalog_sync: tenant % is django-tenants'' public tenant (schema public, no tenant '
                         'tables): nothing to backfill', p_tenant_id;
            RETURN;
        END IF;
        RAISE EXCEPTION 'catalog_sync: tenant % is not attached', p_tenant_id
            USING ERRCODE = 'undefined_object', HINT = 'Run catalog-sync attach first.';
    END IF;
    -- Nothing of a tenant table is read before it passed the contract check,
    -- made after the last lock wait before that read: by the readers that
    -- verify and refresh_catalog() call, and below, before each count.
    PERFORM catalog_sync.assert_read_committed();
    PERFORM catalog_sync.assert_registry();
    -- The registry row read first, as every sync read of it (registry_row():
    -- no wait for an index lock the application holds, a REINDEX, where the
    -- claim's foreign-key check below would wait to plan its query).
    PERFORM catalog_sync.lock_registry();
    PERFORM FROM catalog_sync.registry_row(p_tenant_id);
    PERFORM catalog_sync.lock_for_tenant_change(ARRAY[p_tenant_id]);
    -- The tenant's registry row claimed (FOR KEY SHARE, through a foreign
    -- key's check: registry_claim) under the tenant's lock, before any
    -- catalog row: a DELETE of the tenant from the registry then waits for
    -- this backfill before it cascades to anything, and one that committed
    -- while the backfill waited for the lock is named. (Claimed before the
    -- tenant's lock, it deadlocked with a transaction that took that lock
    -- first, a write of the tenant or protect's check of a DROP SCHEMA, and
    -- then deleted the tenant: Django's tenant.delete(); review, same
    -- session. A DELETE that comes between the lock and the claim still
    -- deadlocks with it; the CLI tries such a tenant once more.) A dry run
    -- writes nothing: no claim.
    IF NOT p_dry_run THEN
        BEGIN
            INSERT INTO catalog_sync.registry_claim (tenant_id) VALUES (p_tenant_id);
        EXCEPTION WHEN foreign_key_violation THEN
            RAISE EXCEPTION 'catalog_sync: tenant % is not attached (deleted from the registry)', p_tenant_id
                USING ERRCODE = 'undefined_object';
        END;
        DELETE FROM catalog_sync.registry_claim c WHERE c.tenant_id = p_tenant_id;
    END IF;
    -- A registered table that its name no longer means (swapped out): the
    -- application writes another table, so a backfill from the
    -- registered one would report success and leave the catalog wrong (DBA
    -- review, nineteenth session). Repair attaches what the name means.
    PERFORM catalog_sync.assert_not_replaced(p_tenant_id);
    IF p_dry_run THEN
        -- One verify for all catalogs: it projects (and sanitizes) every
        -- catalog of the tenant each time it runs. Its tables locked first,
        -- in a statement of their own (lock_tenant_tables(): why).
        PERFORM catalog_sync.lock_tenant_tables(p_tenant_id);
        SELECT jsonb_object_agg(c.catalog, jsonb_build_array(c.missing, c.stale, c.removed))
        INTO v_would
        FROM (SELECT v.catalog,
                     count(*) FILTER (WHERE v.problem = 'missing') AS missing,
                     count(*) FILTER (WHERE v.problem = 'stale') AS stale,
                     count(*) FILTER (WHERE v.problem IN ('orphan', 'expired')) AS removed
              FROM catalog_sync.verify_tenant(p_tenant_id) v
              WHERE v.catalog IS NOT NULL
              GROUP BY v.catalog) AS c;
    END IF;

    FOR v_catalog IN SELECT * FROM (VALUES (1, 'jobs', 'ats_jobposting'),
                                           (2, 'providers', 'services_serviceprovider'),
                                           (3, 'services', 'services_service'))
                                   AS c (n, name, source_table)
                     WHERE p_catalog IS NULL OR c.name = p_catalog ORDER BY c.n LOOP
        catalog := v_catalog.name;
        -- Planning the count reads the table's indexes (and folds their
        -- expressions). Whatever waited before (the tenant's lock above, the
        -- dry run's verify, the previous catalog's refresh: the registry, a
        -- lock the tenant queued on a catalog), the tenant may have added an
        -- index meanwhile: check right before.
        v_relid := catalog_sync.source_relid(p_tenant_id, v_catalog.source_table);
        PERFORM catalog_sync.assert_contract(v_relid, v_catalog.source_table);
        -- And no waiting for an index lock the tenant holds (see job_sources());
        -- 55P03 instead.
        v_lock_timeout := pg_catalog.current_setting('lock_timeout');
        PERFORM pg_catalog.set_config('lock_timeout', '1ms', true);
        EXECUTE format('WITH %s SELECT count(*) FROM ONLY %s AS t WHERE (SELECT contract.holds FROM contract)',
                       catalog_sync.folded_check(ARRAY[v_relid], ARRAY[v_catalog.source_table]),
                       catalog_sync.qualified_name(v_relid))
            INTO source_rows;
        PERFORM pg_catalog.set_config('lock_timeout', v_lock_timeout, true);
        IF p_dry_run THEN
            inserted := coalesce((v_would -> v_catalog.name ->> 0)::bigint, 0);
            updated := coalesce((v_would -> v_catalog.name ->> 1)::bigint, 0);
            removed := coalesce((v_would -> v_catalog.name ->> 2)::bigint, 0);
            EXECUTE format('SELECT count(*) FROM catalog_sync.%I($1, ''all'', NULL, NULL, true)',
                           'project_' || v_catalog.name)
                INTO eligible USING p_tenant_id;
        ELSE
            SELECT r.removed, r.inserted, r.updated INTO removed, inserted, updated
            FROM catalog_sync.refresh_catalog(p_tenant_id, v_catalog.name, 'all', NULL, false) r;
            -- (static reads, their plans kept for the session: an EXECUTE was
            -- planned again for every tenant)
            IF v_catalog.name = 'jobs' THEN
                SELECT count(*) INTO eligible FROM public.job_catalog AS c WHERE c.tenant_id = p_tenant_id;
            ELSIF v_catalog.name = 'providers' THEN
                SELECT count(*) INTO eligible FROM public.provider_catalog AS c WHERE c.tenant_id = p_tenant_id;
            ELSE
                SELECT count(*) INTO eligible FROM public.service_catalog AS c WHERE c.tenant_id = p_tenant_id;
            END IF;
        END IF;
        RETURN NEXT;
    END LOOP;
    IF NOT p_dry_run THEN
        -- (and the machinery's copy of the schema name made the registry's
        -- again, where a change of it did not fire the registry's trigger: the
        -- tables are there, assert_not_replaced() said so)
        -- (a backfill of one catalog is not the tenant's: review, forty-eighth session)
        UPDATE catalog_sync.tenant t
        SET last_backfill_at = CASE WHEN p_catalog IS NULL THEN clock_timestamp() ELSE t.last_backfill_at END,
            schema_name = coalesce((SELECT r.tenant_schema::name FROM catalog_sync.registry_row(p_tenant_id) AS r),
                                   t.schema_name)
        WHERE t.tenant_id = p_tenant_id;
    END IF;
END
$$;
ALTER FUNCTION catalog_sync.backfill_tenant(bigint, boolean, text) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.backfill_tenant(bigint, boolean, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.backfill_tenant(bigint, boolean, text) TO catalog_sync_installer;
