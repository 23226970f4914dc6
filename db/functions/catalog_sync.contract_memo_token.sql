-- The token of the memo's event trigger as it is now, or NULL when the memo
-- cannot be trusted: the event trigger is missing, disabled, not ENABLE ALWAYS
-- (session_replication_role = replica would skip it), calls another function
-- or filters other tags. Its OID and xmin change whenever it is dropped,
-- re-created, disabled or enabled again, so a memo recorded under another
-- token (one that may have missed DDL) is never current.
-- Hot path, only ever called inside a SECURITY DEFINER sync function.
CREATE OR REPLACE FUNCTION catalog_sync.contract_memo_token()
RETURNS text
LANGUAGE sql STABLE
RETURN (SELECT e.oid::text || '/' || e.xmin::text
        FROM pg_catalog.pg_event_trigger e
        WHERE e.evtname = 'catalog_sync_contract_memo'
          AND e.evtevent = 'ddl_command_end'
          AND e.evtenabled = 'A'
          AND e.evtfoid = 'catalog_sync.on_contract_ddl()'::pg_catalog.regprocedure
          AND e.evttags = catalog_sync.contract_ddl_tags());
ALTER FUNCTION catalog_sync.contract_memo_token() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.contract_memo_token() FROM PUBLIC;
