-- The start of on_job_change(), out of its body: guard() (the trigger, its
-- binding, the tenant), then the schema in which the table is named
-- ats_jobposting, which it puts on the search_path
-- (pg_catalog, <schema>, pg_temp) for the caller's next statement: the
-- contract check of the table, a plan the caller caches per trigger, which
-- pins the path again as it runs. tenant_id NULL: the tenant is gone, publish
-- nothing; schema NULL: the table is not named so (renamed), the caller
-- checks it explicitly; in both cases the path is left as it was.
--
-- Why a function: PL/pgSQL compiles a trigger function once per trigger, and
-- every expression a compiled copy evaluates keeps a cached plan of its own
-- (about 4 kB), so a pooled backend pays each statement of the trigger's body
-- once per tenant it writes for (docs/benchmarks.md, section 8). This one is
-- compiled once per session.
-- Hot path, only ever called inside on_job_change() (EXECUTE is the owner's
-- alone), under its pinned settings: no SET clause, so that its set_config()
-- outlives the call.
-- (its form before the thirty-second session, which a development database may hold)
DROP FUNCTION IF EXISTS catalog_sync.job_trigger_entry(oid, integer, text, text, text);
CREATE OR REPLACE FUNCTION catalog_sync.job_trigger_entry(
    p_relid        oid,
    p_nargs        integer,
    p_tenant_arg   text,
    p_level        text,
    p_when         text,
    p_table_schema name,        -- TG_TABLE_SCHEMA and TG_TABLE_NAME: p_relid's names now
    p_table_name   name,
    OUT tenant_id bigint,
    OUT schema    text
)
LANGUAGE plpgsql VOLATILE   -- it changes the search_path
AS $$
DECLARE
    v_void text;   -- what a call made for its effect returns (see sync_changes())
BEGIN
    -- guard() asserts READ COMMITTED before it reads anything: under
    -- REPEATABLE READ the folded check would read the catalogs on the
    -- transaction's snapshot, pass a column change committed since, and leave
    -- that result in the cached plan for the next statement (found in
    -- review). It leaves the contract check of this table to the caller.
    tenant_id := catalog_sync.guard(p_relid, p_nargs, p_tenant_arg, 'ats_jobposting', p_level, p_when, false);
    IF tenant_id IS NULL THEN
        RETURN;
    END IF;
    -- The schema as the search_path names it (quoted as regclass quotes it),
    -- when the table is named ats_jobposting in it; never "$user", which the
    -- path reads as the user's name. From the trigger's names: regclass
    -- output and schema_naming() cost 40,000 instructions a write.
    schema := CASE WHEN p_table_name = 'ats_jobposting' AND p_table_schema <> '$user'
                   THEN pg_catalog.quote_ident(p_table_schema) END;
    IF schema IS NOT NULL THEN
        v_void := pg_catalog.set_config('search_path', 'pg_catalog, ' || schema || ', pg_temp', true);
    END IF;
END
$$;
ALTER FUNCTION catalog_sync.job_trigger_entry(oid, integer, text, text, text, name, name) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.job_trigger_entry(oid, integer, text, text, text, name, name) FROM PUBLIC;
