-- The apply of a large UPDATE of jobs or services, in batches of at most
-- p_batch changed rows, each its own statement (sync_changes() decides, and
-- takes every lock first). Why: the apply's MERGE pairs the candidate keys
-- with the projected rows in a hash join, whose table of keys has to fit in
-- hash_mem (work_mem times hash_mem_multiplier, the DBA's limit); past it,
-- the join splits into batches and writes half of the projected rows, HTML
-- and all, to a temporary file and reads them back (100,000 keys at the
-- default 8 MB: 120 MB; docs/benchmarks.md, Diagnosis, thirty-fourth
-- session). Batches sized to that limit keep it in memory without taking
-- more memory than the DBA set.
--
-- Only for statements in which no row gave up its uuid (sync_changes()
-- checks): then each changed row's candidate key is its own uuid, in the
-- batch of the row (p_uuids aligned with p_ids and p_masks, one element per
-- transition row), and a batch never deletes a key that a row of another
-- batch holds. An id that comes twice may fall into two batches: the second
-- apply finds its row equal and leaves it. Every batch reads the rows as
-- the statement left them, under the locks its caller took for all of them,
-- so the batches together write what one apply would have.
-- Hot path, only ever called inside the sync's SECURITY DEFINER trigger
-- functions (EXECUTE is the owner's alone), under their pinned settings: no
-- SET clause. VOLATILE: each apply is a new statement.
CREATE OR REPLACE FUNCTION catalog_sync.apply_in_batches(
    p_tenant_id    bigint,
    p_source_table name,
    p_ids          bigint[],
    p_masks        integer[],
    p_uuids        uuid[],
    p_batch        integer
)
RETURNS void
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
    v_count integer := pg_catalog.cardinality(p_ids);
    v_size  integer;    -- rows per batch: the batches of equal size, each at most p_batch
    v_first integer;
    v_ids   bigint[];
    v_masks integer[];
    v_void  text;       -- what a call made for its effect returns (see sync_changes())
BEGIN
    IF p_source_table NOT IN ('ats_jobposting', 'services_service') THEN
        RAISE EXCEPTION 'catalog_sync: no batched apply for %', p_source_table;
    END IF;
    v_size := pg_catalog.ceil(v_count::numeric / pg_catalog.ceil(v_count::numeric / p_batch))::integer;
    FOR v_first IN 1 .. v_count BY v_size LOOP
        SELECT m.ids, m.masks INTO v_ids, v_masks
        FROM catalog_sync.merged_changes(p_ids[v_first:v_first + v_size - 1],
                                         p_masks[v_first:v_first + v_size - 1]) AS m;
        IF p_source_table = 'ats_jobposting' THEN
            v_void := catalog_sync.apply_jobs(p_tenant_id, 'ids', v_ids, v_masks, true,
                                              pg_catalog.array_remove(p_uuids[v_first:v_first + v_size - 1], NULL),
                                              NULL, false)::text;
        ELSE
            v_void := catalog_sync.apply_services(p_tenant_id, 'ids', v_ids, v_masks, true,
                                                  pg_catalog.array_remove(p_uuids[v_first:v_first + v_size - 1], NULL),
                                                  NULL, false)::text;
        END IF;
    END LOOP;
END
$$;
ALTER FUNCTION catalog_sync.apply_in_batches(bigint, name, bigint[], integer[], uuid[], integer)
    OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.apply_in_batches(bigint, name, bigint[], integer[], uuid[], integer) FROM PUBLIC;
