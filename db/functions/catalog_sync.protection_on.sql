-- Whether catalog-sync protect is on: its three event triggers exist, call
-- their functions and fire in every session (enabled ALWAYS, as
-- set_protection() makes them: one enabled ORIGIN does not fire under
-- session_replication_role = replica, which a role granted SET on it may
-- set; one set to REPLICA fires only then). Read by audit() and by the tool.
CREATE OR REPLACE FUNCTION catalog_sync.protection_on()
RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT count(*) = 3
    FROM pg_catalog.pg_event_trigger e
    WHERE (e.evtname, e.evtfoid) IN (('catalog_sync_protect_ddl', 'catalog_sync.on_ddl_command_end()'::regprocedure),
                                     ('catalog_sync_protect_drop', 'catalog_sync.on_sql_drop()'::regprocedure),
                                     ('catalog_sync_protect_rewrite', 'catalog_sync.on_table_rewrite()'::regprocedure))
      AND e.evtenabled = 'A'     -- (ALWAYS, as set_protection() makes them: see there)
$$;
ALTER FUNCTION catalog_sync.protection_on() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.protection_on() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.protection_on() TO catalog_sync_installer;
