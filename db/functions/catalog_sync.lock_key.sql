-- Advisory-lock key for one node of the lock hierarchy:
--   (0, 'tenants', 0)      every tenant          (tenant-row writers of many rows)
--   (T, 'tenant', 0)       one tenant
--   (T, kind, 0)           every parent of a kind in tenant T
--   (T, kind, id)          one parent row (a category, a provider, ...)
-- Hot path, only ever called inside a SECURITY DEFINER sync function (EXECUTE is
-- the owner's alone), so it runs under the caller's pinned search_path and sets
-- none itself: a SET clause costs a GUC save/restore on every call.
-- A plain SQL function, IMMUTABLE and with an IMMUTABLE body (hence the
-- explicit ::text casts: text || bigint is STABLE textanycat), so that
-- PostgreSQL inlines it into the calling expression, and folds it where the
-- arguments are constants: a PL/pgSQL body cost about 10,000 instructions a
-- call (docs/benchmarks.md, Diagnosis, thirty-first session). Every name in
-- the body is pg_catalog-qualified: inlined, it is parsed under the caller's
-- search_path.
CREATE OR REPLACE FUNCTION catalog_sync.lock_key(p_tenant_id bigint, p_kind text, p_id bigint)
RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.hashtextextended('catalog_sync/' OPERATOR(pg_catalog.||) p_kind
                                       OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) p_tenant_id::pg_catalog.text
                                       OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) p_id::pg_catalog.text, 0)
$$;
ALTER FUNCTION catalog_sync.lock_key(bigint, text, bigint) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.lock_key(bigint, text, bigint) FROM PUBLIC;
