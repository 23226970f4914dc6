-- One changed row of a job UPDATE, as on_job_change() hands it to
-- sync_changes(): the row's id, its HTML mask (the HTML columns that changed),
-- its new and old uuid and its new and old category. An array of these is one
-- value built by one ARRAY() subquery, where six arrays took an aggregate
-- node with six aggregates, and were six values to pass and expand (about
-- 40,000 instructions of a single-row UPDATE: docs/benchmarks-log.md, Diagnosis,
-- thirty-sixth session).
CREATE TYPE catalog_sync.row_change AS (
    id          bigint,
    mask        integer,
    new_key     uuid,
    old_key     uuid,
    parent      bigint,
    old_parent  bigint
);
ALTER TYPE catalog_sync.row_change OWNER TO catalog_sync_owner;
