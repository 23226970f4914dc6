-- The relation a contract name means in a tenant's schema now (what the
-- application writes), looked up by name in pg_catalog, nothing parsed; NULL
-- when nothing has the name. A plain view of the registered table does not
-- count: it is how a DBA keeps an old name working after a rename, and its
-- writes reach the registered table, column for column. Plain means: no
-- trigger or rule of its own, one query over the registered table alone (no
-- WHERE, subquery or CTE), and every column the registered table's column of
-- the same name. Any other relation under the name counts (red team,
-- nineteenth session: a view over a copy of the table, a view with an
-- INSTEAD OF trigger, a view that only named the registered table in a
-- subquery, a view that swapped two columns' names; the application's
-- writes went elsewhere, and verify, audit and status stayed clean).
-- The view's query is read from its stored query tree (pg_rewrite.ev_action,
-- as text: nothing of the view is deparsed or run, so none of its code runs
-- as the definer); a tree of another shape than PostgreSQL 15's counts as
-- another relation (verify reports table_replaced: a false alarm, never a
-- missed one).
-- replaced_tables() decides "replaced" with it, for verify, audit, status and
-- backfill.
CREATE OR REPLACE FUNCTION catalog_sync.named_relation(p_schema name, p_table name, p_registered oid)
RETURNS oid
-- PL/pgSQL for its plan: a SQL function with a SET clause is never inlined,
-- and PostgreSQL 15 plans its body again in every statement calling it.
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (
    SELECT c.oid
    FROM pg_catalog.pg_class AS c
    JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace
    WHERE n.nspname = p_schema AND c.relname = p_table
      AND NOT (c.relkind = 'v'
               AND NOT EXISTS (SELECT FROM pg_catalog.pg_trigger AS tg WHERE tg.tgrelid = c.oid)
               AND NOT EXISTS (SELECT FROM pg_catalog.pg_rewrite AS rw
                               WHERE rw.ev_class = c.oid AND rw.rulename <> '_RETURN')
               AND EXISTS (
                   SELECT FROM pg_catalog.pg_rewrite AS rw
                   CROSS JOIN LATERAL (SELECT rw.ev_action::text AS q) AS t
                   WHERE rw.ev_class = c.oid AND rw.rulename = '_RETURN'
                     AND t.q LIKE '({QUERY %' AND t.q NOT LIKE '%{QUERY%{QUERY%'
                     AND t.q LIKE '%:hasSubLinks false %' AND t.q LIKE '%:cteList <> %'
                     AND t.q ~ E':jointree \\{FROMEXPR :fromlist \\(\\{RANGETBLREF :rtindex [0-9]+\\}\\) :quals <>\\}'
                     -- every relation it names: the view itself (its OLD and NEW) or the registered table
                     AND NOT EXISTS (SELECT FROM pg_catalog.regexp_matches(t.q, ':relid ([0-9]+)', 'g') AS m (r)
                                     WHERE m.r[1]::oid NOT IN (c.oid, p_registered))
                     -- every column a column of the registered table, under its own name
                     AND (SELECT count(*) FROM pg_catalog.regexp_matches(t.q, E'\\{TARGETENTRY ', 'g'))
                         = (SELECT count(*)
                            FROM pg_catalog.regexp_matches(t.q,
                                     E'\\{TARGETENTRY :expr \\{VAR [^{}]*\\} :resno ([0-9]+) :resname [^ ]+ '
                                     || E':ressortgroupref 0 :resorigtbl ([0-9]+) :resorigcol ([0-9]+) :resjunk false\\}',
                                     'g') AS m (v)
                            -- the view's column as it is named now (ALTER VIEW ... RENAME COLUMN
                            -- leaves the old name in the stored query: second re-test)
                            JOIN pg_catalog.pg_attribute AS va
                              ON va.attrelid = c.oid AND va.attnum = m.v[1]::int2 AND NOT va.attisdropped
                            JOIN pg_catalog.pg_attribute AS a
                              ON a.attrelid = p_registered AND a.attnum = m.v[3]::int2 AND NOT a.attisdropped
                            WHERE m.v[2]::oid = p_registered AND a.attname = va.attname)))
    );
END
$$;
ALTER FUNCTION catalog_sync.named_relation(name, name, oid) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.named_relation(name, name, oid) FROM PUBLIC;
