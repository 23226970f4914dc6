-- Why a role may not be a per-tenant role (one row per reason; none: it may):
-- attributes that reach past its own schema (SUPERUSER, BYPASSRLS,
-- CREATEROLE, CREATEDB, REPLICATION: a replication connection reads every
-- tenant's rows in the WAL), membership in the machinery's roles or in the
-- registry's owner, and membership in the predefined roles that read or
-- write every table, run programs or read files on the server, signal other
-- sessions or read every session's query text (pg_read_all_data,
-- pg_write_all_data, pg_execute_server_program, pg_read_server_files,
-- pg_write_server_files, pg_signal_backend, pg_read_all_stats), or own the
-- database (pg_database_owner). secure_tenant_schema() refuses such a role;
-- audit() reports an attached tenant's table owner that has any
-- (machinery: the reason is a membership of a machinery role, which audit
-- reports as a finding of its own). (A red-team review, thirty-eighth
-- session: a member of pg_write_all_data was accepted and could delete
-- every tenant's catalog rows, and audit stayed clean.)
CREATE OR REPLACE FUNCTION catalog_sync.tenant_role_problems(p_role oid)
RETURNS TABLE (problem text, machinery boolean)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT a.problem, false
    FROM pg_catalog.pg_roles AS r
    CROSS JOIN LATERAL (VALUES (CASE WHEN r.rolsuper THEN 'SUPERUSER' END),
                               (CASE WHEN r.rolbypassrls THEN 'BYPASSRLS' END),
                               (CASE WHEN r.rolcreaterole THEN 'CREATEROLE' END),
                               (CASE WHEN r.rolcreatedb THEN 'CREATEDB' END),
                               (CASE WHEN r.rolreplication THEN 'REPLICATION' END)) AS a (problem)
    WHERE r.oid = p_role AND a.problem IS NOT NULL
    UNION ALL
    SELECT 'member of ' || m.rolname, m.rolname IN ('catalog_sync_owner', 'catalog_sync_installer')
    FROM pg_catalog.pg_roles AS m
    WHERE (m.rolname IN ('catalog_sync_owner', 'catalog_sync_installer', 'pg_read_all_data', 'pg_write_all_data',
                         'pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files',
                         'pg_signal_backend', 'pg_read_all_stats', 'pg_database_owner')
           OR m.oid = (SELECT c.relowner FROM pg_catalog.pg_class AS c WHERE c.oid = 'public.tenants_tenant'::regclass))
      AND pg_catalog.pg_has_role(p_role, m.oid, 'MEMBER')
$$;
ALTER FUNCTION catalog_sync.tenant_role_problems(oid) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.tenant_role_problems(oid) FROM PUBLIC;
