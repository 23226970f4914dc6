-- Whether a numeric column of typmod p_mod may stand where the contract says
-- numeric of typmod p_contract_mod (p_type, the contract's type, numeric):
-- the same scale and at least its precision. The sync reads every numeric
-- as numeric without a typmod, and the projections cast a public row's
-- value to the catalogs' column type (the contract's): nothing is rounded,
-- a private row's value never fails, and a public one too large for the
-- catalog fails its own write (numeric field overflow), where every write
-- of the tenant failed on the contract before. A Django max_digits raised
-- passes (DBA trials, forty-ninth and fiftieth sessions); decimal_places
-- changed (a cast would round), or a numeric without a precision, does not.
-- A plain SQL function, IMMUTABLE, inlined into its callers' expressions:
-- every name in the body is pg_catalog-qualified (inlined, it is parsed under
-- the caller's search_path). A numeric typmod is
-- ((precision << 16) | scale) + 4.
CREATE OR REPLACE FUNCTION catalog_sync.numeric_precision_ok(p_type oid, p_contract_mod integer, p_mod integer)
RETURNS boolean
LANGUAGE sql IMMUTABLE
AS $$
    SELECT p_type OPERATOR(pg_catalog.=) 'pg_catalog.numeric'::pg_catalog.regtype::pg_catalog.oid
           AND p_contract_mod OPERATOR(pg_catalog.>) 4 AND p_mod OPERATOR(pg_catalog.>) 4
           AND ((p_mod OPERATOR(pg_catalog.-) 4) OPERATOR(pg_catalog.&) 65535)
               OPERATOR(pg_catalog.=) ((p_contract_mod OPERATOR(pg_catalog.-) 4) OPERATOR(pg_catalog.&) 65535)
           AND ((p_mod OPERATOR(pg_catalog.-) 4) OPERATOR(pg_catalog.>>) 16)
               OPERATOR(pg_catalog.>=) ((p_contract_mod OPERATOR(pg_catalog.-) 4) OPERATOR(pg_catalog.>>) 16)
$$;
ALTER FUNCTION catalog_sync.numeric_precision_ok(oid, integer, integer) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.numeric_precision_ok(oid, integer, integer) FROM PUBLIC;
