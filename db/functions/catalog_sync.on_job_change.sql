-- Statement-level AFTER INSERT / UPDATE / DELETE / TRUNCATE trigger function on
-- a tenant's ats_jobposting. Runs as catalog_sync_owner; the tenant comes from
-- the argument bound at attach and checked against the registry by TG_RELID.
-- Work per statement, not per row: find the changed keys, lock the parents the
-- projection will read, then one set-based statement brings the catalog rows
-- of those keys in line with the projection (sync_changes()).
--
-- PL/pgSQL compiles a trigger function once per trigger, and each expression a
-- compiled copy evaluates keeps a cached plan of its own: a pooled backend
-- pays every statement below once per tenant it writes for (docs/benchmarks.md,
-- section 8). So the body holds only what must be here: the contract check of
-- the table (a plan that must be this trigger's, see below) and the reads of
-- the transition tables (visible in this function only); the rest is in
-- guard() and sync_changes(), compiled once per session.
-- (job_trigger_entry(), its start until the thirty-seventh session, which a
-- development database may hold, is dropped: guard() does its part now.)
DROP FUNCTION IF EXISTS catalog_sync.job_trigger_entry(oid, integer, text, text, text, name, name);
CREATE OR REPLACE FUNCTION catalog_sync.on_job_change()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET jit = off   -- see docs/architecture.md, "No JIT in the sync"
SET constraint_exclusion = partition   -- see docs/security.md, "Session settings"
SET row_security = off
SET plan_cache_mode = force_generic_plan   -- for sync_changes(), see there
AS $$
DECLARE
    v_tenant_id  bigint;
    v_checked    oid;
    v_path       text;
    v_void       text;           -- what a call made for its effect returns
    v_ids        bigint[];
    v_uuids      uuid[];
    v_left       uuid[];         -- the rows' old uuids (DELETE, UPDATE)
    v_categories bigint[];
    v_changes    catalog_sync.row_change[];   -- UPDATE: the changed rows
BEGIN
    -- The trigger's binding and the tenant (a tenant deleted from the registry
    -- publishes nothing and its writes go on, whatever its tables became), and
    -- the table's schema, put on the search_path for the check below when the
    -- table is named ats_jobposting in it (guard(), given the trigger's names:
    -- a call, where its own function cost about 22,000 instructions a write,
    -- thirty-seventh session). guard() asserts READ COMMITTED before it reads
    -- anything: under REPEATABLE READ the folded check below would read the
    -- catalogs on the transaction's snapshot, pass a column change committed
    -- since, and leave that result in the cached plan for the next statement
    -- (found in review). (Calls made for their effect are assignments: see
    -- sync_changes().)
    v_tenant_id := catalog_sync.guard(TG_RELID, TG_NARGS, TG_ARGV[0], 'ats_jobposting', TG_LEVEL, TG_WHEN,
                                      TG_TABLE_SCHEMA, TG_TABLE_NAME);
    IF v_tenant_id IS NULL THEN
        RETURN NULL;                    -- the tenant is gone: publish nothing
    END IF;
    -- The table's contract check, before any transition row is read, folded
    -- into a plan this trigger caches (contract_holds(), as job_sources() does
    -- for its read): made, and so checked, again after any change to the
    -- table (the plan depends on the table its regclass names), and
    -- otherwise free. It names the table ats_jobposting, resolved in the
    -- table's own schema: only when TG_RELID is named so there (the firing
    -- statement's lock keeps it so); the plan also returns the OID it
    -- checked. Anything else (a renamed table) is checked explicitly, as
    -- every table once was. The search_path holds the tenant's schema for
    -- these two expressions only: guard() put it there (on the condition
    -- tested here), and the next one pins the path again (both name nothing
    -- but the table: every function, type, cast and operator
    -- schema-qualified, as in the test of the condition, parsed under that
    -- path too). Two plain expressions, not a statement: PL/pgSQL evaluates
    -- them without the executor's set-up of a query (about 16,000
    -- instructions a write less than the one statement they were,
    -- thirty-seventh session). (Should the check raise the first time this
    -- trigger's copy evaluates it, PL/pgSQL runs it as a statement from
    -- then on in this session: as correct, only not cheaper. Review,
    -- thirty-seventh session.)
    IF TG_TABLE_NAME OPERATOR(pg_catalog.=) 'ats_jobposting' AND TG_TABLE_SCHEMA OPERATOR(pg_catalog.<>) '$user' THEN
        v_checked := CASE WHEN catalog_sync.contract_holds('ats_jobposting'::pg_catalog.regclass, 'ats_jobposting')
                          THEN 'ats_jobposting'::pg_catalog.regclass::pg_catalog.oid END;
        v_path := pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
    END IF;
    IF v_checked IS DISTINCT FROM TG_RELID THEN
        PERFORM catalog_sync.assert_contract(TG_RELID, 'ats_jobposting');   -- raises, naming the problems
    END IF;

    -- The transition tables, read into arrays, one element per changed row
    -- (an UPDATE: one array of catalog_sync.row_change, each changed row's
    -- id, mask, uuids and categories; sync_changes() groups them: its plans
    -- are the session's, these are the trigger's). The comments stay
    -- outside the statements: their text is kept in every compiled copy. A column of a transition table
    -- is written (n.*).title, not n.title: the same Var once parsed, but
    -- PL/pgSQL's compiler keeps a list of two strings for every qualified
    -- name it meets (about 20 kB for the UPDATE's hundred), and with them the
    -- compiled function, compiled once per trigger, needed 128 kB of blocks
    -- instead of 64 (docs/benchmarks.md, section 8). n.* also cannot be taken
    -- for a column of the tenant's named n, as a bare (n) could. (The UPDATE's
    -- outer query names the columns of its own subqueries, n.id and so on.)
    IF TG_OP = 'UPDATE' THEN
        -- Only rows where an input of the projection changed count: the
        -- columns of catalog_sync.job_source that come from the row (a test
        -- keeps the two lists equal). All but the HTML are compared as one
        -- value of that type by their binary images (record_image_ne()); the
        -- four HTML columns stay out of the image (NULL there) and are
        -- compared on their own, so that the join carries them as they are
        -- stored (an unchanged value kept out of line stays a TOAST pointer,
        -- where an image would hold it whole through the join's sort or
        -- hash). An
        -- update of updated_at or of a sensitive column costs this comparison
        -- and nothing more. Images differ wherever the values differ, and
        -- also where one value is spelled otherwise (jsonb 1 and 1.000,
        -- float8 0 and -0: equal by their types' equality, shown otherwise;
        -- red team, twentieth session): a row that differs only so is synced,
        -- and the apply writes it only if its catalog row would change. Each
        -- side's image is built below the join (OFFSET 0 keeps the subqueries
        -- apart), so the join carries eight columns a side, not thirty-six,
        -- and its filter is one function and four comparisons, not forty:
        -- about 0.1 M instructions less of a single-row UPDATE, where this
        -- statement's set-up is most of its cost (docs/benchmarks-log.md,
        -- Diagnosis, thirty-third session). Each subquery lists its columns
        -- in the order the join reads them, so that the planner drops the
        -- old side's subquery scan as a no-op (about 9,000 instructions; the
        -- thirty-sixth session). The mask bits say which HTML
        -- columns changed (project_jobs() re-sanitizes only those); all four
        -- when the uuid changed (an id moved to another job: nothing of the
        -- old row's HTML is comparable). Static SQL: planned once per
        -- trigger, and a FULL JOIN is always a hash or merge join, linear at
        -- any size.
        v_changes := ARRAY(SELECT ROW(coalesce(n.id, o.id),
               CASE WHEN n.uuid IS DISTINCT FROM o.uuid THEN 15 ELSE
                   (CASE WHEN n.description IS DISTINCT FROM o.description THEN 1 ELSE 0 END
                    | CASE WHEN n.responsibilities IS DISTINCT FROM o.responsibilities THEN 2 ELSE 0 END
                    | CASE WHEN n.requirements IS DISTINCT FROM o.requirements THEN 4 ELSE 0 END
                    | CASE WHEN n.benefits IS DISTINCT FROM o.benefits THEN 8 ELSE 0 END) END,
               n.uuid, o.uuid, n.category_id, o.category_id)::catalog_sync.row_change
        FROM (SELECT (n.*).id, (n.*).uuid, (n.*).description, (n.*).responsibilities,
                     (n.*).requirements, (n.*).benefits, (n.*).category_id,
                     ROW((n.*).id, (n.*).uuid, (n.*).title, (n.*).slug, (n.*).reference_code, (n.*).category_id,
                         (n.*).job_type, (n.*).experience_level, (n.*).remote_policy, (n.*).location_city,
                         (n.*).location_state, (n.*).location_country, (n.*).location_lat, (n.*).location_lng,
                         NULL, NULL, NULL, NULL,
                         (n.*).salary_min, (n.*).salary_max, (n.*).salary_currency, (n.*).salary_period,
                         (n.*).show_salary, (n.*).required_skills, (n.*).preferred_skills, (n.*).positions_count,
                         (n.*).team, (n.*).is_featured, (n.*).application_deadline, (n.*).published_at,
                         (n.*).created_at, (n.*).meta_title, (n.*).meta_description, (n.*).status,
                         (n.*).published_on_career_page, (n.*).is_internal_only,
                         NULL, NULL, 0, NULL, NULL, NULL)::catalog_sync.job_source AS image
              FROM new_rows n OFFSET 0) AS n
        FULL JOIN
             (SELECT (o.*).id, (o.*).uuid, (o.*).description, (o.*).responsibilities,
                     (o.*).requirements, (o.*).benefits, (o.*).category_id,
                     ROW((o.*).id, (o.*).uuid, (o.*).title, (o.*).slug, (o.*).reference_code, (o.*).category_id,
                         (o.*).job_type, (o.*).experience_level, (o.*).remote_policy, (o.*).location_city,
                         (o.*).location_state, (o.*).location_country, (o.*).location_lat, (o.*).location_lng,
                         NULL, NULL, NULL, NULL,
                         (o.*).salary_min, (o.*).salary_max, (o.*).salary_currency, (o.*).salary_period,
                         (o.*).show_salary, (o.*).required_skills, (o.*).preferred_skills, (o.*).positions_count,
                         (o.*).team, (o.*).is_featured, (o.*).application_deadline, (o.*).published_at,
                         (o.*).created_at, (o.*).meta_title, (o.*).meta_description, (o.*).status,
                         (o.*).published_on_career_page, (o.*).is_internal_only,
                         NULL, NULL, 0, NULL, NULL, NULL)::catalog_sync.job_source AS image
              FROM old_rows o OFFSET 0) AS o ON o.id = n.id
        WHERE n.id IS NULL OR o.id IS NULL OR pg_catalog.record_image_ne(n.image, o.image)
           OR n.description IS DISTINCT FROM o.description OR n.responsibilities IS DISTINCT FROM o.responsibilities
           OR n.requirements IS DISTINCT FROM o.requirements OR n.benefits IS DISTINCT FROM o.benefits);
    ELSIF TG_OP = 'INSERT' THEN
        SELECT array_agg((n.*).id), array_agg((n.*).uuid), array_agg((n.*).category_id)
        INTO v_ids, v_uuids, v_categories
        FROM new_rows n;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg((o.*).id), array_agg((o.*).uuid), array_agg((o.*).category_id)
        INTO v_ids, v_left, v_categories
        FROM old_rows o;
    END IF;
    v_void := catalog_sync.sync_changes(v_tenant_id, TG_RELID, 'ats_jobposting', TG_OP, v_ids, NULL,
                                        v_uuids, v_left, v_categories, NULL, NULL, NULL, v_changes)::text;
    RETURN NULL;
END
$$;
ALTER FUNCTION catalog_sync.on_job_change() OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.on_job_change() FROM PUBLIC;
-- CREATE TRIGGER needs EXECUTE on the function: only installers may bind it.
GRANT EXECUTE ON FUNCTION catalog_sync.on_job_change() TO catalog_sync_installer;
