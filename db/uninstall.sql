-- Remove everything install.txt created, including the sync triggers on every
-- attached tenant table and on public.tenants_tenant. Roles are cluster-wide:
-- they are dropped only when nothing in any database still uses them.
-- First, what the removal would fail on or drop that it did not create
-- (catalog_sync.removal_problem()): refused before anything changes.
DO $check$
DECLARE
    v_problem text := catalog_sync.removal_problem();
BEGIN
    IF v_problem IS NOT NULL THEN
        RAISE EXCEPTION '%', 'catalog-sync: ' || v_problem || '; nothing was removed';
    END IF;
END
$check$;
DO $uninstall$
DECLARE
    v_relid oid;
BEGIN
    FOR v_relid IN SELECT a.relid FROM catalog_sync.attached_table a
                   WHERE EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.oid = a.relid)
                   UNION SELECT 'public.tenants_tenant'::regclass LOOP
        PERFORM catalog_sync.drop_triggers(v_relid);
    END LOOP;
END
$uninstall$;
DROP SCHEMA catalog_sync CASCADE;
DROP SCHEMA catalog_sync_protect CASCADE;
DROP SCHEMA catalog_sync_pin CASCADE;
-- A publication that includes a catalog loses it with the table, and its
-- subscribers keep the rows they had (Logical replication trial and review,
-- forty-sixth session: a replica froze without an error, and after a
-- re-install one of a schema publication stalled on a duplicate key). Said,
-- with the statements that add back the ones named by name (with their
-- column lists and row filters, which go with the table; FOR ALL TABLES and
-- FOR TABLES IN SCHEMA publications take the new tables by themselves).
DO $publications$
DECLARE
    v_publications text;
    v_statements   text;
BEGIN
    SELECT pg_catalog.string_agg(DISTINCT pg_catalog.quote_ident(pt.pubname), ', ')
    INTO v_publications
    FROM pg_catalog.pg_publication_tables pt
    WHERE pt.schemaname = 'public' AND pt.tablename IN ('job_catalog', 'provider_catalog', 'service_catalog');
    SELECT pg_catalog.string_agg(
               pg_catalog.format('ALTER PUBLICATION %I ADD TABLE public.%I%s%s;', p.pubname, c.relname,
                                 CASE WHEN pr.prattrs IS NOT NULL
                                      THEN ' (' || (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', '
                                                                                 ORDER BY a.attnum)
                                                    FROM pg_catalog.pg_attribute a
                                                    WHERE a.attrelid = pr.prrelid
                                                      AND a.attnum = ANY (pr.prattrs::pg_catalog.int2[])) || ')'
                                      ELSE '' END,
                                 CASE WHEN pr.prqual IS NOT NULL
                                      THEN ' WHERE (' || pg_catalog.pg_get_expr(pr.prqual, pr.prrelid) || ')'
                                      ELSE '' END),
               ' ' ORDER BY p.pubname, c.relname)
    INTO v_statements
    FROM pg_catalog.pg_publication_rel pr
    JOIN pg_catalog.pg_publication p ON p.oid = pr.prpubid
    JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid
    WHERE c.relnamespace = 'public'::pg_catalog.regnamespace
      AND c.relname IN ('job_catalog', 'provider_catalog', 'service_catalog');
    -- (in the order to follow: a REFRESH before the ADD TABLE left a
    -- subscriber empty; docs-literal trial, forty-sixth session)
    IF v_publications IS NOT NULL THEN
        RAISE NOTICE 'catalog_sync: the catalogs leave publication(s) %, and their subscribers keep the catalog rows they have: before a re-install''s backfill, empty the catalogs on each subscriber (TRUNCATE); %then ALTER SUBSCRIPTION ... REFRESH PUBLICATION on each subscriber',
            v_publications,
            CASE WHEN v_statements IS NOT NULL
                 THEN 'after the re-install, add them back to the publications that named them: ' || v_statements
                      || ' (FOR ALL TABLES and FOR TABLES IN SCHEMA public ones take them back by themselves); '
                 ELSE 'after the re-install (FOR ALL TABLES and FOR TABLES IN SCHEMA public publications take them back by themselves), ' END;
    END IF;
END
$publications$;
DROP TABLE public.job_catalog, public.provider_catalog, public.service_catalog;
REVOKE SELECT ON public.tenants_tenant FROM catalog_sync_owner;
DO $roles$
DECLARE
    v_role       name;
    v_role_oid   oid;
    v_grants     text;
    v_privileges text;
BEGIN
    FOREACH v_role IN ARRAY ARRAY['catalog_sync_installer', 'catalog_reader', 'catalog_sync_owner'] LOOP
        v_role_oid := pg_catalog.to_regrole(pg_catalog.quote_ident(v_role));
        -- Privileges the application gave the role on its own objects (a table
        -- for the web tier's catalog_reader, default privileges), which DROP
        -- OWNED BY revokes in this database, the role kept or not: said (DBA
        -- trial, forty-fifth session). Not the machinery's own: catalog_sync_owner's
        -- all are (attach's), the others' on schema public, the version table
        -- and the advisory-lock functions (migrate's and protect's).
        SELECT pg_catalog.string_agg(x.what, '; ' ORDER BY x.what)
        INTO v_privileges
        FROM (SELECT DISTINCT pg_catalog.pg_describe_object(sd.classid, sd.objid, 0) AS what
              FROM pg_catalog.pg_shdepend sd
              WHERE sd.dbid = (SELECT d.oid FROM pg_catalog.pg_database d
                               WHERE d.datname = pg_catalog.current_database())
                AND sd.refclassid = 'pg_catalog.pg_authid'::pg_catalog.regclass AND sd.deptype = 'a'
                AND sd.refobjid = v_role_oid
                AND v_role <> 'catalog_sync_owner'
                AND NOT (sd.classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass
                         AND sd.objid = 'public'::pg_catalog.regnamespace)
                AND NOT (sd.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                         AND sd.objid = pg_catalog.to_regclass('public.alembic_version'))
                AND NOT (sd.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass
                         AND sd.objid IN (SELECT p.oid FROM pg_catalog.pg_proc p
                                          WHERE p.pronamespace = 'pg_catalog'::pg_catalog.regnamespace))) AS x;
        IF v_privileges IS NOT NULL THEN
            RAISE NOTICE 'catalog_sync: role % loses its privileges in this database on objects the machinery did not make (DROP OWNED BY): %; grant them again after a re-install',
                v_role, v_privileges;
        END IF;
        -- The role's members, which DROP ROLE forgets: said, as the GRANTs that
        -- give them back after a re-install (DBA trial, forty-fifth session:
        -- the web tier and the installers lost them without a word).
        -- (DISTINCT: from PostgreSQL 16 a member has a row per grantor)
        SELECT pg_catalog.string_agg(g.statement, ' ' ORDER BY g.statement)
        INTO v_grants
        FROM (SELECT DISTINCT pg_catalog.format('GRANT %I TO %I%s;', v_role, m.rolname,
                                                CASE WHEN a.admin_option THEN ' WITH ADMIN OPTION' END) AS statement
              FROM pg_catalog.pg_auth_members a
              JOIN pg_catalog.pg_roles m ON m.oid = a.member
              WHERE a.roleid = v_role_oid) AS g;
        -- In this database: revoke what attach granted (schema USAGE, table SELECT).
        EXECUTE format('DROP OWNED BY %I', v_role);
        BEGIN
            EXECUTE format('DROP ROLE %I', v_role);
            IF v_grants IS NOT NULL THEN
                RAISE NOTICE 'catalog_sync: role % dropped with its members; after a re-install (catalog-sync migrate) give them back: %',
                    v_role, v_grants;
            END IF;
        EXCEPTION WHEN dependent_objects_still_exist OR object_in_use THEN
            RAISE NOTICE 'catalog_sync: role % kept: still used in another database', v_role;
        END;
    END LOOP;
END
$roles$;
-- The advisory-lock functions stay restricted where protect restricted them
-- (a later migrate grants them to the sync's roles again): said, also to psql
-- and plain alembic (DBA trial, forty-fifth session: only uninstall --yes did).
DO $advisory$
BEGIN
    IF NOT pg_catalog.has_function_privilege('public', 'pg_catalog.pg_advisory_xact_lock(bigint)', 'EXECUTE') THEN
        RAISE NOTICE '%', 'catalog_sync: the advisory-lock functions stay restricted (protect '
            '--restrict-advisory-locks): only superusers and the roles granted them may call them; a later migrate '
            'grants them to the sync''s roles again; GRANT EXECUTE on them to PUBLIC gives them back '
            '(docs/operations.md, "Uninstall")';
    END IF;
END
$advisory$;
