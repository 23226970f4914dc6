-- Which of p_doomed (catalog keys an apply call is about to delete: the
-- projection of its scope no longer yields them) a row of the tenant's
-- p_source_table outside that scope now holds. All of a statement's changes
-- are done before any of its statement triggers fires, but a statement can
-- change one table in two parts (a writable CTE) whose triggers fire in
-- either order: one part deletes a row, the other gives its uuid to another
-- row. Whichever trigger projects that other row publishes the key; the
-- trigger of the deleted row, firing after it, must not delete it (review,
-- sixteenth session: it did, and the row was missing from the catalog).
-- Scopes: 'ids' (rows by id), 'providers' (services by provider id); other
-- filters have no delete candidates outside 'all', whose scope is everything.
-- Called only when there is a candidate (rows deleted, made private, given
-- another uuid). Read as the readers do (see job_sources()): static SQL
-- naming the table through a search_path of pg_catalog, the tenant's schema,
-- pg_temp, its contract check folded into the cached plan, which also
-- returns the OID it read (used only when that is the registered table);
-- otherwise an explicit check, then a dynamic read by the registered OID.
CREATE OR REPLACE FUNCTION catalog_sync.held_keys(
    p_tenant_id    bigint,
    p_source_table name,
    p_filter       text,
    p_keys         bigint[],
    p_doomed       uuid[]
)
RETURNS uuid[]
LANGUAGE plpgsql VOLATILE   -- it takes locks
SET search_path = pg_catalog, pg_temp
SET row_security = off
AS $$
DECLARE
    v_relid  oid := catalog_sync.source_relid(p_tenant_id, p_source_table);
    v_scope  name := CASE WHEN p_filter = 'ids' THEN 'id'
                          WHEN p_filter = 'providers' AND p_source_table = 'services_service' THEN 'provider_id' END;
    v_held   uuid[];
    v_read   oid;
    v_schema text;
    v_lock_timeout text;
BEGIN
    IF v_relid IS NULL OR v_scope IS NULL OR coalesce(cardinality(p_doomed), 0) = 0 THEN
        RETURN NULL;
    END IF;
    -- Fail closed rather than wait while planning (see job_sources()).
    v_lock_timeout := pg_catalog.current_setting('lock_timeout');
    PERFORM pg_catalog.set_config('lock_timeout', '1ms', true);
    v_schema := catalog_sync.schema_naming(catalog_sync.qualified_name(v_relid), p_source_table);
    IF v_schema IS NOT NULL THEN
        -- Undone when the function returns (its SET clause).
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, ' || v_schema || ', pg_temp', true);
        IF p_source_table = 'ats_jobposting' THEN
            WITH contract AS MATERIALIZED (
                SELECT catalog_sync.contract_holds('ats_jobposting'::pg_catalog.regclass, 'ats_jobposting') AS holds,
                       'ats_jobposting'::pg_catalog.regclass::pg_catalog.oid AS relid)
            SELECT contract.relid,
                   (SELECT pg_catalog.array_agg(s.uuid) FROM ONLY ats_jobposting AS s
                    WHERE s.uuid OPERATOR(pg_catalog.=) ANY (p_doomed)
                      AND (s.id OPERATOR(pg_catalog.=) ANY (p_keys)) IS NOT TRUE)
            INTO v_read, v_held
            FROM contract WHERE contract.holds;
        ELSIF p_source_table = 'services_serviceprovider' THEN
            WITH contract AS MATERIALIZED (
                SELECT catalog_sync.contract_holds('services_serviceprovider'::pg_catalog.regclass,
                                                   'services_serviceprovider') AS holds,
                       'services_serviceprovider'::pg_catalog.regclass::pg_catalog.oid AS relid)
            SELECT contract.relid,
                   (SELECT pg_catalog.array_agg(s.uuid) FROM ONLY services_serviceprovider AS s
                    WHERE s.uuid OPERATOR(pg_catalog.=) ANY (p_doomed)
                      AND (s.id OPERATOR(pg_catalog.=) ANY (p_keys)) IS NOT TRUE)
            INTO v_read, v_held
            FROM contract WHERE contract.holds;
        ELSIF p_source_table = 'services_service' THEN
            WITH contract AS MATERIALIZED (
                SELECT catalog_sync.contract_holds('services_service'::pg_catalog.regclass, 'services_service') AS holds,
                       'services_service'::pg_catalog.regclass::pg_catalog.oid AS relid)
            SELECT contract.relid,
                   (SELECT pg_catalog.array_agg(s.uuid) FROM ONLY services_service AS s
                    WHERE s.uuid OPERATOR(pg_catalog.=) ANY (p_doomed)
                      AND (CASE WHEN v_scope = 'id' THEN s.id ELSE s.provider_id END
                           OPERATOR(pg_catalog.=) ANY (p_keys)) IS NOT TRUE)
            INTO v_read, v_held
            FROM contract WHERE contract.holds;
        END IF;
        PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
        IF v_read = v_relid THEN
            PERFORM pg_catalog.set_config('lock_timeout', v_lock_timeout, true);
            RETURN v_held;
        END IF;
    END IF;
    PERFORM catalog_sync.assert_contracts(ARRAY[v_relid], ARRAY[p_source_table]);
    EXECUTE format('SELECT array_agg(s.uuid) FROM ONLY %s AS s WHERE s.uuid = ANY ($1) AND (s.%I = ANY ($2)) IS NOT TRUE',
                   v_relid::regclass, v_scope)
        INTO v_held USING p_doomed, p_keys;
    PERFORM pg_catalog.set_config('lock_timeout', v_lock_timeout, true);
    RETURN v_held;
END
$$;
ALTER FUNCTION catalog_sync.held_keys(bigint, name, text, bigint[], uuid[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.held_keys(bigint, name, text, bigint[], uuid[]) FROM PUBLIC;
