-- Optional auto-protection (catalog-sync protect, needs a superuser to create
-- the event triggers): a tenant's DDL that would switch the sync off or break
-- the contract is refused, and a dropped source table takes its tenant's
-- catalog rows with it. Installers (and superusers) are trusted and pass.
--
-- check_ddl() runs after every DDL command on the relations it touched:
-- a registered table whose sync triggers are no longer all INSTALLED (ALTER
-- TABLE ... DISABLE TRIGGER, ENABLE REPLICA, ALTER TRIGGER ... RENAME) or whose
-- columns left the contract (ALTER COLUMN ... TYPE) makes the command fail.
CREATE OR REPLACE FUNCTION catalog_sync_protect.check_ddl(p_relids oid[])
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_problem text;
    v_kind    text;     -- 'trigger', 'contract' (a tenant table's), 'registry' (its contract), 'replica': the hint
BEGIN
    SELECT coalesce(catalog_sync.qualified_name(a.relid), a.relid::text) || ': ' || coalesce(
               t.problem, (SELECT cp FROM catalog_sync.contract_problems(a.relid, a.source_table) cp LIMIT 1)),
           CASE WHEN t.problem IS NOT NULL THEN 'trigger'
                WHEN a.source_table = 'tenants_tenant' THEN 'registry' ELSE 'contract' END
    INTO v_problem, v_kind
    FROM (SELECT a.relid, a.source_table, a.tenant_id FROM catalog_sync.attached_table a
          UNION ALL
          -- The registry, which the application owns: its triggers and its
          -- contract (an index over the application's code, planned by every
          -- projection as the definer: red team, nineteenth session).
          SELECT 'public.tenants_tenant'::pg_catalog.regclass::oid, 'tenants_tenant'::name, NULL::bigint) AS a
    LEFT JOIN LATERAL (SELECT 'trigger ' || st.trigger_name || ' would be ' || st.state
                       FROM catalog_sync.trigger_state(a.relid, a.source_table, a.tenant_id) st
                       WHERE st.state NOT IN ('INSTALLED', 'EXTRA') LIMIT 1) AS t (problem) ON true
    WHERE a.relid = ANY (p_relids)
      -- (not EXTRA: no DDL of a role this checks makes one, as binding a sync
      -- function needs EXECUTE, and a rename leaves its trigger MISSING; one
      -- there already, copied by a clone, is attach's to drop, and must not
      -- refuse the application's DDL: review, twenty-second session)
      AND (EXISTS (SELECT FROM catalog_sync.trigger_state(a.relid, a.source_table, a.tenant_id) st
                   WHERE st.state NOT IN ('INSTALLED', 'EXTRA'))
           OR NOT catalog_sync.contract_matches(ARRAY[a.relid], ARRAY[a.source_table]))
    LIMIT 1;
    -- A registered table moved out of its tenant's schema (ALTER TABLE ... SET
    -- SCHEMA): the schema that holds it could then be renamed, and another
    -- take the tenant's name (red team, nineteenth session).
    IF v_problem IS NULL THEN
        SELECT format('%s is no longer in its tenant''s schema %I', catalog_sync.qualified_name(a.relid),
                      t.schema_name)
        INTO v_problem
        FROM catalog_sync.attached_table a
        JOIN catalog_sync.tenant t ON t.tenant_id = a.tenant_id
        JOIN pg_catalog.pg_class c ON c.oid = a.relid
        JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
        WHERE a.relid = ANY (p_relids) AND n.nspname <> t.schema_name
        LIMIT 1;
    END IF;
    -- A sync trigger, or an index, of a registered table or the registry made
    -- dependent on an extension: DROP EXTENSION would drop it
    -- (extension_dependents(); check_drop() refuses that drop too).
    IF v_problem IS NULL THEN
        SELECT format('%s on %s would be dropped with extension %s', x.what,
                      catalog_sync.qualified_name(x.relid), x.extname)
        INTO v_problem
        FROM catalog_sync.extension_dependents(p_relids) AS x
        WHERE x.relid = 'public.tenants_tenant'::pg_catalog.regclass
           OR EXISTS (SELECT FROM catalog_sync.attached_table a WHERE a.relid = x.relid)
        LIMIT 1;
    END IF;
    -- A trigger of the table's owner armed for a logical replication
    -- subscription's workers (ENABLE REPLICA or ENABLE ALWAYS), on any table
    -- the command touched: on PostgreSQL 15 they run it as the subscription's
    -- owner, a superuser, on a subscriber of this database (red team,
    -- forty-sixth session: the application role made itself a superuser
    -- during the documented blue/green upgrade; audit's replica_trigger).
    IF v_problem IS NULL THEN
        SELECT format('trigger %I on %s would fire in a logical replication subscription''s workers (ENABLE %s), '
                      'which on PostgreSQL 15 run it as a superuser', tg.tgname, catalog_sync.qualified_name(tg.tgrelid),
                      CASE tg.tgenabled WHEN 'R' THEN 'REPLICA' ELSE 'ALWAYS' END), 'replica'
        INTO v_problem, v_kind
        FROM catalog_sync.armed_triggers(p_relids) AS a (oid)    -- (audit reports the same ones)
        JOIN pg_catalog.pg_trigger tg ON tg.oid = a.oid
        ORDER BY tg.tgname
        LIMIT 1;
    END IF;
    IF v_problem IS NOT NULL THEN
        -- (DBA trial, forty-fifth session: an application migration that broke the
        -- contract was pointed at detach, which unpublishes the tenant)
        RAISE EXCEPTION 'catalog_sync: refused, %', v_problem
            USING ERRCODE = 'insufficient_privilege',
                  HINT = CASE v_kind
                         WHEN 'contract'
                         THEN 'The table would leave the contract the catalog sync reads: revert this migration, '
                              'or install a release of the catalog sync whose contract matches it first '
                              '(docs/operations.md, "The application''s own migrations"). catalog-sync detach would '
                              'unpublish the tenant.'
                         WHEN 'registry'
                         THEN 'Every tenant''s sync reads it: a change to it needs a release of the catalog sync '
                              '(docs/operations.md, "The application''s own migrations").'
                         WHEN 'replica'
                         THEN 'Leave it firing for ordinary writes only (ALTER TABLE ... ENABLE TRIGGER name, '
                              'for every such trigger of the table in one ALTER TABLE); with one meant for a '
                              'subscriber, a DBA''s, run the DDL as an installer (docs/security.md, Limits).'
                         ELSE 'The catalog sync protects attached tenant tables; ask a DBA (catalog-sync detach).'
                         END;
    END IF;
END
$$;
ALTER FUNCTION catalog_sync_protect.check_ddl(oid[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync_protect.check_ddl(oid[]) FROM PUBLIC;

-- check_schemas() runs after ALTER SCHEMA: a schema that holds registered
-- tables may not be altered (the event does not tell a rename from an owner
-- change), and no other schema may take the name of an attached tenant's
-- schema. The sync parses its tables' names, and ALTER SCHEMA ... RENAME
-- takes no lock that its read would wait for.
CREATE OR REPLACE FUNCTION catalog_sync_protect.check_schemas(p_schemas oid[])
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_problem text;
BEGIN
    -- Any rename of a schema that holds attached tables, whatever the registry
    -- says its name is (the application owns the registry: a second re-test
    -- set the tenant's schema_name to the new name first, and the rename passed).
    SELECT format('schema %I holds attached tenant tables', n.nspname)
    INTO v_problem
    FROM pg_catalog.pg_namespace n
    WHERE n.oid = ANY (p_schemas)
      AND EXISTS (SELECT FROM catalog_sync.attached_table a
                  JOIN pg_catalog.pg_class c ON c.oid = a.relid
                  WHERE c.relnamespace = n.oid)
    LIMIT 1;
    IF v_problem IS NULL THEN
        SELECT format('schema %I would take the name of an attached tenant''s schema', n.nspname)
        INTO v_problem
        FROM pg_catalog.pg_namespace n
        JOIN catalog_sync.tenant t ON t.schema_name = n.nspname
        WHERE n.oid = ANY (p_schemas)
          AND EXISTS (SELECT FROM catalog_sync.attached_table a WHERE a.tenant_id = t.tenant_id)
          AND NOT EXISTS (SELECT FROM catalog_sync.attached_table a
                          JOIN pg_catalog.pg_class c ON c.oid = a.relid
                          WHERE a.tenant_id = t.tenant_id AND c.relnamespace = n.oid)
        LIMIT 1;
    END IF;
    IF v_problem IS NOT NULL THEN
        RAISE EXCEPTION 'catalog_sync: refused, %', v_problem
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'The catalog sync protects attached tenant schemas; ask a DBA: as a superuser, the '
                         'schema renamed and the registry''s schema_name set to the new name in one transaction '
                         '(docs/operations.md, "Renaming a tenant schema").';
    END IF;
END
$$;
ALTER FUNCTION catalog_sync_protect.check_schemas(oid[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync_protect.check_schemas(oid[]) FROM PUBLIC;

-- check_drop() runs for every DROP: a sync trigger dropped on its own
-- (not with its table; p_triggers holds the names of the dropped triggers the
-- dropping role may not drop) is refused; a registered table dropped (DROP
-- TABLE, DROP SCHEMA ... CASCADE) unregisters its tenant and deletes the
-- tenant's catalog rows, which could otherwise never be verified again.
-- The dropped tables come from the sql_drop event itself, never from the
-- caller: anybody may call this (the event trigger runs as the dropping
-- role), and a registered table that is gone is also what a table rebuilt and
-- swapped in leaves (verify: table_replaced, repaired by attaching the new
-- one), which a caller naming it must not turn into a purge. Outside a
-- sql_drop event pg_event_trigger_dropped_objects() raises.
-- (The older form, which took the tables as an argument, is dropped.)
DROP FUNCTION IF EXISTS catalog_sync_protect.check_drop(oid[], text[]);
CREATE OR REPLACE FUNCTION catalog_sync_protect.check_drop(p_triggers text[])
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_tables    oid[];
    v_tenant_id bigint;
BEGIN
    SELECT array_agg(d.objid) FILTER (WHERE d.object_type = 'table')
    INTO v_tables
    FROM pg_catalog.pg_event_trigger_dropped_objects() AS d;
    -- A sync trigger dropped without its own table: any other table dropped
    -- by the same command does not count (red team, twentieth session: the
    -- trigger made dependent on an extension with ALTER TRIGGER ... DEPENDS ON
    -- EXTENSION, then DROP EXTENSION dropped it with a table of the
    -- extension's). Tables and triggers by their address names (schema, table
    -- [, trigger]), unquoted.
    IF EXISTS (SELECT FROM pg_catalog.pg_event_trigger_dropped_objects() AS tg
               WHERE tg.object_type = 'trigger'
                 AND tg.address_names[3] = ANY (p_triggers)
                 AND tg.address_names[3] LIKE E'catalog\\_sync\\_%'
                 AND NOT EXISTS (SELECT FROM pg_catalog.pg_event_trigger_dropped_objects() AS t
                                 WHERE t.object_type = 'table' AND t.address_names = tg.address_names[1:2])) THEN
        RAISE EXCEPTION 'catalog_sync: refused, the sync triggers of an attached table cannot be dropped'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Ask a DBA: catalog-sync detach drops them and records why the tenant is not synced.';
    END IF;
    -- A registered table dropped: by its OID, and in its tenant's schema (a
    -- registered OID that no longer names the tenant's table, after a
    -- restore and before the repair, may be taken by any new table: a
    -- tenant that created and dropped tables until one took another
    -- tenant's OID purged that tenant; red team, forty-sixth session).
    FOR v_tenant_id IN SELECT DISTINCT a.tenant_id FROM catalog_sync.attached_table a
                       JOIN catalog_sync.tenant t ON t.tenant_id = a.tenant_id
                       JOIN pg_catalog.pg_event_trigger_dropped_objects() AS d
                         ON d.object_type = 'table' AND d.objid = a.relid
                       WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.oid = a.relid)
                         -- (Not by its triggers' names, which any table's owner
                         -- chooses: a decoy with a catalog_sync_* trigger purged
                         -- another tenant; review, same session. Where the
                         -- machinery's copy of the schema name lags the table's,
                         -- after the registry's schema_name changed, say, the drop
                         -- is left to verify: table_missing, which repair purges.)
                         AND d.address_names[1] = t.schema_name
                       ORDER BY 1 LOOP
        PERFORM catalog_sync.lock_for_tenant_change(ARRAY[v_tenant_id]);
        DELETE FROM public.job_catalog WHERE tenant_id = v_tenant_id;
        DELETE FROM public.provider_catalog WHERE tenant_id = v_tenant_id;
        DELETE FROM public.service_catalog WHERE tenant_id = v_tenant_id;
        DELETE FROM catalog_sync.attached_table a WHERE a.tenant_id = v_tenant_id;
        -- (not on purpose: verify reports the tenant again once its tables
        -- are back, a table rebuilt and swapped in, say)
        UPDATE catalog_sync.tenant t SET detached_at = clock_timestamp(), detached_because = 'a source table was dropped'
        WHERE t.tenant_id = v_tenant_id;
    END LOOP;
END
$$;
ALTER FUNCTION catalog_sync_protect.check_drop(text[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync_protect.check_drop(text[]) FROM PUBLIC;

-- check_rewrite() runs whenever a DDL command rewrites a table (any reason:
-- a column's type, a column added with a volatile default, persistence, the
-- access method). A registered table's rows rewritten by DDL change what the
-- catalog may show without a row trigger firing: ALTER COLUMN ... TYPE ...
-- USING <any value>; and code that runs during the rewrite (a USING
-- expression, a volatile DEFAULT) may write the table itself, into the old
-- heap that the rewrite then throws away, while the sync triggers of those
-- writes have already changed the catalog (red team, twenty-fourth session:
-- ADD COLUMN x int DEFAULT <a function that updates the table> left a job
-- made internal public, and one made public missing). So the table is
-- recorded, and resync_rewritten() makes the tenant's catalog rows again
-- once the rewrite is done, in the same statement. Refused: any rewrite of
-- the registry (ALTER COLUMN id TYPE bigint USING <swapped ids> renumbered
-- tenants, red team, twentieth session; the volatile DEFAULT route put a
-- suspended tenant's rows back, twenty-fourth), which every tenant's sync
-- reads, and a tenant table's persistence change (an UNLOGGED table loses
-- its rows in a crash without a trigger firing). It reads the table and the
-- reason from the event itself (an error outside a table_rewrite event
-- trigger), so that a caller cannot name another tenant's table.
CREATE OR REPLACE FUNCTION catalog_sync_protect.check_rewrite()
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_relid  oid := pg_catalog.pg_event_trigger_table_rewrite_oid();
    -- a bit mask: 1 persistence, 2 a default value, 4 a column's type, 8 the access method
    v_reason integer := pg_catalog.pg_event_trigger_table_rewrite_reason();
BEGIN
    IF v_relid = pg_catalog.to_regclass('public.tenants_tenant') THEN
        RAISE EXCEPTION 'catalog_sync: refused, public.tenants_tenant would be rewritten by DDL (its rows could '
                        'change without a sync trigger firing)'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Every tenant''s sync reads the registry: run this migration as an installer, then '
                         'catalog-sync verify (docs/operations.md, "The application''s own migrations").';
    END IF;
    IF NOT EXISTS (SELECT FROM catalog_sync.attached_table a WHERE a.relid = v_relid) THEN
        RETURN;
    END IF;
    IF v_reason OPERATOR(pg_catalog.&) 1 <> 0 THEN
        RAISE EXCEPTION 'catalog_sync: refused, % would be made UNLOGGED or LOGGED (an unlogged table loses its '
                        'rows in a crash without a sync trigger firing)', catalog_sync.qualified_name(v_relid)
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'The catalog sync protects attached tenant tables; ask a DBA.';
    END IF;
    INSERT INTO catalog_sync.rewritten_table (relid, relfilenode)
    SELECT c.oid, c.relfilenode FROM pg_catalog.pg_class c WHERE c.oid = v_relid;
END
$$;
ALTER FUNCTION catalog_sync_protect.check_rewrite() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync_protect.check_rewrite() FROM PUBLIC;

-- resync_rewritten() runs at the end of every DDL command protect watches:
-- for each table this transaction recorded (check_rewrite()) whose rewrite is
-- done (a new relfilenode: a function called from inside the rewrite, such as
-- a USING expression, still sees the old one, and the old rows), the tenant's
-- catalog rows are made again from its tables, as backfill does, and the
-- record is deleted. The catalogs then match the rewritten rows when the
-- statement ends.
-- The statement holds the rewritten table's ACCESS EXCLUSIVE lock before the
-- re-sync asks for the tenant's lock: a write of the same tenant that holds
-- its part of that lock and then waits for the table (a category renamed,
-- the registry row saved), or another transaction that holds the tenant's
-- lock and waits for this one (a backfill, a migration of another of its
-- tables), closes a cycle, and PostgreSQL cancels one of the two. When it is
-- this statement, the error says so.
CREATE OR REPLACE FUNCTION catalog_sync_protect.resync_rewritten()
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off
SET row_security = off
AS $$
DECLARE
    v_tenant_id bigint;
BEGIN
    -- (the tenant as registered now: a table detached meanwhile syncs nothing)
    FOR v_tenant_id IN
        WITH done AS (
            DELETE FROM catalog_sync.rewritten_table r
            WHERE r.xact_id = pg_catalog.pg_current_xact_id_if_assigned()
              AND NOT EXISTS (SELECT FROM pg_catalog.pg_class c
                              WHERE c.oid = r.relid AND c.relfilenode = r.relfilenode)
            RETURNING r.relid
        )
        SELECT DISTINCT a.tenant_id FROM done JOIN catalog_sync.attached_table a ON a.relid = done.relid
        ORDER BY a.tenant_id
    LOOP
        BEGIN
            PERFORM FROM catalog_sync.backfill_tenant(v_tenant_id);
        EXCEPTION WHEN deadlock_detected THEN
            RAISE EXCEPTION 'catalog_sync: the re-sync of tenant % after its table was rewritten by DDL met '
                            'another transaction of that tenant (a write waiting for the table, a backfill, '
                            'another migration): deadlock', v_tenant_id
                USING ERRCODE = 'deadlock_detected',
                      HINT = 'Run the migration again, when the tenant''s writes are quiet '
                             '(docs/operations.md, "The application''s own migrations").';
        END;
    END LOOP;
END
$$;
ALTER FUNCTION catalog_sync_protect.resync_rewritten() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync_protect.resync_rewritten() FROM PUBLIC;

-- check_column_drop() runs for every DROP COLUMN: a contract column (one the
-- sync reads) of a registered table or of the registry dropped (and added
-- again in the same ALTER TABLE, with a DEFAULT: the values change, no
-- rewrite, no row trigger) is refused. Any other column is the application's.
CREATE OR REPLACE FUNCTION catalog_sync_protect.check_column_drop(p_tables oid[], p_columns text[])
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_problem text;
BEGIN
    -- (the registry too: its status dropped and added again with DEFAULT
    -- 'suspended' suspended every tenant without its update trigger firing, and
    -- their rows stayed public until verify --repair: red team, twenty-third
    -- session)
    SELECT coalesce(catalog_sync.qualified_name(a.relid), a.relid::text) || '.' || quote_ident(d.col)
    INTO v_problem
    FROM unnest(p_tables, p_columns) AS d (relid, col)
    JOIN (SELECT t.relid, t.source_table FROM catalog_sync.attached_table t
          UNION ALL    -- (to_regclass: a registry dropped must not fail every DROP COLUMN)
          SELECT pg_catalog.to_regclass('public.tenants_tenant'), 'tenants_tenant') AS a ON a.relid = d.relid
    JOIN catalog_sync.contract_column cc ON cc.source_table = a.source_table AND cc.column_name = d.col
    LIMIT 1;
    IF v_problem IS NOT NULL THEN
        RAISE EXCEPTION 'catalog_sync: refused, % is a column of the contract (the catalog sync reads it)', v_problem
            USING ERRCODE = 'insufficient_privilege',
                  HINT = CASE WHEN v_problem LIKE 'public.tenants_tenant.%'
                              THEN 'Every tenant''s sync reads it: a change to it needs a release of the catalog '
                                   'sync (docs/operations.md, "The application''s own migrations").'
                              ELSE 'A column the catalog sync reads: revert this migration, or install a release '
                                   'of the catalog sync whose contract matches it first (docs/operations.md, "The '
                                   'application''s own migrations"). catalog-sync detach would unpublish the tenant.'
                              END;
    END IF;
END
$$;
ALTER FUNCTION catalog_sync_protect.check_column_drop(oid[], text[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync_protect.check_column_drop(oid[], text[]) FROM PUBLIC;

-- The event trigger functions themselves run as the role that ran the DDL
-- (SECURITY INVOKER), so that installers and superusers can be told apart;
-- they only hand OIDs and names to the definer checks above, which PUBLIC may
-- call (they only refuse, or purge the rows of the tables the event dropped).
CREATE OR REPLACE FUNCTION catalog_sync.on_ddl_command_end()
RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_relids  oid[];
    v_schemas oid[];
BEGIN
    IF pg_has_role(current_user, 'catalog_sync_installer', 'MEMBER') THEN
        RETURN;
    END IF;
    -- The table each command touched: itself, or the table of a trigger,
    -- index or statistics object (an index expression or a statistics
    -- expression is code the planner would run as the definer).
    SELECT array_agg(DISTINCT CASE c.classid
               WHEN 'pg_catalog.pg_trigger'::regclass
                   THEN (SELECT tg.tgrelid FROM pg_catalog.pg_trigger tg WHERE tg.oid = c.objid)
               -- (ALTER TYPE <a table's row type> RENAME ATTRIBUTE renames the table's column)
               WHEN 'pg_catalog.pg_type'::regclass
                   THEN (SELECT ty.typrelid FROM pg_catalog.pg_type ty WHERE ty.oid = c.objid)
               WHEN 'pg_catalog.pg_statistic_ext'::regclass
                   THEN (SELECT x.stxrelid FROM pg_catalog.pg_statistic_ext x WHERE x.oid = c.objid)
               ELSE coalesce((SELECT i.indrelid FROM pg_catalog.pg_index i WHERE i.indexrelid = c.objid), c.objid)
           END)
    INTO v_relids
    FROM pg_catalog.pg_event_trigger_ddl_commands() c
    WHERE c.classid IN ('pg_catalog.pg_class'::regclass, 'pg_catalog.pg_trigger'::regclass,
                        'pg_catalog.pg_statistic_ext'::regclass, 'pg_catalog.pg_type'::regclass);
    -- No command collected: a command run inside REFRESH MATERIALIZED VIEW
    -- (by a function of the view's query), for which PostgreSQL collects
    -- nothing (red team, forty-seventh session: through one the tenant
    -- disabled its sync triggers, armed a trigger for a subscription's
    -- workers, and built an index over its own code that the sync then
    -- planned as the definer), or an IF [NOT] EXISTS that did nothing. Every
    -- command that changes a table locks it, or its index, until the
    -- transaction ends, in SHARE UPDATE EXCLUSIVE mode or stronger (row
    -- writes take weaker ones), or locks its trigger (ALTER TRIGGER ...
    -- DEPENDS ON EXTENSION: review of the fix): those tables are checked.
    -- A schema's or a type's command locks none: it is refused. Only inside
    -- a refresh, known by the view's lock, which the nested command cannot
    -- let go (also after other DDL on a materialized view in the same
    -- transaction: checked then too). Outside one, no command collected is
    -- an IF [NOT] EXISTS that did nothing, and passes: checked, it failed on
    -- an installer's armed trigger of a table the transaction had locked
    -- itself (LOCK TABLE, TRUNCATE; red team, forty-seventh session).
    IF v_relids IS NULL AND NOT EXISTS (SELECT FROM pg_catalog.pg_event_trigger_ddl_commands())
       AND EXISTS (SELECT FROM pg_catalog.pg_locks l
                   JOIN pg_catalog.pg_class c ON c.oid = l.relation
                   WHERE l.pid = pg_catalog.pg_backend_pid() AND l.locktype = 'relation'
                     AND l.mode IN ('ExclusiveLock', 'AccessExclusiveLock') AND c.relkind = 'm') THEN
        SELECT array_agg(DISTINCT coalesce(i.indrelid, tg.tgrelid, l.relation))
        INTO v_relids
        FROM pg_catalog.pg_locks l
        LEFT JOIN pg_catalog.pg_index i ON l.locktype = 'relation' AND i.indexrelid = l.relation
        LEFT JOIN pg_catalog.pg_trigger tg
               ON l.locktype = 'object' AND l.classid = 'pg_catalog.pg_trigger'::regclass AND tg.oid = l.objid
        WHERE l.pid = pg_catalog.pg_backend_pid()
          AND ((l.locktype = 'relation'
                AND l.mode IN ('ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock',
                               'ExclusiveLock', 'AccessExclusiveLock'))   -- (not SIReadLock: review)
               OR tg.oid IS NOT NULL);
        IF TG_TAG IN ('ALTER SCHEMA', 'CREATE SCHEMA', 'ALTER TYPE') THEN
            RAISE EXCEPTION 'catalog_sync: refused, % inside REFRESH MATERIALIZED VIEW (or after other DDL '
                            'on a materialized view in the same transaction): PostgreSQL does not report what '
                            'it changed, so protect cannot check it', TG_TAG
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'Run it outside a materialized view''s query, in a transaction of its own; or as '
                             'an installer.';
        END IF;
    END IF;
    -- And the children of each: ALTER TABLE <a parent> ATTACH PARTITION <a
    -- registered table> alters the parent only, and leaves the registered
    -- table a partition, whose columns the parent's renames rename (red team,
    -- nineteenth session).
    -- And the parents of each: CREATE TABLE ... INHERITS (<a registered table
    -- or the registry>), or ALTER TABLE <another> INHERIT one, makes it a
    -- parent, which fails the contract: every write to it fails closed (the
    -- registry: every tenant's; final review, twenty-third session).
    v_relids := v_relids
                || ARRAY(SELECT i.inhrelid FROM pg_catalog.pg_inherits i WHERE i.inhparent = ANY (v_relids))
                || ARRAY(SELECT i.inhparent FROM pg_catalog.pg_inherits i WHERE i.inhrelid = ANY (v_relids));
    -- A schema renamed (ALTER SCHEMA ... RENAME): the sync parses its tables'
    -- names, so a tenant that renames its schema away and another of its own
    -- into its place between the sync's check and its read has the read parse
    -- its look-alike, as the definer (red team, nineteenth session: it ran a
    -- function as catalog_sync_owner, then made the application a superuser).
    SELECT array_agg(c.objid) INTO v_schemas
    FROM pg_catalog.pg_event_trigger_ddl_commands() c
    WHERE c.classid = 'pg_catalog.pg_namespace'::regclass;
    IF v_schemas IS NOT NULL THEN
        PERFORM catalog_sync_protect.check_schemas(v_schemas);
    END IF;
    IF cardinality(v_relids) > 0 THEN
        PERFORM catalog_sync_protect.check_ddl(v_relids);
    END IF;
    -- A registered table this command rewrote: its tenant's catalog rows made
    -- again from the new rows (check_rewrite() recorded it).
    PERFORM catalog_sync_protect.resync_rewritten();
END
$$;
ALTER FUNCTION catalog_sync.on_ddl_command_end() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.on_ddl_command_end() FROM PUBLIC;   -- event triggers fire regardless
GRANT EXECUTE ON FUNCTION catalog_sync_protect.check_ddl(oid[]) TO PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync_protect.check_schemas(oid[]) TO PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync_protect.resync_rewritten() TO PUBLIC;

CREATE OR REPLACE FUNCTION catalog_sync.on_sql_drop()
RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_tables   boolean;
    v_triggers text[];
    v_column_tables oid[];
    v_columns  text[];
BEGIN
    -- A trigger's name is the last of its address_names (schema, table, trigger):
    -- unquoted, unlike object_identity, which quote_all_identifiers = on in the
    -- dropping session would quote past the check's prefix match. A column's
    -- likewise (schema, table, column); objid is its table.
    SELECT bool_or(d.object_type = 'table'),
           array_agg(d.address_names[cardinality(d.address_names)]) FILTER (WHERE d.object_type = 'trigger'),
           array_agg(d.objid) FILTER (WHERE d.object_type = 'table column'),
           array_agg(d.address_names[cardinality(d.address_names)])
               FILTER (WHERE d.object_type = 'table column')
    INTO v_tables, v_triggers, v_column_tables, v_columns
    FROM pg_catalog.pg_event_trigger_dropped_objects() d;
    IF pg_has_role(current_user, 'catalog_sync_installer', 'MEMBER') THEN
        v_triggers := NULL;             -- installers may drop sync triggers (detach)
        v_columns := NULL;              -- and change the tables
    -- A constraint of a machinery table, which only a CASCADE from another
    -- owner's object drops: ALTER TABLE public.tenants_tenant DROP CONSTRAINT
    -- <its key> CASCADE, by the registry's owner, dropped the catalogs' foreign
    -- keys to it; a truncated registry then left every tenant's rows public
    -- (red team, twentieth session).
    ELSIF EXISTS (SELECT FROM pg_catalog.pg_event_trigger_dropped_objects() d
                  WHERE d.object_type = 'table constraint'
                    AND (d.address_names[1] IN ('catalog_sync', 'catalog_sync_protect', 'catalog_sync_pin')
                         OR (d.address_names[1] = 'public'
                             AND d.address_names[2] IN ('job_catalog', 'provider_catalog', 'service_catalog')))) THEN
        RAISE EXCEPTION 'catalog_sync: refused, a constraint of the catalogs or the machinery would be dropped'
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'The catalogs'' foreign keys depend on the registry''s key; ask a DBA.';
    END IF;
    IF v_tables OR v_triggers IS NOT NULL THEN
        PERFORM catalog_sync_protect.check_drop(v_triggers);   -- it reads the dropped tables itself
    END IF;
    IF v_columns IS NOT NULL THEN
        PERFORM catalog_sync_protect.check_column_drop(v_column_tables, v_columns);
    END IF;
END
$$;
ALTER FUNCTION catalog_sync.on_sql_drop() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.on_sql_drop() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync_protect.check_drop(text[]) TO PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync_protect.check_column_drop(oid[], text[]) TO PUBLIC;

CREATE OR REPLACE FUNCTION catalog_sync.on_table_rewrite()
RETURNS event_trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF pg_has_role(current_user, 'catalog_sync_installer', 'MEMBER') THEN
        RETURN;
    END IF;
    -- Every reason: code run during any rewrite may write the table into the
    -- heap the rewrite throws away (check_rewrite()).
    PERFORM catalog_sync_protect.check_rewrite();
END
$$;
ALTER FUNCTION catalog_sync.on_table_rewrite() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.on_table_rewrite() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync_protect.check_rewrite() TO PUBLIC;

-- Install or remove the three event triggers (creating an event trigger needs a
-- superuser). Idempotent.
CREATE OR REPLACE FUNCTION catalog_sync.set_protection(p_on boolean)
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    DROP EVENT TRIGGER IF EXISTS catalog_sync_protect_ddl;
    DROP EVENT TRIGGER IF EXISTS catalog_sync_protect_drop;
    DROP EVENT TRIGGER IF EXISTS catalog_sync_protect_rewrite;
    IF NOT p_on THEN
        RETURN 'protection off';
    END IF;
    CREATE EVENT TRIGGER catalog_sync_protect_ddl ON ddl_command_end
        WHEN TAG IN ('ALTER TABLE', 'ALTER TRIGGER', 'CREATE TRIGGER', 'CREATE INDEX', 'ALTER INDEX',
                     'CREATE STATISTICS', 'ALTER STATISTICS', 'ALTER SCHEMA',
                     -- (CREATE TABLE / CREATE FOREIGN TABLE ... INHERITS a registered table)
                     'CREATE TABLE', 'CREATE FOREIGN TABLE',
                     -- (ALTER VIEW, ALTER MATERIALIZED VIEW, ALTER FOREIGN TABLE and
                     -- ALTER SEQUENCE ... RENAME COLUMN, and ALTER TYPE ... RENAME
                     -- ATTRIBUTE of its row type, rename a table's column too)
                     'ALTER VIEW', 'ALTER MATERIALIZED VIEW', 'ALTER FOREIGN TABLE', 'ALTER SEQUENCE',
                     'ALTER TYPE',
                     -- (the commands nested in a CREATE SCHEMA fire no event of their
                     -- own: CREATE SCHEMA x CREATE TABLE t () INHERITS (<a registered
                     -- table>) passed; review, forty-sixth session)
                     'CREATE SCHEMA')
        EXECUTE FUNCTION catalog_sync.on_ddl_command_end();
    CREATE EVENT TRIGGER catalog_sync_protect_drop ON sql_drop
        EXECUTE FUNCTION catalog_sync.on_sql_drop();
    CREATE EVENT TRIGGER catalog_sync_protect_rewrite ON table_rewrite
        EXECUTE FUNCTION catalog_sync.on_table_rewrite();
    -- ALWAYS: an event trigger enabled ORIGIN does not fire under
    -- session_replication_role = replica, which a role granted SET on it
    -- may set (PostgreSQL 15: GRANT SET ON PARAMETER), and its DDL then
    -- passed unchecked (review, forty-sixth session).
    ALTER EVENT TRIGGER catalog_sync_protect_ddl ENABLE ALWAYS;
    ALTER EVENT TRIGGER catalog_sync_protect_drop ENABLE ALWAYS;
    ALTER EVENT TRIGGER catalog_sync_protect_rewrite ENABLE ALWAYS;
    RETURN 'protection on';
END
$$;
ALTER FUNCTION catalog_sync.set_protection(boolean) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.set_protection(boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.set_protection(boolean) TO catalog_sync_installer;
