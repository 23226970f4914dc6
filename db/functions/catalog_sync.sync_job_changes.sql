-- The rest of on_job_change(), once it has the statement's changed keys from
-- its transition tables: p_ids (job ids), p_masks (their HTML masks, UPDATE
-- only), p_uuids (the uuids the rows have now), p_left (uuids that left their
-- rows: deleted, or changed), p_categories (the categories of old and new
-- rows). Locks the parents the projection reads, then one set-based statement
-- brings the catalog rows of those keys in line with the projection.
-- TRUNCATE: every catalog row of the tenant goes.
--
-- Out of the trigger function's body so that it is compiled once per session,
-- not once per trigger (see job_trigger_entry()). Hot path, only ever called
-- inside on_job_change(), under its pinned settings (EXECUTE is the owner's
-- alone): no SET clause.
CREATE OR REPLACE FUNCTION catalog_sync.sync_job_changes(
    p_tenant_id  bigint,
    p_relid      oid,
    p_op         text,
    p_ids        bigint[],
    p_masks      integer[],
    p_uuids      uuid[],
    p_left       uuid[],
    p_categories bigint[]
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
ALTER FUNCTION catalog_sync.sync_job_changes(bigint, oid, text, bigint[], integer[], uuid[], uuid[], bigint[])
    OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.sync_job_changes(bigint, oid, text, bigint[], integer[], uuid[], uuid[], bigint[])
    FROM PUBLIC;
