-- Advisory-lock key for the fixed nodes of the lock hierarchy:
--   (0, 'tenants', 0)      every tenant          (tenant-row writers of many rows)
--   (T, 'tenant', 0)       one tenant
--   (T, kind, 0)           every parent of a kind in tenant T
--   (T, 'attach', 0)       attaches of tenant T
-- Never called with an id a tenant chooses: a parent row's key (a category, a
-- provider, ...) is (tenant_lock_space(T), parent_lock_key(kind, id)), in
-- another key space, where it cannot be one of these (red team, forty-fourth
-- session: this hash can be run backwards).
-- Hot path, only ever called inside a SECURITY DEFINER sync function (EXECUTE is
-- the owner's alone), so it runs under the caller's pinned search_path and sets
-- none itself: a SET clause costs a GUC save/restore on every call.
-- A plain SQL function, IMMUTABLE and with an IMMUTABLE body, so that
-- PostgreSQL inlines it into the calling expression, and folds it where the
-- arguments are constants: a PL/pgSQL body cost about 10,000 instructions a
-- call (docs/benchmarks-log.md, Diagnosis, thirty-first session). The key hashes
-- the kind with the id as the seed, then the tenant with that as the seed:
-- two function calls, where hashing the text 'catalog_sync/<kind>/<T>/<id>'
-- took eight (its concatenations and casts; about 14,000 instructions a
-- single-row write, thirty-second session). Tenant ids below 2^32 keep their
-- own keys. Every name in the body is pg_catalog-qualified: inlined, it is
-- parsed under the caller's search_path.
CREATE OR REPLACE FUNCTION catalog_sync.lock_key(p_tenant_id bigint, p_kind text, p_id bigint)
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.hashint8extended(p_tenant_id, pg_catalog.hashtextextended(p_kind, p_id))
$$;
ALTER FUNCTION catalog_sync.lock_key(bigint, text, bigint) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.lock_key(bigint, text, bigint) FROM PUBLIC;
