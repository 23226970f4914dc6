-- The rows of a trigger's own table (p_relid, registered as p_source_table)
-- that now hold one of p_left, the uuids that left the statement's rows
-- (deleted, or changed), other than the statement's rows (p_ids): with their
-- parents (jobs: category; services: provider, category).
-- One statement can change a table in two parts (a writable CTE); their
-- statement triggers fire after all of its changes, in the order the parts
-- finish, and a tenant's row trigger can move a uuid with a statement of its
-- own. When one part's rows leave a uuid and another's row takes it, the
-- trigger that fires last would otherwise delete the key the other had just
-- written (review, sixteenth session). The caller projects these rows too,
-- after locking their parents: the key is then written from the row that
-- holds it, or deleted if that row is not public. (A first fix that only
-- kept such keys let a tenant without the unique constraint keep its own
-- private rows public through a second holder; reverted.)
-- Called only when a uuid left a row. The caller has checked the table's
-- contract and the firing statement holds its lock; static SQL naming the
-- table through a search_path of pg_catalog, the tenant's schema, pg_temp
-- (as the readers do), used only when the name means p_relid, else a
-- dynamic read by OID. Planned with lock_timeout = 1ms (see job_sources()).
-- The static read folds the table's contract check into its own plan
-- (contract_holds()), as every static read does: the caller's check came
-- earlier, and a statistics object over the tenant's code committed in
-- between would otherwise be folded by this read's planner, as the definer
-- (red team, twenty-seventh session; docs/security.md, "The check-then-read
-- race, and the window that remains").
-- Hot path helper, only ever called inside a SECURITY DEFINER sync function.
CREATE OR REPLACE FUNCTION catalog_sync.uuid_holders(
    p_relid        oid,
    p_source_table name,
    p_left         uuid[],
    p_ids          bigint[],
    OUT ids        bigint[],
    OUT parents    bigint[],
    OUT parents2   bigint[]
)
LANGUAGE plpgsql VOLATILE   -- it changes the search_path for one query
SET search_path = pg_catalog, pg_temp
-- Planned once per session, and again after each move to another tenant
-- (the search_path names its schema): a custom plan (the plan cache's
-- choice for the first calls, and whenever it looks cheaper) is planned
-- again on every call.
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_name   text := catalog_sync.qualified_name(p_relid);   -- (a variable: schema_naming() is inlined)
    v_schema text := catalog_sync.schema_naming(v_name, p_source_table);
    v_read   oid;
    v_lock_timeout text := pg_catalog.current_setting('lock_timeout');
BEGIN
    IF coalesce(pg_catalog.cardinality(p_left), 0) = 0 THEN
        RETURN;
    END IF;
    PERFORM pg_catalog.set_config('lock_timeout', '1ms', true);
    -- A few uuids and ids (a single-row delete): the static read, planned
    -- once. More: the dynamic read, with both arrays as constants, which
    -- PostgreSQL searches through a hash table; a parameter array is
    -- searched element by element for every row (quadratic in a statement
    -- that swaps uuids among many of its rows).
    IF v_schema IS NOT NULL AND pg_catalog.cardinality(p_left) <= 100
       AND coalesce(pg_catalog.cardinality(p_ids), 0) <= 100 THEN
        -- Undone when the function returns (its SET clause).
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, ' || v_schema || ', pg_temp', true);
        IF p_source_table = 'ats_jobposting' THEN
            WITH contract AS MATERIALIZED (
                SELECT catalog_sync.contract_holds('ats_jobposting'::pg_catalog.regclass, 'ats_jobposting') AS holds
            )
            SELECT 'ats_jobposting'::pg_catalog.regclass::pg_catalog.oid, h.ids, h.parents
            INTO v_read, ids, parents
            FROM contract, (SELECT pg_catalog.array_agg(s.id) AS ids,
                         pg_catalog.array_agg(DISTINCT s.category_id) FILTER (WHERE s.category_id IS NOT NULL) AS parents
                  FROM ONLY ats_jobposting AS s
                  WHERE s.uuid OPERATOR(pg_catalog.=) ANY (p_left)
                    AND NOT EXISTS (SELECT FROM pg_catalog.unnest(p_ids) AS k (id)
                                    WHERE k.id OPERATOR(pg_catalog.=) s.id)) AS h
            WHERE contract.holds;
        ELSIF p_source_table = 'services_serviceprovider' THEN
            WITH contract AS MATERIALIZED (
                SELECT catalog_sync.contract_holds('services_serviceprovider'::pg_catalog.regclass, 'services_serviceprovider') AS holds
            )
            SELECT 'services_serviceprovider'::pg_catalog.regclass::pg_catalog.oid, h.ids
            INTO v_read, ids
            FROM contract, (SELECT pg_catalog.array_agg(s.id) AS ids
                  FROM ONLY services_serviceprovider AS s
                  WHERE s.uuid OPERATOR(pg_catalog.=) ANY (p_left)
                    AND NOT EXISTS (SELECT FROM pg_catalog.unnest(p_ids) AS k (id)
                                    WHERE k.id OPERATOR(pg_catalog.=) s.id)) AS h
            WHERE contract.holds;
        ELSIF p_source_table = 'services_service' THEN
            WITH contract AS MATERIALIZED (
                SELECT catalog_sync.contract_holds('services_service'::pg_catalog.regclass, 'services_service') AS holds
            )
            SELECT 'services_service'::pg_catalog.regclass::pg_catalog.oid, h.ids, h.parents, h.parents2
            INTO v_read, ids, parents, parents2
            FROM contract, (SELECT pg_catalog.array_agg(s.id) AS ids,
                         pg_catalog.array_agg(DISTINCT s.provider_id) FILTER (WHERE s.provider_id IS NOT NULL) AS parents,
                         pg_catalog.array_agg(DISTINCT s.category_id) FILTER (WHERE s.category_id IS NOT NULL) AS parents2
                  FROM ONLY services_service AS s
                  WHERE s.uuid OPERATOR(pg_catalog.=) ANY (p_left)
                    AND NOT EXISTS (SELECT FROM pg_catalog.unnest(p_ids) AS k (id)
                                    WHERE k.id OPERATOR(pg_catalog.=) s.id)) AS h
            WHERE contract.holds;
        END IF;
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    END IF;
    IF v_read IS DISTINCT FROM p_relid THEN
        ids := NULL; parents := NULL; parents2 := NULL;
        EXECUTE format('WITH %s SELECT array_agg(s.id), %s, %s FROM ONLY %s AS s '
                       'WHERE (SELECT contract.holds FROM contract) AND s.uuid = ANY (%L::uuid[]) AND NOT (s.id = ANY (%L::bigint[]))',
                       catalog_sync.folded_check(ARRAY[p_relid], ARRAY[p_source_table]),
                       CASE p_source_table WHEN 'ats_jobposting'
                            THEN 'array_agg(DISTINCT s.category_id) FILTER (WHERE s.category_id IS NOT NULL)'
                            WHEN 'services_service'
                            THEN 'array_agg(DISTINCT s.provider_id) FILTER (WHERE s.provider_id IS NOT NULL)'
                            ELSE 'NULL::bigint[]' END,
                       CASE p_source_table WHEN 'services_service'
                            THEN 'array_agg(DISTINCT s.category_id) FILTER (WHERE s.category_id IS NOT NULL)'
                            ELSE 'NULL::bigint[]' END,
                       p_relid::pg_catalog.regclass, p_left, coalesce(p_ids, '{}'))
            INTO ids, parents, parents2;
    END IF;
    PERFORM pg_catalog.set_config('lock_timeout', v_lock_timeout, true);
END
$$;
ALTER FUNCTION catalog_sync.uuid_holders(oid, name, uuid[], bigint[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.uuid_holders(oid, name, uuid[], bigint[]) FROM PUBLIC;
