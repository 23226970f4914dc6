-- Second half of a parent row's advisory-lock key (see tenant_lock_space()):
-- a 32-bit hash of the kind with the id as the seed (hashed whole: ids 0 and
-- 2^32 + 1 differ). Two parents of one tenant may share a key. Of one kind,
-- they take turns, and since every caller takes its keys in ascending order
-- (not id order), sharing one cannot deadlock. Of two kinds (a provider's key
-- a service category's), a provider writer's passes (its providers, then
-- their service categories, then skills) are not one ascending order, and
-- two such writers can deadlock (review, forty-fourth session): PostgreSQL
-- cancels one (40P01) and the application retries, for about one pair in
-- 2^32 of a tenant's parents of two kinds, or a pair the tenant chose,
-- which hurts only that tenant. A range of keys per kind closed it for
-- 25,000 instructions a single-row write (1.3 %: the kind's mapping is
-- initialized in every transaction): not kept.
-- Hot path, inlined: see lock_key().
CREATE OR REPLACE FUNCTION catalog_sync.parent_lock_key(p_kind text, p_id bigint)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.hashint8(pg_catalog.hashtextextended(p_kind, p_id))
$$;
ALTER FUNCTION catalog_sync.parent_lock_key(text, bigint) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.parent_lock_key(text, bigint) FROM PUBLIC;
