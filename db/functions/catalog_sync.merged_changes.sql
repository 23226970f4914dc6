-- The changed rows of a statement, one element per transition row (aligned
-- p_ids and p_masks), folded to one element per id with the masks or-ed. An
-- id can come twice: a cascading foreign key's updates join the statement's
-- transition tables (old and new version of a row the statement itself
-- changed); once is enough (the reader reads the row as it is now), else the
-- apply would meet the row twice ("cannot affect row a second time"). Ids
-- and masks from one aggregation pass: aligned, and no sort (of 100,000 rows
-- for a 100,000-row statement).
-- Plain SQL returning a set, so that PostgreSQL inlines it into the calling
-- statement (sync_changes(), apply_in_batches()). Hot path, only ever called
-- inside the sync's SECURITY DEFINER functions (EXECUTE is the owner's
-- alone), under their pinned search_path; every name is schema-qualified.
CREATE OR REPLACE FUNCTION catalog_sync.merged_changes(p_ids bigint[], p_masks integer[])
RETURNS TABLE (ids bigint[], masks integer[])
LANGUAGE sql IMMUTABLE
AS $$
    SELECT pg_catalog.array_agg(d.id), pg_catalog.array_agg(d.mask)
    FROM (SELECT k.id, pg_catalog.bit_or(k.mask) AS mask
          FROM ROWS FROM (pg_catalog.unnest(p_ids), pg_catalog.unnest(p_masks)) AS k (id, mask)
          GROUP BY k.id) AS d
$$;
ALTER FUNCTION catalog_sync.merged_changes(bigint[], integer[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.merged_changes(bigint[], integer[]) FROM PUBLIC;
