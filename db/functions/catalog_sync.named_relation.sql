-- The relation a contract name means in a tenant's schema now (what the
-- application writes), looked up by name in pg_catalog, nothing parsed; NULL
-- when nothing has the name. A plain view straight over the registered table,
-- with no trigger or rule of its own, does not count: it is how a DBA keeps
-- an old name working after a rename, and its writes reach the registered
-- table. Any other relation under the name does: a view over a copy of the
-- table (red team, nineteenth session: the application's writes went to the
-- copy and verify, audit and status stayed clean), a view with an INSTEAD OF
-- trigger, a table swapped in.
-- verify_tenant() and replaced_tables() decide "replaced" with it.
CREATE OR REPLACE FUNCTION catalog_sync.named_relation(p_schema name, p_table name, p_registered oid)
RETURNS oid
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT c.oid
    FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    WHERE n.nspname = p_schema AND c.relname = p_table
      AND NOT (c.relkind = 'v'
               AND EXISTS (SELECT FROM pg_catalog.pg_rewrite AS rw
                           JOIN pg_catalog.pg_depend AS d
                             ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid = rw.oid
                           WHERE rw.ev_class = c.oid AND rw.rulename = '_RETURN'
                             AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
                             AND d.refobjid = p_registered)
               AND NOT EXISTS (SELECT FROM pg_catalog.pg_trigger AS tg WHERE tg.tgrelid = c.oid)
               AND NOT EXISTS (SELECT FROM pg_catalog.pg_rewrite AS rw
                               WHERE rw.ev_class = c.oid AND rw.rulename <> '_RETURN'))
$$;
ALTER FUNCTION catalog_sync.named_relation(name, name, oid) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.named_relation(name, name, oid) FROM PUBLIC;
