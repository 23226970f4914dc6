-- Advisory-lock key for one node of the lock hierarchy:
--   (0, 'tenants', 0)      every tenant          (tenant-row writers of many rows)
--   (T, 'tenant', 0)       one tenant
--   (T, kind, 0)           every parent of a kind in tenant T
--   (T, kind, id)          one parent row (a category, a provider, ...)
-- Hot path, only ever called inside a SECURITY DEFINER sync function (EXECUTE is
-- the owner's alone), so it runs under the caller's pinned search_path and sets
-- none itself: a SET clause costs a GUC save/restore on every call.
-- A plain SQL function, IMMUTABLE and with an IMMUTABLE body, so that
-- PostgreSQL inlines it into the calling expression, and folds it where the
-- arguments are constants: a PL/pgSQL body cost about 10,000 instructions a
-- call (docs/benchmarks.md, Diagnosis, thirty-first session). The key hashes
-- the kind with the id as the seed, then the tenant with that as the seed:
-- two function calls, where hashing the text 'catalog_sync/<kind>/<T>/<id>'
-- took eight (its concatenations and casts; about 14,000 instructions a
-- single-row write, thirty-second session). The id, which a tenant chooses,
-- is a seed because a seed is hashed whole: hashint8extended() folds the
-- value it hashes into 32 bits, so ids 0 and 2^32 + 1 gave one key, and
-- two keys of one lock order that are one lock can deadlock (review,
-- thirty-second session; a test). The tenant id, the application's, is the
-- folded one: ids below 2^32 keep their own keys. Every name in the body is
-- pg_catalog-qualified: inlined, it is parsed under the caller's search_path.
CREATE OR REPLACE FUNCTION catalog_sync.lock_key(p_tenant_id bigint, p_kind text, p_id bigint)
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.hashint8extended(p_tenant_id, pg_catalog.hashtextextended(p_kind, p_id))
$$;
ALTER FUNCTION catalog_sync.lock_key(bigint, text, bigint) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.lock_key(bigint, text, bigint) FROM PUBLIC;
