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
DROP TABLE public.job_catalog, public.provider_catalog, public.service_catalog;
REVOKE SELECT ON public.tenants_tenant FROM catalog_sync_owner;
DO $roles$
DECLARE
    v_role name;
BEGIN
    FOREACH v_role IN ARRAY ARRAY['catalog_sync_installer', 'catalog_reader', 'catalog_sync_owner'] LOOP
        -- In this database: revoke what attach granted (schema USAGE, table SELECT).
        EXECUTE format('DROP OWNED BY %I', v_role);
        BEGIN
            EXECUTE format('DROP ROLE %I', v_role);
        EXCEPTION WHEN dependent_objects_still_exist OR object_in_use THEN
            RAISE NOTICE 'catalog_sync: role % kept: still used in another database', v_role;
        END;
    END LOOP;
END
$roles$;
