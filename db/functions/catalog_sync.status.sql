-- One line per tenant of the registry: attached or not, the state of its sync
-- triggers (worst first), eligible jobs by the projection vs catalog rows, the
-- last backfill and the last row the sync wrote.
-- Without arguments, every tenant by schema name, in one statement. Else the
-- p_limit tenants whose ids follow p_after (the registry's primary key: a
-- rename between calls neither skips nor repeats a tenant). The CLI reads one
-- tenant per transaction, as verify does, so the ACCESS SHARE locks the
-- projections take on a tenant's tables are released before the next tenant:
-- an application's ALTER TABLE never waits for the rest of the run.
-- A tenant whose tables cannot be read (a lock held longer than lock_timeout,
-- a contract change racing the call, ...) gets its error in the column error
-- and the next tenant is read: one busy tenant must not hide the others.
-- detached: not attached on purpose (detach, or the opt-out of a tenant never
-- attached; attach --all skips it), whatever became of its schema; or
-- detached by the sync itself after a source table was gone
-- (catalog_sync.tenant.detached_because: verify reports it, and attach --all
-- attaches it, once its schema has every contract table again (by name));
-- detached_because says why the sync did (NULL for a detach on purpose).
-- The result gained the columns error, detached and detached_because. A development database
-- that installed an older form (no release has one) must be rebuilt (alembic
-- downgrade base, upgrade head): CREATE OR REPLACE cannot change a result
-- type. Applying this file over it (psql -f) drops that form first; the
-- current one is never dropped, so grants given to it are kept.
DO $drop$
BEGIN
    IF EXISTS (SELECT FROM pg_catalog.pg_proc p
               WHERE p.oid = pg_catalog.to_regprocedure('catalog_sync.status(bigint, integer)')
                 AND NOT 'detached_because' = ANY (p.proargnames)) THEN
        DROP FUNCTION catalog_sync.status(bigint, integer);
    END IF;
END
$drop$;
CREATE OR REPLACE FUNCTION catalog_sync.status(p_after bigint DEFAULT NULL, p_limit integer DEFAULT NULL)
RETURNS TABLE (tenant_id bigint, schema_name text, tenant_status text, attached boolean, triggers text,
               eligible bigint, catalog_rows bigint, last_backfill_at timestamptz, last_synced_at timestamptz,
               eligible_providers bigint, provider_rows bigint, eligible_services bigint, service_rows bigint,
               error text, detached boolean, detached_because text)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off   -- see docs/architecture.md, "No JIT in the sync"
SET constraint_exclusion = partition   -- see docs/security.md, "Session settings"
SET row_security = off
AS $$
DECLARE
    v_r       record;
    v_relids  oid[];    -- the tenant's registered tables
    v_tables  name[];   -- and their source tables, in the same order
BEGIN
    PERFORM catalog_sync.assert_read_committed();
    FOR v_r IN SELECT r.tenant_id AS id, r.tenant_schema AS schema_name, r.tenant_status AS status,
                      t.tenant_id IS NOT NULL AND t.detached_at IS NULL AS is_attached,
                      t.detached_at IS NOT NULL AS is_detached, t.last_backfill_at,
                      CASE WHEN t.detached_at IS NOT NULL THEN t.detached_because END AS because
               -- (with p_limit, only the rows after p_after: see registry_rows())
               FROM catalog_sync.registry_rows(NULL, p_after, p_limit) AS r
               LEFT JOIN catalog_sync.tenant t ON t.tenant_id = r.tenant_id
               WHERE p_after IS NULL OR r.tenant_id > p_after
               ORDER BY CASE WHEN p_after IS NULL AND p_limit IS NULL THEN r.tenant_schema END, r.tenant_id
               LIMIT p_limit LOOP
        tenant_id := v_r.id;
        schema_name := v_r.schema_name;
        tenant_status := v_r.status;
        attached := v_r.is_attached;
        detached := coalesce(v_r.is_detached, false);
        detached_because := v_r.because;
        last_backfill_at := v_r.last_backfill_at;
        error := NULL;
        SELECT count(*), max(c.synced_at) INTO catalog_rows, last_synced_at
        FROM public.job_catalog c WHERE c.tenant_id = v_r.id;
        SELECT count(*), greatest(last_synced_at, max(c.synced_at)) INTO provider_rows, last_synced_at
        FROM public.provider_catalog c WHERE c.tenant_id = v_r.id;
        SELECT count(*), greatest(last_synced_at, max(c.synced_at)) INTO service_rows, last_synced_at
        FROM public.service_catalog c WHERE c.tenant_id = v_r.id;
        triggers := NULL;
        eligible := NULL;
        eligible_providers := NULL;
        eligible_services := NULL;
        IF NOT v_r.is_attached THEN
            -- Sync triggers on the tables of a schema not attached (a clone of an
            -- attached tenant's schema, say): EXTRA, as attach would drop them;
            -- audit's unregistered_sync_trigger says whether writes fail (DBA
            -- trial, forty-fifth session: status showed nothing of them).
            SELECT 'EXTRA ' || count(*) INTO triggers
            FROM pg_catalog.pg_trigger tg
            JOIN pg_catalog.pg_class c ON c.oid = tg.tgrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_catalog.pg_proc p ON p.oid = tg.tgfoid
            WHERE n.nspname = v_r.schema_name::name
              AND p.pronamespace = 'catalog_sync'::pg_catalog.regnamespace
              -- (not the registry's own: django-tenants' public tenant showed
              -- EXTRA 2, Django trial, forty-sixth session)
              AND tg.tgrelid <> 'public.tenants_tenant'::pg_catalog.regclass
            HAVING count(*) > 0;
        END IF;
        IF v_r.is_attached THEN
            -- A registered table gone or replaced (decided by name, as verify does: its
            -- OID may now name anything, after a restore from a dump): neither its
            -- triggers nor its counts mean anything until repair.
            error := (SELECT CASE r.why
                                  WHEN 'replaced'
                                  THEN format('%I.%I is another table than the registered one (oid %s): restored '
                                              'from a dump, or rebuilt and swapped in; not counted; catalog-sync '
                                              'verify --repair attaches it and re-syncs the tenant',
                                              r.schema_name, r.source_table, r.relid)
                                  WHEN 'moved'
                                  THEN format('the registry names schema %I, and the registered %s is %s: not '
                                              'counted; set the registry''s schema_name back, or catalog-sync '
                                              'verify --repair attaches what the name means there',
                                              r.schema_name, r.source_table, catalog_sync.qualified_name(r.relid))
                                  ELSE format('%I.%I (oid %s) was dropped: not counted; catalog-sync verify '
                                              '--repair removes the tenant''s catalog rows and detaches it (or '
                                              'restore the table, then attach the schema)',
                                              r.schema_name, r.source_table, r.relid) END
                      FROM catalog_sync.replaced_tables(v_r.id) AS r ORDER BY r.source_table LIMIT 1);
        END IF;
        IF v_r.is_attached AND error IS NULL THEN
            -- The tenant's tables once, for one trigger_states() call and one
            -- contract_matches() call over all of them (not one per table).
            SELECT array_agg(a.relid), array_agg(a.source_table) INTO v_relids, v_tables
            FROM catalog_sync.attached_table a WHERE a.tenant_id = v_r.id;
            SELECT coalesce(string_agg(x.state || ' ' || x.n, ', ' ORDER BY x.rank), 'NONE') INTO triggers
            FROM (SELECT st.state, count(*) AS n,
                         array_position(ARRAY['MISSING', 'DISABLED', 'OUTDATED', 'EXTRA', 'INSTALLED'], st.state) AS rank
                  FROM catalog_sync.trigger_states(v_relids, v_tables, v_r.id) st
                  GROUP BY st.state) x;
            -- (contract_problems() finds nothing where contract_matches() holds)
            IF (CASE WHEN v_relids IS NOT NULL THEN catalog_sync.contract_matches(v_relids, v_tables) END
                OR NOT EXISTS (SELECT FROM catalog_sync.attached_table a
                               CROSS JOIN LATERAL catalog_sync.contract_problems(a.relid, a.source_table)
                               WHERE a.tenant_id = v_r.id))
               -- nor what would make the read fail (RLS, revoked privileges): one
               -- tenant must not make status fail for every tenant
               AND NOT EXISTS (SELECT FROM catalog_sync.read_problems(ARRAY(
                                   SELECT a.relid FROM catalog_sync.attached_table a WHERE a.tenant_id = v_r.id))) THEN
                -- The job and service projections are inlined into the counts,
                -- which compute none of their columns: nothing is sanitized to be
                -- counted. The providers' (PL/pgSQL) reuses the HTML of rows
                -- already in the catalog.
                -- The projections lock the tenant's tables: what fails there is
                -- reported in error (SQLSTATE: message) and the next tenant read
                -- (a subtransaction, undone with its locks and settings; a cancel
                -- is not caught).
                BEGIN
                    SELECT count(*) INTO eligible FROM catalog_sync.project_jobs(v_r.id, 'all', NULL, NULL, true);
                    SELECT count(*) INTO eligible_providers
                    FROM catalog_sync.project_providers(v_r.id, 'all', NULL, NULL, true);
                    SELECT count(*) INTO eligible_services
                    FROM catalog_sync.project_services(v_r.id, 'all', NULL, NULL, true);
                EXCEPTION WHEN OTHERS THEN
                    error := SQLSTATE || ': ' || SQLERRM;
                    eligible := NULL;
                    eligible_providers := NULL;
                    eligible_services := NULL;
                END;
            ELSE
                -- Not counted, and said why (review, seventeenth session: it was
                -- silent, the counts empty and the exit code 0).
                error := coalesce(
                    (SELECT a.source_table || ': ' || cp
                     FROM catalog_sync.attached_table a
                     CROSS JOIN LATERAL catalog_sync.contract_problems(a.relid, a.source_table) AS cp
                     WHERE a.tenant_id = v_r.id ORDER BY a.source_table LIMIT 1),
                    'its tables cannot be read by the sync (row-level security, or privileges revoked)')
                    || ': not counted; catalog-sync verify names every problem';
            END IF;
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;
ALTER FUNCTION catalog_sync.status(bigint, integer) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.status(bigint, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.status(bigint, integer) TO catalog_sync_installer;
