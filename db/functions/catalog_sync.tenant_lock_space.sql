-- First half of a parent row's advisory-lock key: the tenant's own key space.
-- A parent row's lock (a category, a provider, ...) is taken as
-- pg_advisory_xact_lock(tenant_lock_space(T), parent_lock_key(kind, id)): the
-- (integer, integer) form, whose lock tag PostgreSQL keeps apart from every
-- bigint key (pg_locks.objsubid 2, not 1). The id is the tenant's to choose,
-- and lock_key()'s hash can be run backwards: as a bigint key, a tenant found
-- ids whose keys were the global 'tenants' key, another tenant's key and the
-- tool's run locks, and holding one in an open transaction stalled every
-- tenant (red team, forty-fourth session). In its own space, with its own
-- tenant id as the first half, a key a tenant chooses can only be one of its
-- own: the id's low 32 bits (a cast to bit(32) keeps those), exact for
-- tenant ids from 0 to 2^32 - 1 (django-tenants' count from 1; audit flags
-- one outside them); pg_locks shows it as classid, the tenant id itself.
-- Hot path, inlined: see lock_key().
CREATE OR REPLACE FUNCTION catalog_sync.tenant_lock_space(p_tenant_id bigint)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT p_tenant_id::bit(32)::integer
$$;
ALTER FUNCTION catalog_sync.tenant_lock_space(bigint) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.tenant_lock_space(bigint) FROM PUBLIC;
