-- The DDL command tags after which on_contract_ddl() bumps the epochs of the
-- relations a command touched: every command that can make a relation that
-- matched its contract stop matching (column types, indexes, statistics, CHECK
-- constraints, inheritance, a table turned into a view by an ON SELECT rule).
-- set_protection() creates the event trigger with exactly this list, and the
-- memo is trusted only while the event trigger in place has exactly this list.
-- Drops need no tag: a dropped relation is never read again, and a relation
-- that reuses its OID is registered (and its memo reset) before it is read.
CREATE OR REPLACE FUNCTION catalog_sync.contract_ddl_tags()
RETURNS text[]
LANGUAGE sql IMMUTABLE
RETURN ARRAY['ALTER TABLE', 'ALTER FOREIGN TABLE', 'CREATE TABLE', 'CREATE FOREIGN TABLE',
             'CREATE INDEX', 'ALTER INDEX', 'CREATE STATISTICS', 'ALTER STATISTICS', 'CREATE RULE'];
ALTER FUNCTION catalog_sync.contract_ddl_tags() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.contract_ddl_tags() FROM PUBLIC;
