-- The only place the sync reads a tenant's job and category tables: the
-- catalog_sync.job_source rows of the tenant's jobs selected by p_filter
-- ('all'; 'ids': job ids in p_keys, with their HTML masks from p_masks;
-- 'categories': jobs whose category id is in p_keys), each with the tenant's
-- registry columns. Nothing for a tenant that is gone from the registry or
-- not public (status other than active or trial): its tables are not read.
-- Locks the registry (but for a few ids, a job trigger's read, whose
-- guard() locked it before the statement: below), then both tables (but
-- for the read by name, locked likewise), and refuses them when they no
-- longer match the contract.
--
-- The tenant's registry row is read here, not by registry_row() in
-- project_jobs(): one PL/pgSQL call less per statement, which a single-row
-- write pays in every transaction (about 55,000 instructions of its 2.27 M:
-- docs/benchmarks-log.md, Diagnosis, thirty-sixth session). The read is
-- registry_row()'s, in the same steps: the registry locked first (waiting as
-- any read does), then its query planned and run with lock_timeout = 1ms and
-- its contract check folded into the plan, a lost column named. Its plan is
-- made under the pinned search_path, before any tenant's schema is put on
-- it, so it is the session's for every tenant. The same query reads the
-- tables' registered OIDs.
--
-- Two ways to read the jobs, the same rows:
-- * A few ids (a trigger's single-row write): static SQL naming the tables
--   ats_jobposting and ats_jobcategory, resolved through a search_path of
--   pg_catalog, the tenant's schema, pg_temp. Its plan is cached for the
--   session while the search_path stays the same (PostgreSQL's plan cache
--   compares it), so consecutive writes of one tenant neither parse nor plan
--   the read again; a write of another tenant plans it once. The contract
--   check of both tables is folded into that plan (contract_holds()): it runs
--   whenever the plan is made, and a change to either table invalidates the
--   plan. Only relation names are looked up on that path: every function,
--   operator and type is pg_catalog-qualified or a keyword, so nothing of the
--   tenant's schema can capture them (pg_catalog comes first, pg_temp last).
--   Taken only when the registered OIDs carry those very names in one schema
--   (read from the catalog caches) and the session's pg_temp has neither
--   name; locked by those names, after which the names must still mean the
--   OIDs: locked, the names keep meaning them until the end of the
--   transaction, and the check in the plan checks the registered tables.
-- * Otherwise (many keys, other filters, renamed tables): an explicit
--   contract check, then dynamic SQL planned for the actual keys (a
--   100k-key statement gets hash joins, not a generic plan), identifiers only
--   through the registered OIDs (%I).
-- (its form before the thirty-sixth session, which read no registry)
DROP FUNCTION IF EXISTS catalog_sync.job_sources(oid, oid, text, bigint[], integer[]);
CREATE OR REPLACE FUNCTION catalog_sync.job_sources(
    p_tenant_id    bigint,
    p_filter       text,
    p_keys         bigint[],
    p_masks        integer[] DEFAULT NULL
)
RETURNS SETOF catalog_sync.job_source
LANGUAGE plpgsql STABLE
SET search_path = pg_catalog, pg_temp
SET row_security = off
AS $$
DECLARE
    v_columns text;
    v_where   text;
    v_job_name      text;
    v_category_name text;
    v_schema        text;
    v_lock_timeout  text := pg_catalog.current_setting('lock_timeout');   -- restored after each read
    v_void          text;   -- what a call made for its effect returns (see sync_changes())
    v_tenant_schema text;   -- the tenant's registry columns, in every row returned
    v_company_name  text;
    v_logo_url      text;
    v_publishable   boolean;
    v_job_rel       oid;    -- the tables' registered OIDs
    v_category_rel  oid;
    v_by_name       boolean;
BEGIN
    -- The registry (registry_row()'s steps, and why: see there). A lost
    -- column here, or in the job read's plan below, is named by the handler
    -- at the end of this block (one subtransaction for both reads). Locked
    -- already for a few ids: in the sync only a job table's trigger reads
    -- them (tests call apply_jobs() so, with no DDL running beside them),
    -- and guard() locked the registry before the statement that called this
    -- function (lock_job_parents() or lock_sources(); locked here again, it
    -- cost a single-row write about 20,000 instructions: fifty-first
    -- session). (Nested: a caller that takes it never sets up the inner
    -- expression.)
    IF p_filter <> 'ids' OR coalesce(pg_catalog.cardinality(p_keys), 0) > 100 THEN
        v_void := catalog_sync.lock_registry()::text;
    END IF;
    v_void := pg_catalog.set_config('lock_timeout', '1ms', true);
    WITH contract AS MATERIALIZED (
        SELECT catalog_sync.contract_holds('public.tenants_tenant'::pg_catalog.regclass, 'tenants_tenant') AS holds
    )
    SELECT t.schema_name::text, t.name::text, catalog_sync.safe_url(t.logo_url::text),
           t.status IN ('active', 'trial'), aj.relid, ac.relid
    INTO v_tenant_schema, v_company_name, v_logo_url, v_publishable, v_job_rel, v_category_rel
    FROM contract CROSS JOIN ONLY public.tenants_tenant AS t
    -- (joins, not subqueries: a join of at most one row each, by the
    -- attached_table's unique key, and no subplan to set up)
    LEFT JOIN catalog_sync.attached_table AS aj ON aj.tenant_id = t.id AND aj.source_table = 'ats_jobposting'
    LEFT JOIN catalog_sync.attached_table AS ac ON ac.tenant_id = t.id AND ac.source_table = 'ats_jobcategory'
    WHERE contract.holds AND t.id = p_tenant_id;
    v_void := pg_catalog.set_config('lock_timeout', v_lock_timeout, true);
    IF v_publishable IS NOT TRUE THEN
        RETURN;                         -- gone, or not public: nothing of it is read
    END IF;
    -- The job table's name as it is now (regclass output, from the catalog
    -- caches, not from this function's snapshot, which is its caller's and
    -- may predate a rename; schema-qualified, since no tenant's schema is on
    -- the pinned path, and quoted as a search_path needs; a lost OID prints
    -- as its number, which names nothing here), and its schema when it is
    -- named ats_jobposting (schema_naming(), inlined).
    v_job_name := v_job_rel::pg_catalog.regclass::pg_catalog.text;
    v_schema := catalog_sync.schema_naming(v_job_name, 'ats_jobposting');
    -- The lock (guard()'s) resolves the names on a path that ends with pg_temp: a
    -- table of this session's own pg_temp under one of them could take the
    -- lock in a rename race (the registered table renamed away while LOCK
    -- waits, and back before the check), leaving the registered one unlocked
    -- (review, thirty-first session). Only this session can put one there,
    -- and it runs nothing else meanwhile: with none, the lock can only fall
    -- on the tenant's schema. (A session that never made a temporary table
    -- has no pg_temp schema: pg_my_temp_schema() is 0. The names are looked
    -- up by an expression of their own, which a session without one never
    -- sets up: PL/pgSQL sets up each expression it evaluates again in every
    -- transaction, every function of it, evaluated or not.)
    IF p_filter = 'ids' AND coalesce(cardinality(p_keys), 0) <= 100
       AND v_category_rel::pg_catalog.regclass::pg_catalog.text = v_schema || '.ats_jobcategory' THEN
        v_by_name := pg_catalog.pg_my_temp_schema() = 0;
        IF NOT v_by_name THEN
            v_by_name := pg_catalog.to_regclass('pg_temp.ats_jobposting') IS NULL
                         AND pg_catalog.to_regclass('pg_temp.ats_jobcategory') IS NULL;
        END IF;
    END IF;
    IF v_by_name THEN
        -- Undone when the function returns (its SET clause).
        v_void := pg_catalog.set_config('search_path', 'pg_catalog, ' || v_schema || ', pg_temp', true);
        -- Locked by those names already, before the statement that called
        -- this function: the job table by the write that fired the trigger,
        -- the category table and the registry by guard() (lock_job_parents():
        -- static SQL, where lock_relations() parses a LOCK per write; this
        -- read is taken only under a job table's trigger, for a few ids). So
        -- this read, planned and run on that statement's snapshot, never
        -- follows a wait for them (lock_sources(): why; locked here again,
        -- they cost a single-row write 30,000 instructions, fifty-first
        -- session). LOCK resolves a name again after waiting, so if a table
        -- was renamed meanwhile and another took its name, the lock is on
        -- that one: the names must still mean the registered OIDs (55P03
        -- otherwise: retry); a locked table keeps its name.
        IF (pg_catalog.to_regclass('ats_jobposting') OPERATOR(pg_catalog.=) v_job_rel
            AND pg_catalog.to_regclass('ats_jobcategory') OPERATOR(pg_catalog.=) v_category_rel) IS NOT TRUE THEN
            RAISE EXCEPTION 'catalog_sync: a relation the sync reads was renamed while it waited for its lock'
                USING ERRCODE = 'lock_not_available', HINT = 'Retry the statement.';
        END IF;
        -- A wait while planning a read could only be for an index lock the
        -- tenant holds (REINDEX) while it adds statistics or an index over its
        -- own code, which the plan would then run. Fail closed instead of
        -- waiting (55P03).
        v_void := pg_catalog.set_config('lock_timeout', '1ms', true);
        -- (The category by a subquery kept apart, OFFSET 0: a nested loop
        -- probing it for each of the few jobs, where a join planned for them
        -- built a hash table: about 14,000 instructions a single-row write.)
        RETURN QUERY
        WITH contract AS MATERIALIZED (
            SELECT catalog_sync.contract_holds('ats_jobposting'::pg_catalog.regclass, 'ats_jobposting')
               AND catalog_sync.contract_holds('ats_jobcategory'::pg_catalog.regclass, 'ats_jobcategory') AS holds
        )
        SELECT j.id::bigint, j.uuid::pg_catalog.uuid, j.title::pg_catalog.text, j.slug::pg_catalog.text,
               j.reference_code::pg_catalog.text, j.category_id::bigint, j.job_type::pg_catalog.text,
               j.experience_level::pg_catalog.text, j.remote_policy::pg_catalog.text,
               j.location_city::pg_catalog.text, j.location_state::pg_catalog.text,
               j.location_country::pg_catalog.text, j.location_lat::double precision,
               j.location_lng::double precision, j.description::pg_catalog.text,
               j.responsibilities::pg_catalog.text, j.requirements::pg_catalog.text,
               j.benefits::pg_catalog.text, j.salary_min::numeric, j.salary_max::numeric,
               j.salary_currency::pg_catalog.text, j.salary_period::pg_catalog.text, j.show_salary::boolean,
               j.required_skills::pg_catalog.jsonb, j.preferred_skills::pg_catalog.jsonb,
               j.positions_count::integer, j.team::pg_catalog.text, j.is_featured::boolean,
               j.application_deadline::timestamp with time zone, j.published_at::timestamp with time zone,
               j.created_at::timestamp with time zone, j.meta_title::pg_catalog.text,
               j.meta_description::pg_catalog.text, j.status::pg_catalog.text,
               j.published_on_career_page::boolean, j.is_internal_only::boolean,
               c.name::pg_catalog.text, c.slug::pg_catalog.text,
               coalesce(p_masks[pg_catalog.array_position(p_keys, j.id::bigint)], 0),
               v_tenant_schema, v_company_name, v_logo_url
        FROM contract
        CROSS JOIN ONLY ats_jobposting AS j
        LEFT JOIN LATERAL (SELECT c.name, c.slug FROM ONLY ats_jobcategory AS c
                           WHERE c.id OPERATOR(pg_catalog.=) j.category_id OFFSET 0) AS c ON true
        WHERE contract.holds AND j.id OPERATOR(pg_catalog.=) ANY (p_keys);
        v_void := pg_catalog.set_config('lock_timeout', v_lock_timeout, true);
        RETURN;
    END IF;

    -- (into v_void: a wait for these locks that times out is not the 1ms
    -- read's, whatever the caller's lock_timeout; review, forty-eighth session)
    v_void := catalog_sync.lock_relations(ARRAY[v_job_rel, v_category_rel])::pg_catalog.text;
    -- (a caller that did not lock them before this statement, and waited
    -- here or for the registry above: fails rather than read them on an
    -- older snapshot; assert_not_rewritten())
    v_void := catalog_sync.assert_not_rewritten(ARRAY['public.tenants_tenant'::pg_catalog.regclass::pg_catalog.oid,
                                                      v_job_rel, v_category_rel])::pg_catalog.text;
    v_void := pg_catalog.set_config('lock_timeout', '1ms', true);   -- as above
    -- The names of the locked OIDs (after the lock: the names it fixed).
    v_job_name := catalog_sync.relation_name(v_job_rel);
    v_category_name := catalog_sync.relation_name(v_category_rel);
    v_where := CASE p_filter
        WHEN 'all' THEN 'TRUE'
        WHEN 'ids' THEN 'TRUE'
        WHEN 'categories' THEN 'j.category_id = ANY ($1)'
    END;
    IF v_where IS NULL THEN
        RAISE EXCEPTION 'catalog_sync: unknown filter %', p_filter;
    END IF;
    PERFORM catalog_sync.assert_contracts(ARRAY[v_job_rel, v_category_rel], '{ats_jobposting,ats_jobcategory}');
    -- Constant arguments: folded once per session (see source_select_list()).
    v_columns := catalog_sync.source_select_list('catalog_sync.job_source', 'j',
                     '{"category_name": "c.name::text", "category_slug": "c.slug::text",'
                     ' "html_mask": "coalesce(m.mask, 0)",'
                     ' "tenant_schema": "$3", "company_name": "$4", "company_logo_url": "$5"}');
    RETURN QUERY EXECUTE format('WITH %s SELECT %s FROM ONLY %s AS j %s LEFT JOIN ONLY %s AS c ON c.id = j.category_id '
                                'WHERE (SELECT contract.holds FROM contract) AND (%s)',
                                catalog_sync.folded_check(ARRAY[v_job_rel, v_category_rel],
                                                          '{ats_jobposting,ats_jobcategory}'),
                                v_columns, v_job_name,
                                CASE WHEN p_filter = 'ids'
                                     THEN 'JOIN ROWS FROM (unnest($1), unnest($2)) AS m (id, mask) ON m.id = j.id'
                                     ELSE 'CROSS JOIN (SELECT 0) AS m (mask)' END,
                                v_category_name, v_where)
        USING p_keys, p_masks, v_tenant_schema, v_company_name, v_logo_url;
    v_void := pg_catalog.set_config('lock_timeout', v_lock_timeout, true);
EXCEPTION
WHEN lock_not_available THEN
    -- A read planned with lock_timeout = 1ms timed out (v_void holds what the
    -- last set_config() returned: '1ms' while it is in force; a wait for a
    -- table lock, under the caller's lock_timeout, or a table renamed meanwhile,
    -- leaves another value there). Most often it met the index locks of a
    -- transaction that is ending: one that held a table this write queued
    -- behind, and whose index locks are released after the table's
    -- (ready_to_read_again()). Wait for the tables' index locks outside any
    -- plan, then run the whole read again, registry and tables locked and
    -- checked again, once; the second read plans with lock_timeout = 1ms too,
    -- and the flag that made it the second is put back after it. (The
    -- block's subtransaction is gone: its locks and settings with it. The
    -- failed read returned no row: a plan's index locks are taken when it is
    -- made or its executor starts, before its first row, and a TOAST index's
    -- when a value is detoasted, which this read leaves to its callers: it
    -- returns values as they are stored; rows returned before an error a
    -- handler catches would stay, and the read again add them twice.
    -- provider_sources(), whose aggregates detoast names, fetches its read
    -- after its block for that reason: security review, forty-ninth session.)
    -- (the block's abort put the caller's lock_timeout back)
    IF v_void IS DISTINCT FROM '1ms' THEN
        RAISE;
    ELSIF NOT catalog_sync.ready_to_read_again(ARRAY['public.tenants_tenant'::pg_catalog.regclass::pg_catalog.oid,
                                                     v_job_rel, v_category_rel]) THEN
        RAISE;
    END IF;
    RETURN QUERY SELECT * FROM catalog_sync.job_sources(p_tenant_id, p_filter, p_keys, p_masks);
    v_void := pg_catalog.set_config('catalog_sync.read_again', 'off', true);
WHEN syntax_error_or_access_rule_violation THEN
    -- a lost column of the registry or of a job table, named (see
    -- explain_failed_read()); both raise nothing when their tables are whole
    PERFORM catalog_sync.assert_registry();
    IF v_job_rel IS NOT NULL THEN
        PERFORM catalog_sync.explain_failed_read(ARRAY[v_job_rel, v_category_rel], '{ats_jobposting,ats_jobcategory}');
    END IF;
    RAISE;
END
$$;
ALTER FUNCTION catalog_sync.job_sources(bigint, text, bigint[], integer[]) OWNER TO catalog_sync_owner;
REVOKE ALL ON FUNCTION catalog_sync.job_sources(bigint, text, bigint[], integer[]) FROM PUBLIC;
