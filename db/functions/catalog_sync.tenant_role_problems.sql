-- Why a role may not be a per-tenant role (one row per reason; none: it may).
-- It considers the role and every role it can become (SET ROLE to a role it
-- is a member of, whatever INHERIT says):
-- - attributes that reach past its own schema: SUPERUSER, BYPASSRLS,
--   CREATEROLE, CREATEDB, REPLICATION (a replication connection reads every
--   tenant's rows in the WAL): "SUPERUSER (through admin)";
-- - membership in the machinery's roles, in the registry's owner, or in the
--   predefined roles that read or write every table, run programs or read
--   files on the server, signal other sessions, read every session's query
--   text, lock or scan any table, force checkpoints, create subscriptions,
--   or own the database (the list below: those of PostgreSQL 15 to 17; a
--   name a server does not have matches nothing);
-- - ownership of, or privileges on, what it must not touch: a table in
--   another tenant's schema (any privilege: TRIGGER runs its code as that
--   tenant), the registry or a catalog (a write privilege); and ownership
--   of, or CREATE on, a schema other than p_schema (the tenant schema the
--   role is for) that holds any of them. "Another tenant's schema" is one
--   that holds attached tables: a tenant never attached is not synced;
-- - ownership of an object such a table depends on, directly or through up
--   to four others (a column's type, a table's row type, a sequence, the
--   function of a trigger, default, constraint, domain, policy, index or
--   view): its owner may drop it (with CASCADE, the column or the view) or
--   replace the function, which then runs as whoever uses that table;
-- - default privileges that grant it future tables of another tenant's
--   schema, or of every schema; a privilege on a function, or USAGE, in
--   another tenant's schema; USAGE on or ownership of a foreign server,
--   USAGE on a foreign-data wrapper, or a user mapping (a connection as
--   another role); an OID that is no role is reported too.
-- Not found: a call by name inside another role's function body, or
-- through a search_path that names one of its schemas (PostgreSQL records
-- no dependency for either): docs/security.md, Limits (a schema's owner may drop what is
--   in it; CREATE on it plants functions on other roles' search_path).
-- Owners and privileges are found through pg_shdepend, indexed by role, so
-- the cost follows what the role holds, not the number of tenants. Grants
-- to PUBLIC are not a role's: audit's checks of the catalogs' and the
-- registry's privileges cover those. A superuser is reported as that alone.
-- secure_tenant_schema() refuses such a role; audit() reports an attached
-- tenant's table owner that has any (machinery: a membership of a machinery
-- role, which audit reports as a finding of its own). (Red-team reviews,
-- thirty-eighth session: a member of pg_write_all_data, of a SUPERUSER
-- group role, of a role with UPDATE on the registry or TRIGGER on another
-- tenant's table, and a role with CREATE on public were all accepted.)
CREATE OR REPLACE FUNCTION catalog_sync.tenant_role_problems(p_role oid, p_schema name)
RETURNS TABLE (problem text, machinery boolean)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH RECURSIVE me AS (SELECT r.oid, r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.oid = p_role),
    -- the role itself and every role it can become
    reach AS (SELECT r.oid, r.rolname, r.rolsuper, r.rolbypassrls, r.rolcreaterole, r.rolcreatedb, r.rolreplication,
                     CASE WHEN r.oid <> p_role THEN ' (through ' || pg_catalog.quote_ident(r.rolname) || ')' ELSE '' END
                         AS through
              FROM pg_catalog.pg_roles AS r, me
              WHERE NOT me.rolsuper AND pg_catalog.pg_has_role(p_role, r.oid, 'MEMBER')),
    registry AS (SELECT c.relowner AS owner FROM pg_catalog.pg_class AS c
                 WHERE c.oid = 'public.tenants_tenant'::pg_catalog.regclass),
    shared AS (SELECT ARRAY[pg_catalog.to_regclass('public.tenants_tenant'),
                            pg_catalog.to_regclass('public.tenants_domain'),
                            pg_catalog.to_regclass('public.job_catalog'),
                            pg_catalog.to_regclass('public.provider_catalog'),
                            pg_catalog.to_regclass('public.service_catalog')]::pg_catalog.oid[] AS oids),
    -- what those roles own ('o') or appear in the ACL of ('a'), in this database
    held AS (SELECT r.oid AS holder, r.through, d.classid, d.objid, d.deptype
             FROM reach AS r
             JOIN pg_catalog.pg_shdepend AS d
               ON d.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass AND d.refobjid = r.oid
             WHERE d.dbid = (SELECT b.oid FROM pg_catalog.pg_database AS b
                             WHERE b.datname = pg_catalog.current_database())
               AND d.deptype IN ('o', 'a')
               -- (a membership of these is its own reason, below)
               AND r.rolname NOT IN ('catalog_sync_owner', 'catalog_sync_installer')
               AND r.oid <> (SELECT registry.owner FROM registry)),
    -- what depends on an object they own, directly or through up to four others (a domain's
    -- constraint, a function calling another, a view, a table's row type): its owner can drop it (with
    -- CASCADE, the column, default, trigger or view) or replace the function, which then runs as
    -- whoever reads or writes the table; then each dependent's table
    walk (through, root_class, root_id, classid, objid, depth) AS (
        SELECT h.through, h.classid, h.objid, h.classid, h.objid, 0
        FROM held AS h
        WHERE h.deptype = 'o' AND h.classid <> 'pg_catalog.pg_namespace'::pg_catalog.regclass
        UNION
        SELECT w.through, w.root_class, w.root_id, d.classid, d.objid, w.depth + 1
        FROM walk AS w
        CROSS JOIN LATERAL (SELECT e.classid, e.objid FROM pg_catalog.pg_depend AS e
                            WHERE e.refclassid = w.classid AND e.refobjid = w.objid
                            UNION ALL   -- (a domain's constraint: its domain, which columns then use)
                            SELECT 'pg_catalog.pg_type'::pg_catalog.regclass, k.contypid
                            FROM pg_catalog.pg_constraint AS k
                            WHERE w.classid = 'pg_catalog.pg_constraint'::pg_catalog.regclass
                              AND k.oid = w.objid AND k.conrelid = 0 AND k.contypid <> 0) AS d
        -- (a relation reached is where the walk stops: what depends on it is its own business)
        WHERE w.depth < 4 AND (w.depth = 0 OR w.classid <> 'pg_catalog.pg_class'::pg_catalog.regclass)),
    used AS (SELECT w.through, w.root_class, w.root_id, c.oid AS relid, c.relnamespace
             FROM walk AS w
             CROSS JOIN LATERAL (SELECT CASE w.classid
                     WHEN 'pg_catalog.pg_class'::pg_catalog.regclass   -- (an index: its table)
                         THEN coalesce((SELECT i.indrelid FROM pg_catalog.pg_index AS i WHERE i.indexrelid = w.objid),
                                       w.objid)
                     WHEN 'pg_catalog.pg_trigger'::pg_catalog.regclass
                         THEN (SELECT g.tgrelid FROM pg_catalog.pg_trigger AS g WHERE g.oid = w.objid)
                     WHEN 'pg_catalog.pg_attrdef'::pg_catalog.regclass
                         THEN (SELECT f.adrelid FROM pg_catalog.pg_attrdef AS f WHERE f.oid = w.objid)
                     WHEN 'pg_catalog.pg_constraint'::pg_catalog.regclass
                         THEN (SELECT nullif(k.conrelid, 0) FROM pg_catalog.pg_constraint AS k WHERE k.oid = w.objid)
                     WHEN 'pg_catalog.pg_policy'::pg_catalog.regclass
                         THEN (SELECT y.polrelid FROM pg_catalog.pg_policy AS y WHERE y.oid = w.objid)
                     WHEN 'pg_catalog.pg_rewrite'::pg_catalog.regclass
                         THEN (SELECT v.ev_class FROM pg_catalog.pg_rewrite AS v WHERE v.oid = w.objid)
                 END AS relid) AS r
             JOIN pg_catalog.pg_class AS c ON c.oid = r.relid
             WHERE w.depth > 0 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
               AND NOT (w.root_class = 'pg_catalog.pg_class'::pg_catalog.regclass AND c.oid = w.root_id)),
    -- the schemas of what they hold, then those of them that matter: other than p_schema, holding a
    -- shared table or another tenant's attached tables (found by name and OID, through indexes: no
    -- read of the registry, whose reads fold its contract check, and no scan of every tenant)
    candidate_schema AS (SELECT n.oid, n.nspname FROM pg_catalog.pg_namespace AS n
                         WHERE n.oid IN (SELECT c.relnamespace FROM held AS h
                                         JOIN pg_catalog.pg_class AS c
                                           ON h.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                                          AND c.oid = h.objid
                                         UNION
                                         SELECT h.objid FROM held AS h
                                         WHERE h.classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass
                                         UNION
                                         SELECT u.relnamespace FROM used AS u
                                         UNION
                                         SELECT f.pronamespace FROM held AS h
                                         JOIN pg_catalog.pg_proc AS f
                                           ON h.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                                          AND f.oid = h.objid
                                         UNION
                                         SELECT a.defaclnamespace FROM held AS h
                                         JOIN pg_catalog.pg_default_acl AS a
                                           ON h.classid = 'pg_catalog.pg_default_acl'::pg_catalog.regclass
                                          AND a.oid = h.objid)),
    foreign_schema AS (SELECT n.oid, n.nspname, h.holds_shared
                       FROM candidate_schema AS n, shared
                       CROSS JOIN LATERAL (SELECT EXISTS (SELECT FROM pg_catalog.pg_class AS c
                                                          WHERE c.oid = ANY (shared.oids)
                                                            AND c.relnamespace = n.oid) AS holds_shared) AS h
                       WHERE n.nspname IS DISTINCT FROM p_schema
                         AND (h.holds_shared
                              OR EXISTS (SELECT FROM pg_catalog.pg_class AS c
                                         JOIN catalog_sync.attached_table AS a ON a.relid = c.oid
                                         WHERE c.relnamespace = n.oid
                                           AND c.relname IN (SELECT s.source_table FROM catalog_sync.trigger_spec AS s
                                                             WHERE s.source_table <> 'tenants_tenant'))))
    SELECT 'not a role', false WHERE NOT EXISTS (SELECT FROM me)
    UNION ALL
    SELECT 'SUPERUSER', false FROM me WHERE me.rolsuper
    UNION ALL
    SELECT a.problem || r.through, false
    FROM reach AS r
    CROSS JOIN LATERAL (VALUES (CASE WHEN r.rolsuper THEN 'SUPERUSER' END),
                               (CASE WHEN r.rolbypassrls THEN 'BYPASSRLS' END),
                               (CASE WHEN r.rolcreaterole THEN 'CREATEROLE' END),
                               (CASE WHEN r.rolcreatedb THEN 'CREATEDB' END),
                               (CASE WHEN r.rolreplication THEN 'REPLICATION' END)) AS a (problem)
    WHERE a.problem IS NOT NULL
    UNION ALL
    SELECT 'member of ' || pg_catalog.quote_ident(m.rolname), m.rolname IN ('catalog_sync_owner', 'catalog_sync_installer')
    FROM reach AS m, registry
    WHERE m.rolname IN ('catalog_sync_owner', 'catalog_sync_installer', 'pg_read_all_data', 'pg_write_all_data',
                        'pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files',
                        'pg_signal_backend', 'pg_read_all_stats', 'pg_stat_scan_tables', 'pg_checkpoint',
                        'pg_maintain', 'pg_create_subscription', 'pg_database_owner')
       OR m.oid = registry.owner
    UNION ALL
    -- tables: owned, or with a privilege (any, in another tenant's schema; a write one on a shared table)
    SELECT CASE WHEN h.deptype = 'o' THEN 'owner of ' ELSE 'privileges on ' END
           || pg_catalog.string_agg(c.oid::pg_catalog.regclass::text, ', ' ORDER BY c.relname) || h.through, false
    FROM held AS h
    JOIN pg_catalog.pg_class AS c ON h.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND c.oid = h.objid
    JOIN foreign_schema AS n ON n.oid = c.relnamespace
    CROSS JOIN shared
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
      AND (c.oid <> ALL (shared.oids) OR h.deptype = 'o'
           OR EXISTS (SELECT FROM pg_catalog.aclexplode(c.relacl) AS x
                      WHERE x.grantee = h.holder AND x.privilege_type <> 'SELECT')
           OR EXISTS (SELECT FROM pg_catalog.pg_attribute AS t, pg_catalog.aclexplode(t.attacl) AS x
                      WHERE t.attrelid = c.oid AND x.grantee = h.holder AND x.privilege_type <> 'SELECT'))
    GROUP BY h.deptype, h.through, n.nspname
    UNION ALL
    SELECT 'owner of ' || pg_catalog.string_agg(DISTINCT pg_catalog.pg_describe_object(u.root_class, u.root_id, 0),
                                                 ', ' ORDER BY pg_catalog.pg_describe_object(u.root_class, u.root_id, 0))
           || ', used by ' || pg_catalog.string_agg(DISTINCT u.relid::pg_catalog.regclass::text, ', '
                                                   ORDER BY u.relid::pg_catalog.regclass::text)
           || u.through, false
    FROM used AS u
    JOIN foreign_schema AS n ON n.oid = u.relnamespace
    GROUP BY u.through
    UNION ALL
    -- functions in another tenant's schema it may run (a SECURITY DEFINER one reads as its owner)
    SELECT 'privileges on ' || pg_catalog.string_agg(f.oid::pg_catalog.regprocedure::text, ', '
                                                      ORDER BY f.oid::pg_catalog.regprocedure::text) || h.through,
           false
    FROM held AS h
    JOIN pg_catalog.pg_proc AS f ON h.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND f.oid = h.objid
    JOIN foreign_schema AS n ON n.oid = f.pronamespace
    WHERE h.deptype = 'a'
    GROUP BY h.through
    UNION ALL
    -- a foreign server it may use or owns (its owner creates user mappings), a foreign-data wrapper it
    -- may create servers of, or a user mapping of its own: a connection as another role (a server's
    -- owner, and a wrapper's USAGE, went unreported until the fifty-first session; a wrapper's owner
    -- is a superuser)
    SELECT CASE WHEN h.classid = 'pg_catalog.pg_foreign_server'::pg_catalog.regclass
                THEN CASE h.deptype WHEN 'o' THEN 'owner of' ELSE 'USAGE on' END || ' foreign server '
                     || (SELECT pg_catalog.quote_ident(s.srvname) FROM pg_catalog.pg_foreign_server AS s
                         WHERE s.oid = h.objid)
                WHEN h.classid = 'pg_catalog.pg_foreign_data_wrapper'::pg_catalog.regclass
                THEN 'USAGE on foreign-data wrapper '
                     || (SELECT pg_catalog.quote_ident(w.fdwname) FROM pg_catalog.pg_foreign_data_wrapper AS w
                         WHERE w.oid = h.objid)
                ELSE 'a user mapping for foreign server '
                     || (SELECT pg_catalog.quote_ident(m.srvname) FROM pg_catalog.pg_user_mappings AS m
                         WHERE m.umid = h.objid) END   -- (the view: the table is a superuser's)
           || h.through, false
    FROM held AS h
    WHERE h.classid IN ('pg_catalog.pg_foreign_server'::pg_catalog.regclass,
                        'pg_catalog.pg_foreign_data_wrapper'::pg_catalog.regclass,
                        'pg_catalog.pg_user_mapping'::pg_catalog.regclass)
    UNION ALL
    -- default privileges that will grant it another tenant's (or every schema's) future tables
    SELECT 'default privileges in ' || CASE WHEN a.defaclnamespace = 0 THEN 'every schema'
                                            ELSE 'schema ' || pg_catalog.quote_ident(n.nspname) END || h.through,
           false
    FROM held AS h
    JOIN pg_catalog.pg_default_acl AS a
      ON h.classid = 'pg_catalog.pg_default_acl'::pg_catalog.regclass AND a.oid = h.objid
    LEFT JOIN foreign_schema AS n ON n.oid = a.defaclnamespace
    WHERE h.deptype = 'a' AND (a.defaclnamespace = 0 OR n.oid IS NOT NULL)
    UNION ALL
    -- schemas: owned, or with CREATE; USAGE on another tenant's (not on the shared tables' schema, which
    -- audit's tenant_role_public_schema reports)
    SELECT CASE WHEN h.deptype = 'o' THEN 'owner of schema ' WHEN g.can_create THEN 'CREATE on schema '
                ELSE 'USAGE on schema ' END
           || pg_catalog.quote_ident(n.nspname) || h.through, false
    FROM held AS h
    JOIN foreign_schema AS n ON h.classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass AND n.oid = h.objid
    CROSS JOIN LATERAL (SELECT pg_catalog.bool_or(x.privilege_type = 'CREATE') AS can_create
                        FROM pg_catalog.pg_namespace AS s, pg_catalog.aclexplode(s.nspacl) AS x
                        WHERE s.oid = n.oid AND x.grantee = h.holder) AS g
    WHERE h.deptype = 'o' OR g.can_create OR (g.can_create IS NOT NULL AND NOT n.holds_shared)
$$;
ALTER FUNCTION catalog_sync.tenant_role_problems(oid, name) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.tenant_role_problems(oid, name) FROM PUBLIC;
