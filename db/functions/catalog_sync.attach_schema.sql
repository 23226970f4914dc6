-- Attach one tenant schema: attach_schemas() of that one schema (validate,
-- register, grant, install the sync triggers). Idempotent: a second call
-- changes nothing and returns 0 triggers changed. SECURITY INVOKER, for
-- installers (a django-tenants post-schema hook, a DBA): the caller must own
-- the tenant's tables. Does not backfill existing rows; run
-- catalog_sync.backfill_tenant() after.
-- Schema public, django-tenants' public tenant (it holds the registry and
-- the shared apps, no tenant tables), is attached as nothing: a notice, its
-- tenant id and 0.
-- django-tenants sends post_schema_sync for it too, and deletes a tenant
-- whose receiver raised with DROP SCHEMA ... CASCADE: for public, the
-- registry, the catalogs and every shared table (Django trial, forty-sixth
-- session: a hook written as the docs showed it dropped public).
-- catalog_sync.backfill_tenant() of that id does nothing either.
CREATE OR REPLACE FUNCTION catalog_sync.attach_schema(p_schema text)
RETURNS TABLE (tenant_id bigint, triggers_changed integer)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF p_schema = 'public' THEN
        RAISE NOTICE 'catalog_sync: schema public holds the tenant registry (django-tenants'' public tenant), '
                     'not a tenant''s tables: nothing to attach';
        -- (through the definer's hardened read of the registry, never the
        -- caller's own: planning a read of it evaluates its owner's index
        -- predicates as the caller, a superuser, say; red team, forty-sixth
        -- session)
        tenant_id := (SELECT r.tenant_id FROM catalog_sync.schema_registration('public') AS r);
        triggers_changed := 0;
        RETURN NEXT;
        RETURN;
    END IF;
    RETURN QUERY SELECT a.tenant_id, a.triggers_changed FROM catalog_sync.attach_schemas(ARRAY[p_schema]) AS a;
END
$$;
ALTER FUNCTION catalog_sync.attach_schema(text) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.attach_schema(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.attach_schema(text) TO catalog_sync_installer;
