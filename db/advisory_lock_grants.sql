-- The advisory-lock functions may already be restricted in this database: an
-- earlier install's `protect --restrict-advisory-locks`, then an uninstall,
-- which leaves them so (docs/operations.md, "Uninstall"). The roles created
-- again above would then lack them, and every sync statement, attach and
-- backfill would fail with "permission denied for function
-- pg_advisory_xact_lock". Grant them as the restriction does.
DO $$
BEGIN
    IF NOT pg_catalog.has_function_privilege('public', 'pg_catalog.pg_advisory_xact_lock(bigint)', 'EXECUTE') THEN
        PERFORM catalog_sync.restrict_advisory_locks(true);
    END IF;
END
$$;
