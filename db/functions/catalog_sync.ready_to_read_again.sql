-- For a reader whose read, planned with lock_timeout = 1ms, failed on a lock
-- (55P03), called in its handler: false when it is reading again already
-- (the handler raises the error); else it puts the session's lock_timeout
-- (p_lock_timeout, where the reader set 1ms before its block) back, waits,
-- at most 1 s (or that lock_timeout when shorter), until no other
-- transaction holds ACCESS EXCLUSIVE, the one mode that conflicts with the
-- planner's ACCESS SHARE, on an index of the given relations or of their
-- TOAST tables, sets the flag catalog_sync.read_again and returns true. The
-- reader then runs its read again (calls itself), locks and check included,
-- and puts the flag back by hand (a SET clause restores only the settings it
-- names: left on, a transaction's later write that met an index lock failed
-- at once; review, forty-eighth session). That read plans with
-- lock_timeout = 1ms too. Nothing here runs anything of the tables: opening
-- an index evaluates none of its expressions, and the wait is outside any
-- plan. A session that sets the flag itself only gives up its own reads
-- again.
--
-- Why: a transaction that held a table's lock and its indexes' (a rewriting
-- ALTER TABLE, REINDEX, CREATE INDEX: a Django migration) releases them when
-- it ends, partition by partition of the shared lock table
-- (LockReleaseAll()): a write queued behind the table's lock is woken, and
-- reaches its read's plan, before the ending backend has removed its index
-- locks of later partitions, and the 1ms read timed out although that
-- transaction was over (lock-release trial, forty-eighth session: 1 write in
-- 5 queued behind such DDL failed, 0 of 16,000 with this wait).
-- Two waits:
-- * a transaction that goes on: ACCESS SHARE taken and at once released on
--   each index (pg_relation_size() opens and closes it), waiting as a lock does;
-- * a transaction that has ended: its backend gave up its strong-lock counts
--   first, so that wait is granted at once through this backend's fast-path
--   slots while its entries are still in the shared table, where the
--   planner's locks go once the slots are full. So pg_locks is looked at
--   until none is left.
-- A transaction that holds an index lock on and on (a tenant's REINDEX left
-- open) still fails the write (55P03), after the wait instead of 1 ms.
CREATE OR REPLACE FUNCTION catalog_sync.ready_to_read_again(p_relids oid[], p_lock_timeout text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql VOLATILE   -- it takes locks
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- (put back by hand: a function's SET clause restores only what it names,
    -- and a set_config() of anything else lasts to the transaction's end;
    -- review, forty-eighth session)
    v_lock_timeout text := coalesce(p_lock_timeout, pg_catalog.current_setting('lock_timeout'));
    v_session_ms   integer;
    -- one deadline for all the waits: a wait per index, each of a whole
    -- lock_timeout, made a tenant with many indexes, each held in turn, stall
    -- a write for seconds (review)
    v_deadline     timestamp with time zone;
    v_void         text;
    v_indexes      oid[];
    v_index        oid;
    v_left_ms      double precision;
BEGIN
    IF pg_catalog.current_setting('catalog_sync.read_again', true) = 'on' THEN
        RETURN false;
    END IF;
    v_void := pg_catalog.set_config('lock_timeout', v_lock_timeout, true);
    v_session_ms := (SELECT s.setting::integer FROM pg_catalog.pg_settings AS s WHERE s.name = 'lock_timeout');
    v_deadline := pg_catalog.clock_timestamp()
                  + CASE WHEN v_session_ms BETWEEN 1 AND 1000 THEN v_session_ms ELSE 1000 END
                    * interval '1 millisecond';
    SELECT pg_catalog.array_agg(i.indexrelid) INTO v_indexes
    FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_index AS i ON i.indrelid IN (c.oid, c.reltoastrelid)
    WHERE c.oid = ANY (p_relids);
    FOREACH v_index IN ARRAY coalesce(v_indexes, '{}') LOOP
        v_left_ms := pg_catalog.date_part('epoch', v_deadline - pg_catalog.clock_timestamp()) * 1000;
        EXIT WHEN v_left_ms < 1;    -- (a lock still held: the read again fails closed on it, 55P03)
        v_void := pg_catalog.set_config('lock_timeout', pg_catalog.ceil(v_left_ms)::integer || 'ms', true);
        PERFORM pg_catalog.pg_relation_size(v_index);
    END LOOP;
    v_void := pg_catalog.set_config('lock_timeout', v_lock_timeout, true);
    WHILE EXISTS (SELECT FROM pg_catalog.pg_locks AS l
                  WHERE l.locktype = 'relation' AND l.relation = ANY (v_indexes) AND l.granted
                    AND l.mode = 'AccessExclusiveLock' AND l.pid IS DISTINCT FROM pg_catalog.pg_backend_pid()
                    AND l.database = (SELECT d.oid FROM pg_catalog.pg_database AS d
                                      WHERE d.datname = pg_catalog.current_database()))
          AND pg_catalog.clock_timestamp() < v_deadline LOOP
        PERFORM pg_catalog.pg_sleep(0.001);
    END LOOP;
    v_void := pg_catalog.set_config('catalog_sync.read_again', 'on', true);
    RETURN true;
END
$$;
ALTER FUNCTION catalog_sync.ready_to_read_again(oid[], text) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.ready_to_read_again(oid[], text) FROM PUBLIC;
