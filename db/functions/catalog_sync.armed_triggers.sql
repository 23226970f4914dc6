-- The triggers that a logical replication subscription's workers would fire
-- with the table owner's code: enabled REPLICA or ALWAYS, not internal, not
-- the machinery's, and not a built-in trigger function (by its OID: an
-- extension's can be put in pg_catalog) without a WHEN condition enabled
-- ALWAYS: not any superuser's function either, as its arguments and its
-- table are the owner's (refint's check_foreign_key() ran the owner's code,
-- lo's lo_manage() unlinked a superuser's large object; reviews). Enabled
-- REPLICA, even a built-in one counts: one that fails on every row (an RI
-- function under a trigger that is no foreign key's) fails only in the
-- workers, whose subscription then stops for every tenant (review,
-- forty-seventh session); ALWAYS, it fails the owner's own writes first. On
-- PostgreSQL 15 those workers run as the subscription's owner, a superuser
-- (red team, forty-sixth session). On the tables p_relids, or every table
-- where NULL. protect's check_ddl() refuses them, audit() reports them
-- (replica_trigger): one rule for both.
CREATE OR REPLACE FUNCTION catalog_sync.armed_triggers(p_relids oid[])
RETURNS SETOF oid
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT tg.oid
    FROM pg_catalog.pg_trigger tg
    JOIN pg_catalog.pg_proc p ON p.oid = tg.tgfoid
    WHERE (p_relids IS NULL OR tg.tgrelid = ANY (p_relids))
      AND NOT tg.tgisinternal AND tg.tgenabled IN ('R', 'A')
      AND p.pronamespace NOT IN ('catalog_sync'::pg_catalog.regnamespace,
                                 'catalog_sync_protect'::pg_catalog.regnamespace)
      AND NOT (tg.tgenabled = 'A' AND tg.tgqual IS NULL AND p.oid < 16384)
$$;
ALTER FUNCTION catalog_sync.armed_triggers(oid[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.armed_triggers(oid[]) FROM PUBLIC;
