-- The registered tables (of one tenant, or of all) that the sync can no longer
-- vouch for, decided by name: what the application writes is the contract name
-- in the schema the registry names for the tenant. One row per such table,
-- with why:
--   replaced  the name means another relation than the registered OID
--             (named_relid): a restore from a dump gives every table a new OID
--             and may hand the old ones to unrelated objects; a table rebuilt
--             and swapped in; a view that writes elsewhere (named_relation())
--   dropped   the registered table is gone and nothing took its name
--   moved     the registered table is outside the schema the registry names
--             (the application's registry row changed, or the table was moved)
-- The schema is the registry's (registry_row()): what django-tenants routes
-- the tenant's writes to. The machinery's copy (catalog_sync.tenant) follows
-- it through the registry's update trigger, and lags when that did not fire
-- (disabled meanwhile, or a rewrite of the column: red team, twenty-first
-- session); it is used only where the registry has no row for the tenant.
-- verify (table_replaced / table_missing), audit, status and backfill decide
-- with it, and none of them reads the registered OIDs of these rows, which may
-- now name anything.
-- (An older form returned no why column: dropped, since CREATE OR REPLACE
-- cannot change a function's result type.)
DO $$
BEGIN
    IF pg_catalog.pg_get_function_result(pg_catalog.to_regprocedure('catalog_sync.replaced_tables(bigint)'))
       NOT LIKE '%why text%' THEN
        DROP FUNCTION catalog_sync.replaced_tables(bigint);
    END IF;
END
$$;
CREATE OR REPLACE FUNCTION catalog_sync.replaced_tables(p_tenant_id bigint)
RETURNS TABLE (tenant_id bigint, relid oid, source_table name, schema_name name, named_relid oid, why text)
-- (PL/pgSQL for its plan: see named_relation(). Generic, as the SQL body's
-- was: custom plans would be made on every call.)
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
-- (registry_row() relies on its callers for this, and audit() set none: a
-- policy of the application's on the registry ran as the definer; review,
-- twenty-first session. See registry_rows().)
SET row_security = off
SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
    RETURN QUERY
    SELECT r.tenant_id, r.relid, r.source_table, r.schema_name, r.oid, r.why
    FROM (SELECT a.tenant_id, a.relid, a.source_table, t.schema_name, named.oid,
                 CASE WHEN named.oid IS NOT NULL AND named.oid <> a.relid THEN 'replaced'
                      WHEN reg.nspname IS NULL THEN 'dropped'
                      WHEN reg.nspname <> t.schema_name THEN 'moved' END AS why
          -- one tenant, or all of them: two branches, as one "IS NULL OR ="
          -- condition planned generically scans them all for each tenant
          -- (review, twentieth session); the registry read once per tenant
          -- (OFFSET 0), then the tenant's tables by their index
          FROM (SELECT m.tenant_id, coalesce(app.tenant_schema::name, m.schema_name) AS schema_name
                FROM (SELECT * FROM catalog_sync.tenant AS x WHERE x.tenant_id = p_tenant_id
                      UNION ALL
                      SELECT * FROM catalog_sync.tenant AS x WHERE p_tenant_id IS NULL) AS m
                CROSS JOIN LATERAL catalog_sync.registry_row(m.tenant_id) AS app
                OFFSET 0) AS t
          -- (the tenant's rows by the (tenant_id, source_table) key: joined, the
          -- whole registry of attached tables was hashed for one tenant)
          CROSS JOIN LATERAL (SELECT x.tenant_id, x.relid, x.source_table
                              FROM catalog_sync.attached_table AS x
                              WHERE x.tenant_id = t.tenant_id
                              OFFSET 0) AS a
          -- (OFFSET 0: a subquery of its own, so that named_relation() runs once
          -- per table, not once for each mention of its result above)
          CROSS JOIN LATERAL (SELECT catalog_sync.named_relation(t.schema_name, a.source_table, a.relid) AS oid
                              OFFSET 0) AS named
          -- (OFFSET 0: looked up by the table's OID, one index probe per table;
          -- pulled up into the join, it was planned as a hash of all of
          -- pg_class joined with pg_namespace, 40 ms a tenant at 1,000
          -- schemas, which grew with the number of schemas: fortieth session)
          LEFT JOIN LATERAL (SELECT n.nspname
                             FROM pg_catalog.pg_class AS c
                             JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
                             WHERE c.oid = a.relid
                             OFFSET 0) AS reg ON true) AS r
    WHERE r.why IS NOT NULL;
END
$$;
ALTER FUNCTION catalog_sync.replaced_tables(bigint) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.replaced_tables(bigint) FROM PUBLIC;
