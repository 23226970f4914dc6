-- The apply of a large UPDATE of jobs or services, in batches of at most
-- p_batch changed rows, each its own statement (sync_changes() decides, and
-- takes every lock first). Why: the apply's MERGE pairs the candidate keys
-- with the projected rows in a hash join, whose table of keys has to fit in
-- hash_mem (work_mem times hash_mem_multiplier, the DBA's limit); past it,
-- the join splits into batches and writes half of the projected rows, HTML
-- and all, to a temporary file and reads them back (100,000 keys at the
-- default 8 MB: 120 MB; docs/benchmarks-log.md, Diagnosis, thirty-fourth
-- session). Batches sized to that limit keep it in memory without taking
-- more memory than the DBA set.
--
-- Only for statements in which no row gave up its uuid (sync_changes()
-- checks): then each changed row's candidate key is its own uuid, in the
-- batch of the row (p_uuids aligned with p_ids and p_masks, one element per
-- transition row), and a batch never deletes a key that a row of another
-- batch holds. An id that comes twice (a cascade) may fall into two batches,
-- each with its own mask bits: the end state is the same (the masks of the
-- batches or-ed are those one apply would use), the row may be written
-- twice. Every batch reads the rows as the statement left them, under the
-- locks its caller took for all of them, so the batches together write what
-- one apply would have. The batches are cut in one pass over the arrays (a
-- slice of an array copies all of it: many small batches would be
-- quadratic).
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
    v_count integer := coalesce(pg_catalog.cardinality(p_ids), 0);
    v_size  integer;    -- rows per batch: at most p_batch, the batches of nearly equal size
    v_ids   bigint[];
    v_masks integer[];
    v_keys  uuid[];
    v_void  text;       -- what a call made for its effect returns (see sync_changes())
BEGIN
    IF p_source_table NOT IN ('ats_jobposting', 'services_service') OR p_batch IS NULL OR p_batch < 1 THEN
        RAISE EXCEPTION 'catalog_sync: no batched apply for % in batches of %', p_source_table, p_batch;
    END IF;
    IF v_count = 0 THEN
        RETURN;
    END IF;
    v_size := pg_catalog.ceil(v_count::numeric / pg_catalog.ceil(v_count::numeric / p_batch))::integer;
    FOR v_ids, v_masks, v_keys IN
        SELECT pg_catalog.array_agg(k.id), pg_catalog.array_agg(k.mask),
               pg_catalog.array_agg(k.uuid) FILTER (WHERE k.uuid IS NOT NULL)
        FROM ROWS FROM (pg_catalog.unnest(p_ids), pg_catalog.unnest(p_masks), pg_catalog.unnest(p_uuids))
             WITH ORDINALITY AS k (id, mask, uuid, n)
        GROUP BY (k.n - 1) / v_size
    LOOP
        SELECT m.ids, m.masks INTO v_ids, v_masks FROM catalog_sync.merged_changes(v_ids, v_masks) AS m;
        IF p_source_table = 'ats_jobposting' THEN
            v_void := catalog_sync.apply_jobs(p_tenant_id, 'ids', v_ids, v_masks, true, v_keys, NULL, false)::text;
        ELSE
            v_void := catalog_sync.apply_services(p_tenant_id, 'ids', v_ids, v_masks, true, v_keys, NULL, false)::text;
        END IF;
    END LOOP;
END
$$;
ALTER FUNCTION catalog_sync.apply_in_batches(bigint, name, bigint[], integer[], uuid[], integer)
    OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.apply_in_batches(bigint, name, bigint[], integer[], uuid[], integer) FROM PUBLIC;
