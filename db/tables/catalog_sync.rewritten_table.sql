-- Registered tables that DDL of a role protect checks is rewriting in the
-- current transaction (for any reason: ALTER COLUMN ... TYPE, of any column,
-- whose USING expression may change any row's values without a row trigger
-- firing; a column added with a volatile default, whose function may write
-- the table into the heap the rewrite throws away; the access method).
-- protect's table_rewrite event records the table and its relfilenode before
-- the rewrite; its ddl_command_end event, once the table has a new
-- relfilenode (the rewrite is done), makes the catalog rows of the tenant
-- attached_table names for it again from the rewritten rows and deletes the
-- record. A record of a transaction that aborts vanishes with it. Nobody but
-- the machinery's owner reads or writes it.
CREATE TABLE catalog_sync.rewritten_table (
    xact_id     xid8   NOT NULL DEFAULT pg_catalog.pg_current_xact_id(),
    relid       oid    NOT NULL,
    relfilenode oid    NOT NULL       -- the table's, before the rewrite
);
ALTER TABLE catalog_sync.rewritten_table OWNER TO catalog_sync_owner;
-- (no key: its DELETEs need a replica identity once a publication FOR ALL
-- TABLES exists, a CDC tool's or a blue/green upgrade's, else they fail:
-- Logical replication trial, forty-sixth session)
ALTER TABLE catalog_sync.rewritten_table REPLICA IDENTITY FULL;
REVOKE ALL ON catalog_sync.rewritten_table FROM PUBLIC;
