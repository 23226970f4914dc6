-- The machinery's fingerprint, pinned by the installing superuser where the
-- sync cannot reach it. catalog_sync_owner owns the machinery's schemas, and
-- so could replace the functions that are not definers (attach_schemas(),
-- drop_triggers(), ...) or add a trigger to a machinery table: those run as
-- whoever calls them, often a superuser (docs/security.md, Limits). A session
-- that ran code as catalog_sync_owner (the check-to-plan window, without
-- protect) could thus become the next operator. The tool compares the live
-- fingerprint with the pinned one before it calls anything, and refuses on a
-- difference; audit reports it. A one-time step of the install, owned by the
-- installing superuser (not catalog_sync_owner); a release whose revision
-- changes the machinery ends its section with SELECT catalog_sync_pin.pin().
CREATE SCHEMA catalog_sync_pin;
REVOKE ALL ON SCHEMA catalog_sync_pin FROM PUBLIC;
GRANT USAGE ON SCHEMA catalog_sync_pin TO catalog_sync_installer;

-- Everything catalog_sync_owner could change that runs code or decides what
-- runs: the functions of its two schemas (body, definer or not, settings,
-- owner, language), their relations, types, operators and casts, and the
-- triggers, rules, policies, defaults, constraints, indexes and statistics of
-- those relations and of the three catalogs. Grants are not in it. Deparsed
-- and by name, never by OID: a restore from a dump (new OIDs) keeps the pin.
-- (pg_get_expr() and pg_get_indexdef() lock the tables: the tool's check waits
-- behind DDL on them as its next statement would, within its lock_timeout.)
-- The machinery's rows are found through the catalogs' indexes (= ANY of an
-- array): IN (SELECT ...) joined whole pg_attribute, pg_trigger, ..., which
-- hold every tenant's tables too: 0.8 s at 2,500 tenants (forty-third session).
-- One line per item; fingerprint() hashes them, and the pin keeps them too, so
-- that a difference can be named (changes()).
CREATE FUNCTION catalog_sync_pin.items()
RETURNS SETOF text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
-- (the items' text quotes names: under a role's or a database's
-- quote_all_identifiers = on, a DBA's re-pin in psql pinned other text, and
-- every command of the tool refused the machinery as changed; settings
-- trial, forty-sixth session)
SET quote_all_identifiers = off
AS $$
    WITH ns AS (
        SELECT n.oid FROM pg_namespace AS n WHERE n.nspname IN ('catalog_sync', 'catalog_sync_protect')
    ),
    rel AS (
        SELECT c.oid FROM pg_class AS c
        WHERE c.relnamespace IN (SELECT ns.oid FROM ns)
           OR c.oid IN (SELECT to_regclass(t) FROM unnest(ARRAY['public.job_catalog', 'public.provider_catalog',
                                                                 'public.service_catalog']) AS t)
    ),
    typ AS (
        SELECT t.oid FROM pg_type AS t WHERE t.typnamespace IN (SELECT ns.oid FROM ns)
    ),
    items (item) AS (
        -- (pg_get_functiondef(): arguments and their defaults, which the caller
        -- evaluates, result type, language, definer, strictness, settings, body)
        SELECT concat_ws(' ', 'function', p.oid::regprocedure::text, pg_get_userbyid(p.proowner),
                         CASE WHEN p.prokind IN ('f', 'p') THEN md5(pg_get_functiondef(p.oid))
                              ELSE md5(p.prosrc) END, p.prokind, p.proisstrict, p.prosecdef)
        FROM pg_proc AS p
        WHERE p.pronamespace IN (SELECT ns.oid FROM ns)
        UNION ALL
        SELECT concat_ws(' ', 'relation', c.oid::regclass::text, c.relkind, pg_get_userbyid(c.relowner),
                         c.relrowsecurity)
        FROM pg_class AS c WHERE c.oid IN (SELECT rel.oid FROM rel)
        UNION ALL
        -- columns of the relations and composite types (a column made of a domain
        -- whose CHECK or DEFAULT calls somebody's code runs it for every writer)
        SELECT concat_ws(' ', 'column', a.attrelid::regclass::text, a.attname, format_type(a.atttypid, a.atttypmod),
                         a.attnotnull, a.attgenerated, a.attidentity)
        FROM pg_attribute AS a
        WHERE a.attnum > 0 AND NOT a.attisdropped
          AND a.attrelid = ANY (ARRAY(SELECT rel.oid FROM rel)
                                || ARRAY(SELECT t.typrelid FROM pg_type AS t WHERE t.oid IN (SELECT typ.oid FROM typ)))
        UNION ALL
        SELECT concat_ws(' ', 'trigger', pg_get_triggerdef(t.oid), t.tgenabled)
        FROM pg_trigger AS t
        WHERE t.tgrelid = ANY (ARRAY(SELECT rel.oid FROM rel))
          AND NOT t.tgisinternal   -- (a foreign key's, named by OID: the constraint is in below)
        UNION ALL
        SELECT concat_ws(' ', 'rule', pg_get_ruledef(w.oid), w.ev_enabled)
        FROM pg_rewrite AS w WHERE w.ev_class = ANY (ARRAY(SELECT rel.oid FROM rel))
        UNION ALL
        SELECT concat_ws(' ', 'policy', pol.polrelid::regclass::text, pol.polname, pol.polcmd, pol.polpermissive,
                         ARRAY(SELECT pg_get_userbyid(r) FROM unnest(pol.polroles) AS r ORDER BY 1)::text,
                         pg_get_expr(pol.polqual, pol.polrelid), pg_get_expr(pol.polwithcheck, pol.polrelid))
        FROM pg_policy AS pol WHERE pol.polrelid = ANY (ARRAY(SELECT rel.oid FROM rel))
        UNION ALL
        SELECT concat_ws(' ', 'default', d.adrelid::regclass::text, d.adnum, pg_get_expr(d.adbin, d.adrelid))
        FROM pg_attrdef AS d WHERE d.adrelid = ANY (ARRAY(SELECT rel.oid FROM rel))
        UNION ALL
        SELECT concat_ws(' ', 'constraint', k.conrelid::regclass::text, k.contypid::regtype::text, k.conname,
                         pg_get_constraintdef(k.oid))
        FROM pg_constraint AS k
        WHERE (k.conrelid = ANY (ARRAY(SELECT rel.oid FROM rel)) OR k.contypid = ANY (ARRAY(SELECT typ.oid FROM typ))
               OR k.connamespace = ANY (ARRAY(SELECT ns.oid FROM ns)))
          -- Not foreign keys: they run no code of anyone's, and the application can drop
          -- those to its registry (a new key for public.tenants_tenant, built with
          -- DROP CONSTRAINT ... CASCADE): every command refused (red team, eighteenth
          -- session). audit() reports them missing.
          AND k.contype <> 'f'
        UNION ALL
        SELECT concat_ws(' ', 'index', pg_get_indexdef(i.indexrelid))
        FROM pg_index AS i WHERE i.indrelid = ANY (ARRAY(SELECT rel.oid FROM rel))
        UNION ALL
        SELECT concat_ws(' ', 'statistics', pg_get_statisticsobjdef(s.oid))
        FROM pg_statistic_ext AS s
        WHERE s.stxrelid = ANY (ARRAY(SELECT rel.oid FROM rel)) OR s.stxnamespace = ANY (ARRAY(SELECT ns.oid FROM ns))
        UNION ALL
        SELECT concat_ws(' ', 'type', t.oid::regtype::text, t.typtype, pg_get_userbyid(t.typowner),
                         t.typbasetype::regtype::text, t.typinput::regproc::text, t.typdefault)
        FROM pg_type AS t WHERE t.oid IN (SELECT typ.oid FROM typ)
        UNION ALL
        SELECT concat_ws(' ', 'operator', o.oid::regoperator::text, o.oprcode::regproc::text)
        FROM pg_operator AS o WHERE o.oprnamespace IN (SELECT ns.oid FROM ns)
        UNION ALL
        SELECT concat_ws(' ', 'cast', c.castsource::regtype::text, c.casttarget::regtype::text,
                         c.castfunc::regprocedure::text, c.castcontext, c.castmethod)
        FROM pg_cast AS c WHERE c.castsource IN (SELECT typ.oid FROM typ) OR c.casttarget IN (SELECT typ.oid FROM typ)
    )
    SELECT items.item FROM items
$$;
REVOKE ALL ON FUNCTION catalog_sync_pin.items() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync_pin.items() TO catalog_sync_installer;

CREATE FUNCTION catalog_sync_pin.fingerprint()
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    -- (in C order: the database's collation would order the items otherwise
    -- after a restore into another locale, a false alarm; review, forty-fifth
    -- session)
    SELECT md5(string_agg(i.item, E'\n' ORDER BY i.item COLLATE "C")) FROM catalog_sync_pin.items() AS i (item)
$$;
REVOKE ALL ON FUNCTION catalog_sync_pin.fingerprint() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync_pin.fingerprint() TO catalog_sync_installer;

CREATE TABLE catalog_sync_pin.pinned (fingerprint text NOT NULL, items text[] NOT NULL);
-- (no key: its DELETEs need a replica identity once a publication FOR ALL
-- TABLES exists, a CDC tool's or a blue/green upgrade's, else they fail:
-- Logical replication trial, forty-sixth session)
ALTER TABLE catalog_sync_pin.pinned REPLICA IDENTITY FULL;
REVOKE ALL ON catalog_sync_pin.pinned FROM PUBLIC;
GRANT SELECT ON catalog_sync_pin.pinned TO catalog_sync_installer;

-- What differs between the machinery and its pin, item by item: those only
-- in the pin (gone or changed) and those only in the machinery (new or
-- changed), every one, the kinds that run code first (DBA trial, forty-fifth
-- session: "the machinery changed" named nothing, and a DBA's index on a
-- catalog sent him looking for a changed function).
CREATE FUNCTION catalog_sync_pin.differences()
RETURNS TABLE (side text, kind text, item text)
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH live AS (SELECT i.item FROM catalog_sync_pin.items() AS i (item)),
    pinned AS (SELECT DISTINCT u.item FROM catalog_sync_pin.pinned AS p, unnest(p.items) AS u (item)),
    diff (side, item) AS (
        SELECT 'not as pinned (gone or changed)', x.item FROM (SELECT item FROM pinned EXCEPT SELECT item FROM live) x
        UNION ALL
        SELECT 'not pinned (new or changed)', x.item FROM (SELECT item FROM live EXCEPT SELECT item FROM pinned) x
    )
    SELECT d.side, split_part(d.item, ' ', 1), d.item
    FROM diff AS d
    ORDER BY d.side, array_position(ARRAY['function', 'trigger', 'rule', 'policy', 'default', 'constraint', 'index',
                                          'statistics', 'operator', 'cast', 'type', 'column', 'relation'],
                                    split_part(d.item, ' ', 1)),
             d.item COLLATE "C"
$$;
REVOKE ALL ON FUNCTION catalog_sync_pin.differences() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync_pin.differences() TO catalog_sync_installer;

-- differences() said in one line, or NULL where none: per side, the count
-- by kind, then the first ten items in differences()' order (a function
-- always before a column: a change of many columns does not push a replaced
-- function out of the line; review, forty-fifth session).
CREATE FUNCTION catalog_sync_pin.changes()
RETURNS text
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH d AS (SELECT x.side, x.kind, x.item, x.n
               FROM catalog_sync_pin.differences() WITH ORDINALITY AS x (side, kind, item, n)),
    kinds AS (SELECT d.side, string_agg(d.kind || ' ' || d.count, ', ' ORDER BY d.first) AS counts, sum(d.count) AS n
              FROM (SELECT d.side, d.kind, count(*) AS count, min(d.n) AS first FROM d GROUP BY d.side, d.kind) AS d
              GROUP BY d.side),
    -- (each item as one line of at most 200 characters, its control characters,
    -- C1's included, replaced: an item's text is partly catalog_sync_owner's
    -- to choose, and escape sequences in a column default hid the line naming
    -- a replaced function on the DBA's terminal; red team, forty-fifth session)
    firsts AS (SELECT d.side, (array_agg(left(regexp_replace(d.item, '[[:cntrl:]' || chr(127) || '-' || chr(159)
                                                                     || ']', '?', 'g'), 200)
                                         ORDER BY d.n))[1:10] AS items
               FROM d GROUP BY d.side)
    SELECT string_agg(k.side || ' (' || k.n || ': ' || k.counts || '): ' || array_to_string(f.items, ' | ')
                      || CASE WHEN k.n > 10 THEN ' | ... (all: SELECT * FROM catalog_sync_pin.differences())'
                              ELSE '' END, '; ' ORDER BY k.side)
    FROM kinds AS k JOIN firsts AS f ON f.side = k.side
$$;
REVOKE ALL ON FUNCTION catalog_sync_pin.changes() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION catalog_sync_pin.changes() TO catalog_sync_installer;

-- Pins the machinery as it is now: the end of every install and upgrade.
CREATE FUNCTION catalog_sync_pin.pin()
RETURNS text
LANGUAGE sql
SET search_path = pg_catalog, pg_temp
AS $$
    DELETE FROM catalog_sync_pin.pinned;
    INSERT INTO catalog_sync_pin.pinned (fingerprint, items)
    SELECT catalog_sync_pin.fingerprint(),
           ARRAY(SELECT i.item FROM catalog_sync_pin.items() AS i (item) ORDER BY i.item COLLATE "C")
    RETURNING fingerprint;
$$;
REVOKE ALL ON FUNCTION catalog_sync_pin.pin() FROM PUBLIC;

SELECT catalog_sync_pin.pin();
