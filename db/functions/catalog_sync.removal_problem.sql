-- What the removal (db/uninstall.sql) would refuse, or drop with the machinery,
-- that the machinery did not create, said, or NULL: objects outside it that
-- use a catalog, its row type (or an array of it) or an object of the
-- machinery's schemas (DROP TABLE refuses them; DROP SCHEMA ... CASCADE drops
-- them: a column of a machinery type, a view over a machinery function), a
-- catalog made a member of an extension, and objects outside the machinery
-- owned by its roles (DROP OWNED BY drops them). Named as the server names
-- them. Not the sync triggers and event triggers (the removal drops them),
-- nor what goes with a catalog or lives in the machinery's schemas.
-- One check for every path of the removal: uninstall --yes asks before its
-- first chunk and again under its last transaction's locks, and
-- db/uninstall.sql raises it first, so that alembic downgrade base and the
-- script of uninstall --sql refuse too (DBA trial, forty-fifth session: they
-- dropped an application's view and table without a word).
-- Reads pg_authid: a superuser's (the removal's) function.
CREATE OR REPLACE FUNCTION catalog_sync.removal_problem()
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH found AS (
    WITH schemas AS (
        SELECT n.oid, n.nspname FROM pg_catalog.pg_namespace n
        WHERE n.nspname IN ('catalog_sync', 'catalog_sync_protect', 'catalog_sync_pin')),
    catalogs AS (
        SELECT c.oid, c.reltype FROM pg_catalog.pg_class c
        WHERE c.oid IN (SELECT pg_catalog.to_regclass(t) FROM pg_catalog.unnest(ARRAY['public.job_catalog',
                        'public.provider_catalog', 'public.service_catalog']) AS t)),
    ours (classid, objid) AS (      -- what the removal drops
        SELECT 'pg_catalog.pg_namespace'::regclass, s.oid FROM schemas s
        UNION ALL SELECT 'pg_catalog.pg_class'::regclass, c.oid FROM pg_catalog.pg_class c
                  WHERE c.relnamespace IN (SELECT oid FROM schemas) OR c.oid IN (SELECT oid FROM catalogs)
        UNION ALL SELECT 'pg_catalog.pg_proc'::regclass, p.oid FROM pg_catalog.pg_proc p
                  WHERE p.pronamespace IN (SELECT oid FROM schemas)
        UNION ALL SELECT 'pg_catalog.pg_type'::regclass, t.oid FROM pg_catalog.pg_type t
                  WHERE t.typnamespace IN (SELECT oid FROM schemas)
                     OR t.oid IN (SELECT reltype FROM catalogs) OR t.typelem IN (SELECT reltype FROM catalogs)),
    dropped (classid, objid) AS (   -- and their parts: a catalog's generated column, rule or constraint
        SELECT classid, objid FROM ours
        UNION SELECT w.classid, w.objid FROM ours o
              JOIN pg_catalog.pg_depend w ON w.refclassid = o.classid AND w.refobjid = o.objid AND w.deptype IN ('a', 'i')
        -- the sync's triggers and protect's event triggers, which it drops first: those of the machinery's
        -- functions only (red team, forty-fourth session: every trigger was left out, and one whose WHEN used
        -- a catalog's row type failed the removal after the chunks)
        UNION SELECT 'pg_catalog.pg_trigger'::regclass, t.oid FROM pg_catalog.pg_trigger t
              WHERE t.tgfoid IN (SELECT objid FROM ours WHERE classid = 'pg_catalog.pg_proc'::regclass)
        UNION SELECT 'pg_catalog.pg_event_trigger'::regclass, e.oid FROM pg_catalog.pg_event_trigger e
              WHERE e.evtfoid IN (SELECT objid FROM ours WHERE classid = 'pg_catalog.pg_proc'::regclass)),
    users (classid, objid, objsubid, ref) AS (
        SELECT d.classid, d.objid, d.objsubid, pg_catalog.pg_describe_object(d.refclassid, d.refobjid, 0)
        FROM ours o
        JOIN pg_catalog.pg_depend d ON d.refclassid = o.classid AND d.refobjid = o.objid AND d.deptype = 'n'
        -- (NOT EXISTS, not NOT IN: past the hash table's memory, at about
        -- 2,500 tenants' triggers, NOT IN scanned the list once per pg_depend
        -- row: 12 minutes at 3,000 tenants; review, forty-fifth session)
        WHERE NOT EXISTS (SELECT FROM dropped x WHERE x.classid = d.classid AND x.objid = d.objid)),
    named (what) AS (
        -- (a view's use is its rule's: named as the view, as the server does)
        SELECT pg_catalog.pg_describe_object(coalesce(v.classid, u.classid), coalesce(v.objid, u.objid),
                                             CASE WHEN v.objid IS NULL THEN u.objsubid ELSE 0 END)
               || ' depends on ' || u.ref
        FROM users u
        LEFT JOIN LATERAL (SELECT 'pg_catalog.pg_class'::regclass AS classid, r.ev_class AS objid
                           FROM pg_catalog.pg_rewrite r
                           WHERE u.classid = 'pg_catalog.pg_rewrite'::regclass AND r.oid = u.objid
                             AND r.rulename = '_RETURN') v ON true
        WHERE coalesce((pg_catalog.pg_identify_object(u.classid, u.objid, 0)).schema, '')
              NOT IN (SELECT nspname FROM schemas)
        UNION ALL
        SELECT pg_catalog.pg_describe_object(d.classid, d.objid, 0) || ' is a member of '
               || pg_catalog.pg_describe_object(d.refclassid, d.refobjid, 0)
        FROM pg_catalog.pg_depend d
        WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid IN (SELECT oid FROM catalogs) AND d.deptype = 'e'
        UNION ALL
        -- (owned: dropped; a policy naming the role: dropped where it names no other role, else changed;
        -- review, forty-third session)
        SELECT pg_catalog.pg_describe_object(sd.classid, sd.objid, 0)
               || CASE sd.deptype WHEN 'o' THEN ' is owned by role ' ELSE ' names role ' END || a.rolname
        FROM pg_catalog.pg_shdepend sd
        JOIN pg_catalog.pg_authid a ON a.oid = sd.refobjid
        WHERE sd.dbid = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database())
          AND sd.refclassid = 'pg_catalog.pg_authid'::regclass AND sd.deptype IN ('o', 'r')
          AND a.rolname IN ('catalog_sync_owner', 'catalog_reader', 'catalog_sync_installer')
          AND NOT EXISTS (SELECT FROM dropped x WHERE x.classid = sd.classid AND x.objid = sd.objid))
    SELECT DISTINCT what FROM named ORDER BY 1
    )
    SELECT 'uninstall would fail on, or drop, objects it did not create: '
           || string_agg(what, '; ' ORDER BY what) || ' (drop or change those objects first)'
    FROM found
    HAVING count(*) > 0
$$;
ALTER FUNCTION catalog_sync.removal_problem() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.removal_problem() FROM PUBLIC;
