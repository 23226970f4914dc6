-- What keeps a relation from being a contract table that the sync may read:
-- it must be a plain table (relkind 'r', not a partition, no inheritance parent
-- or child, not typed), a job, provider or service table must keep its unique
-- index on uuid, and every contract column must exist with exactly the contract's
-- built-in type (any typmod where it names none; text or character varying
-- where it says either; a numeric of a larger precision and the same scale:
-- numeric_precision_ok()) and the default collation. Returns one line per problem; none
-- means the relation matches. Reads only pg_catalog. (PL/pgSQL: a SQL
-- function with a SET clause is planned again on every call.)
CREATE OR REPLACE FUNCTION catalog_sync.contract_problems(p_relid oid, p_source_table name)
RETURNS SETOF text
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- The common case first: the fast check accepts only what the queries
    -- below find nothing wrong with (attach checks thousands of tables).
    IF catalog_sync.contract_matches(ARRAY[p_relid], ARRAY[p_source_table]) THEN
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT FROM catalog_sync.contract_column cc WHERE cc.source_table = p_source_table) THEN
        RETURN NEXT 'the contract has no table ' || coalesce(pg_catalog.quote_literal(p_source_table), 'NULL');
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.oid = p_relid) THEN
        RETURN NEXT 'relation ' || p_relid::text || ' does not exist (dropped)';   -- and no column to list
        RETURN;
    END IF;
    RETURN QUERY
    SELECT 'relation ' || p_relid::pg_catalog.regclass::text || ' is not a plain table (relkind '
           || c.relkind::text || CASE WHEN c.relispartition THEN ', partition' ELSE '' END || ')'
    FROM pg_catalog.pg_class c
    WHERE c.oid = p_relid AND (c.relkind <> 'r' OR c.relispartition)
    UNION ALL
    SELECT 'relation ' || p_relid::pg_catalog.regclass::text || ' is a typed table (OF '
           || c.reloftype::pg_catalog.regtype::text || '): ALTER TABLE ... NOT OF'
    FROM pg_catalog.pg_class c
    WHERE c.oid = p_relid AND c.reloftype <> 0
    UNION ALL
    SELECT 'relation ' || p_relid::pg_catalog.regclass::text || ' takes part in table inheritance'
    WHERE EXISTS (SELECT FROM pg_catalog.pg_inherits i WHERE i.inhrelid = p_relid OR i.inhparent = p_relid)
    UNION ALL
    SELECT CASE
               WHEN a.attname IS NULL THEN 'column ' || cc.column_name || ' is missing'
               ELSE 'column ' || cc.column_name || ' is ' || pg_catalog.format_type(a.atttypid, a.atttypmod)
                    || CASE WHEN a.attcollation NOT IN (0, 100) THEN ' with a non-default collation' ELSE '' END
                    || ', the contract says ' || cc.type_name
                    || CASE WHEN cc.type_oid = 'pg_catalog.text'::pg_catalog.regtype
                                 THEN ' or character varying (any length)'
                            WHEN cc.type_oid = 'pg_catalog.varchar'::pg_catalog.regtype
                                 THEN ' or text (any length)'
                            WHEN cc.type_oid = 'pg_catalog.numeric'::pg_catalog.regtype AND cc.type_mod > 4
                                 THEN ' (or a larger precision, the same scale)'
                            WHEN cc.type_mod <> -1 OR t.typmodin = 0 THEN ''
                            ELSE ' (any precision)' END
           END
    FROM catalog_sync.contract_column cc
    JOIN pg_catalog.pg_type t ON t.oid = cc.type_oid
    LEFT JOIN pg_catalog.pg_attribute a
           ON a.attrelid = p_relid AND a.attname = cc.column_name AND a.attnum > 0 AND NOT a.attisdropped
    WHERE cc.source_table = p_source_table
      AND (a.attname IS NULL
           OR a.atttypid >= 16384                      -- not a built-in type
           OR a.attcollation NOT IN (0, 100)           -- only the database default collation
           -- (a contract type without a typmod accepts any; text and
           -- character varying each accept the other)
           OR pg_catalog.format_type(a.atttypid, CASE WHEN cc.type_mod = -1 THEN -1 ELSE a.atttypmod END)
              <> cc.type_name
              AND NOT (cc.type_oid IN ('pg_catalog.text'::pg_catalog.regtype, 'pg_catalog.varchar'::pg_catalog.regtype)
                       AND cc.type_mod = -1
                       AND a.atttypid IN ('pg_catalog.text'::pg_catalog.regtype, 'pg_catalog.varchar'::pg_catalog.regtype))
              -- (a numeric of a larger precision and the same scale)
              AND NOT (a.atttypid = cc.type_oid AND catalog_sync.numeric_precision_ok(cc.type_oid, cc.type_mod,
                                                                                     a.atttypmod)))
    UNION ALL
    SELECT 'relation ' || p_relid::pg_catalog.regclass::text || ' has no unique constraint on uuid alone (the '
           || 'contract''s ' || p_source_table || '_uuid_key: immediate, valid, not partial; a unique index on uuid '
           || 'without its constraint does not count); the catalog''s key relies on it'
    WHERE p_source_table IN ('ats_jobposting', 'services_serviceprovider', 'services_service')
      AND NOT EXISTS (SELECT FROM pg_catalog.pg_index i
                      JOIN pg_catalog.pg_attribute a ON a.attrelid = p_relid AND a.attname = 'uuid'
                      WHERE i.indrelid = p_relid AND i.indisunique AND i.indimmediate AND i.indisvalid
                        AND i.indpred IS NULL AND i.indnkeyatts = 1 AND i.indkey[0] = a.attnum
                        AND EXISTS (SELECT FROM pg_catalog.pg_constraint k
                                    WHERE k.conrelid = p_relid AND k.conindid = i.indexrelid
                                      AND k.contype IN ('u', 'p')))
    UNION ALL
    SELECT 'an index, constraint or statistics object of ' || p_relid::pg_catalog.regclass::text
           || ' uses ' || pg_catalog.pg_describe_object(d.refclassid, d.refobjid, 0) || ', which is not built in'
    FROM (SELECT 'pg_catalog.pg_class'::regclass AS classid, i.indexrelid AS objid
          FROM pg_catalog.pg_index i WHERE i.indrelid = p_relid
          UNION ALL
          SELECT 'pg_catalog.pg_constraint'::regclass, k.oid FROM pg_catalog.pg_constraint k WHERE k.conrelid = p_relid
          UNION ALL
          SELECT 'pg_catalog.pg_statistic_ext'::regclass, x.oid
          FROM pg_catalog.pg_statistic_ext x WHERE x.stxrelid = p_relid) AS o
    JOIN pg_catalog.pg_depend d ON d.classid = o.classid AND d.objid = o.objid
    WHERE d.refobjid >= 16384
      AND d.refclassid IN ('pg_catalog.pg_proc'::regclass, 'pg_catalog.pg_operator'::regclass,
                           'pg_catalog.pg_type'::regclass, 'pg_catalog.pg_collation'::regclass,
                           'pg_catalog.pg_opclass'::regclass, 'pg_catalog.pg_opfamily'::regclass);
END
$$;
ALTER FUNCTION catalog_sync.contract_problems(oid, name) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.contract_problems(oid, name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync.contract_problems(oid, name) TO catalog_sync_installer;
