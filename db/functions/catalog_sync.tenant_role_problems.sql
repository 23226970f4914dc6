-- Why a role may not be a per-tenant role (one row per reason; none: it may):
-- attributes that reach past its own schema (SUPERUSER, BYPASSRLS,
-- CREATEROLE, CREATEDB, REPLICATION: a replication connection reads every
-- tenant's rows in the WAL), its own or those of any role it is a member of
-- (it can SET ROLE to it: "SUPERUSER (through admin)"); membership in the
-- machinery's roles, in the registry's owner, in a role that owns attached
-- tables outside p_schema, the tenant schema the role is for (another
-- tenant's: it could SET ROLE to it and switch that tenant's sync off), and
-- in the predefined roles that read or write every
-- table, run programs or read files on the server, signal other sessions,
-- read every session's query text, lock or scan any table, force
-- checkpoints, create subscriptions, or own the database (the list below:
-- those of PostgreSQL 15 to 17; a name a server does not have matches
-- nothing); and the ownership of a schema that holds the registry, a
-- catalog or another tenant's attached tables (its owner may drop them). A
-- superuser is reported as that alone. secure_tenant_schema()
-- refuses such a role; audit() reports an attached tenant's table owner that
-- has any (machinery: a membership of a machinery role, which audit reports
-- as a finding of its own). (A red-team review, thirty-eighth session: a
-- member of pg_write_all_data was accepted and could delete every tenant's
-- catalog rows, and audit stayed clean; its review: so was a member of a
-- SUPERUSER group role.)
CREATE OR REPLACE FUNCTION catalog_sync.tenant_role_problems(p_role oid, p_schema name)
RETURNS TABLE (problem text, machinery boolean)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH me AS (SELECT r.oid, r.rolsuper FROM pg_catalog.pg_roles AS r WHERE r.oid = p_role),
    -- the role itself and every role it can become
    reach AS (SELECT r.* FROM pg_catalog.pg_roles AS r, me
              WHERE NOT me.rolsuper AND pg_catalog.pg_has_role(p_role, r.oid, 'MEMBER'))
    SELECT 'SUPERUSER', false FROM me WHERE me.rolsuper
    UNION ALL
    SELECT a.problem || CASE WHEN r.oid <> p_role THEN ' (through ' || pg_catalog.quote_ident(r.rolname) || ')'
                             ELSE '' END, false
    FROM reach AS r
    CROSS JOIN LATERAL (VALUES (CASE WHEN r.rolsuper THEN 'SUPERUSER' END),
                               (CASE WHEN r.rolbypassrls THEN 'BYPASSRLS' END),
                               (CASE WHEN r.rolcreaterole THEN 'CREATEROLE' END),
                               (CASE WHEN r.rolcreatedb THEN 'CREATEDB' END),
                               (CASE WHEN r.rolreplication THEN 'REPLICATION' END)) AS a (problem)
    WHERE a.problem IS NOT NULL
    UNION ALL
    -- the owner of a schema may drop any object in it: a schema that holds the
    -- registry, a catalog or another tenant's attached tables
    SELECT 'owner of schema ' || pg_catalog.quote_ident(n.nspname)
           || CASE WHEN r.oid <> p_role THEN ' (through ' || pg_catalog.quote_ident(r.rolname) || ')' ELSE '' END,
           false
    FROM reach AS r
    JOIN pg_catalog.pg_namespace AS n ON n.nspowner = r.oid
    WHERE n.nspname IS DISTINCT FROM p_schema
      AND EXISTS (SELECT FROM pg_catalog.pg_class AS c
                  WHERE c.relnamespace = n.oid
                    AND (c.oid = ANY (ARRAY['public.tenants_tenant'::pg_catalog.regclass,
                                            'public.job_catalog'::pg_catalog.regclass,
                                            'public.provider_catalog'::pg_catalog.regclass,
                                            'public.service_catalog'::pg_catalog.regclass]::pg_catalog.oid[])
                         OR c.oid IN (SELECT a.relid FROM catalog_sync.attached_table AS a)))
    UNION ALL
    SELECT 'member of ' || pg_catalog.quote_ident(m.rolname)
           || CASE WHEN m.rolname IN ('catalog_sync_owner', 'catalog_sync_installer') OR m.oid = registry.owner
                     OR pg_catalog.starts_with(m.rolname::text, 'pg_') THEN ''
                   ELSE ' (owner of another tenant''s attached tables)' END,
           m.rolname IN ('catalog_sync_owner', 'catalog_sync_installer')
    FROM reach AS m
    CROSS JOIN (SELECT c.relowner AS owner FROM pg_catalog.pg_class AS c
                WHERE c.oid = 'public.tenants_tenant'::regclass) AS registry
    WHERE m.rolname IN ('catalog_sync_owner', 'catalog_sync_installer', 'pg_read_all_data', 'pg_write_all_data',
                        'pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files',
                        'pg_signal_backend', 'pg_read_all_stats', 'pg_stat_scan_tables', 'pg_checkpoint',
                        'pg_maintain', 'pg_create_subscription', 'pg_database_owner')
       OR m.oid = registry.owner
       OR (m.oid <> p_role AND EXISTS (SELECT FROM catalog_sync.attached_table AS a
                                       JOIN pg_catalog.pg_class AS c ON c.oid = a.relid
                                       WHERE c.relowner = m.oid
                                         AND c.relnamespace IS DISTINCT FROM
                                             (SELECT n.oid FROM pg_catalog.pg_namespace AS n
                                              WHERE n.nspname = p_schema)))
$$;
ALTER FUNCTION catalog_sync.tenant_role_problems(oid, name) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.tenant_role_problems(oid, name) FROM PUBLIC;
