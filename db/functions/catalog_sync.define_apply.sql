-- Writes the catalog "apply" function of one catalog: make the tenant's rows
-- of p_catalog match the projection p_projection for the selected sources, in
-- one statement: delete candidate rows the projection no longer yields, insert
-- new rows, update rows whose shown columns differ, leave equal rows untouched
-- (no dead tuple, synced_at kept). Delete candidates: rows whose key is in
-- p_delete_keys, rows whose p_scope_column is in p_delete_scope (services of a
-- provider), or every row of the tenant (p_delete_all).
--
-- Two statements (three forms). With p_delete_all (backfill, repair, a tenant's change):
-- an INSERT ... ON CONFLICT DO UPDATE with the DELETE in a CTE, which counts
-- what it removed, inserted and updated. Otherwise (the triggers' changes, a
-- parent's change), where p_merge: one MERGE. It reads the inlined
-- projection once (the upsert needs its rows twice, so stores them all in a
-- CTE first) and updates a matched row without locking it first (one WAL
-- record less per row): a 100,000-row UPDATE 0.3 to 0.5 s faster
-- (docs/benchmarks-log.md, Diagnosis, twenty-ninth session). For one source row
-- of an UPDATE (one id, no scope, p_reuse: a single-row UPDATE), the
-- single-row form below: the projected row, then an UPDATE of its key, or
-- an INSERT where its key has no row.
--
-- The MERGE's join with the catalog is the planner's choice, as any join: a
-- primary-key probe per source row where the projection is estimated at few
-- rows against the catalog (jobs, services: inlined, their filters counted;
-- a test checks the plans), a scan of the catalog where not. So
-- project_providers() (PL/pgSQL, estimated at 1,000 rows) keeps the upsert,
-- whose conflict check always probes the key. MERGE returns no rows before
-- PostgreSQL 17: that form counts nothing, its OUT values are NULL (no
-- caller uses them on that path). Its INSERT cannot meet a row another
-- transaction inserted meanwhile: every writer that inserts into a tenant's
-- catalog holds that tenant's sync lock (shared by a source write, exclusive
-- by a backfill, repair or tenant change), and writers of one row are
-- ordered by the source row's lock, the uuid's unique key or a parent's lock
-- (docs/architecture.md, "Locks"). Were one to, the write would fail with a
-- unique violation, never overwrite.
--
-- Generated once at install, from the catalog's own columns, so that the
-- generated function is static SQL whose plan PL/pgSQL caches per session, and
-- the long column lists are written in one place only. The caller holds the
-- locks. Signature of the result:
--   p_function(p_tenant_id bigint, p_filter text, p_keys bigint[], p_masks integer[],
--              p_reuse boolean, p_delete_keys uuid[], p_delete_scope uuid[],
--              p_delete_all boolean, OUT removed bigint, OUT inserted bigint, OUT updated bigint)
-- (its form before the twenty-ninth session, which a development database may hold)
DROP FUNCTION IF EXISTS catalog_sync.define_apply(name, regclass, name, name, name);
CREATE OR REPLACE FUNCTION catalog_sync.define_apply(
    p_function     name,
    p_catalog      regclass,
    p_key_column   name,
    p_projection   name,
    p_scope_column name,
    p_merge        boolean
)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_cols    text[] := catalog_sync.synced_columns(p_catalog);
    v_set     text[];
    v_list    text;
    v_plist   text;
    v_setl    text;
    v_exl     text;
    v_catl    text;
    v_exc     text;             -- the compared values (compared_columns()), of EXCLUDED and cat
    v_catc    text;
    v_srcc    text;             -- the compared values of the MERGE's source row s
    v_sset    text;
    v_sall    text;
    v_vset    text;             -- the same lists, of the single-row form's v_row
    v_vall    text;
    v_image   text;             -- the single-row form's catalog row as the projection shows it
    v_one     text;
    v_statement text;
    v_merge   text;
    v_candidates text;
    v_sig     text := 'bigint, text, bigint[], integer[], boolean, uuid[], uuid[], boolean';
BEGIN
    v_set := array_remove(array_remove(v_cols, 'tenant_id'), p_key_column::text);
    SELECT string_agg(format('%I', c), ', '), string_agg(format('p.%I', c), ', ') INTO v_list, v_plist
    FROM unnest(v_cols) AS c;
    SELECT string_agg(format('%I', c), ', '), string_agg(format('EXCLUDED.%I', c), ', '),
           string_agg(format('cat.%I', c), ', ')
    INTO v_setl, v_exl, v_catl
    FROM unnest(v_set) AS c;
    SELECT string_agg(format(cc.compared, 'EXCLUDED'), ', '), string_agg(format(cc.compared, 'cat'), ', '),
           string_agg(format(cc.compared, 's'), ', ')
    INTO v_exc, v_catc, v_srcc
    FROM catalog_sync.compared_columns(p_catalog) AS cc
    WHERE cc.column_name = ANY (v_set);
    SELECT string_agg(format('s.%I', c), ', '), string_agg(format('v_row.%I', c), ', ') INTO v_sset, v_vset
    FROM unnest(v_set) AS c;
    SELECT string_agg(format('s.%I', c), ', '), string_agg(format('v_row.%I', c), ', ') INTO v_sall, v_vall
    FROM unnest(v_cols) AS c;
    -- The catalog row as a projected row shows it, every column in order: the
    -- synced ones from the catalog row, the others (the public side's
    -- counters, synced_at, generated ones) NULL, as every projection returns
    -- them.
    SELECT string_agg(CASE WHEN a.attname::text = ANY (v_cols) THEN format('cat.%I', a.attname)
                           ELSE format('NULL::%s', format_type(a.atttypid, a.atttypmod)) END,
                      ', ' ORDER BY a.attnum)
    INTO v_image
    FROM pg_attribute AS a
    WHERE a.attrelid = p_catalog AND a.attnum > 0 AND NOT a.attisdropped;

    -- The delete candidates other than "every row of the tenant", each key once
    -- (UNION: a MERGE's target row may be changed by one source row only): the
    -- keys in p_delete_keys, and the rows whose scope column is in
    -- p_delete_scope (a catalog without a scope column compares its key with
    -- an empty scope).
    v_candidates := format('SELECT k FROM pg_catalog.unnest(p_delete_keys) AS k
                 UNION
                 SELECT c.%1$I FROM %2$s AS c WHERE c.tenant_id = p_tenant_id AND c.%3$I = ANY (p_delete_scope)',
        p_key_column, p_catalog, coalesce(p_scope_column, p_key_column));

    -- The one statement, with %%1$s standing for the candidate keys to delete.
    v_statement := format($stmt$    WITH p AS (
        SELECT * FROM catalog_sync.%3$I(p_tenant_id, p_filter, p_keys, p_masks, p_reuse)
    ),
    -- The keys to delete are computed with EXCEPT (hashed or sorted, never a
    -- nested loop), so a generic plan stays linear for a 100k-row statement.
    doomed (k) AS (
        %%1$s
        EXCEPT
        SELECT p.%4$I FROM p
    ),
    -- One primary-key probe per doomed key (= ANY of an array): a join with
    -- doomed would, planned generically, scan every catalog row of the tenant.
    removed AS (
        DELETE FROM %2$s AS cat
        WHERE cat.tenant_id = p_tenant_id
          AND cat.%4$I = ANY (ARRAY(SELECT d.k FROM doomed AS d))
        RETURNING cat.%4$I
    ),
    written AS (
        INSERT INTO %2$s AS cat (%5$s, synced_at)
        SELECT %6$s, now() FROM p
        ON CONFLICT (tenant_id, %4$I) DO UPDATE SET (%7$s, synced_at) = (%8$s, EXCLUDED.synced_at)
        WHERE (%9$s) IS DISTINCT FROM (%10$s)
        RETURNING (cat.xmax = 0) AS is_insert
    )
    SELECT (SELECT count(*) FROM removed),
           count(*) FILTER (WHERE is_insert),
           count(*) FILTER (WHERE NOT is_insert)
    INTO removed, inserted, updated
    FROM written;$stmt$,
        p_function, p_catalog, p_projection, p_key_column,
        v_list, v_plist, v_setl, v_exl, v_catc, v_exc);

    -- The MERGE. Its source pairs each candidate key (v_candidates) with the
    -- projection's row of that key, if any (FULL JOIN: a projected row need
    -- not be a candidate, a parent's change names none). A source row without a
    -- projected row (its tenant_id, never NULL in a projected row, is NULL)
    -- deletes the candidate; a projected row is inserted or, where it differs,
    -- updated. A projected row without a key (a tenant's uuid made nullable)
    -- is inserted too, so it fails on the key's NOT NULL, as the upsert did,
    -- rather than leave the catalog short of it. The generic plan hashes the
    -- candidates, not the projected rows, and probes the catalog's primary key
    -- once per source row (a test checks both).
    v_merge := format($stmt$    MERGE INTO %1$s AS cat
    USING (SELECT d.k AS doomed_key, p.*
           FROM (%4$s) AS d (k)
           FULL JOIN catalog_sync.%2$I(p_tenant_id, p_filter, p_keys, p_masks, p_reuse) AS p ON p.%3$I = d.k) AS s
    ON cat.tenant_id = p_tenant_id AND cat.%3$I = coalesce(s.%3$I, s.doomed_key)
    WHEN MATCHED AND s.tenant_id IS NULL THEN
        DELETE
    WHEN MATCHED AND (%5$s) IS DISTINCT FROM (%6$s) THEN
        UPDATE SET (%7$s, synced_at) = (%8$s, now())
    WHEN NOT MATCHED AND s.tenant_id IS NOT NULL THEN
        INSERT (%9$s, synced_at) VALUES (%10$s, now());
    -- (MERGE returns no rows before PostgreSQL 17: nothing counted, the OUT
    -- values stay NULL)$stmt$,
        p_catalog, p_projection, p_key_column, v_candidates,
        v_catc, v_srcc, v_setl, v_sset, v_list, v_sall);

    -- One source row of a trigger's UPDATE (a single-row write: one id, no
    -- scope, and p_reuse, which only an UPDATE of the source passes), for a
    -- p_merge catalog: the projected rows read into an array, and where there
    -- is at most one, a statement or two for that one key, planned small. The
    -- MERGE's plan, with every node and 40-column expression built again at
    -- each execution, cost more than that write (docs/architecture.md, "One
    -- row"). Same result as the MERGE: the candidates the projection does not
    -- yield are deleted; the projected row is updated where it differs, else
    -- inserted where its key has no row (an equal row stays untouched, not
    -- even locked); a projected row without a key fails on the key's NOT NULL,
    -- and a row of that key another transaction inserted meanwhile, which the
    -- locks rule out, on the key's uniqueness. Several rows for one id (a
    -- tenant that dropped the id's primary key) go to the MERGE, which writes
    -- them all. A source INSERT keeps the MERGE: in this form its row went to
    -- an upsert's speculative insertion, which was slower from a client than
    -- the MERGE's insert, for fewer instructions. "Differs" is one comparison
    -- of the catalog row as a projected row shows it (v_image) with the
    -- projected row by their binary images (*<>, record_image_ne()), not
    -- forty comparisons of columns, each an operator the executor looks up
    -- and checks EXECUTE on at every execution (-0.06 M instructions of a
    -- single-row UPDATE: docs/benchmarks-log.md, Diagnosis, thirty-second
    -- session). The image is built from the catalog row's columns, and the
    -- projected row is one parameter, v_row: built from v_row's fields, it
    -- took one parameter per column (about 9,000 instructions more a write,
    -- thirty-seventh session). Images differ
    -- wherever compared_columns() finds a difference (a value, or the same
    -- value shown otherwise) and are equal only where the values are the
    -- same bytes, so nothing the catalog shows is missed, and an equal row
    -- is still left untouched. The projected rows are collected by an
    -- ARRAY() subquery, not array_agg(): an aggregate's node, set up again
    -- at each execution, cost about 50,000 instructions more a write
    -- (docs/benchmarks-log.md, Diagnosis, thirty-sixth session).
    v_one := format($stmt$        v_rows := ARRAY(SELECT p
                        FROM catalog_sync.%2$I(p_tenant_id, p_filter, p_keys, p_masks, p_reuse) AS p);
        IF pg_catalog.cardinality(v_rows) = 0 THEN
            DELETE FROM %1$s AS cat WHERE cat.tenant_id = p_tenant_id AND cat.%3$I = ANY (p_delete_keys);
            RETURN;
        ELSIF pg_catalog.cardinality(v_rows) = 1 THEN
            v_row := v_rows[1];
            IF NOT p_delete_keys <@ ARRAY[v_row.%3$I] THEN
                DELETE FROM %1$s AS cat
                WHERE cat.tenant_id = p_tenant_id AND cat.%3$I = ANY (p_delete_keys)
                  AND cat.%3$I IS DISTINCT FROM v_row.%3$I;
            END IF;
            UPDATE %1$s AS cat SET (%4$s, synced_at) = (%5$s, now())
            WHERE cat.tenant_id = p_tenant_id AND cat.%3$I = v_row.%3$I
              AND ROW(%6$s)::%1$s OPERATOR(pg_catalog.*<>) v_row;
            IF NOT FOUND THEN
                INSERT INTO %1$s AS cat (%7$s, synced_at)
                SELECT %8$s, now()
                WHERE NOT EXISTS (SELECT FROM %1$s AS c WHERE c.tenant_id = p_tenant_id AND c.%3$I = v_row.%3$I);
            END IF;
            RETURN;
        END IF;
        -- (several rows for one id: a tenant without the id's primary key; the MERGE below)$stmt$,
        p_catalog, p_projection, p_key_column, v_setl, v_vset, v_image, v_list, v_vall);

    -- Two statements, not one with both kinds of candidates: besides the
    -- counts, a generic plan sizes its hash tables for the estimated row
    -- counts, and "every row of the tenant" would make every single-row
    -- statement build (and zero) a hash table for thousands of rows.
    EXECUTE format($def$
CREATE OR REPLACE FUNCTION catalog_sync.%1$I(
    p_tenant_id bigint, p_filter text, p_keys bigint[], p_masks integer[], p_reuse boolean,
    p_delete_keys uuid[], p_delete_scope uuid[], p_delete_all boolean,
    OUT removed bigint, OUT inserted bigint, OUT updated bigint)
LANGUAGE plpgsql
-- The plans below are linear whatever the number of keys, so they are planned
-- once per session, under plan_cache_mode = force_generic_plan: left to
-- choose, the plan cache would plan them again on every statement (a custom
-- plan knows the array lengths and always looks cheaper). Every caller sets
-- it (the sync triggers, refresh_catalog(), sync_providers()), not this
-- function: a SET clause here cost a single-row write about 9,000
-- instructions, for a setting its caller already has.
AS $body$
-- Generated by catalog_sync.define_apply() for %2$s: do not edit, edit the generator.
%5$s
BEGIN
    IF p_delete_all THEN
%3$s
        RETURN;
    END IF;%6$s
%4$s
END
$body$
$def$,
        p_function, p_catalog,
        format(v_statement, format('SELECT c.%I FROM %s AS c WHERE c.tenant_id = p_tenant_id',
                                   p_key_column, p_catalog)),
        CASE WHEN p_merge THEN v_merge ELSE format(v_statement, v_candidates) END,
        CASE WHEN p_merge THEN format(E'DECLARE\n    v_rows %1$s[];   -- the single-row form''s projected rows\n'
                                      '    v_row  %1$s;', p_catalog) ELSE '' END,
        CASE WHEN p_merge
             THEN E'\n    IF p_reuse AND p_filter = ''ids'' AND pg_catalog.cardinality(p_keys) = 1\n'
                  || E'       AND p_delete_scope IS NULL THEN\n' || v_one || E'\n    END IF;'
             ELSE '' END);
    EXECUTE format('ALTER FUNCTION catalog_sync.%I(%s) OWNER TO catalog_sync_owner', p_function, v_sig);
    EXECUTE format('REVOKE ALL ON FUNCTION catalog_sync.%I(%s) FROM PUBLIC', p_function, v_sig);
END
$$;
ALTER FUNCTION catalog_sync.define_apply(name, regclass, name, name, name, boolean) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.define_apply(name, regclass, name, name, name, boolean) FROM PUBLIC;
