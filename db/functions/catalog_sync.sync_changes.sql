-- The rest of the sync triggers of the job, service and provider tables
-- (on_job_change(), on_service_change(), on_provider_change()), once they
-- have read their transition tables into arrays, one element per changed row
-- (aligned): p_ids (row ids), p_masks (HTML masks, UPDATE only: the bits of
-- the HTML columns that changed), p_uuids (the rows' new uuids: INSERT,
-- UPDATE), p_left (their old uuids: DELETE, UPDATE), p_parents and p_parents2
-- (the parents the projection reads: new ones; old ones on DELETE) and
-- p_old_parents, p_old_parents2 (old ones, UPDATE). A job UPDATE passes
-- its rows as p_changes instead (catalog_sync.row_change, one element per
-- changed row), unpacked below into p_ids, p_masks, p_uuids, p_left,
-- p_parents and p_old_parents unless a single-row UPDATE takes its shorter
-- path. Groups them, locks the parents, then one set-based statement per
-- catalog brings the catalog rows of those keys in line with the projection
-- (a large UPDATE: one per batch, apply_in_batches()). TRUNCATE: every
-- catalog row of the tenant the table feeds goes.
--
--   p_source_table            parents (lock kind)            parents2 (lock kind)
--   ats_jobposting            category (job_category)        -
--   services_service          provider (provider)            category (service_category)
--   services_serviceprovider  - (sync_providers() locks)     -
--
-- Out of the trigger functions' bodies so that it is compiled, and its plans
-- cached, once per session, not once per trigger (PL/pgSQL compiles a trigger
-- function per trigger: docs/benchmarks.md, section 8). Hot path, only ever
-- called inside those SECURITY DEFINER triggers, under their pinned settings
-- (EXECUTE is the owner's alone): no SET clause. Its static queries run with
-- the triggers' plan_cache_mode = force_generic_plan: planned once per
-- session (left to choose, the plan cache would plan them again for every
-- statement: a custom plan knows the array lengths, so always looks cheaper).
-- VOLATILE on purpose: each apply after the lock waits is then a new
-- statement with a new snapshot (a STABLE function reuses its caller's).
-- A call made for its effect is an assignment here and in the functions it
-- calls on this path, not PERFORM (a function returning void cast to text):
-- PL/pgSQL evaluates an assignment's expression directly, where PERFORM runs
-- it as a query, through the executor, about 5,000 instructions more a call
-- (docs/benchmarks-log.md, Diagnosis, thirty-first session).
-- (Its forms during the twenty-sixth session, which a development database
-- may hold, are dropped.)
DROP FUNCTION IF EXISTS catalog_sync.sync_job_changes(bigint, oid, text, bigint[], integer[], uuid[], uuid[], bigint[]);
DROP FUNCTION IF EXISTS catalog_sync.sync_job_changes(bigint, oid, text, bigint[], integer[], uuid[], uuid[], bigint[],
                                                      bigint[]);
DROP FUNCTION IF EXISTS catalog_sync.job_trigger_checked(oid, oid);
-- (its form before the thirty-sixth session, without p_changes)
DROP FUNCTION IF EXISTS catalog_sync.sync_changes(bigint, oid, name, text, bigint[], integer[], uuid[], uuid[],
                                                  bigint[], bigint[], bigint[], bigint[]);
CREATE OR REPLACE FUNCTION catalog_sync.sync_changes(
    p_tenant_id     bigint,
    p_relid         oid,
    p_source_table  name,
    p_op            text,
    p_ids           bigint[],
    p_masks         integer[],
    p_uuids         uuid[],
    p_left          uuid[],
    p_parents       bigint[],
    p_old_parents   bigint[],
    p_parents2      bigint[],
    p_old_parents2  bigint[],
    p_changes       catalog_sync.row_change[] DEFAULT NULL
)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_holders          bigint[];
    v_holder_parents   bigint[];
    v_holder_parents2  bigint[];
    v_keys             uuid[];       -- every key the catalog may hold for these rows
    v_new_keys         uuid[];       -- UPDATE: the rows' new uuids, and those that left them
    v_left_keys        uuid[];
    v_batch            integer;      -- rows per apply, where a large UPDATE is applied in batches
    v_void             text;         -- what a call made for its effect returns (below)
    v_change           catalog_sync.row_change;   -- a job UPDATE's first changed row
BEGIN
    IF p_changes IS NOT NULL THEN
        -- A job UPDATE (on_job_change()): its changed rows as one array.
        -- (The first element read once, into a variable: each p_changes[1]
        -- copies it out of the array again, about 17,000 instructions a
        -- single-row write for the six; thirty-seventh session. NULL when
        -- there is none.)
        v_change := p_changes[1];
        IF pg_catalog.cardinality(p_changes) = 1 AND v_change.new_key = v_change.old_key THEN
            -- One job updated, its uuid kept (a single-row UPDATE): what the
            -- general path below would do with it, in fewer steps (each plain
            -- expression of a PL/pgSQL function is set up again in every
            -- transaction: docs/benchmarks-log.md, Diagnosis, thirty-second session).
            v_void := catalog_sync.lock_for_read(p_tenant_id, 'job_category',
                                                 ARRAY[v_change.parent, v_change.old_parent])::text;
            v_void := catalog_sync.apply_jobs(p_tenant_id, 'ids', ARRAY[v_change.id], ARRAY[v_change.mask],
                                              true, ARRAY[v_change.new_key], NULL, false)::text;
            RETURN;
        ELSIF pg_catalog.cardinality(p_changes) = 0 THEN
            RETURN;                     -- nothing the catalog shows has changed
        END IF;
        -- Several rows (or one whose uuid changed): the arrays of the general
        -- path, aligned, and the keys the UPDATE branch below would read from
        -- them (see there), in the same pass.
        SELECT pg_catalog.array_agg(c.id), pg_catalog.array_agg(c.mask), pg_catalog.array_agg(c.new_key),
               pg_catalog.array_agg(c.old_key), pg_catalog.array_agg(c.parent), pg_catalog.array_agg(c.old_parent),
               pg_catalog.array_agg(c.new_key) FILTER (WHERE c.new_key IS NOT NULL),
               pg_catalog.array_agg(c.old_key) FILTER (WHERE c.old_key IS DISTINCT FROM c.new_key
                                                       AND c.old_key IS NOT NULL)
        INTO p_ids, p_masks, p_uuids, p_left, p_parents, p_old_parents, v_new_keys, v_left_keys
        FROM pg_catalog.unnest(p_changes) AS c;
    END IF;
    IF p_op = 'TRUNCATE' THEN
        v_void := catalog_sync.lock_for_read(p_tenant_id, NULL, NULL)::text;
        IF p_source_table = 'ats_jobposting' THEN
            DELETE FROM public.job_catalog WHERE tenant_id = p_tenant_id;
        ELSE
            DELETE FROM public.service_catalog WHERE tenant_id = p_tenant_id;
            IF p_source_table = 'services_serviceprovider' THEN
                DELETE FROM public.provider_catalog WHERE tenant_id = p_tenant_id;
            END IF;
        END IF;
        RETURN;
    END IF;
    IF p_ids IS NULL THEN
        RETURN;                         -- nothing the catalogs show has changed
    END IF;
    IF p_op = 'UPDATE' AND pg_catalog.cardinality(p_ids) = 1 THEN
        -- One row (a single-row UPDATE): nothing to fold, and its keys are at
        -- hand; the statements below would cost more than the rest of this
        -- function.
        p_left := CASE WHEN p_left[1] IS DISTINCT FROM p_uuids[1] AND p_left[1] IS NOT NULL THEN p_left END;
        p_uuids := CASE WHEN p_uuids[1] IS NOT NULL THEN p_uuids END;
    ELSIF p_op = 'UPDATE' THEN
        -- Every key the catalog may hold for these rows, in one pass (a
        -- duplicate costs nothing downstream, a sort of 200,000 keys does):
        -- the new uuids, and the old ones that left their rows. (A job
        -- UPDATE's were read with its p_changes above.)
        IF p_changes IS NULL THEN
            SELECT pg_catalog.array_agg(k.new_uuid) FILTER (WHERE k.new_uuid IS NOT NULL),
                   pg_catalog.array_agg(k.old_uuid) FILTER (WHERE k.old_uuid IS DISTINCT FROM k.new_uuid
                                                            AND k.old_uuid IS NOT NULL)
            INTO v_new_keys, v_left_keys
            FROM ROWS FROM (pg_catalog.unnest(p_uuids), pg_catalog.unnest(p_left)) AS k (new_uuid, old_uuid);
        END IF;
        -- More changed rows than the apply's hash of candidate keys holds in
        -- hash_mem (about 128 bytes a key, with room to spare), and no uuid
        -- left its row: applied in batches of that size
        -- (apply_in_batches(), after every lock below), the arrays kept as
        -- they came, one element per transition row.
        IF v_left_keys IS NULL AND p_source_table IN ('ats_jobposting', 'services_service') THEN
            v_batch := least(pg_catalog.floor(pg_catalog.pg_size_bytes(pg_catalog.current_setting('work_mem'))
                                              * pg_catalog.current_setting('hash_mem_multiplier')::double precision
                                              / 128),
                             1000000000)::integer;   -- no overflow, whatever the settings
            IF pg_catalog.cardinality(p_ids) <= v_batch THEN
                v_batch := NULL;
            END IF;
        END IF;
        IF v_batch IS NULL THEN         -- each id once (merged_changes())
            SELECT m.ids, m.masks INTO p_ids, p_masks FROM catalog_sync.merged_changes(p_ids, p_masks) AS m;
            p_uuids := v_new_keys;
        END IF;
        p_left := v_left_keys;
    END IF;
    -- The parents to lock: new and old ones (grouped below, with the
    -- holders' ones).
    p_parents := pg_catalog.array_cat(p_parents, p_old_parents);
    p_parents2 := pg_catalog.array_cat(p_parents2, p_old_parents2);
    -- A uuid that left these rows may now be another row's (uuid_holders():
    -- another part of this statement gave it to that row): project that row
    -- too, its parents locked with the others, so that its key is written
    -- from it or deleted if it is not public, never just deleted.
    IF p_left IS NOT NULL THEN
        SELECT h.ids, h.parents, h.parents2 INTO v_holders, v_holder_parents, v_holder_parents2
        FROM catalog_sync.uuid_holders(p_relid, p_source_table, p_left, p_ids) AS h;
        IF v_holders IS NOT NULL THEN
            p_ids := pg_catalog.array_cat(p_ids, v_holders);
            IF p_masks IS NOT NULL THEN         -- every HTML column of theirs sanitized again
                p_masks := pg_catalog.array_cat(p_masks, pg_catalog.array_fill(
                    CASE WHEN p_source_table = 'ats_jobposting' THEN 15 ELSE 1 END,
                    ARRAY[pg_catalog.cardinality(v_holders)]));
            END IF;
            p_parents := pg_catalog.array_cat(p_parents, v_holder_parents);
            p_parents2 := pg_catalog.array_cat(p_parents2, v_holder_parents2);
        END IF;
    END IF;
    -- Each parent once when there are many, grouped, so hashed (a statement
    -- names few parents): past 64 lock_for_read() takes one lock on the
    -- whole kind, so it must count distinct parents, the holders' included.
    -- Up to 64 the arrays go as they are: lock_for_read() locks each
    -- distinct non-NULL id once, in ascending order, and a single-row write
    -- saves the statement.
    IF coalesce(pg_catalog.cardinality(p_parents), 0) > 64 OR coalesce(pg_catalog.cardinality(p_parents2), 0) > 64 THEN
        SELECT (SELECT pg_catalog.array_agg(c.id)
                FROM (SELECT u.id FROM pg_catalog.unnest(p_parents) AS u (id)
                      WHERE u.id IS NOT NULL GROUP BY u.id) AS c),
               (SELECT pg_catalog.array_agg(c.id)
                FROM (SELECT u.id FROM pg_catalog.unnest(p_parents2) AS u (id)
                      WHERE u.id IS NOT NULL GROUP BY u.id) AS c)
        INTO p_parents, p_parents2;
    END IF;

    -- After the locks, each apply is a new statement, so a new snapshot: it
    -- sees every parent change that committed before the locks were granted.
    -- The tables it reads are checked after this last wait: by the plans that
    -- read them (contract_holds(): made again after any change to them), or
    -- explicitly before a read planned on the spot.
    v_keys := pg_catalog.array_cat(p_uuids, p_left);
    IF p_source_table = 'ats_jobposting' THEN
        v_void := catalog_sync.lock_for_read(p_tenant_id, 'job_category', p_parents)::text;
    ELSIF p_source_table = 'services_service' THEN
        -- the tables the services' projection reads, before the statement
        -- that reads them (lock_sources(); a job's write: guard() locked its own)
        v_void := catalog_sync.lock_sources(p_tenant_id, '{services}')::text;
        v_void := catalog_sync.lock_for_read(p_tenant_id, 'provider', p_parents)::text;
        v_void := catalog_sync.lock_for_read(p_tenant_id, 'service_category', p_parents2)::text;
    END IF;
    IF v_batch IS NOT NULL THEN
        v_void := catalog_sync.apply_in_batches(p_tenant_id, p_source_table, p_ids, p_masks, p_uuids, v_batch)::text;
    ELSIF p_source_table = 'ats_jobposting' THEN
        v_void := catalog_sync.apply_jobs(p_tenant_id, 'ids', p_ids, p_masks, p_op = 'UPDATE', v_keys, NULL,
                                          false)::text;
    ELSIF p_source_table = 'services_service' THEN
        v_void := catalog_sync.apply_services(p_tenant_id, 'ids', p_ids, p_masks, p_op = 'UPDATE', v_keys, NULL,
                                              false)::text;
    ELSE
        -- services_serviceprovider: sync_providers() locks the providers and
        -- their parents, re-projects them and their services
        v_void := catalog_sync.sync_providers(p_tenant_id, p_ids, p_masks, v_keys, p_op = 'UPDATE', NULL, NULL,
                                              true)::text;
    END IF;
END
$$;
ALTER FUNCTION catalog_sync.sync_changes(bigint, oid, name, text, bigint[], integer[], uuid[], uuid[],
                                         bigint[], bigint[], bigint[], bigint[], catalog_sync.row_change[])
    OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.sync_changes(bigint, oid, name, text, bigint[], integer[], uuid[], uuid[],
                                                 bigint[], bigint[], bigint[], bigint[], catalog_sync.row_change[])
    FROM PUBLIC;
