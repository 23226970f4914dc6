-- Hand a tenant schema to a per-tenant database role safely (issue 4's model:
-- the tenant may run arbitrary SQL inside its own schema). Checks the role
-- (tenant_role_problems(): no superuser, BYPASSRLS, CREATEROLE, CREATEDB or
-- REPLICATION; no membership in the machinery roles, the registry's owner or
-- the predefined roles that reach every tenant), gives it the schema and every
-- relation in it, and takes away what it does not need: CREATE and TEMP on the
-- database, any privilege on the registry. Run it as a superuser (or a role
-- that may do all of that, with EXECUTE on catalog_sync.registry_rows(),
-- through which it reads the registry, and on tenant_role_problems()), then
-- attach_schema(). SECURITY
-- INVOKER. Returns a
-- notice-worthy remark, or NULL: TEMP granted to PUBLIC is a database-wide
-- setting it reports instead of changing. p_check_only: the checks alone,
-- no change and no lock (attach --dry-run).
CREATE OR REPLACE FUNCTION catalog_sync.secure_tenant_schema(p_schema text, p_role name,
                                                             p_check_only boolean DEFAULT false)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_role pg_catalog.pg_roles;
    v_rel  record;
    v_bad  text;
    v_public text;
BEGIN
    SELECT * INTO v_role FROM pg_catalog.pg_roles r WHERE r.rolname = p_role;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'catalog_sync: role % does not exist', quote_ident(p_role)
            USING ERRCODE = 'undefined_object', HINT = 'CREATE ROLE ... LOGIN for the tenant first.';
    END IF;
    SELECT string_agg(p.problem, ', ' ORDER BY p.problem) INTO v_bad
    FROM catalog_sync.tenant_role_problems(v_role.oid, p_schema) AS p;
    IF v_bad <> '' THEN
        RAISE EXCEPTION 'catalog_sync: role % cannot be a tenant role: %', quote_ident(p_role), v_bad
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Give the tenant a role of its own: a plain LOGIN role, member of no other role, that '
                         'owns nothing and holds no privilege outside its schema (docs/security.md, '
                         '"Per-tenant roles").';
    END IF;
    IF NOT EXISTS (SELECT FROM catalog_sync.registry_rows(ARRAY[p_schema]))
       OR to_regnamespace(quote_ident(p_schema)) IS NULL THEN
        RAISE EXCEPTION 'catalog_sync: % is not an existing tenant schema', quote_ident(p_schema)
            USING ERRCODE = 'invalid_schema_name';
    END IF;
    IF p_check_only THEN
        RETURN NULL;
    END IF;

    EXECUTE format('ALTER SCHEMA %I OWNER TO %I', p_schema, p_role);
    FOR v_rel IN SELECT c.relname, c.relkind FROM pg_catalog.pg_class c
                 WHERE c.relnamespace = to_regnamespace(quote_ident(p_schema))
                   AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') ORDER BY c.relkind DESC, c.relname LOOP
        EXECUTE format('ALTER %s %I.%I OWNER TO %I',
                       CASE v_rel.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                                          WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE'
                                          ELSE 'TABLE' END,
                       p_schema, v_rel.relname, p_role);
    END LOOP;
    EXECUTE format('REVOKE CREATE, TEMPORARY ON DATABASE %I FROM %I', current_database(), p_role);
    EXECUTE format('REVOKE ALL ON public.tenants_tenant, public.tenants_domain FROM %I', p_role);
    -- What PUBLIC keeps on the database, the role keeps too (DBA re-walk,
    -- twenty-fifth session: only TEMPORARY was named, while audit reports CREATE too).
    v_public := concat_ws(' and ',
                          CASE WHEN has_database_privilege('public', current_database(), 'CREATE') THEN 'CREATE' END,
                          CASE WHEN has_database_privilege('public', current_database(), 'TEMPORARY') THEN 'TEMPORARY' END);
    IF v_public <> '' THEN
        RETURN format('PUBLIC still has %s on database %s, so %s keeps it (harmless to the sync, but audit '
                      'reports it: medium tenant_role_database_privilege; REVOKE %s ON DATABASE %s FROM PUBLIC '
                      'to close it)',
                      v_public, quote_ident(current_database()), quote_ident(p_role),
                      replace(v_public, ' and ', ', '), quote_ident(current_database()));
    END IF;
    RETURN NULL;
END
$$;
ALTER FUNCTION catalog_sync.secure_tenant_schema(text, name, boolean) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.secure_tenant_schema(text, name, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.secure_tenant_schema(text, name, boolean) TO catalog_sync_installer;
