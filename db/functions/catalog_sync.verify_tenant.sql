-- Drift of one attached tenant, read-only: compares every catalog with its
-- projection (run in full, no reuse) by key and by every shown column, and the
-- live triggers with the spec. Problems (catalog: jobs, providers, services):
--   missing   an eligible source row has no catalog row
--   stale     a catalog row differs from its projection (detail: the columns)
--   orphan    a catalog row whose source is gone or not eligible
--   expired   a job orphan whose source job's application deadline has passed
--             (whatever else may have made it ineligible too)
--   trigger_missing / trigger_disabled / trigger_outdated  (detail: table.trigger)
--   contract  a source table no longer matches the contract (rows not compared)
--   table_missing  a registered source table was dropped (rows not compared)
--   table_replaced  the contract name in the tenant's schema means another
--             relation than the registered one (rows not compared): the
--             registered table was renamed away or dropped and another took
--             its name (a restore from a dump, a table rebuilt and swapped
--             in): the application writes there, and nothing syncs it;
--             or the registered table is outside the schema the registry
--             names for the tenant (replaced_tables(): moved)
--   unreadable  RLS enabled or the machinery's privileges revoked (rows not compared)
-- One call reads in one snapshot (STABLE: every query of it uses the snapshot
-- of the statement that called it). READ COMMITTED only: before it parses any
-- read of the tenant's tables it locks them and checks their contract on a
-- snapshot of its own, taken after the locks; under REPEATABLE READ that
-- snapshot would be the transaction's first, older than what the parser and
-- planner see (a table swapped for a view meanwhile, an index over tenant
-- code). The table names come from qualified_name() (the catalog caches),
-- after the lock.
CREATE OR REPLACE FUNCTION catalog_sync.verify_tenant(p_tenant_id bigint)
RETURNS TABLE (problem text, key uuid, detail text, catalog text)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off   -- see docs/architecture.md, "No JIT in the sync"
SET constraint_exclusion = partition   -- see docs/security.md, "Session settings"
SET row_security = off
AS $$
DECLARE
    v_cat      record;
    v_relids   oid[];      -- the tenant's registered tables, by source table
    v_tables   name[];     -- their source tables
    v_schemas  name[];     -- replaced_tables()'s schema_name, why and named_relid of each (NULL: still it)
    v_whys     text[];
    v_named    oid[];
    v_live_relids oid[];   -- those with no why, and their source tables
    v_live_tables name[];
    v_checked  boolean := true;   -- their contract holds and the sync may read them all
    v_trg_relids oid[];    -- their triggers not INSTALLED: relation, source table, trigger, state
    v_trg_tables name[];
    v_trg_names  name[];
    v_trg_states text[];
    v_job_relid oid;       -- the tenant's job table
    v_row      record;
    v_problems text[];     -- the job differences held back when one is an orphan: problem, key, detail
    v_keys     uuid[];
    v_details  text[];
    v_orphans  uuid[];     -- their orphans' keys, and those of them that are expired
    v_expired  uuid[];
    v_readable boolean := true;
    v_lock_timeout text;
BEGIN
    PERFORM catalog_sync.assert_read_committed();
    PERFORM catalog_sync.assert_registry();
    IF NOT EXISTS (SELECT FROM catalog_sync.tenant t WHERE t.tenant_id = p_tenant_id AND t.detached_at IS NULL) THEN
        RAISE EXCEPTION 'catalog_sync: tenant % is not attached', p_tenant_id USING ERRCODE = 'undefined_object';
    END IF;
    -- Whether each registered table is still what the application writes is
    -- replaced_tables()'s decision (by name from pg_catalog, nothing parsed),
    -- shared with audit, status and backfill.
    -- (Its schema_name is the registry's, which the machinery's copy may lag.)
    -- Read once, by source table, into arrays: the checks below ask about all
    -- the tenant's tables at once.
    SELECT array_agg(a.relid ORDER BY a.source_table), array_agg(a.source_table ORDER BY a.source_table),
           array_agg(r.schema_name ORDER BY a.source_table), array_agg(r.why ORDER BY a.source_table),
           array_agg(r.named_relid ORDER BY a.source_table),
           array_agg(a.relid ORDER BY a.source_table) FILTER (WHERE r.why IS NULL),
           array_agg(a.source_table ORDER BY a.source_table) FILTER (WHERE r.why IS NULL)
    INTO v_relids, v_tables, v_schemas, v_whys, v_named, v_live_relids, v_live_tables
    FROM catalog_sync.attached_table a
    LEFT JOIN catalog_sync.replaced_tables(p_tenant_id) r ON r.relid = a.relid
    WHERE a.tenant_id = p_tenant_id;
    -- The tables still registered (no why): their contract and readability
    -- in one contract_matches() call and one query, and their triggers in one
    -- trigger_states() call, as status() asks (a call of each per table cost
    -- about 2.7 ms a tenant). Only where something is found are the tables
    -- checked one by one below, for the same lines in the same order
    -- (contract_problems() finds nothing where contract_matches() holds).
    IF v_live_relids IS NOT NULL THEN
        v_checked := catalog_sync.contract_matches(v_live_relids, v_live_tables)
                     AND NOT EXISTS (SELECT FROM catalog_sync.read_problems(v_live_relids));
        -- (in trigger_states()'s order: by table, then by trigger name)
        SELECT array_agg(st.relid ORDER BY st.n), array_agg(st.source_table ORDER BY st.n),
               array_agg(st.trigger_name ORDER BY st.n), array_agg(st.state ORDER BY st.n)
        INTO v_trg_relids, v_trg_tables, v_trg_names, v_trg_states
        FROM catalog_sync.trigger_states(v_live_relids, v_live_tables, p_tenant_id)
             WITH ORDINALITY AS st (relid, source_table, trigger_name, state, n)
        WHERE st.state <> 'INSTALLED';
    END IF;
    FOR i IN 1 .. coalesce(cardinality(v_relids), 0) LOOP
        catalog := NULL;
        key := NULL;
        IF v_whys[i] IS NOT NULL THEN
            problem := CASE v_whys[i] WHEN 'dropped' THEN 'table_missing' ELSE 'table_replaced' END;
            detail := CASE v_whys[i]
                WHEN 'replaced' THEN format('%I.%I is relation %s, not the registered %s (%s)', v_schemas[i],
                                            v_tables[i], v_named[i], v_relids[i],
                                            -- (DBA trial, forty-fifth session: after a restore into another
                                            -- cluster the old OID names an unrelated object, which read as
                                            -- tables swapped between tenants)
                                            coalesce('that OID now names ' || catalog_sync.qualified_name(v_relids[i])
                                                     || '; an unrelated object if this follows a restore into '
                                                        'another cluster', 'dropped'))
                WHEN 'moved' THEN format('the registry names schema %I for this tenant; its registered %s is %s',
                                         v_schemas[i], v_tables[i], catalog_sync.qualified_name(v_relids[i]))
                ELSE v_tables[i] || ' (oid ' || v_relids[i] || ') was dropped' END;
            v_readable := false;
            RETURN NEXT;
            CONTINUE;
        END IF;
        IF NOT v_checked THEN
            FOR problem, detail IN
                SELECT 'contract', coalesce(catalog_sync.qualified_name(v_relids[i]), v_tables[i]::text) || ': ' || cp
                FROM catalog_sync.contract_problems(v_relids[i], v_tables[i]) cp
                -- What would make the read fail (closed) rather than mismatch: reported, not raised.
                UNION ALL
                SELECT 'unreadable', r.problem FROM catalog_sync.read_problems(ARRAY[v_relids[i]]) r
            LOOP
                v_readable := false;
                RETURN NEXT;
            END LOOP;
        END IF;
        IF v_trg_relids IS NOT NULL THEN
            FOR problem, detail IN
                -- (quoted where it needs it: an EXTRA "catalog_sync_job_insert " is not the spec's)
                SELECT 'trigger_' || lower(st.state), v_tables[i] || '.' || quote_ident(st.trigger_name)
                FROM unnest(v_trg_relids, v_trg_tables, v_trg_names, v_trg_states)
                     WITH ORDINALITY AS st (relid, source_table, trigger_name, state, n)
                WHERE st.relid = v_relids[i] AND st.source_table = v_tables[i]
                ORDER BY st.n
            LOOP
                RETURN NEXT;
            END LOOP;
        END IF;
    END LOOP;
    -- A source table of the contract registered for no table of this tenant:
    -- an attach took its table for another tenant (the registry gave that
    -- tenant this one's schema name: red team, twenty-first session; the
    -- tenant was then verified as clean, without a table). Repair removes its
    -- rows and detaches it, as for a dropped table.
    FOR problem, detail IN
        SELECT 'table_missing', format('no %s is registered for this tenant: its table was attached for another '
                                       'tenant since', s.source_table)
        FROM catalog_sync.tenant_source_tables() AS s
        WHERE NOT EXISTS (SELECT FROM catalog_sync.attached_table a
                          WHERE a.tenant_id = p_tenant_id AND a.source_table = s.source_table)
        ORDER BY s.source_table
    LOOP
        catalog := NULL;
        key := NULL;
        v_readable := false;
        RETURN NEXT;
    END LOOP;
    IF NOT v_readable THEN
        RETURN;
    END IF;
    -- Nothing of the tables has been parsed yet (the problems above come from
    -- pg_catalog, by OID, on this call's snapshot). Lock them, and check them
    -- again on a snapshot taken after the locks (assert_contracts() is
    -- VOLATILE) before the reads below parse them: a change that slipped in
    -- since makes verify fail for this tenant instead.
    PERFORM catalog_sync.assert_contracts(array_agg(a.relid ORDER BY a.relid), array_agg(a.source_table ORDER BY a.relid))
    FROM catalog_sync.attached_table a WHERE a.tenant_id = p_tenant_id;

    v_job_relid := catalog_sync.source_relid(p_tenant_id, 'ats_jobposting');
    FOR v_cat IN SELECT * FROM (VALUES (1, 'jobs'), (2, 'providers'), (3, 'services')) AS c (n, name)
                 ORDER BY c.n LOOP
        -- Planning the reads of the tenant's tables (the projections', the
        -- expired lookup's) reads their indexes: refuse to wait for an index
        -- lock the tenant holds (REINDEX) while it adds statistics or an index
        -- over its own code, which the plan would then run (55P03 instead).
        v_lock_timeout := pg_catalog.current_setting('lock_timeout');
        PERFORM pg_catalog.set_config('lock_timeout', '1ms', true);
        -- The generated comparison (define_compare(): static, its plan kept
        -- for the session; the projection checks the tables it reads).
        v_problems := NULL;
        v_keys := NULL;
        v_details := NULL;
        v_orphans := NULL;
        FOR v_row IN EXECUTE format('SELECT * FROM catalog_sync.%I($1)', 'compare_' || v_cat.name) USING p_tenant_id
        LOOP
            IF v_row.orphans AND v_cat.name = 'jobs' THEN
                -- (every row says so) A job orphan may be expired: the rows
                -- are held back until the lookup below has told.
                v_problems := v_problems || v_row.problem;
                v_keys := v_keys || v_row.key;
                v_details := v_details || v_row.detail;
                IF v_row.problem = 'orphan' THEN
                    v_orphans := v_orphans || v_row.key;
                END IF;
                CONTINUE;
            END IF;
            problem := v_row.problem;
            key := v_row.key;
            detail := v_row.detail;
            catalog := v_cat.name;
            RETURN NEXT;
        END LOOP;
        -- (every row held back is returned, a lookup or not: review, forty-third
        -- session, rows held for a flag no orphan answered were lost)
        v_expired := NULL;
        IF v_orphans IS NOT NULL THEN
            -- A job whose deadline passed is drift of a kind of its own: an
            -- orphan whose source job exists with its deadline passed. Only
            -- the orphans' keys are looked up, in the tenant's job table by
            -- name (dynamic SQL: its check made explicitly first, under the
            -- lock assert_contracts() took above, and folded into the
            -- lookup's plan), in this call's snapshot, as the comparison read
            -- it.
            PERFORM catalog_sync.assert_contract(v_job_relid, 'ats_jobposting');
            EXECUTE format('WITH %s SELECT array_agg(DISTINCT j.uuid) FROM ONLY %s AS j '
                           'WHERE (SELECT contract.holds FROM contract) AND j.uuid = ANY ($1) '
                           'AND j.application_deadline <= now()',
                           catalog_sync.folded_check(ARRAY[v_job_relid], '{ats_jobposting}'),
                           catalog_sync.qualified_name(v_job_relid))
            INTO v_expired USING v_orphans;
        END IF;
        IF v_problems IS NOT NULL THEN
            -- Every difference of the catalog, expired ones renamed, in the
            -- comparison's order (problem, then key).
            RETURN QUERY
            SELECT CASE WHEN e.key IS NOT NULL THEN 'expired' ELSE r.problem END, r.key, r.detail, v_cat.name
            FROM unnest(v_problems, v_keys, v_details) AS r (problem, key, detail)
            LEFT JOIN unnest(v_expired) AS e (key) ON e.key = r.key AND r.problem = 'orphan'
            ORDER BY 1, 2;
        END IF;
        PERFORM pg_catalog.set_config('lock_timeout', v_lock_timeout, true);
    END LOOP;
END
$$;
ALTER FUNCTION catalog_sync.verify_tenant(bigint) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.verify_tenant(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.verify_tenant(bigint) TO catalog_sync_installer;
