-- Second half of a parent row's advisory-lock key (see tenant_lock_space()):
-- the kind hashed with the id as the seed (hashed whole: ids 0 and 2^32 + 1
-- differ), folded to 32 bits. Two parents of one tenant may share a key: they
-- then take turns, and since every caller takes a statement's parent keys in
-- ascending key order (not id order), sharing one cannot deadlock.
-- Hot path, inlined: see lock_key().
CREATE OR REPLACE FUNCTION catalog_sync.parent_lock_key(p_kind text, p_id bigint)
RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.hashint8(pg_catalog.hashtextextended(p_kind, p_id))
$$;
ALTER FUNCTION catalog_sync.parent_lock_key(text, bigint) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.parent_lock_key(text, bigint) FROM PUBLIC;
