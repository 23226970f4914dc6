-- The handler of a static read that failed with an error of class 42
-- (syntax_error_or_access_rule_violation): a column the read names and its
-- table lost fails the read's parse before the contract check folded into
-- its plan runs (see contract_holds()), with PostgreSQL's bare 'column ...
-- does not exist'. The explicit check names the problem and raises; when it
-- passes, the caller raises the error as it was. Under the pinned
-- search_path (the caller's, during its read, holds the tenant's schema).
-- Only ever called inside a SECURITY DEFINER sync function, on an error path.
CREATE OR REPLACE FUNCTION catalog_sync.explain_failed_read(p_relids oid[], p_tables name[])
RETURNS void
LANGUAGE plpgsql VOLATILE   -- assert_contracts() takes locks
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    PERFORM catalog_sync.assert_contracts(p_relids, p_tables);
END
$$;
ALTER FUNCTION catalog_sync.explain_failed_read(oid[], name[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.explain_failed_read(oid[], name[]) FROM PUBLIC;
