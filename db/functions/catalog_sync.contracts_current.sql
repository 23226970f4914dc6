-- contract_matches() for the sync's hot path, through the contract memo
-- (tables/catalog_sync.contract_memo.sql): true at once when every relation
-- p_relids[i] has a current memo for p_source_tables[i]; otherwise the full
-- check, and a successful one is recorded for the relations that have a memo
-- row. Without the memo's event trigger (protection off) it is exactly
-- contract_matches().
-- Why a memo can be trusted: the epochs are read before the check, and every
-- DDL that could change its result bumps the epoch in the DDL's transaction. A
-- DDL committed before the epochs were read is seen by the check; one
-- committed after leaves ddl_epoch ahead of the recorded epoch. Recording
-- skips rows another transaction holds (SKIP LOCKED): a sync never waits for
-- a DDL, nor for another sync that recorded first.
-- Hot path, only ever called inside a SECURITY DEFINER sync function (EXECUTE is
-- the owner's alone), so it runs under the caller's pinned search_path and sets
-- none itself: a SET clause costs a GUC save/restore on every call.
CREATE OR REPLACE FUNCTION catalog_sync.contracts_current(p_relids oid[], p_source_tables name[])
RETURNS boolean
LANGUAGE plpgsql VOLATILE   -- it records
AS $$
DECLARE
    v_token   text;
    v_current boolean;
    v_epochs  bigint[];
BEGIN
    v_token := catalog_sync.contract_memo_token();
    IF v_token IS NULL OR cardinality(p_relids) IS DISTINCT FROM cardinality(p_source_tables) THEN
        RETURN catalog_sync.contract_matches(p_relids, p_source_tables);
    END IF;
    -- A relation without a memo row is never current (coalesce: bool_and skips NULLs).
    SELECT bool_and(coalesce(m.checked_epoch = m.ddl_epoch AND m.checked_token = v_token, false)) IS TRUE,
           array_agg(m.ddl_epoch ORDER BY u.n)
    INTO v_current, v_epochs
    FROM unnest(p_relids, p_source_tables) WITH ORDINALITY AS u (relid, source_table, n)
    LEFT JOIN catalog_sync.contract_memo m ON m.relid = u.relid AND m.source_table = u.source_table;
    IF v_current THEN
        RETURN true;
    END IF;
    -- A new statement, so a snapshot no older than the epochs just read.
    IF NOT catalog_sync.contract_matches(p_relids, p_source_tables) THEN
        RETURN false;
    END IF;
    -- Recorded only where the reasoning above holds and a write is possible:
    -- the sync triggers' READ COMMITTED; not verify's REPEATABLE READ, READ ONLY.
    IF pg_catalog.current_setting('transaction_isolation') <> 'read committed'
       OR pg_catalog.current_setting('transaction_read_only') <> 'off' THEN
        RETURN true;
    END IF;
    WITH locked AS (
        SELECT m.relid, m.source_table
        FROM catalog_sync.contract_memo m
        JOIN unnest(p_relids, p_source_tables, v_epochs) AS u (relid, source_table, epoch)
          ON m.relid = u.relid AND m.source_table = u.source_table
        WHERE m.ddl_epoch = u.epoch    -- re-checked on the latest row version when locking it
          AND (m.checked_epoch, m.checked_token) IS DISTINCT FROM (m.ddl_epoch, v_token)
        FOR NO KEY UPDATE OF m SKIP LOCKED
    )
    UPDATE catalog_sync.contract_memo m SET checked_epoch = m.ddl_epoch, checked_token = v_token
    FROM locked l
    WHERE m.relid = l.relid AND m.source_table = l.source_table;
    RETURN true;
END
$$;
ALTER FUNCTION catalog_sync.contracts_current(oid[], name[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.contracts_current(oid[], name[]) FROM PUBLIC;
