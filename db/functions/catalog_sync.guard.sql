-- The first thing every sync trigger function does, before it reads a
-- transition table: the trigger must be an AFTER ... FOR EACH STATEMENT trigger
-- on a table that attach registered (by OID) for the tenant named by the trigger
-- argument, and the table must still match the contract. Returns the tenant id.
-- Error texts name only the relation OID, never row data. Returns NULL (the
-- caller then does nothing) for a table of a tenant deleted from the registry or
-- detached (e.g. by protect after one of its tables was dropped). NULL too in
-- a logical replication worker (below).
-- Hot path, only ever called inside a SECURITY DEFINER sync function (EXECUTE is
-- the owner's alone), so it runs under the caller's pinned search_path and has
-- no SET clause (a GUC save/restore on every call); it changes the path only
-- as said below, for the job trigger.
-- p_table_schema, p_table_name (the trigger's TG_TABLE_SCHEMA and
-- TG_TABLE_NAME: p_relid's names now): given by a caller that checks the
-- table's contract itself, after this returns and before it reads anything of
-- it (on_job_change(): in a plan of its own, which PL/pgSQL caches per
-- trigger, so per table: a session that writes for many tenants in turns does
-- not plan it again, as it does trigger_table_holds()'s, shared by every
-- table of its kind). That plan names the table by its contract name, so
-- guard() then puts the table's schema on the search_path
-- (pg_catalog, <schema>, pg_temp) when the table carries that name there,
-- for the caller's check, which it follows with the pin of the path (the
-- caller tests the same condition, with pg_catalog's operators, before
-- both); else it leaves the path as it was. Nothing of guard() is parsed
-- after the path is set (its RETURN returns a variable). Not given (NULL):
-- guard() checks the table itself.
-- (Older forms, which a development database may hold, are dropped: with both,
-- a call could still find one.)
DROP FUNCTION IF EXISTS catalog_sync.guard(oid, integer, text, name, text, text);
DROP FUNCTION IF EXISTS catalog_sync.guard(oid, integer, text, name, text, text, oid);
DROP FUNCTION IF EXISTS catalog_sync.guard(oid, integer, text, name, text, text, boolean);
CREATE OR REPLACE FUNCTION catalog_sync.guard(
    p_relid        oid,
    p_nargs        integer,
    p_tenant_arg   text,
    p_source_table name,
    p_level        text,
    p_when         text,
    p_table_schema name DEFAULT NULL,
    p_table_name   name DEFAULT NULL
)
RETURNS bigint
LANGUAGE plpgsql VOLATILE   -- it may change the search_path
AS $$
DECLARE
    v_tenant_id bigint;
    v_void      text;   -- what a call made for its effect returns (see sync_changes())
BEGIN
    -- IS NOT TRUE: a NULL anywhere fails closed.
    -- Arguments: the tenant id, then the definition hash (trigger_state()).
    IF (p_level = 'STATEMENT' AND p_when = 'AFTER' AND p_nargs = 2) IS NOT TRUE THEN
        RAISE EXCEPTION 'catalog_sync: sync function called by an unexpected trigger on relation %', p_relid
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    -- A logical replication worker of this database syncs nothing of its
    -- own writes to the tables it subscribes (the initial COPY of a table,
    -- the apply's TRUNCATE): the subscriber receives the publisher's catalog
    -- rows as rows of their own, and the apply fires no statement trigger
    -- but TRUNCATE's, while the COPY fires INSERT's, so the sync there would
    -- only collide with them or fail on the publisher's registry (Logical
    -- replication trial, forty-sixth session: every table's initial sync
    -- failed with "relation N is not attached for this tenant"). Only such a
    -- write passes: session_replication_role is replica (a superuser's
    -- setting, or a role's granted SET on it), pg_stat_subscription lists
    -- this backend as a worker of a subscription of this table, and the
    -- trigger fired for the worker's own statement, not for a write of
    -- another trigger that the worker fired (review, same session: a row
    -- trigger enabled ALWAYS that made a job private in the worker left it
    -- published), unless the subscription holds a catalog (below). A
    -- superuser's own session under replica still syncs (the
    -- triggers are ENABLE ALWAYS). docs/operations.md, "Logical replication".
    -- (Nested: the outer test is a simple expression, the EXISTS a query, run
    -- only under replica: in one IF it cost 57,000 instructions a write.)
    -- Any write at all of a worker whose subscription holds a catalog: the
    -- catalogs are the publisher's there, and the registry too (a blue/green
    -- upgrade), so a subscriber's own trigger that wrote a tenant table
    -- stalled the subscription on "relation N is not attached for this
    -- tenant" (second review, same session).
    IF pg_catalog.current_setting('session_replication_role') = 'replica' THEN
        IF EXISTS (SELECT FROM pg_catalog.pg_stat_subscription AS s
                   JOIN pg_catalog.pg_subscription_rel AS r ON r.srsubid = s.subid
                   WHERE s.pid = pg_catalog.pg_backend_pid()
                     AND ((r.srrelid = p_relid AND pg_catalog.pg_trigger_depth() = 1)
                          OR r.srrelid IN ('public.job_catalog'::pg_catalog.regclass,
                                           'public.provider_catalog'::pg_catalog.regclass,
                                           'public.service_catalog'::pg_catalog.regclass))) THEN
            RETURN NULL;
        END IF;
    END IF;
    -- (The isolation level read here first: the call only when it raises.)
    IF pg_catalog.current_setting('transaction_isolation') <> 'read committed' THEN
        v_void := catalog_sync.assert_read_committed()::text;
    END IF;
    -- The table's registration for the tenant the argument names, compared
    -- as text (attach writes the id's canonical text): no cast of the
    -- argument, and no pattern match, on the way that finds it. The
    -- argument is the canonical text of an id from 0 to 10^18 - 1
    -- (bound_tenant_id(), as audit() reads a trigger's binding); anything
    -- else is refused, as before.
    SELECT a.tenant_id INTO v_tenant_id FROM catalog_sync.attached_table a
    WHERE a.relid = p_relid AND a.source_table = p_source_table AND a.tenant_id::text = p_tenant_arg
      AND a.tenant_id >= 0 AND a.tenant_id < 1000000000000000000;
    IF NOT FOUND THEN
        v_tenant_id := catalog_sync.bound_tenant_id(p_tenant_arg);
        IF v_tenant_id IS NULL THEN
            RAISE EXCEPTION 'catalog_sync: sync function called by an unexpected trigger on relation %', p_relid
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        -- The tenant was deleted from the registry but its schema kept
        -- (django-tenants' default): nothing of it may be published, and its
        -- writes must not fail. NULL tells the caller to do nothing.
        IF catalog_sync.binding_is_inert(v_tenant_id)
           AND NOT EXISTS (SELECT FROM catalog_sync.attached_table a WHERE a.relid = p_relid) THEN
            RETURN NULL;
        END IF;
        RAISE EXCEPTION 'catalog_sync: relation % is not attached for this tenant', p_relid
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Attach the schema with catalog_sync.attach_schema() (catalog-sync attach).';
    END IF;
    -- The firing statement holds a lock on the table (ROW EXCLUSIVE, or
    -- ACCESS EXCLUSIVE for TRUNCATE) until the end of the transaction: no
    -- LOCK needed before the check, and no name to re-resolve (by OID).
    -- The check folded into a plan cached for the session
    -- (trigger_table_holds()) when the table carries its contract name, else
    -- explicitly. (Nested IFs: a caller that checks the table itself never
    -- sets up the inner expression, which PL/pgSQL would otherwise do in
    -- every transaction.)
    IF p_table_name IS NULL THEN
        IF NOT catalog_sync.trigger_table_holds(p_relid, p_source_table)
           AND NOT catalog_sync.contract_matches(ARRAY[p_relid], ARRAY[p_source_table]) THEN
            PERFORM catalog_sync.assert_contract(p_relid, p_source_table);   -- raises, naming the problems
        END IF;
    ELSIF p_table_name = p_source_table AND p_table_schema <> '$user' THEN
        -- A job's write: the registry and its category table, which its sync
        -- reads besides its own table, locked before the statement that reads
        -- them; by name where a table the definer may read carries the
        -- category table's contract name in the job table's schema, and then
        -- the path is the one the caller needs (lock_job_parents(): both, on
        -- this pinned path first); else by OID.
        IF p_source_table = 'ats_jobposting' THEN
            IF catalog_sync.lock_job_parents(p_table_schema) THEN
                RETURN v_tenant_id;
            END IF;
            v_void := catalog_sync.lock_sources(v_tenant_id, '{jobs}')::text;
        END IF;
        -- The schema as the search_path names it (quoted as regclass quotes
        -- it); never "$user", which the path reads as the user's name. From
        -- the trigger's names: regclass output and schema_naming() cost
        -- 40,000 instructions a write.
        v_void := pg_catalog.set_config('search_path',
                                        'pg_catalog, ' || pg_catalog.quote_ident(p_table_schema) || ', pg_temp', true);
        RETURN v_tenant_id;
    END IF;
    -- (other tables' writes: sync_changes(), sync_providers() and
    -- refresh_catalog() lock what they read, by OID: lock_sources())
    IF p_source_table = 'ats_jobposting' THEN
        v_void := catalog_sync.lock_sources(v_tenant_id, '{jobs}')::text;
    END IF;
    RETURN v_tenant_id;
END
$$;
ALTER FUNCTION catalog_sync.guard(oid, integer, text, name, text, text, name, name) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.guard(oid, integer, text, name, text, text, name, name) FROM PUBLIC;
