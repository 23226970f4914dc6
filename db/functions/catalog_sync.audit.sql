-- Checks the live database against the security model (docs/security.md) and
-- returns one row per finding: severity ('high', 'medium', 'low'), the check,
-- the object and a detail. Read-only. catalog-sync audit exits non-zero on any
-- 'high' finding.
CREATE OR REPLACE FUNCTION catalog_sync.audit()
RETURNS TABLE (severity text, check_name text, object text, detail text)
LANGUAGE plpgsql STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_machinery_roles name[] := ARRAY['catalog_sync_owner', 'catalog_sync_installer'];
    v_replaced  oid[];      -- registered OIDs whose contract name means another table, or gone
    v_replacing oid[];      -- the tables their names mean now
    v_registry_ok boolean;  -- the registry holds its contract: its rows can be read
BEGIN
    -- READ COMMITTED before anything reads the registry (replaced_tables() reads
    -- it through registry_row(), the hot path's reader): under REPEATABLE READ an
    -- index over the application's code committed after the snapshot passed the
    -- check and ran as the definer (review, twenty-fifth session).
    PERFORM catalog_sync.assert_read_committed();
    -- The registry first: the checks that read its rows (table_replaced,
    -- table_missing, unregistered_sync_trigger, tenant_not_attached) fail on a
    -- registry that fails its contract; a column the sync reads gone from it
    -- made audit itself fail with "column t.logo_url does not exist" (Django
    -- migrations trial, twenty-third session). Those are skipped then, and
    -- audit says so; every other check runs.
    RETURN QUERY
    SELECT 'high', 'contract', 'public.tenants_tenant', cp
    FROM catalog_sync.contract_problems('public.tenants_tenant'::regclass, 'tenants_tenant') AS cp;
    v_registry_ok := NOT FOUND;
    IF NOT v_registry_ok THEN
        RETURN QUERY
        SELECT 'high', 'audit_incomplete', 'public.tenants_tenant',
               'table_replaced, table_missing, unregistered_sync_trigger and tenant_not_attached read the '
               'registry''s rows and were not checked: fix its contract problems (the contract findings of '
               'public.tenants_tenant), then run audit again';
    END IF;

    -- (a moved table's OID still names the registered table: its owner is
    -- checked below as any other's; review, twentieth session)
    v_replaced := '{}';
    v_replacing := '{}';
    IF v_registry_ok THEN
        SELECT coalesce(array_agg(r.relid) FILTER (WHERE r.why <> 'moved'), '{}'),
               coalesce(array_agg(r.named_relid) FILTER (WHERE r.named_relid IS NOT NULL), '{}')
        INTO v_replaced, v_replacing
        FROM catalog_sync.replaced_tables(NULL) AS r;
    ELSE    -- (without the registry: at least a registered OID that names nothing is skipped)
        SELECT coalesce(array_agg(a.relid), '{}') INTO v_replaced
        FROM catalog_sync.attached_table a
        WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.oid = a.relid);
    END IF;

    -- The definer role itself.
    RETURN QUERY
    SELECT 'high', 'owner_role', r.rolname::text,
           concat_ws(', ', CASE WHEN r.rolsuper THEN 'is a superuser' END,
                     CASE WHEN r.rolbypassrls THEN 'can bypass RLS' END,
                     CASE WHEN r.rolcanlogin THEN 'can log in' END)
    FROM pg_catalog.pg_roles r
    WHERE r.rolname = 'catalog_sync_owner' AND (r.rolsuper OR r.rolbypassrls OR r.rolcanlogin);

    -- Every machinery function: owner, pinned search_path on definers, EXECUTE
    -- grants (the six catalog_sync_protect functions are PUBLIC by design).
    RETURN QUERY
    SELECT 'high', 'function_owner', p.oid::regprocedure::text, 'owned by ' || pg_get_userbyid(p.proowner)
    FROM pg_catalog.pg_proc p
    WHERE p.pronamespace IN ('catalog_sync'::regnamespace, 'catalog_sync_protect'::regnamespace)
      AND pg_get_userbyid(p.proowner) <> 'catalog_sync_owner';
    RETURN QUERY
    SELECT 'high', 'definer_search_path', p.oid::regprocedure::text,
           'SECURITY DEFINER with ' || coalesce(array_to_string(p.proconfig, ', '), 'no SET clause')
    FROM pg_catalog.pg_proc p
    WHERE p.pronamespace IN ('catalog_sync'::regnamespace, 'catalog_sync_protect'::regnamespace) AND p.prosecdef
      AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false);
    RETURN QUERY
    SELECT 'high', 'function_execute', p.oid::regprocedure::text,
           'EXECUTE granted to ' || CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END
    FROM pg_catalog.pg_proc p
    CROSS JOIN LATERAL aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
    WHERE p.pronamespace = 'catalog_sync'::regnamespace AND a.privilege_type = 'EXECUTE'
      AND (a.grantee = 0 OR pg_get_userbyid(a.grantee) <> ALL (v_machinery_roles));

    -- Catalog and machinery tables: who may write or read them.
    RETURN QUERY
    SELECT CASE WHEN a.privilege_type = 'SELECT' THEN 'medium' ELSE 'high' END, 'table_privilege',
           c.oid::regclass::text,
           a.privilege_type || ' granted to ' || CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END
    FROM pg_catalog.pg_class c
    CROSS JOIN LATERAL aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
    WHERE c.relkind = 'r'
      AND (c.relnamespace = 'catalog_sync'::regnamespace
           OR c.oid IN ('public.job_catalog'::regclass, 'public.provider_catalog'::regclass,
                        'public.service_catalog'::regclass))
      AND (a.grantee = 0 OR pg_get_userbyid(a.grantee) <> 'catalog_sync_owner')
      AND NOT (a.privilege_type = 'SELECT' AND c.relnamespace = 'public'::regnamespace
               AND pg_get_userbyid(a.grantee) = 'catalog_reader')
      AND NOT (a.privilege_type = 'SELECT' AND c.oid = 'catalog_sync.trigger_spec'::regclass
               AND pg_get_userbyid(a.grantee) = 'catalog_sync_installer');
    RETURN QUERY
    SELECT 'high', 'table_owner', c.oid::regclass::text, 'owned by ' || pg_get_userbyid(c.relowner)
    FROM pg_catalog.pg_class c
    WHERE c.relkind = 'r' AND pg_get_userbyid(c.relowner) <> 'catalog_sync_owner'
      AND (c.relnamespace = 'catalog_sync'::regnamespace
           OR c.oid IN ('public.job_catalog'::regclass, 'public.provider_catalog'::regclass,
                        'public.service_catalog'::regclass));

    -- Registered tables: still the tables the contract names mean, plain tables
    -- matching the contract, triggers current. A registered table that is gone,
    -- or whose name now means another table, is verify's table_replaced (a
    -- restore from a dump: every table has a new OID, and the old OIDs may name
    -- unrelated objects) or table_missing, and so is its fix; the checks below
    -- skip those registered OIDs, which may now name anything.
    IF v_registry_ok THEN
        RETURN QUERY
        SELECT 'high', CASE WHEN r.why = 'dropped' THEN 'table_missing' ELSE 'table_replaced' END,
               format('%I.%I', r.schema_name, r.source_table),
               CASE r.why
                    WHEN 'replaced'
                    THEN format('another table than the registered one (oid %s): restored from a dump, or rebuilt '
                                'and swapped in; the application''s writes to it fail or are not synced until '
                                'catalog-sync verify --repair attaches it and re-syncs the tenant', r.relid)
                    WHEN 'moved'
                    THEN format('the registry names this schema, and the registered table (oid %s) is %s: the '
                                'application''s writes go to the schema the registry names, and are not synced (or fail, '
                                'when it has no such table); '
                                'set the registry''s schema_name back, or catalog-sync verify --repair attaches '
                                'what the name means there', r.relid, catalog_sync.qualified_name(r.relid))
                    ELSE format('the registered table (oid %s) was dropped: catalog-sync verify --repair removes the '
                                'tenant''s catalog rows and detaches it (or restore the table, then attach the schema)',
                                r.relid) END
        FROM catalog_sync.replaced_tables(NULL) AS r;
    END IF;
    RETURN QUERY
    SELECT 'high', 'contract', catalog_sync.qualified_name(a.relid), cp
    FROM catalog_sync.attached_table a
    CROSS JOIN LATERAL catalog_sync.contract_problems(a.relid, a.source_table) AS cp
    WHERE a.relid <> ALL (v_replaced);
    RETURN QUERY
    SELECT CASE WHEN st.state IN ('OUTDATED', 'EXTRA') THEN 'medium' ELSE 'high' END, 'trigger',
           coalesce(catalog_sync.qualified_name(a.relid), a.relid::text) || '.' || quote_ident(st.trigger_name), st.state
    FROM catalog_sync.attached_table a
    CROSS JOIN LATERAL catalog_sync.trigger_state(a.relid, a.source_table, a.tenant_id) st
    WHERE st.state <> 'INSTALLED' AND a.relid <> ALL (v_replaced);
    RETURN QUERY
    SELECT CASE WHEN st.state = 'EXTRA' THEN 'medium' ELSE 'high' END, 'trigger',
           'public.tenants_tenant.' || quote_ident(st.trigger_name), st.state
    FROM catalog_sync.trigger_state('public.tenants_tenant'::regclass, 'tenants_tenant', NULL) st
    WHERE st.state <> 'INSTALLED';

    -- Roles that own attached tenant tables: per-tenant roles need no CREATE or
    -- TEMP on the database (the application role, owner of the registry, creates
    -- the tenant schemas and is exempt), and none may be a machinery member.
    RETURN QUERY
    SELECT DISTINCT 'medium', 'tenant_role_database_privilege', pg_get_userbyid(c.relowner)::text,
           'has ' || concat_ws(' and ',
               CASE WHEN has_database_privilege(c.relowner, current_database(), 'CREATE') THEN 'CREATE' END,
               CASE WHEN has_database_privilege(c.relowner, current_database(), 'TEMP') THEN 'TEMP' END)
           || ' on the database'
    FROM catalog_sync.attached_table a JOIN pg_catalog.pg_class c ON c.oid = a.relid AND a.relid <> ALL (v_replaced)
    WHERE NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.oid = c.relowner)
      AND c.relowner <> (SELECT t.relowner FROM pg_catalog.pg_class t WHERE t.oid = 'public.tenants_tenant'::regclass)
      AND (has_database_privilege(c.relowner, current_database(), 'CREATE')
           OR has_database_privilege(c.relowner, current_database(), 'TEMP'));
    RETURN QUERY
    SELECT DISTINCT 'high', 'tenant_role_machinery_membership', pg_get_userbyid(c.relowner)::text,
           'is a member of ' || m.rolname
    FROM catalog_sync.attached_table a
    JOIN pg_catalog.pg_class c ON c.oid = a.relid AND a.relid <> ALL (v_replaced)
    JOIN pg_catalog.pg_roles m ON m.rolname = ANY (v_machinery_roles)
    WHERE pg_has_role(c.relowner, m.oid, 'MEMBER')
      AND NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.oid = c.relowner)
      -- the application role may be an installer (django-tenants hooks attach)
      AND c.relowner <> (SELECT t.relowner FROM pg_catalog.pg_class t WHERE t.oid = 'public.tenants_tenant'::regclass);

    -- Per-tenant roles with an attribute or a membership that reaches past
    -- their own schema (tenant_role_problems(): the predefined roles that read
    -- or write every table, say), granted after attach or before this check
    -- existed; a machinery membership is the finding above.
    RETURN QUERY
    SELECT 'high', 'tenant_role_privileged', r.owner,
           'reaches past its own schema ' || quote_ident(r.schema) || ': '
           || string_agg(p.problem, ', ' ORDER BY p.problem) || ' (what attach --tenant-role refuses: revoke it)'
    FROM (SELECT DISTINCT c.relowner AS oid, pg_get_userbyid(c.relowner)::text AS owner,
                 (SELECT n.nspname FROM pg_catalog.pg_namespace n WHERE n.oid = c.relnamespace) AS schema
          FROM catalog_sync.attached_table a
          JOIN pg_catalog.pg_class c ON c.oid = a.relid AND a.relid <> ALL (v_replaced)
          WHERE NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.oid = c.relowner)
            AND c.relowner <> (SELECT t.relowner FROM pg_catalog.pg_class t
                               WHERE t.oid = 'public.tenants_tenant'::regclass)) AS r
    CROSS JOIN LATERAL catalog_sync.tenant_role_problems(r.oid, r.schema) AS p
    WHERE NOT p.machinery
    GROUP BY r.owner, r.schema;

    -- Per-tenant roles that may take the sync's advisory locks could stall
    -- every other tenant (catalog-sync protect --restrict-advisory-locks).
    -- Any of the sixteen functions: those of a bigint key (the sync's fixed
    -- keys and the tool's; red team, forty-second session:
    -- pg_try_advisory_lock(bigint) granted to PUBLIC again went unreported),
    -- and those of an (integer, integer) key, where parent rows are locked
    -- (tenant_lock_space(): with them, a tenant could hold another's parents).
    RETURN QUERY
    SELECT 'high', 'tenant_role_advisory_locks', pg_get_userbyid(o.relowner)::text,
           'may call ' || string_agg(f.fn, ', ' ORDER BY f.fn) || ' and hold the sync''s lock keys'
    FROM (SELECT DISTINCT c.relowner
          FROM catalog_sync.attached_table a
          JOIN pg_catalog.pg_class c ON c.oid = a.relid AND a.relid <> ALL (v_replaced)
          WHERE NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.oid = c.relowner)
            AND c.relowner <> (SELECT t.relowner FROM pg_catalog.pg_class t
                               WHERE t.oid = 'public.tenants_tenant'::regclass)) AS o
    CROSS JOIN (SELECT n || k FROM unnest(ARRAY['pg_advisory_lock', 'pg_advisory_lock_shared',
                                                'pg_try_advisory_lock', 'pg_try_advisory_lock_shared',
                                                'pg_advisory_xact_lock', 'pg_advisory_xact_lock_shared',
                                                'pg_try_advisory_xact_lock', 'pg_try_advisory_xact_lock_shared']) AS n,
                unnest(ARRAY['(bigint)', '(integer,integer)']) AS k) AS f (fn)
    WHERE has_function_privilege(o.relowner, 'pg_catalog.' || f.fn, 'EXECUTE')
    GROUP BY o.relowner;

    -- A tenant id outside 0 .. 2^32 - 1 shares its parents' lock keys
    -- (tenant_lock_space(): the id's low 32 bits) with another tenant id's:
    -- each could then hold the other's categories and providers (review,
    -- forty-fourth session). django-tenants' ids count from 1.
    RETURN QUERY
    SELECT 'medium', 'tenant_id_lock_space', t.schema_name::text,
           'tenant id ' || t.tenant_id || ' is outside 0 .. 4294967295: its parents'' lock keys are those of tenant '
           || 'id ' || (t.tenant_id & 4294967295) || ', and a transaction of either can hold the other''s'
    FROM catalog_sync.tenant t
    WHERE (t.tenant_id < 0 OR t.tenant_id > 4294967295) AND t.detached_at IS NULL;

    -- Per-tenant roles that own their tables, without protect: between the
    -- sync's contract check and the plan of its read, such an owner can commit
    -- an index or statistics object over its own code (CREATE INDEX and CREATE
    -- STATISTICS do not conflict with the read's lock), which the planner then
    -- evaluates as catalog_sync_owner (a review raced it in seconds). Only
    -- protect's event triggers refuse that DDL before it commits.
    RETURN QUERY
    SELECT DISTINCT 'high', 'tenant_role_without_protection', pg_get_userbyid(c.relowner)::text,
           'owns attached tables while catalog-sync protect is off: it can add an index or statistics over its '
           'own code between the sync''s contract check and its read, which then run as catalog_sync_owner '
           '(run catalog-sync protect)'
    FROM catalog_sync.attached_table a JOIN pg_catalog.pg_class c ON c.oid = a.relid AND a.relid <> ALL (v_replaced)
    WHERE NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.oid = c.relowner)
      AND c.relowner <> (SELECT t.relowner FROM pg_catalog.pg_class t WHERE t.oid = 'public.tenants_tenant'::regclass)
      AND NOT pg_has_role(c.relowner, 'catalog_sync_installer', 'MEMBER')
      AND NOT catalog_sync.protection_on();

    -- Registered tables renamed (a Django RenameModel without db_table): the
    -- sync follows a table by its OID, but attach goes by the contract's
    -- names, so every later attach of the schema refuses it (DBA trial,
    -- forty-ninth session: nothing said so until then).
    RETURN QUERY
    SELECT 'low', 'table_renamed', format('%I.%I', n.nspname, c.relname),
           format('registered as tenant %s''s %s: the sync follows it by its OID, but attach goes by the '
                  'contract''s names: a re-attach of the schema (attach --all after an upgrade, verify --repair) '
                  'and a new tenant made from the same models are refused (... %s is missing); keep the name '
                  '(Django: db_table = %L)', a.tenant_id, a.source_table, a.source_table, a.source_table)
    FROM catalog_sync.attached_table a
    JOIN catalog_sync.tenant t ON t.tenant_id = a.tenant_id AND t.detached_at IS NULL
    JOIN pg_catalog.pg_class c ON c.oid = a.relid AND a.relid <> ALL (v_replaced)
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relname <> a.source_table;

    -- Columns the contract says NOT NULL whose NULL fails a public row's write
    -- (contract_column.required), made nullable (Django's null=True): every
    -- check passed, until the first public row saved with NULL there failed
    -- (DBA trial, fiftieth session).
    -- (protect does not refuse the DROP NOT NULL: it sees a table after the
    -- command, and would refuse every later DDL of the table.)
    RETURN QUERY
    SELECT 'medium', 'nullable_required_column', format('%s.%I', catalog_sync.qualified_name(x.relid), cc.column_name),
           format('allows NULL (Django: null=True), where the contract says NOT NULL: a public row saved with NULL '
                  'there fails its write (a not-null violation of the catalog column it fills); '
                  'ALTER TABLE %s ALTER COLUMN %I SET NOT NULL (Django: null=False) once no row holds NULL',
                  catalog_sync.qualified_name(x.relid), cc.column_name)
    FROM (SELECT a.relid, a.source_table FROM catalog_sync.attached_table a
          JOIN catalog_sync.tenant t ON t.tenant_id = a.tenant_id AND t.detached_at IS NULL
          WHERE a.relid <> ALL (v_replaced)
          UNION ALL
          SELECT 'public.tenants_tenant'::regclass::oid, 'tenants_tenant'::name) AS x
    JOIN catalog_sync.contract_column cc ON cc.source_table = x.source_table AND cc.required
    JOIN pg_catalog.pg_attribute att ON att.attrelid = x.relid AND att.attname = cc.column_name
                                    AND NOT att.attisdropped
    WHERE NOT att.attnotnull
    ORDER BY 3;

    -- Owners of attached tables that protect does not check, protect being on:
    -- an installer's DDL passes (DBA trial, forty-ninth session: the hint of
    -- every command to a role without the installer's privileges, GRANT
    -- catalog_sync_installer, exempted the application's role, without a word
    -- from audit). Its migrations that break the contract then fail the
    -- tenant's writes, not at the ALTER; a per-tenant role so granted is
    -- trusted as a DBA.
    RETURN QUERY
    SELECT DISTINCT 'low', 'owner_exempt_from_protect', pg_get_userbyid(c.relowner)::text,
           'owns attached tables and is a member of catalog_sync_installer, whose DDL catalog-sync protect does '
           'not check: its migrations that break the contract pass, and the tenant''s writes fail after them; '
           'run the tool as an operations login instead, and REVOKE catalog_sync_installer FROM this role, unless '
           'it must attach new tenants itself (docs/operations.md, "Who runs what")'
    FROM catalog_sync.attached_table a JOIN pg_catalog.pg_class c ON c.oid = a.relid AND a.relid <> ALL (v_replaced)
    WHERE NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.oid = c.relowner)
      AND pg_has_role(c.relowner, 'catalog_sync_installer', 'MEMBER')
      AND catalog_sync.protection_on();

    -- Per-tenant roles that may name the registry and the catalogs can queue a
    -- lock on them (PREPARE, then CREATE RULE: both lock before any privilege
    -- check) that stalls every reader, every tenant's sync included.
    RETURN QUERY
    SELECT DISTINCT 'medium', 'tenant_role_public_schema', pg_get_userbyid(c.relowner)::text,
           'has USAGE on schema public: can queue a lock on the registry or a catalog that stalls every '
           'tenant''s sync, and use a catalog''s row type in its tables, which refuses every uninstall until a '
           'superuser drops them (REVOKE USAGE ON SCHEMA public FROM PUBLIC, then grant it to the roles that '
           'need it)'
    FROM catalog_sync.attached_table a JOIN pg_catalog.pg_class c ON c.oid = a.relid AND a.relid <> ALL (v_replaced)
    WHERE NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.oid = c.relowner)
      AND c.relowner <> (SELECT t.relowner FROM pg_catalog.pg_class t WHERE t.oid = 'public.tenants_tenant'::regclass)
      AND has_schema_privilege(c.relowner, 'public', 'USAGE');

    -- A sync trigger or an index that DROP EXTENSION would drop with it
    -- (protect refuses making the dependency; one made before it was on, or
    -- by a superuser, stays).
    RETURN QUERY
    SELECT 'medium', 'extension_dependency', coalesce(catalog_sync.qualified_name(x.relid), x.relid::text),
           format('%s would be dropped with extension %s, silently (ALTER %s ... NO DEPENDS ON EXTENSION %I)',
                  x.what, x.extname, upper(split_part(x.what, ' ', 1)), x.extname)
    FROM catalog_sync.extension_dependents(
             array_append(ARRAY(SELECT a.relid FROM catalog_sync.attached_table a WHERE a.relid <> ALL (v_replaced)),
                          'public.tenants_tenant'::regclass::oid)) AS x;

    -- Tenants whose rows are not synced.
    RETURN QUERY
    SELECT 'medium', 'registry_owner_is_machinery', 'public.tenants_tenant',
           'owned by ' || pg_get_userbyid(c.relowner) || ', a member of catalog_sync_owner'
    FROM pg_catalog.pg_class c
    WHERE c.oid = 'public.tenants_tenant'::regclass
      AND pg_has_role(c.relowner, 'catalog_sync_owner', 'MEMBER')
      AND NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.oid = c.relowner);

    -- The foreign keys to the registry. The application, owner of
    -- public.tenants_tenant, can drop them with its key (DROP CONSTRAINT
    -- tenants_tenant_pkey CASCADE, and a new key): PostgreSQL asks no owner of
    -- the dependent keys. Not in the machinery's fingerprint for that reason
    -- (they run no code of anyone's), reported here instead.
    RETURN QUERY
    SELECT 'medium', 'registry_foreign_key', t.name,
           'no foreign key to public.tenants_tenant (id) (the application rebuilt the registry''s key with CASCADE, '
           || 'which drops the keys that reference it): a tenant deleted from the registry leaves its rows here; '
           || 'as a superuser: ALTER TABLE ' || t.name || ' ADD FOREIGN KEY (tenant_id) REFERENCES '
           || 'public.tenants_tenant (id) ON DELETE CASCADE'
    FROM unnest(ARRAY['public.job_catalog', 'public.provider_catalog', 'public.service_catalog',
                      'catalog_sync.tenant']) AS t(name)
    WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_constraint k
                      WHERE k.conrelid = t.name::regclass AND k.contype = 'f'
                        AND k.confrelid = 'public.tenants_tenant'::regclass);
    -- The key there, its triggers disabled: ALTER TABLE ... DISABLE TRIGGER
    -- ALL on the registry (a bulk load's step) disables the triggers of its
    -- ON DELETE CASCADE too, and verify --repair enables only the sync's
    -- (DBA trial, fifty-first session: a tenant deleted then left its rows;
    -- audit and verify were clean). Enabled by name (a system trigger: a
    -- superuser's; ENABLE TRIGGER ALL would also make the registry's sync
    -- triggers plain ENABLE, not ALWAYS).
    RETURN QUERY
    SELECT 'medium', 'registry_foreign_key', t.name,
           'its foreign key to public.tenants_tenant (id) is disabled (ALTER TABLE ... DISABLE TRIGGER ALL, a bulk '
           || 'load''s step?): a tenant deleted from the registry leaves its rows here; as a superuser: '
           || string_agg('ALTER TABLE ' || g.tgrelid::regclass::text || ' ENABLE TRIGGER '
                         || quote_ident(g.tgname), '; ' ORDER BY g.tgrelid, g.tgname)
    FROM unnest(ARRAY['public.job_catalog', 'public.provider_catalog', 'public.service_catalog',
                      'catalog_sync.tenant']) AS t(name)
    JOIN pg_catalog.pg_constraint k
      ON k.conrelid = t.name::regclass AND k.contype = 'f' AND k.confrelid = 'public.tenants_tenant'::regclass
    JOIN pg_catalog.pg_trigger g ON g.tgconstraint = k.oid AND g.tgenabled = 'D'
    GROUP BY t.name;

    -- Sync triggers on a table the sync does not know: left behind when
    -- protection detached a tenant whose table was dropped, or when a tenant
    -- left the registry with its schema; or copied by a schema clone
    -- (django-tenants' clone_schema()) with the template tenant's id, when
    -- every write to the table fails while that tenant is attached (guard()).
    -- The fix depends on whose schema it is (red team, twenty-second session:
    -- the advice was always detach, which opts a new tenant out, or an
    -- attached tenant whose schema holds the copy).
    IF v_registry_ok THEN
        RETURN QUERY
        WITH u AS (
            SELECT DISTINCT ON (tg.tgrelid) tg.tgrelid AS relid, n.nspname,
                   c.relname IN (SELECT s.source_table FROM catalog_sync.tenant_source_tables() AS s) AS contract_name,
                   b.bound, f.fails, tg.tgenabled AS enabled
            FROM pg_catalog.pg_trigger tg
            JOIN pg_catalog.pg_proc p ON p.oid = tg.tgfoid
            JOIN pg_catalog.pg_class c ON c.oid = tg.tgrelid
            JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
            -- the tenant id the trigger is bound to: its first argument
            CROSS JOIN LATERAL (SELECT catalog_sync.bound_tenant_id(x.arg) AS bound
                                FROM (SELECT encode(substring(tg.tgargs FROM 1 FOR
                                                              greatest(position(E'\\x00'::bytea IN tg.tgargs) - 1, 0)),
                                                    'escape') AS arg) AS x) AS b
            -- whether guard() raises for a write (it does unless the binding is
            -- inert: the bound tenant gone from the registry or detached), and why
            CROSS JOIN LATERAL (
                SELECT CASE WHEN tg.tgenabled = 'D' THEN NULL      -- (it never fires; 'R' under replica)
                            WHEN b.bound IS NULL OR tg.tgnargs <> 2 OR tg.tgtype & (1 | 2 | 64) <> 0
                            THEN 'they are not bound as the sync binds its triggers'
                            WHEN NOT catalog_sync.binding_is_inert(b.bound)
                            THEN format('they are bound to tenant %s, which is in the registry and not detached: '
                                        'relation %s is not attached for this tenant', b.bound, tg.tgrelid) END AS fails
            ) AS f
            WHERE p.pronamespace = 'catalog_sync'::regnamespace
              AND tg.tgrelid <> 'public.tenants_tenant'::regclass
              AND NOT EXISTS (SELECT FROM catalog_sync.attached_table a WHERE a.relid = tg.tgrelid)
              -- the table in a replaced registered table's name (table_replaced above:
              -- repair attaches it, and detach would opt the tenant out)
              AND tg.tgrelid <> ALL (v_replacing)
            ORDER BY tg.tgrelid, f.fails IS NULL
        ),
        -- once per schema (a django-tenants site keeps the schemas of deleted tenants)
        -- (the name as one shell word; after "--" where it would read as an option)
        sr AS (SELECT x.nspname, r.tenant_id, r.state, w.word,
                      CASE WHEN x.nspname LIKE '-%' THEN '-- ' ELSE '' END || w.word AS arg
               FROM (SELECT DISTINCT u.nspname FROM u) AS x
               CROSS JOIN LATERAL catalog_sync.schema_registration(x.nspname) AS r
               CROSS JOIN LATERAL (SELECT catalog_sync.shell_word(x.nspname) AS word) AS w)
        -- high when every write to the table fails (a schema cloned from an attached
        -- tenant: DBA walkthrough, twenty-fifth session), medium when they sync nothing
        SELECT CASE WHEN u.fails IS NOT NULL THEN 'high' ELSE 'medium' END, 'unregistered_sync_trigger',
               catalog_sync.qualified_name(u.relid),
               CASE WHEN u.fails IS NOT NULL
                    THEN 'sync triggers on a table that is not attached: every write to the table fails'
                         -- (not in a subscription's workers, where the sync does nothing: guard())
                         || CASE WHEN u.enabled = 'R' THEN ' under session_replication_role = replica (a '
                                                           'superuser''s session that sets it)' ELSE '' END
                         || ' (' || u.fails || '); '
                    ELSE 'sync triggers on a table that is not attached: they sync nothing; ' END
               || CASE WHEN sr.state IN ('not attached', 'detached by the sync') AND u.contract_name
                       THEN format('catalog-sync attach %s replaces them (tenant %s%s), then catalog-sync backfill '
                                   '--tenant=%s publishes its rows', sr.arg, sr.tenant_id,
                                   CASE WHEN sr.state = 'not attached'
                                        THEN ', never attached: attach checks its schema against the contract first'
                                        ELSE ', detached by the sync: once its schema has every contract table' END,
                                   sr.word)
                       WHEN sr.state IN ('attached', 'not attached', 'detached by the sync')
                       THEN format('SELECT catalog_sync.drop_triggers(%L::regclass) drops them (as the table''s owner '
                                   'who is an installer, or as a superuser); not catalog-sync detach %s, which would '
                                   'opt tenant %s out', catalog_sync.qualified_name(u.relid), sr.arg, sr.tenant_id)
                       ELSE 'catalog-sync detach ' || sr.arg || ' drops them (run it as the owner of '
                            || 'the tables who is an installer, or as a superuser)' END
        FROM u JOIN sr ON sr.nspname = u.nspname;
    END IF;

    IF v_registry_ok THEN
        RETURN QUERY
        -- (an uninstall stopped part-way: tenants off the catalogs until it is
        -- finished or undone, the operator's to decide; DBA trial, forty-ninth
        -- session: "low" beside 50 tenants gone from the public pages)
        SELECT CASE WHEN t.detached_because LIKE 'an uninstall stopped part-way%' THEN 'medium' ELSE 'low' END,
               'tenant_not_attached', ts.schema_name,
               'tenant ' || ts.tenant_id || CASE WHEN t.tenant_id IS NULL THEN ' has never been attached'
                                                 ELSE format(' was detached by the sync at %s (%s), and is not attached '
                                                             'again',
                                                             to_char(t.detached_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                                                             t.detached_because) END
        FROM catalog_sync.tenant_schemas() ts
        LEFT JOIN catalog_sync.tenant t ON t.tenant_id = ts.tenant_id AND t.detached_because IS NOT NULL
        WHERE NOT ts.attached AND NOT ts.detached;
        -- (the tenants the sync detached whose tables are still gone: off the
        -- catalogs, and left alone by attach --all; DBA trial, forty-ninth
        -- session: audit was clean after a DeleteModel had unpublished them)
        RETURN QUERY
        SELECT 'medium', 'tenant_tables_gone', g.schema_name,
               'tenant ' || g.tenant_id || ': ' || g.detail || '; its rows are off the catalogs'
        FROM catalog_sync.tenants_with_tables_gone() AS g;
    END IF;

    -- Triggers of a table's owner (not a superuser) that fire in a logical
    -- replication subscription's workers (ENABLE REPLICA or ENABLE ALWAYS):
    -- on PostgreSQL 15 those run as the subscription's owner, a superuser,
    -- so on a subscriber of this database (a blue/green upgrade, restored
    -- from a schema-only dump of it) the owner's code runs as a superuser
    -- (red team, forty-sixth session: the application role made itself a
    -- superuser during the documented upgrade). Any table: the upgrade
    -- subscribes to all of them.
    RETURN QUERY
    SELECT 'medium', 'replica_trigger', format('%I on %s', tg.tgname, tg.tgrelid::regclass),
           format('enabled %s, it runs %s in a logical replication subscription''s workers, which on PostgreSQL '
                  '15 run as the subscription''s owner, a superuser: %s as a superuser on a subscriber '
                  'of this database (docs/operations.md, "Logical replication"); unless that is meant, ALTER '
                  'TABLE %s ENABLE TRIGGER %I (it then fires for ordinary writes only)',
                  CASE tg.tgenabled WHEN 'R' THEN 'REPLICA' ELSE 'ALWAYS' END, tg.tgfoid::regprocedure,
                  -- (another's function: over the owner's table and arguments; red team, forty-seventh session)
                  CASE WHEN p.proowner = c.relowner THEN pg_catalog.pg_get_userbyid(c.relowner) || '''s code'
                       ELSE format('%s''s function over %s''s table and arguments',
                                   pg_catalog.pg_get_userbyid(p.proowner), pg_catalog.pg_get_userbyid(c.relowner))
                  END,
                  tg.tgrelid::regclass, tg.tgname)
    FROM catalog_sync.armed_triggers(NULL) AS a (oid)     -- (protect refuses the same ones)
    JOIN pg_catalog.pg_trigger tg ON tg.oid = a.oid
    JOIN pg_catalog.pg_proc p ON p.oid = tg.tgfoid
    JOIN pg_catalog.pg_class c ON c.oid = tg.tgrelid
    JOIN pg_catalog.pg_roles o ON o.oid = c.relowner
    WHERE NOT o.rolsuper
    ORDER BY 3;
END
$$;
ALTER FUNCTION catalog_sync.audit() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.audit() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.audit() TO catalog_sync_installer;
