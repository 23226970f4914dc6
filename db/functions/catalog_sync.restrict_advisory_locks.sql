-- The sync's locks are advisory locks; their keys can be computed (or read in
-- pg_locks) by anyone who may call pg_advisory_lock(), so in the per-tenant-role
-- model a tenant could hold a key and stall every other tenant. This takes
-- EXECUTE on the advisory-lock functions away from PUBLIC in this database and
-- gives it back to the machinery roles and to the owner of the tenant registry
-- (the application). p_on false restores the PostgreSQL default (PUBLIC, and
-- none of those grants). Needs a
-- superuser (the functions belong to pg_catalog). SECURITY INVOKER.
CREATE OR REPLACE FUNCTION catalog_sync.restrict_advisory_locks(p_on boolean)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_fn    regprocedure;
    v_app   name := (SELECT pg_catalog.pg_get_userbyid(c.relowner) FROM pg_catalog.pg_class c
                     WHERE c.oid = 'public.tenants_tenant'::regclass);
    v_count integer := 0;
BEGIN
    -- A non-superuser's GRANT or REVOKE on them only draws a warning: refuse instead.
    IF NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) THEN
        RAISE EXCEPTION 'catalog_sync: restrict_advisory_locks() needs a superuser (the functions belong to pg_catalog)'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    FOR v_fn IN SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
                WHERE p.pronamespace = 'pg_catalog'::regnamespace
                  AND p.proname ~ '^pg_(try_)?advisory_(xact_)?lock(_shared)?$' ORDER BY 1 LOOP
        IF p_on THEN
            EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', v_fn);
            EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO catalog_sync_owner, catalog_sync_installer, %I',
                           v_fn, v_app);
        ELSE
            -- (and the grants the restriction gave, now redundant: DBA trial,
            -- forty-fifth session, left over after protect --off)
            EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO PUBLIC', v_fn);
            EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM catalog_sync_owner, catalog_sync_installer, %I',
                           v_fn, v_app);
        END IF;
        v_count := v_count + 1;
    END LOOP;
    RETURN v_count;
END
$$;
ALTER FUNCTION catalog_sync.restrict_advisory_locks(boolean) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.restrict_advisory_locks(boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.restrict_advisory_locks(boolean) TO catalog_sync_installer;
