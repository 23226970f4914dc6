-- Locks ACCESS SHARE, as any read of them would, the registry and the
-- tenant's registered tables p_tables, in a statement of its own: called by
-- guard() (a job table's whose category table is renamed), sync_changes()
-- (services), sync_providers() and refresh_catalog() before the statement
-- that reads those tables. That statement's snapshot is then taken
-- after every wait for them. The readers (job_sources(), provider_sources(),
-- ...) are STABLE and read on their statement's snapshot: a lock they waited
-- for inside it, behind DDL that rewrote or truncated the table (not
-- MVCC-safe: the rows it leaves carry its own transaction id), left them
-- reading that table on a snapshot older than the DDL's commit, where it
-- looks empty. A write queued behind such DDL of a table it reads but does
-- not write (the registry, a job's category table, a service's provider
-- table, a category's job table) deleted public rows or their category
-- (concurrency red team, fifty-first session). The readers still lock the
-- same tables themselves (then held: no wait), for the callers that read on
-- a snapshot of their own (verify, status).
--
-- A table not attached (NULL OID) is left out; p_tables empty (NULL tenant:
-- lock_tenant_tables(NULL)), the registry only. A job's write takes it only
-- where guard() cannot lock by name (lock_job_parents()): by OID,
-- lock_relations() parses a LOCK per call.
-- Only ever called inside a SECURITY DEFINER sync function (EXECUTE is the
-- owner's alone), under its caller's pinned search_path.
CREATE OR REPLACE FUNCTION catalog_sync.lock_sources(p_tenant_id bigint, p_tables name[])
RETURNS void
LANGUAGE plpgsql VOLATILE  -- it takes locks
AS $$
DECLARE
    v_void text;   -- what a call made for its effect returns (see sync_changes())
BEGIN
    v_void := catalog_sync.lock_registry()::text;
    v_void := catalog_sync.lock_relations(ARRAY(
        SELECT catalog_sync.source_relid(p_tenant_id, t.name)
        FROM pg_catalog.unnest(p_tables) WITH ORDINALITY AS t (name, i) ORDER BY t.i))::text;
END
$$;
ALTER FUNCTION catalog_sync.lock_sources(bigint, name[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.lock_sources(bigint, name[]) FROM PUBLIC;
