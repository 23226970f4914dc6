-- The rest of on_job_change(), once it has read its transition tables into
-- arrays, one element per changed row (aligned): p_ids (job ids), p_masks
-- (HTML masks, UPDATE only), p_uuids (the rows' new uuids: INSERT, UPDATE),
-- p_left (their old uuids: DELETE, UPDATE), p_categories (new categories;
-- old ones on DELETE) and p_old_categories (old categories, UPDATE). Groups
-- them, locks the parents the projection reads, then one set-based statement
-- brings the catalog rows of those keys in line with the projection.
-- TRUNCATE: every catalog row of the tenant goes.
--
-- Out of the trigger function's body so that it is compiled, and its plans
-- cached, once per session, not once per trigger (see job_trigger_entry()).
-- Hot path, only ever called inside on_job_change(), under its pinned
-- settings (EXECUTE is the owner's alone): no SET clause. Its static queries
-- run with the trigger's plan_cache_mode = force_generic_plan: planned once
-- per session (left to choose, the plan cache would plan them again for every
-- statement: a custom plan knows the array lengths, so always looks cheaper).
CREATE OR REPLACE FUNCTION catalog_sync.sync_job_changes(
    p_tenant_id  bigint,
    p_relid      oid,
    p_op         text,
    p_ids        bigint[],
    p_masks      integer[],
    p_uuids      uuid[],
    p_left       uuid[],
    p_categories bigint[],
    p_old_categories bigint[]
)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_holders            bigint[];
    v_holder_categories  bigint[];
BEGIN
    IF p_op = 'TRUNCATE' THEN
        PERFORM catalog_sync.lock_for_read(p_tenant_id, NULL, NULL);
        DELETE FROM public.job_catalog WHERE tenant_id = p_tenant_id;
        RETURN;
    END IF;
    IF p_ids IS NULL THEN
        RETURN;                         -- nothing the catalog shows has changed
    END IF;
    IF p_op = 'UPDATE' THEN
        -- An id can come twice: a cascading foreign key's updates join the
        -- statement's transition tables (old and new version of a row the
        -- statement itself changed); once is enough (the reader reads the row
        -- as it is now), with the masks or-ed, else the upsert would meet the
        -- row twice. Ids and masks from one aggregation pass: aligned, and no
        -- sort (of 100,000 rows for a 100,000-row statement).
        SELECT pg_catalog.array_agg(d.id), pg_catalog.array_agg(d.mask) INTO p_ids, p_masks
        FROM (SELECT k.id, pg_catalog.bit_or(k.mask) AS mask
              FROM ROWS FROM (pg_catalog.unnest(p_ids), pg_catalog.unnest(p_masks)) AS k (id, mask)
              GROUP BY k.id) AS d;
        -- Every key the catalog may hold for these rows, in one pass (a
        -- duplicate costs nothing downstream, a sort of 200,000 keys does):
        -- the new uuids, and the old ones that left their rows.
        SELECT pg_catalog.array_agg(k.new_uuid) FILTER (WHERE k.new_uuid IS NOT NULL),
               pg_catalog.array_agg(k.old_uuid) FILTER (WHERE k.old_uuid IS DISTINCT FROM k.new_uuid
                                                        AND k.old_uuid IS NOT NULL)
        INTO p_uuids, p_left
        FROM ROWS FROM (pg_catalog.unnest(p_uuids), pg_catalog.unnest(p_left)) AS k (new_uuid, old_uuid);
    END IF;
    -- Each category once (lock_for_read() counts them), grouped, so hashed: a
    -- job statement names few categories.
    SELECT pg_catalog.array_agg(c.id) INTO p_categories
    FROM (SELECT u.id FROM pg_catalog.unnest(pg_catalog.array_cat(p_categories, p_old_categories)) AS u (id)
          WHERE u.id IS NOT NULL GROUP BY u.id) AS c;
    -- A uuid that left these rows may now be another row's (uuid_holders():
    -- another part of this statement gave it to that row): project that row
    -- too, its category locked with the others, so that its key is written
    -- from it or deleted if it is not public, never just deleted.
    IF p_left IS NOT NULL THEN
        SELECT h.ids, h.parents INTO v_holders, v_holder_categories
        FROM catalog_sync.uuid_holders(p_relid, 'ats_jobposting', p_left, p_ids) AS h;
        IF v_holders IS NOT NULL THEN
            p_ids := p_ids || v_holders;
            IF p_masks IS NOT NULL THEN         -- every HTML column of theirs sanitized again
                p_masks := p_masks || pg_catalog.array_fill(15, ARRAY[pg_catalog.cardinality(v_holders)]);
            END IF;
            p_categories := p_categories || v_holder_categories;
        END IF;
    END IF;

    PERFORM catalog_sync.lock_for_read(p_tenant_id, 'job_category', p_categories);
    -- A new statement, so a new snapshot: it sees every parent change that
    -- committed before the locks above were granted. The tables it reads are
    -- checked after this last wait: the registry and the job and category
    -- tables by the plans that read them (contract_holds(): made again after
    -- any change to them), or explicitly before a read planned on the spot.
    PERFORM catalog_sync.apply_jobs(p_tenant_id, 'ids', p_ids, p_masks, p_op = 'UPDATE',
                                    pg_catalog.array_cat(p_uuids, p_left), NULL, false);
END
$$;
ALTER FUNCTION catalog_sync.sync_job_changes(bigint, oid, text, bigint[], integer[], uuid[], uuid[], bigint[], bigint[])
    OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.sync_job_changes(bigint, oid, text, bigint[], integer[], uuid[], uuid[], bigint[], bigint[])
    FROM PUBLIC;
