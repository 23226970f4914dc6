-- Locks ACCESS SHARE, as any read of them would, the registry and the
-- tenant's registered tables that p_catalogs read, in a statement of its own: called by
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
-- p_catalogs: the catalogs ('jobs', 'providers', 'services') whose
-- projections the caller's statement computes; the tables each reads are
-- listed here, once (provider_parents() reads the providers' and the
-- services' tables: '{providers,services}'). Locked in OID order, as
-- lock_tenant_tables() and verify_tenant() lock them. A table not attached
-- is left out (a tenant not attached: the registry only). A
-- job's write takes it only where guard() cannot lock by name
-- (lock_job_parents()): by OID, lock_relations() parses a LOCK per call.
-- Only ever called inside a SECURITY DEFINER sync function (EXECUTE is the
-- owner's alone), under its caller's pinned search_path.
-- (Its first form, given the tables, is dropped.)
DROP FUNCTION IF EXISTS catalog_sync.lock_sources(bigint, name[]);
CREATE OR REPLACE FUNCTION catalog_sync.lock_sources(p_tenant_id bigint, p_catalogs text[])
RETURNS void
LANGUAGE plpgsql VOLATILE  -- it takes locks
AS $$
DECLARE
    v_void text;   -- what a call made for its effect returns (see sync_changes())
BEGIN
    v_void := catalog_sync.lock_registry()::text;
    v_void := catalog_sync.lock_relations(ARRAY(
        SELECT a.relid FROM catalog_sync.attached_table AS a
        WHERE a.tenant_id = p_tenant_id
          AND a.source_table IN (SELECT r.source_table
                                 FROM (VALUES ('jobs', 'ats_jobposting'), ('jobs', 'ats_jobcategory'),
                                              ('providers', 'services_serviceprovider'),
                                              ('providers', 'services_serviceprovider_categories'),
                                              ('providers', 'services_servicecategory'),
                                              ('providers', 'services_providerskill'),
                                              ('providers', 'services_skill'),
                                              ('services', 'services_service'),
                                              ('services', 'services_serviceprovider'),
                                              ('services', 'services_servicecategory'))
                                      AS r (catalog, source_table)
                                 WHERE r.catalog = ANY (p_catalogs))
        ORDER BY a.relid))::text;
END
$$;
ALTER FUNCTION catalog_sync.lock_sources(bigint, text[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.lock_sources(bigint, text[]) FROM PUBLIC;
