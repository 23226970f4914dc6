-- Event trigger function of catalog_sync_contract_memo (ON ddl_command_end,
-- the tags of contract_ddl_tags(); created by set_protection()): bumps the
-- ddl_epoch of every memoized relation a DDL command touched, in the DDL's
-- own transaction, so the memo of a check made before the DDL commits can
-- never be taken for current afterwards (contracts_current()).
-- The relation a command touched: the relation itself, the table of an index,
-- statistics object, rule or constraint, and the parents of a table that
-- joined an inheritance tree (CREATE TABLE ... INHERITS, ALTER TABLE ... INHERIT).
-- SECURITY DEFINER: runs for every role's DDL and writes the definer's table.
-- No exemption for anyone: an installer's or superuser's DDL bumps too.
CREATE OR REPLACE FUNCTION catalog_sync.on_contract_ddl()
RETURNS event_trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    WITH touched (relid) AS (
        SELECT r.relid
        FROM pg_catalog.pg_event_trigger_ddl_commands() AS c
        CROSS JOIN LATERAL (
            SELECT c.objid WHERE c.classid = 'pg_catalog.pg_class'::regclass
            UNION ALL
            SELECT i.indrelid FROM pg_catalog.pg_index i
            WHERE c.classid = 'pg_catalog.pg_class'::regclass AND i.indexrelid = c.objid
            UNION ALL
            SELECT h.inhparent FROM pg_catalog.pg_inherits h
            WHERE c.classid = 'pg_catalog.pg_class'::regclass AND h.inhrelid = c.objid
            UNION ALL
            SELECT x.stxrelid FROM pg_catalog.pg_statistic_ext x
            WHERE c.classid = 'pg_catalog.pg_statistic_ext'::regclass AND x.oid = c.objid
            UNION ALL
            SELECT w.ev_class FROM pg_catalog.pg_rewrite w
            WHERE c.classid = 'pg_catalog.pg_rewrite'::regclass AND w.oid = c.objid
            UNION ALL
            SELECT k.conrelid FROM pg_catalog.pg_constraint k
            WHERE c.classid = 'pg_catalog.pg_constraint'::regclass AND k.oid = c.objid
        ) AS r (relid)
    ),
    -- Row locks in key order: two DDL transactions bumping the same rows
    -- cannot deadlock on them.
    locked AS (
        SELECT m.relid, m.source_table FROM catalog_sync.contract_memo m
        WHERE m.relid IN (SELECT t.relid FROM touched t)
        ORDER BY m.relid, m.source_table
        FOR NO KEY UPDATE
    )
    UPDATE catalog_sync.contract_memo m SET ddl_epoch = m.ddl_epoch + 1
    FROM locked l
    WHERE m.relid = l.relid AND m.source_table = l.source_table;
END
$$;
ALTER FUNCTION catalog_sync.on_contract_ddl() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.on_contract_ddl() FROM PUBLIC;   -- event triggers fire regardless
