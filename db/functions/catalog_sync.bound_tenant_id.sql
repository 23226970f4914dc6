-- The tenant id a sync trigger's first argument binds: the canonical text of
-- an id from 0 to 10^18 - 1, as attach writes it; NULL for anything else.
-- guard() refuses a trigger whose argument binds none, and audit() reports
-- it: one rule in one place, so that the two cannot read a binding apart
-- again (they had: review, thirty-second session).
-- A plain SQL function, IMMUTABLE, inlined into its callers' expressions:
-- every name in the body is pg_catalog-qualified (inlined, it is parsed under
-- the caller's search_path).
CREATE OR REPLACE FUNCTION catalog_sync.bound_tenant_id(p_arg text)
RETURNS bigint
LANGUAGE sql IMMUTABLE
AS $$
    SELECT CASE WHEN p_arg OPERATOR(pg_catalog.~) '^(0|[1-9][0-9]{0,17})$' THEN p_arg::pg_catalog.int8 END
$$;
ALTER FUNCTION catalog_sync.bound_tenant_id(text) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.bound_tenant_id(text) FROM PUBLIC;
