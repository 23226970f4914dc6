"""Attack tests under the strongest threat model of issue 4: a per-tenant LOGIN role
(`tenant_acme_owner`) that OWNS its schema and every table in it and runs arbitrary
SQL there (functions, operators, casts, types, temp objects, triggers, RLS, rules,
views, DDL on its own tables).

Every test keeps a canary: an eligible job of tenant_globex, written by the
application role, whose catalog row (every column and its xmin) must be unchanged
after the attack. Where code execution is the risk, the attacker's code is
`tenant_acme.evil()`: it bumps `tenant_acme.evil_seq` (a sequence survives any
rollback) whenever it runs as anyone but the tenant itself, and then tries what
an attacker would do with the borrowed rights (overwrite other tenants' catalog
rows). `evil_any` counts every call, to show a trap is armed.

Tests marked "HOLE" or "BUG" in their docstring found a hole when they were written; each was fixed
and the test now guards the fix by asserting the secure behaviour.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from pyinstaller_tools import cli, operations, seed, sqlfiles
from tests import market
from tests.conftest import THIS_DATABASE, Db
from tests.jobs import category_id, create_tenant, insert_job, insert_jobs, update_job
from tests.test_concurrency import run_blocked, wait_until_blocked

ACME = "tenant_acme"
GLOBEX = "tenant_globex"
TENANT_ROLE = "tenant_acme_owner"

def evil_sql(schema: str, owner: str) -> str:
    """The attacker's code, created by `owner` in `schema`: evil() and its IMMUTABLE wrapper evil_const()."""
    return f"""
CREATE SEQUENCE {schema}.evil_seq;
CREATE SEQUENCE {schema}.evil_any;
GRANT USAGE, SELECT, UPDATE ON SEQUENCE {schema}.evil_seq, {schema}.evil_any TO PUBLIC;
CREATE FUNCTION {schema}.evil() RETURNS boolean
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM pg_catalog.nextval('{schema}.evil_any');
    IF current_user <> '{owner}' THEN
        PERFORM pg_catalog.nextval('{schema}.evil_seq');
        BEGIN   -- what an attacker does with borrowed rights
            UPDATE public.job_catalog SET title = 'PWNED' WHERE tenant_schema <> '{ACME}';
        EXCEPTION WHEN OTHERS THEN NULL;
        END;
    END IF;
    RETURN true;
END $$;
-- IMMUTABLE wrapper: the planner may fold it wherever it appears with constant arguments
CREATE FUNCTION {schema}.evil_const(integer) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN PERFORM {schema}.evil(); RETURN $1; END $$;
"""


EVIL_SQL = evil_sql(ACME, TENANT_ROLE)


def ident(*parts: str) -> sql.Composable:
    return sql.SQL(".").join(sql.Identifier(p) for p in parts)


def errtext(exc: psycopg.Error) -> str:
    """Everything the server sent with an error."""
    d = exc.diag
    parts = [str(exc), d.message_primary, d.message_detail, d.message_hint, d.context, d.internal_query,
             d.schema_name, d.table_name, d.column_name, d.constraint_name, d.datatype_name]
    return "\n".join(p for p in parts if p)


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@dataclass
class Arena:
    db: Db
    su: psycopg.Connection
    app: psycopg.Connection
    tenant: psycopg.Connection
    acme_id: int
    globex_id: int
    canary: dict[str, Any]
    canary_rows: list[dict[str, Any]] = field(default_factory=list)
    _extra: list[psycopg.Connection] = field(default_factory=list)

    def connect_tenant(self, autocommit: bool = True) -> psycopg.Connection:
        conn = psycopg.connect(self.db.dsn(user=TENANT_ROLE), autocommit=autocommit)
        self._extra.append(conn)
        return conn

    def globex_catalog(self) -> list[dict[str, Any]]:
        cur = self.su.cursor(row_factory=dict_row)
        return cur.execute("SELECT c.*, c.xmin::text AS row_xmin FROM public.job_catalog c "
                           "WHERE c.tenant_id = %s ORDER BY c.job_uuid", (self.globex_id,)).fetchall()

    def assert_canary(self) -> None:
        assert self.globex_catalog() == self.canary_rows, "another tenant's catalog rows changed"

    def evil_ran(self) -> bool:
        """Whether tenant code ever ran as somebody else than the tenant."""
        return bool(self.su.execute(f"SELECT is_called FROM {ACME}.evil_seq").fetchone()[0])

    def evil_armed(self) -> bool:
        return bool(self.su.execute(f"SELECT is_called FROM {ACME}.evil_any").fetchone()[0])

    def acme_row(self, job_uuid: uuid.UUID) -> dict[str, Any] | None:
        cur = self.su.cursor(row_factory=dict_row)
        return cur.execute("SELECT * FROM public.job_catalog WHERE tenant_id = %s AND job_uuid = %s",
                           (self.acme_id, job_uuid)).fetchone()

    def acme_count(self) -> int:
        return int(self.su.execute("SELECT count(*) FROM public.job_catalog WHERE tenant_id = %s",
                                   (self.acme_id,)).fetchone()[0])

    def verify_acme(self) -> list[tuple[str, str | None]]:
        rows = self.su.execute("SELECT problem, detail FROM catalog_sync.verify_tenant(%s)", (self.acme_id,))
        return [(r[0], r[1]) for r in rows.fetchall()]

    def acme_triggers(self) -> dict[str, str]:
        rows = self.su.execute(
            "SELECT st.trigger_name, st.state FROM catalog_sync.attached_table a, "
            "LATERAL catalog_sync.trigger_state(a.relid, a.source_table, a.tenant_id) st WHERE a.tenant_id = %s",
            (self.acme_id,)).fetchall()
        return {r[0]: r[1] for r in rows}


def ensure_tenant_role(conn: psycopg.Connection) -> None:
    """Roles are cluster-wide and shared by every test database: create once, never fail; and as the arena
    needs it, whatever another test file made of a role of that name (test_audit.py makes it a member of
    catalog_reader, which has USAGE on public: run before this file, a test here failed)."""
    conn.execute(f"""DO $$ DECLARE r regrole; BEGIN
        BEGIN
            CREATE ROLE {TENANT_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END;
        ALTER ROLE {TENANT_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION;
        FOR r IN SELECT m.roleid::regrole FROM pg_auth_members m WHERE m.member = '{TENANT_ROLE}'::regrole LOOP
            EXECUTE format('REVOKE %s FROM {TENANT_ROLE}', r);
        END LOOP;
    END $$""")


def hand_schema_to_tenant(conn: psycopg.Connection, schema: str, role: str) -> None:
    """The tenant role owns the schema, every table and every sequence in it."""
    conn.execute(sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(sql.Identifier(schema), sql.Identifier(role)))
    tables = conn.execute("SELECT c.relname FROM pg_class c WHERE c.relnamespace = %s::regnamespace "
                          "AND c.relkind IN ('r', 'p') ORDER BY 1", (schema,)).fetchall()
    for (name,) in tables:     # owned sequences and indexes follow their table
        conn.execute(sql.SQL("ALTER TABLE {} OWNER TO {}").format(ident(schema, name), sql.Identifier(role)))
    sequences = conn.execute("SELECT c.relname FROM pg_class c WHERE c.relnamespace = %s::regnamespace "
                             "AND c.relkind = 'S' AND c.relowner <> %s::regrole ORDER BY 1", (schema, role)).fetchall()
    for (name,) in sequences:
        conn.execute(sql.SQL("ALTER SEQUENCE {} OWNER TO {}").format(ident(schema, name), sql.Identifier(role)))


@pytest.fixture
def arena(db: Db, conn: psycopg.Connection, app: psycopg.Connection) -> Iterator[Arena]:
    ensure_tenant_role(conn)
    hand_schema_to_tenant(conn, ACME, TENANT_ROLE)
    # Re-attach as the superuser: it may create triggers on any table, and this
    # re-checks the grants the machinery needs after the change of owner.
    conn.execute("SELECT * FROM catalog_sync.attach_schema(%s)", (ACME,))
    canary = insert_job(app, GLOBEX, internal_notes=f"GLOBEX-SECRET-{uuid.uuid4().hex[:8]}",
                        hiring_manager_email="globex-hm@globex.example")
    tenant = psycopg.connect(db.dsn(user=TENANT_ROLE), autocommit=True)
    tenant.execute(EVIL_SQL)
    a = Arena(db=db, su=conn, app=app, tenant=tenant, acme_id=db.tenant_id(ACME), globex_id=db.tenant_id(GLOBEX),
              canary=canary)
    a.canary_rows = a.globex_catalog()
    assert len(a.canary_rows) == 1 and a.canary_rows[0]["title"] == canary["title"]
    assert conn.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = %s",
                        (TENANT_ROLE,)).fetchone() == (False,)
    assert not a.evil_ran()
    try:
        yield a
    finally:
        for c in (tenant, *a._extra):
            c.close()


# ------------------------------------------------------------------ search_path capture

FUNCTION_TRAPS: list[tuple[str, str, str, str]] = [
    # name, argument types, result type, the real call
    ("lower", "text", "text", "pg_catalog.lower($1)"),
    ("upper", "text", "text", "pg_catalog.upper($1)"),
    ("length", "text", "integer", "pg_catalog.length($1)"),
    ("btrim", "text", "text", "pg_catalog.btrim($1)"),
    ("md5", "text", "text", "pg_catalog.md5($1)"),
    ("replace", "text, text, text", "text", "pg_catalog.replace($1, $2, $3)"),
    ("regexp_replace", "text, text, text, text", "text", "pg_catalog.regexp_replace($1, $2, $3, $4)"),
    ("regexp_replace", "text, text, text", "text", "pg_catalog.regexp_replace($1, $2, $3)"),
    ("left", "text, integer", "text", "pg_catalog.left($1, $2)"),
    ("substr", "text, integer, integer", "text", "pg_catalog.substr($1, $2, $3)"),
    ("quote_ident", "text", "text", "pg_catalog.quote_ident($1)"),
    ("quote_literal", "text", "text", "pg_catalog.quote_literal($1)"),
    ("format", "text", "text", "pg_catalog.format($1)"),
    ("format", "text, text", "text", "pg_catalog.format($1, $2)"),
    ("format", "text, text, text", "text", "pg_catalog.format($1, $2, $3)"),
    ("concat_ws", "text, text, text", "text", "pg_catalog.concat_ws($1, $2, $3)"),
    ("jsonb_typeof", "jsonb", "text", "pg_catalog.jsonb_typeof($1)"),
    ("jsonb_build_object", "text, text", "jsonb", "pg_catalog.jsonb_build_object($1, $2)"),
    ("to_jsonb", "text", "jsonb", "pg_catalog.to_jsonb($1)"),
    ("now", "", "timestamp with time zone", "pg_catalog.now()"),
    ("clock_timestamp", "", "timestamp with time zone", "pg_catalog.clock_timestamp()"),
    ("cardinality", "bigint[]", "integer", "pg_catalog.cardinality($1)"),
    ("array_to_string", "text[], text", "text", "pg_catalog.array_to_string($1, $2)"),
    ("hashtextextended", "text, bigint", "bigint", "pg_catalog.hashtextextended($1, $2)"),
    ("hashtextextended", "text, integer", "bigint", "pg_catalog.hashtextextended($1, $2)"),
    ("format_type", "oid, integer", "text", "pg_catalog.format_type($1, $2)"),
    ("convert_to", "text, name", "bytea", "pg_catalog.convert_to($1, $2)"),
    ("obj_description", "oid, name", "text", "pg_catalog.obj_description($1, $2)"),
    ("to_tsvector", "regconfig, text", "tsvector", "pg_catalog.to_tsvector($1, $2)"),
    ("setweight", 'tsvector, "char"', "tsvector", "pg_catalog.setweight($1, $2)"),
    # the machinery's own names, unqualified: a captured sanitizer would publish raw HTML
    ("sanitize_html", "text", "text", "$1"),
    ("safe_url", "text", "text", "$1"),
    ("contract_matches", "oid[], name[]", "boolean", "true"),
    ("qualified_name", "oid", "text", "NULL"),
    ("lock_key", "bigint, text, bigint", "bigint", "0"),
    ("tenant_lock_space", "bigint", "integer", "0"),
    ("parent_lock_key", "text, bigint", "integer", "0"),
]
SETOF_TRAPS = [("unnest", t) for t in ("bigint[]", "integer[]", "text[]", "uuid[]", "name[]")]
VOID_TRAPS = ["pg_advisory_xact_lock", "pg_advisory_xact_lock_shared"]
OPERATOR_TRAPS: list[tuple[str, str, str]] = [
    ("=", "text", "text"), ("=", "character varying", "text"), ("=", "text", "character varying"),
    ("=", "character varying", "character varying"), ("=", "bigint", "bigint"), ("=", "bigint", "integer"),
    ("=", "integer", "integer"), ("=", "uuid", "uuid"), ("=", "name", "name"), ("=", "name", "text"),
    ("=", "oid", "oid"), ("=", "jsonb", "jsonb"), ("=", "boolean", "boolean"),
    ("=", "timestamp with time zone", "timestamp with time zone"),
    ("<>", "text", "text"), ("<>", "name", "name"), ("<>", "oid", "oid"), ("<>", "bigint", "bigint"),
    ("~", "text", "text"), ("&", "integer", "integer"), ("||", "text", "text"), ("->>", "jsonb", "text"),
    (">", "timestamp with time zone", "timestamp with time zone"),
    ("<=", "timestamp with time zone", "timestamp with time zone"),
    (">=", "oid", "integer"), ("<", "integer", "integer"), (">", "integer", "integer"), ("%", "bigint", "bigint"),
    # no exact match in pg_catalog (its || are anycompatiblearray's and textanycat): the tenant's wins wherever its
    # schema is on the path; sync_providers() concatenates arrays, and lock_key() concatenated text and bigint on
    # every sync write until the thirty-first session (its inlined body now calls pg_catalog hash functions only)
    # (review, twenty-sixth session: the job trigger leaves its schema on the path for one statement)
    ("||", "bigint[]", "bigint[]"), ("||", "integer[]", "integer[]"), ("||", "uuid[]", "uuid[]"),
    ("||", "text", "bigint"),
]
SHADOW_RELATIONS = ["tenant", "attached_table", "trigger_spec", "contract_column", "job_catalog", "provider_catalog",
                    "service_catalog", "tenants_tenant", "ats_jobposting", "ats_jobcategory", "ch", "p", "cat", "s",
                    "m", "cur", "x", "y", "z"]


def trap_sql(schema: str, evil: str) -> list[str]:
    """Functions, operators and aggregates named like what the machinery calls, each delegating to
    pg_catalog (so the tenant's own statements keep working) after calling `evil`."""
    head = f"SET search_path = pg_catalog, pg_temp AS $$ BEGIN PERFORM {evil}; "
    out = []
    for name, args, result, call in FUNCTION_TRAPS:
        out.append(f"CREATE FUNCTION {schema}.{name}({args}) RETURNS {result} LANGUAGE plpgsql "
                   f"{head}RETURN {call}; END $$")
    for name, args in SETOF_TRAPS:
        out.append(f"CREATE FUNCTION {schema}.{name}({args}) RETURNS SETOF {args[:-2]} LANGUAGE plpgsql "
                   f"{head}RETURN QUERY SELECT pg_catalog.{name}($1); END $$")
    for name in VOID_TRAPS:
        out.append(f"CREATE FUNCTION {schema}.{name}(bigint) RETURNS void LANGUAGE plpgsql "
                   f"{head}PERFORM pg_catalog.{name}($1); END $$")
    for i, (op, left, right) in enumerate(OPERATOR_TRAPS):
        result = left if op == "||" else {"&": "integer", "->>": "text"}.get(op, "boolean")
        out.append(f"CREATE FUNCTION {schema}.evil_op_{i}({left}, {right}) RETURNS {result} LANGUAGE plpgsql "
                   f"{head}RETURN $1 OPERATOR(pg_catalog.{op}) $2; END $$")
        out.append(f"CREATE OPERATOR {schema}.{op} (LEFTARG = {left}, RIGHTARG = {right}, "
                   f"FUNCTION = {schema}.evil_op_{i})")
    return out


def test_function_and_operator_capture_via_search_path(arena: Arena) -> None:
    """Look-alike functions, operators, aggregates, temp relations, types and domains in the tenant schema, in
    pg_temp and (through the application role, the only one that may) in public, all first on the
    tenant's search_path: the sync never calls them and publishes exactly the projection."""
    t, su = arena.tenant, arena.su
    su.execute("SET search_path = pg_catalog, pg_temp")
    for stmt in trap_sql(ACME, f"{ACME}.evil()"):
        t.execute(stmt)
    for stmt in trap_sql("pg_temp", f"{ACME}.evil()"):
        t.execute(stmt)
    t.execute(f"""CREATE FUNCTION {ACME}.evil_step(bigint[], bigint) RETURNS bigint[] LANGUAGE plpgsql
                  SET search_path = pg_catalog, pg_temp AS $$ BEGIN PERFORM {ACME}.evil(); RETURN $1 || $2; END $$""")
    t.execute(f"CREATE AGGREGATE {ACME}.array_agg(bigint) (SFUNC = {ACME}.evil_step, STYPE = bigint[])")
    t.execute(f"""CREATE FUNCTION {ACME}.evil_sstep(text, text, text) RETURNS text LANGUAGE plpgsql
                  SET search_path = pg_catalog, pg_temp AS $$
                  BEGIN PERFORM {ACME}.evil(); RETURN coalesce($1 || $3, '') || $2; END $$""")
    t.execute(f"CREATE AGGREGATE {ACME}.string_agg(text, text) (SFUNC = {ACME}.evil_sstep, STYPE = text)")
    # (the marketplace's single-row reads aggregate categories and skills with jsonb_agg)
    t.execute(f"""CREATE FUNCTION {ACME}.evil_jstep(jsonb, text) RETURNS jsonb LANGUAGE plpgsql
                  SET search_path = pg_catalog, pg_temp AS $$
                  BEGIN PERFORM {ACME}.evil(); RETURN coalesce($1, '[]') || pg_catalog.to_jsonb($2); END $$""")
    t.execute(f"CREATE AGGREGATE {ACME}.jsonb_agg(text) (SFUNC = {ACME}.evil_jstep, STYPE = jsonb)")
    for name in SHADOW_RELATIONS:
        t.execute(f"CREATE TEMP VIEW {name} AS SELECT {ACME}.evil() AS evil")
    t.execute("CREATE TYPE pg_temp.job_source AS (evil boolean)")
    # Types named like those the reader casts to: a single-row write reads its jobs with the
    # tenant's schema on the search_path (job_sources(), after pg_catalog).
    for name in ("text", "uuid", "jsonb"):
        t.execute(f"CREATE DOMAIN {ACME}.{name} AS pg_catalog.{name} CHECK ({ACME}.evil())")

    # public: the tenant may not create there (PostgreSQL 15 default) ...
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        t.execute("CREATE FUNCTION public.lower(text) RETURNS text LANGUAGE sql AS 'SELECT $1'")
    # ... but the application role may: its look-alikes must not be called either.
    arena.app.execute("CREATE SEQUENCE public.app_trap_seq")
    arena.app.execute("GRANT USAGE, SELECT, UPDATE ON SEQUENCE public.app_trap_seq TO PUBLIC")
    arena.app.execute(f"""CREATE FUNCTION public.app_trap() RETURNS boolean LANGUAGE plpgsql
        SET search_path = pg_catalog, pg_temp AS $$
        BEGIN
            IF current_user NOT IN ('zumodra_app', '{TENANT_ROLE}') THEN
                PERFORM pg_catalog.nextval('public.app_trap_seq');
            END IF;
            RETURN true;
        END $$""")
    for stmt in trap_sql("public", "public.app_trap()"):
        arena.app.execute(stmt)

    t.execute(f"SET search_path = {ACME}, pg_temp, public, pg_catalog")
    assert t.execute("SELECT lower('X'), 'a'::text = 'a'::text").fetchone() == ("x", True)
    assert arena.evil_armed() and not arena.evil_ran()

    cat = category_id(t, ACME)
    jobs = insert_jobs(t, ACME, [
        {"description": '<p onclick="x()">Hi</p><script>alert(1)</script>', "category_id": cat},
        {"title": "Second"},
        {"title": "Third", "published_on_career_page": False},
    ])
    update_job(t, ACME, jobs[0]["id"], title="Renamed", description='<a href="javascript:alert(1)">y</a><b>ok</b>')
    update_job(t, ACME, jobs[1]["id"], published_on_career_page=False)
    t.execute(f"UPDATE {ACME}.ats_jobcategory SET name = 'Renamed category' WHERE id = %s", (cat,))
    t.execute(f"DELETE FROM {ACME}.ats_jobposting WHERE id = %s", (jobs[2]["id"],))
    # a uuid handed on within one statement: the trigger projects the row that holds it (uuid_holders())
    handed = insert_jobs(t, ACME, [{"title": "Handed on"}, {"title": "Gone"}])
    t.execute(f"WITH d AS (DELETE FROM {ACME}.ats_jobposting WHERE id = %s RETURNING uuid) "
              f"UPDATE {ACME}.ats_jobposting SET uuid = (SELECT uuid FROM d) WHERE id = %s",
              (handed[1]["id"], handed[0]["id"]))
    # the marketplace's writes, each a statement of one row (their reads are static SQL too)
    m = seed_market(t)
    provider, svc_category, skill, service = m.provider, m.category, m.skill, m.service
    market.update_provider(t, ACME, provider["id"], display_name="Renamed provider")
    market.update_service(t, ACME, service["id"], title="Renamed service")

    assert not arena.evil_ran(), "a look-alike of the tenant ran inside the machinery"
    assert not su.execute("SELECT is_called FROM public.app_trap_seq").fetchone()[0], \
        "a look-alike in public ran inside the machinery"
    row = arena.acme_row(jobs[0]["uuid"])
    assert row is not None and row["title"] == "Renamed" and row["category_name"] == "Renamed category"
    assert 'href="javascript' not in row["description"] and "<b>ok</b>" in row["description"]
    assert arena.acme_row(jobs[1]["uuid"]) is None
    took_over = arena.acme_row(handed[1]["uuid"])
    assert took_over is not None and took_over["title"] == "Handed on"
    assert arena.acme_count() == 2
    published = market.provider_row(su, provider["uuid"])
    assert published is not None and published["display_name"] == "Renamed provider"
    assert published["category_names"] == [svc_category["name"]]
    assert [s["name"] for s in published["skills_data"]] == [skill["name"]]
    listed = market.service_row(su, service["uuid"])
    assert listed is not None and (listed["title"], listed["provider_display_name"]) == (
        "Renamed service", "Renamed provider")
    assert arena.verify_acme() == []
    assert not arena.evil_ran()
    # (red team, forty-second session) The installers' entry points, called by hand by a superuser whose
    # path puts the tenant's schema and public first: none of the look-alikes runs either.
    su.execute(f"SET search_path = {ACME}, public, pg_catalog, pg_temp")
    for call in ("SELECT * FROM catalog_sync.status()", "SELECT * FROM catalog_sync.status(NULL, 1)",
                 f"SELECT * FROM catalog_sync.verify_tenant({arena.acme_id})",
                 f"SELECT * FROM catalog_sync.backfill_tenant({arena.acme_id})",
                 "SELECT * FROM catalog_sync.verify_global()", "SELECT * FROM catalog_sync.audit()",
                 "SELECT * FROM catalog_sync.tenant_schemas()",
                 f"SELECT * FROM catalog_sync.schema_problems(ARRAY['{ACME}'])"):
        su.execute(call).fetchall()
    su.execute("SET search_path = pg_catalog, pg_temp")
    assert not arena.evil_ran(), "a look-alike of the tenant ran inside an installer's entry point"
    assert not su.execute("SELECT is_called FROM public.app_trap_seq").fetchone()[0], \
        "a look-alike in public ran inside an installer's entry point"
    arena.assert_canary()


# ------------------------------------------------------------------ casts, domains, types

def box_type(box: str, inner: str, source: str) -> list[str]:
    """A tenant composite type holding one `inner` value, with casts both ways: the assignment cast
    from `source` lets the tenant's own writes go on; the implicit cast back to `inner` runs evil()."""
    return [
        f"CREATE TYPE {ACME}.{box} AS (v {inner})",
        f"""CREATE FUNCTION {ACME}.{box}_in({inner}) RETURNS {ACME}.{box} LANGUAGE plpgsql IMMUTABLE AS $$
            DECLARE r {ACME}.{box}; BEGIN r.v := $1; RETURN r; END $$""",
        f"CREATE CAST ({source} AS {ACME}.{box}) WITH FUNCTION {ACME}.{box}_in({inner}) AS ASSIGNMENT",
        f"""CREATE FUNCTION {ACME}.{box}_out({ACME}.{box}) RETURNS {inner} LANGUAGE plpgsql AS $$
            BEGIN PERFORM {ACME}.evil(); RETURN ($1).v; END $$""",
        f"CREATE CAST ({ACME}.{box} AS {inner}) WITH FUNCTION {ACME}.{box}_out({ACME}.{box}) AS IMPLICIT",
    ]


CAST_HIJACKS = {
    "enum_with_implicit_cast": [
        f"CREATE TYPE {ACME}.st AS ENUM ('open', 'draft', 'closed', 'on_hold')",
        f"""CREATE FUNCTION {ACME}.st_text({ACME}.st) RETURNS text LANGUAGE plpgsql AS $$
            BEGIN PERFORM {ACME}.evil(); RETURN pg_catalog.textin(pg_catalog.enum_out($1)); END $$""",
        f"CREATE CAST ({ACME}.st AS text) WITH FUNCTION {ACME}.st_text({ACME}.st) AS IMPLICIT",
        f"CREATE CAST ({ACME}.st AS character varying) WITH FUNCTION {ACME}.st_text({ACME}.st) AS IMPLICIT",
        f"ALTER TABLE {ACME}.ats_jobposting ALTER COLUMN status TYPE {ACME}.st USING status::text::{ACME}.st",
    ],
    "domain_with_check_calling_tenant_code": [
        f"CREATE DOMAIN {ACME}.html AS text CHECK ({ACME}.evil())",
        f"ALTER TABLE {ACME}.ats_jobposting ALTER COLUMN description TYPE {ACME}.html",
    ],
    "domain_over_the_contract_type": [
        f"CREATE DOMAIN {ACME}.title200 AS character varying(200) CHECK ({ACME}.evil())",
        f"ALTER TABLE {ACME}.ats_jobposting ALTER COLUMN title TYPE {ACME}.title200",
    ],
    "composite_with_implicit_cast": [
        f"CREATE TYPE {ACME}.boxed AS (v text)",
        f"""CREATE FUNCTION {ACME}.unbox({ACME}.boxed) RETURNS character varying LANGUAGE plpgsql AS $$
            BEGIN PERFORM {ACME}.evil(); RETURN ($1).v; END $$""",
        f"CREATE CAST ({ACME}.boxed AS character varying) WITH FUNCTION {ACME}.unbox({ACME}.boxed) AS IMPLICIT",
        f"CREATE CAST ({ACME}.boxed AS text) WITH FUNCTION {ACME}.unbox({ACME}.boxed) AS IMPLICIT",
        f"ALTER TABLE {ACME}.ats_jobposting ALTER COLUMN title TYPE {ACME}.boxed USING ROW(title)::{ACME}.boxed",
    ],
    "non_default_collation": [
        f'ALTER TABLE {ACME}.ats_jobposting ALTER COLUMN title TYPE character varying(200) COLLATE "C"',
    ],
    # A typed table's columns follow its composite type: ALTER TYPE ... CASCADE changes them without
    # an ALTER TABLE of the table (no event trigger reports the table).
    "typed_table_altered_through_its_type": [
        f"""DO $$ DECLARE c text; BEGIN
              SELECT string_agg(format('%I %s', attname, format_type(atttypid, atttypmod)), ', ' ORDER BY attnum)
              INTO c FROM pg_attribute
              WHERE attrelid = '{ACME}.ats_jobposting'::regclass AND attnum > 0 AND NOT attisdropped;
              EXECUTE 'CREATE TYPE {ACME}.jp AS (' || c || ')'; END $$""",
        f"ALTER TABLE {ACME}.ats_jobposting OF {ACME}.jp",
        *box_type("boxed", "text", "character varying"),
        f"ALTER TYPE {ACME}.jp ALTER ATTRIBUTE title TYPE {ACME}.boxed CASCADE",
    ],
    "category_enum_with_implicit_cast": [
        f"CREATE TYPE {ACME}.cn AS ENUM ('Category 1', 'Category 2', 'Category 3')",
        f"""CREATE FUNCTION {ACME}.cn_text({ACME}.cn) RETURNS text LANGUAGE plpgsql AS $$
            BEGIN PERFORM {ACME}.evil(); RETURN pg_catalog.textin(pg_catalog.enum_out($1)); END $$""",
        f"CREATE CAST ({ACME}.cn AS text) WITH FUNCTION {ACME}.cn_text({ACME}.cn) AS IMPLICIT",
        f"ALTER TABLE {ACME}.ats_jobcategory ALTER COLUMN name TYPE {ACME}.cn USING name::text::{ACME}.cn",
    ],
}


def hijack_then_write_refused(t: psycopg.Connection, hijack: str, job_id: int) -> None:
    """Run the hijack as the tenant, then an UPDATE and a DELETE of the job: each fails closed."""
    for stmt in CAST_HIJACKS[hijack]:
        t.execute(stmt)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="contract"):
        t.execute(f"UPDATE {ACME}.ats_jobposting SET published_on_career_page = false WHERE id = %s", (job_id,))
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="contract"):
        t.execute(f"DELETE FROM {ACME}.ats_jobposting WHERE id = %s", (job_id,))


@pytest.mark.parametrize("hijack", list(CAST_HIJACKS))
def test_cast_and_domain_hijack_after_alter_column_type(arena: Arena, hijack: str,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """After ALTER COLUMN TYPE to a tenant type (or collation), every sync read fails closed before a
    NEW/OLD value is read: the tenant's cast or domain check never runs as the definer or superuser."""
    t = arena.tenant
    job = insert_job(t, ACME, category_id=category_id(t, ACME))
    before = arena.acme_row(job["uuid"])
    hijack_then_write_refused(t, hijack, job["id"])
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="contract"):
        arena.su.execute("SELECT * FROM catalog_sync.backfill_tenant(%s)", (arena.acme_id,))
    assert any(p == "contract" for p, _ in arena.verify_acme())
    code, out, _ = run_cli(capsys, "verify", "--dsn", arena.db.dsn())
    assert code == 1 and "contract" in out
    # Repair fixes what it can and leaves this tenant alone: drift remains, exit 1.
    code, out, _ = run_cli(capsys, "verify", "--repair", "--dsn", arena.db.dsn())
    assert code == 1 and "not repaired" in out and "contract" in out
    assert arena.acme_row(job["uuid"]) == before
    assert not arena.evil_ran(), "the tenant's cast or domain check ran inside the machinery"
    arena.assert_canary()


# A marketplace table's column made a tenant enum with an implicit cast to text and varchar: the
# write's trigger must refuse it before it reads a transition row (guard()'s check).
MARKET_HIJACKS = {
    "services_service": ("pricing_type", "'fixed', 'hourly'", "title = 'Renamed'"),
    "services_serviceprovider": ("provider_type", "'individual', 'agency'", "display_name = 'Renamed'"),
    "services_servicecategory": ("name", None, "slug = slug || '-x'"),
}


@pytest.mark.parametrize("table", list(MARKET_HIJACKS))
def test_a_type_hijack_of_a_marketplace_table_fails_closed(arena: Arena, table: str) -> None:
    """(mutation test, thirty-ninth session) With guard()'s contract check of the marketplace tables
    removed, every test passed: the triggers of the service, provider and category tables would have
    read the transition rows through the tenant's cast, as the definer."""
    t = arena.tenant
    provider = market.insert_provider(t, ACME)
    category = market.insert_service_category(t, ACME)
    service = market.insert_service(t, ACME, provider["id"], category_id=category["id"])
    row_id = {"services_service": service["id"], "services_serviceprovider": provider["id"],
              "services_servicecategory": category["id"]}[table]
    column, labels, change = MARKET_HIJACKS[table]
    if labels is None:      # the enum's labels: the column's values
        labels = t.execute(f"SELECT string_agg(DISTINCT quote_literal({column}), ', ') FROM {ACME}.{table}"
                           ).fetchone()[0]
    t.execute(f"CREATE TYPE {ACME}.hijack AS ENUM ({labels})")
    t.execute(f"""CREATE FUNCTION {ACME}.hijack_text({ACME}.hijack) RETURNS text LANGUAGE plpgsql AS $$
                  BEGIN PERFORM {ACME}.evil(); RETURN pg_catalog.textin(pg_catalog.enum_out($1)); END $$""")
    for target in ("text", "character varying"):
        t.execute(f"CREATE CAST ({ACME}.hijack AS {target}) WITH FUNCTION {ACME}.hijack_text({ACME}.hijack) "
                  "AS IMPLICIT")
    t.execute(f"ALTER TABLE {ACME}.{table} ALTER COLUMN {column} TYPE {ACME}.hijack "
              f"USING {column}::text::{ACME}.hijack")
    for write in (f"UPDATE {ACME}.{table} SET {change} WHERE id = %s", f"DELETE FROM {ACME}.{table} WHERE id = %s"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="contract"):
            t.execute(write, (row_id,))
    assert not arena.evil_ran(), "the tenant's cast ran inside the machinery"
    arena.assert_canary()


def test_a_hijack_of_a_renamed_job_table_fails_closed(arena: Arena) -> None:
    """(mutation test, thirty-ninth session) The job trigger's cached check names the table ats_jobposting;
    a registered table under another name is checked explicitly. With that explicit check skipped, every
    test passed: the tenant renames its table, then makes a column its own type with an implicit cast,
    which the trigger's change detection would run as the definer."""
    t = arena.tenant
    job = insert_job(t, ACME)
    t.execute(f"ALTER TABLE {ACME}.ats_jobposting RENAME TO jobs_renamed")
    for stmt in CAST_HIJACKS["enum_with_implicit_cast"]:
        t.execute(stmt.replace(f"{ACME}.ats_jobposting", f"{ACME}.jobs_renamed"))
    for write in (f"UPDATE {ACME}.jobs_renamed SET title = 'Renamed' WHERE id = %s",
                  f"DELETE FROM {ACME}.jobs_renamed WHERE id = %s"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="contract"):
            t.execute(write, (job["id"],))
    assert not arena.evil_ran(), "the tenant's cast ran inside the machinery"
    arena.assert_canary()


@pytest.mark.parametrize("hijack", [h for h in CAST_HIJACKS if not h.startswith("category")])
def test_hijack_after_the_triggers_cached_their_check_fails_closed(arena: Arena, hijack: str) -> None:
    """The job triggers' own contract check is folded into a plan each trigger caches for the session
    (on_job_change()). Here the UPDATE and DELETE triggers ran, and cached it, before the column
    changed, on the same connection: the change must make each check again, and fail closed."""
    t = arena.tenant
    job = insert_job(t, ACME, category_id=category_id(t, ACME))
    spare = insert_job(t, ACME)
    t.execute(f"UPDATE {ACME}.ats_jobposting SET title = 'Cached' WHERE id = %s", (job["id"],))
    t.execute(f"DELETE FROM {ACME}.ats_jobposting WHERE id = %s", (spare["id"],))
    before = arena.acme_row(job["uuid"])
    assert before is not None and before["title"] == "Cached"
    hijack_then_write_refused(t, hijack, job["id"])
    assert arena.acme_row(job["uuid"]) == before
    assert not arena.evil_ran(), "the tenant's cast or domain check ran inside the machinery"
    arena.assert_canary()


# The uuid column turned into a tenant type (see box_type()).
UUID_BOX = [
    *box_type("ubox", "uuid", "uuid"),
    f"ALTER TABLE {ACME}.ats_jobposting ALTER COLUMN uuid TYPE {ACME}.ubox USING ROW(uuid)::{ACME}.ubox",
]


@pytest.mark.parametrize("write", ["insert", "delete"])
def test_a_check_made_under_repeatable_read_is_never_cached(arena: Arena, write: str) -> None:
    """HOLE, fixed (found in the review of the folded trigger check). A REPEATABLE READ transaction
    took its snapshot, then the tenant changed the uuid column's type in another session. The
    trigger planned its folded check before guard() refused the isolation level: the check read
    the catalogs on the old snapshot, passed, and stayed in the cached plan, so the next
    READ COMMITTED write skipped the check and ran the tenant's cast as the definer (it read
    another tenant's secrets). The isolation level is now refused before anything is planned."""
    t = arena.tenant
    job = insert_job(t, ACME)
    w = arena.connect_tenant(autocommit=False)
    w.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    w.execute("SELECT 1")                                     # the snapshot is taken
    for stmt in UUID_BOX:
        t.execute(stmt)
    poison = (f"INSERT INTO {ACME}.ats_jobposting SELECT * FROM {ACME}.ats_jobposting WHERE false"
              if write == "insert" else f"DELETE FROM {ACME}.ats_jobposting WHERE false")
    with pytest.raises(psycopg.errors.FeatureNotSupported, match="READ COMMITTED"):
        w.execute(poison)                                     # fires the statement trigger, no row
    w.rollback()
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="contract"):
        if write == "insert":
            insert_job(w, ACME)
        else:
            w.execute(f"DELETE FROM {ACME}.ats_jobposting WHERE id = %s", (job["id"],))
    w.rollback()
    assert not arena.evil_ran(), "the tenant's cast ran as the definer"
    arena.assert_canary()


BUILT_IN_CASTS = [
    f"CREATE CAST (bigint AS text) WITH FUNCTION {ACME}.f_bigint(bigint) AS IMPLICIT",
    f"CREATE CAST (character varying AS jsonb) WITH FUNCTION {ACME}.f_varchar(character varying) AS IMPLICIT",
    "CREATE CAST (text AS uuid) WITH INOUT AS IMPLICIT",
]


def test_casts_between_built_in_types_are_refused(arena: Arena) -> None:
    """Only the owner of a type may add casts to it: a tenant cannot change how built-in types convert."""
    arena.tenant.execute(f"CREATE FUNCTION {ACME}.f_bigint(bigint) RETURNS text LANGUAGE sql AS 'SELECT $1::text'")
    arena.tenant.execute(f"CREATE FUNCTION {ACME}.f_varchar(character varying) RETURNS jsonb LANGUAGE sql "
                         "AS 'SELECT to_jsonb($1)'")
    for cast in BUILT_IN_CASTS:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            arena.tenant.execute(cast)
    arena.assert_canary()


# ------------------------------------------------------------------ planner-evaluated tenant expressions

PLANNER_HOOKS = {
    "expression_index": [f"CREATE INDEX evil_idx ON {ACME}.ats_jobposting ((id + {ACME}.evil_const(1)))"],
    "partial_index_predicate": [f"CREATE INDEX evil_idx ON {ACME}.ats_jobposting (id) "
                                f"WHERE {ACME}.evil_const(1) = 1"],
    "statistics_expression": [f"CREATE STATISTICS {ACME}.evil_st ON (id + {ACME}.evil_const(1)), title "
                              f"FROM {ACME}.ats_jobposting", f"ANALYZE {ACME}.ats_jobposting"],
    "check_constraint_with_constraint_exclusion": [
        f"ALTER TABLE {ACME}.ats_jobposting ADD CONSTRAINT evil_chk CHECK ({ACME}.evil_const(1) = 1 OR id > 0)"],
    # An index on a partitioned parent cascades to the registered table attached as its partition.
    "index_on_a_parent_cascading_to_the_table": [
        f"CREATE TABLE {ACME}.parted (LIKE {ACME}.ats_jobposting) PARTITION BY LIST (id)",
        f"ALTER TABLE {ACME}.parted ATTACH PARTITION {ACME}.ats_jobposting DEFAULT",
        f"CREATE INDEX evil_idx ON {ACME}.parted ((id + {ACME}.evil_const(1)))"],
    "category_expression_index_on_job_insert": [
        f"CREATE INDEX evil_idx ON {ACME}.ats_jobcategory ((id + {ACME}.evil_const(1)))"],
}


@pytest.mark.parametrize("hook", list(PLANNER_HOOKS))
def test_planner_never_runs_tenant_expressions_as_the_definer(arena: Arena, hook: str,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """HOLE, fixed (fixed). The contract checks column types only. Index expressions and predicates, extended statistics
    expressions and (with the tenant's own `SET constraint_exclusion = on`) CHECK constraints are
    constant-folded by the planner of whoever first plans a query on the table in a backend: in a
    fresh tenant session that is job_sources(), run as catalog_sync_owner; in `catalog-sync verify`
    it is verify_tenant(). The tenant's IMMUTABLE function then runs with the definer's rights and
    can rewrite every tenant's catalog."""
    insert_job(arena.tenant, ACME, category_id=category_id(arena.tenant, ACME))
    for stmt in PLANNER_HOOKS[hook]:
        arena.tenant.execute(stmt)
    fresh = arena.connect_tenant()                      # nothing of the tables in this backend's relcache
    if hook.startswith("check"):
        fresh.execute("SET constraint_exclusion = on")  # a session setting the definer inherits
    # Fails closed: the contract refuses a table with code the planner would evaluate. (Review of the tests,
    # forty-ninth session: a bare `except: pass` here let the contract's CHECK-constraint check go untested,
    # the definers' constraint_exclusion = partition keeping the planner off such a constraint anyway.)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="contract"):
        if hook.startswith("category"):
            insert_job(fresh, ACME)                     # category_id NULL: the definer plans the category read
        else:
            fresh.execute(f"UPDATE {ACME}.ats_jobcategory SET name = 'Renamed' WHERE slug = 'category-1'")
    code, out, err = run_cli(capsys, "verify", "--json", "--dsn", arena.db.dsn())  # a fresh superuser backend
    assert code == 1 and any(f["problem"] == "contract" and f["schema"] == ACME
                             for f in json.loads(out)["findings"]), (out, err)
    assert not arena.evil_ran(), "tenant code ran with the definer's (or the superuser's) rights"
    arena.assert_canary()


def write_while_blocked(arena: Arena, statement: Callable[[psycopg.Connection], object], waiting_sql: str,
                        waiting_params: Any, holder: psycopg.Connection,
                        meanwhile: Callable[[], object] = lambda: None) -> dict[str, Any]:
    """Run `statement` on a fresh tenant backend in a thread; once it waits (`waiting_sql` counts > 0),
    run `meanwhile`, commit `holder` (the tenant transaction it waits for) and return its outcome
    ({"ok": True} or {"error": exception})."""
    outcome: dict[str, Any] = {}

    def writer() -> None:
        with psycopg.connect(arena.db.dsn(user=TENANT_ROLE), autocommit=True) as w:
            try:
                statement(w)
                outcome["ok"] = True
            except psycopg.Error as exc:
                outcome["error"] = exc

    thread = threading.Thread(target=writer)
    thread.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if arena.su.execute(waiting_sql, waiting_params).fetchone()[0]:
            break
        time.sleep(0.02)
    else:
        holder.rollback()
        thread.join(30)
        pytest.fail("the writer never waited for the tenant's transaction")
    meanwhile()
    holder.commit()
    thread.join(30)
    assert not thread.is_alive()
    return outcome


DDL_DURING_PARENT_LOCK_WAIT = {
    "partial_index_on_category": [f"CREATE INDEX evil_idx ON {ACME}.ats_jobcategory (id) "
                                  f"WHERE {ACME}.evil_const(1) = 1"],
    "statistics_expression_on_jobs": [f"CREATE STATISTICS {ACME}.evil_st ON (id + {ACME}.evil_const(1)), title "
                                      f"FROM {ACME}.ats_jobposting", f"ANALYZE {ACME}.ats_jobposting"],
}


@pytest.mark.parametrize("ddl", list(DDL_DURING_PARENT_LOCK_WAIT))
def test_ddl_while_the_sync_waits_for_a_parent_lock(arena: Arena, ddl: str) -> None:
    """HOLE, fixed (found in review). A job write checks its tables, then waits for the shared lock on its
    category, which the tenant can hold open (its own rename of the category, uncommitted). Meanwhile
    the tenant adds an index predicate on the category table, or statistics on the job table (neither
    conflicts with the locks the write holds), and commits. The write must check again after the
    wait: it reads nothing planned over tenant code, it fails closed."""
    t = arena.tenant
    cat = category_id(t, ACME)
    job = insert_job(t, ACME, category_id=cat)
    holder = arena.connect_tenant(autocommit=False)
    holder.execute(f"UPDATE {ACME}.ats_jobcategory SET name = 'Held' WHERE id = %s", (cat,))

    def tenant_ddl() -> None:
        for stmt in DDL_DURING_PARENT_LOCK_WAIT[ddl]:
            holder.execute(stmt)

    outcome = write_while_blocked(
        arena, lambda w: update_job(w, ACME, job["id"], title="Written while waiting"),
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted" + THIS_DATABASE, (), holder,
        meanwhile=tenant_ddl)
    assert not arena.evil_ran(), "tenant code ran as the definer after the lock wait"
    assert isinstance(outcome.get("error"), psycopg.errors.InsufficientPrivilege), outcome
    arena.assert_canary()


def test_table_renamed_while_the_sync_waits_for_its_lock(arena: Arena) -> None:
    """LOCK TABLE resolves a name, and resolves it again after waiting. The tenant renames its category
    table and puts a look-alike under the old name in one open transaction; a job write waits for the
    lock and, after the commit, would have locked the look-alike while it checks and reads the real
    table (renamed, unlocked). It must notice and fail closed (55P03), publishing nothing. (Fifty-first
    session: the wait is now guard()'s, before the statement that reads; the read then finds the
    registered table renamed, locks it by OID and reads it, never the look-alike: the write syncs.)"""
    t = arena.tenant
    job = insert_job(t, ACME, category_id=category_id(t, ACME))
    before = arena.acme_row(job["uuid"])
    relid = arena.su.execute("SELECT %s::regclass::oid", (f"{ACME}.ats_jobcategory",)).fetchone()[0]
    holder = arena.connect_tenant(autocommit=False)
    holder.execute(f"ALTER TABLE {ACME}.ats_jobcategory RENAME TO real_category")
    holder.execute(f"CREATE TABLE {ACME}.ats_jobcategory (LIKE {ACME}.real_category)")
    holder.execute(f"GRANT SELECT ON {ACME}.ats_jobcategory TO catalog_sync_owner")  # so that LOCK succeeds
    outcome = write_while_blocked(
        arena, lambda w: update_job(w, ACME, job["id"], title="Written while renamed"),
        "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = %s" + THIS_DATABASE, (relid,), holder)
    assert outcome == {"ok": True}, outcome
    after = arena.acme_row(job["uuid"])     # (the look-alike is empty: read, the category would be NULL)
    assert before and before["category_name"] and after and (after["title"], after["category_name"]) == (
        "Written while renamed", before["category_name"]), after
    assert not arena.evil_ran()
    arena.assert_canary()


def test_reindex_wait_while_planning_the_read_fails_closed(arena: Arena) -> None:
    """HOLE, fixed (found in review). Every table lock of a write is held before its check, but planning
    the read also locks the tables' indexes. The tenant holds an index of the category table
    (REINDEX, in an open transaction), so the planner would wait, and meanwhile the tenant adds
    statistics over its own code and commits: the planner would run it as the definer. The read
    refuses to wait (lock_timeout 1ms): the write fails closed (55P03), nothing runs."""
    t = arena.tenant
    job = insert_job(t, ACME, category_id=category_id(t, ACME))
    holder = arena.connect_tenant(autocommit=False)
    holder.execute(f"REINDEX INDEX {ACME}.ats_jobcategory_pkey")
    writer = arena.connect_tenant()                          # a fresh backend: nothing cached
    writer.execute("SET statement_timeout = '10s'")          # without the fix it would wait for the holder
    with pytest.raises(psycopg.errors.LockNotAvailable):
        update_job(writer, ACME, job["id"], title="Planned while the index is held")
    holder.execute(f"CREATE STATISTICS {ACME}.evil_st ON (id + {ACME}.evil_const(1)), name "
                   f"FROM {ACME}.ats_jobcategory")
    holder.execute(f"ANALYZE {ACME}.ats_jobcategory")
    holder.commit()
    assert not arena.evil_ran()
    arena.assert_canary()


@pytest.mark.parametrize("entry", ["verify_tenant", "catalog-sync verify", "backfill_tenant"])
def test_reindex_wait_while_verify_or_backfill_plans_fails_closed(arena: Arena, entry: str) -> None:
    """HOLE, fixed (found in review). The same wait in the installers' entry points: verify_tenant()'s
    comparison (its 'expired' lookup on the job table) and backfill_tenant()'s row counts are
    planned after the tables are locked and checked, but planning also locks their indexes. The
    tenant holds the job table's primary key (REINDEX), the planner would wait, and meanwhile the
    tenant adds statistics over its own code: they ran as catalog_sync_owner. Both refuse to wait."""
    t = arena.tenant
    insert_job(t, ACME, category_id=category_id(t, ACME))
    holder = arena.connect_tenant(autocommit=False)
    holder.execute(f"REINDEX INDEX {ACME}.ats_jobposting_pkey")
    with psycopg.connect(arena.db.dsn(), autocommit=True) as installer:     # a fresh backend
        installer.execute("SET statement_timeout = '10s'")                  # without the fix it waits
        if entry == "catalog-sync verify":
            findings = operations.verify(installer, [operations.Tenant(arena.acme_id, ACME)])
            assert [f["problem"] for f in findings] == ["error"] and "lock timeout" in findings[0]["detail"], findings
        else:
            with pytest.raises(psycopg.errors.LockNotAvailable):
                installer.execute(f"SELECT * FROM catalog_sync.{entry}(%s)", (arena.acme_id,)).fetchall()
    holder.execute(f"CREATE STATISTICS {ACME}.evil_st ON (id + {ACME}.evil_const(1)), title "
                   f"FROM {ACME}.ats_jobposting")
    holder.execute(f"ANALYZE {ACME}.ats_jobposting")
    holder.commit()
    assert not arena.evil_ran()
    arena.assert_canary()




def _registry_entry(arena: Arena, entry: str) -> Callable[[psycopg.Connection], object]:
    """What each entry point does on a fresh backend (the writers as the tenant, the rest as an installer)."""
    from tests.market import insert_provider, insert_service, insert_service_category, link_category
    t = arena.tenant
    if entry == "job_update":
        job = insert_job(t, ACME, category_id=category_id(t, ACME))
        return lambda w: update_job(w, ACME, job["id"], title="Planned while the registry index is held")
    if entry == "provider_insert":
        return lambda w: insert_provider(w, ACME)
    if entry == "service_insert":
        provider = insert_provider(t, ACME)
        return lambda w: insert_service(w, ACME, provider["id"])
    if entry == "provider_category_link":
        provider, category = insert_provider(t, ACME), insert_service_category(t, ACME)
        return lambda w: link_category(w, ACME, provider["id"], category["id"])
    calls = {"backfill_tenant": ("SELECT * FROM catalog_sync.backfill_tenant(%s)", (arena.acme_id,)),
             "verify_global": ("SELECT * FROM catalog_sync.verify_global()", None),
             "status": ("SELECT * FROM catalog_sync.status()", None),
             # (red team, forty-second session) the keyset form the CLI calls, one tenant at a time
             "status_keyset": ("SELECT * FROM catalog_sync.status(NULL, 1)", None)}
    query, params = calls[entry]
    return lambda w: w.execute(query, params).fetchall()


@pytest.mark.parametrize("entry", ["job_update", "provider_insert", "service_insert", "provider_category_link",
                                   "backfill_tenant", "verify_global", "status", "status_keyset"])
def test_reindex_wait_on_the_registry_fails_closed(arena: Arena, entry: str) -> None:
    """HOLE, fixed (found in review). The same wait on the registry, which the application role owns:
    the projections checked it (or folded its check into their plan) and then planned their query,
    which joined public.tenants_tenant, without lock_timeout 1ms. The application holds the
    registry's primary key (REINDEX), the planner waits for it, and meanwhile the application adds
    statistics over its own code: they ran as catalog_sync_owner (and rewrote another tenant's
    catalog row) from every job and marketplace write, backfill, verify and status. The registry is
    now read only through registry_row() / registry_rows() and, on the job path, job_sources(), which
    refuse to wait."""
    with psycopg.connect(arena.db.dsn(user=seed.APP_ROLE), autocommit=True) as app:
        app.execute(evil_sql("public", seed.APP_ROLE))    # the application role's code, in public
    run = _registry_entry(arena, entry)
    holder = psycopg.connect(arena.db.dsn(user=seed.APP_ROLE), autocommit=False)
    arena._extra.append(holder)
    holder.execute("REINDEX INDEX public.tenants_tenant_pkey")
    writer = (arena.connect_tenant() if entry in ("job_update", "provider_insert", "service_insert",
                                                   "provider_category_link")
              else psycopg.connect(arena.db.dsn(), autocommit=True))       # a fresh backend: nothing cached
    arena._extra.append(writer)
    writer.execute("SET statement_timeout = '10s'")         # without the fix it would wait for the holder
    with pytest.raises(psycopg.errors.LockNotAvailable):
        run(writer)
    holder.execute("CREATE STATISTICS public.evil_registry_st ON (id + public.evil_const(1)), name "
                   "FROM public.tenants_tenant")
    holder.execute("ANALYZE public.tenants_tenant")
    holder.commit()
    assert not arena.su.execute("SELECT is_called FROM public.evil_seq").fetchone()[0], \
        "the application's code ran as another role while the sync planned a read of the registry"
    arena.assert_canary()


HELD_WAIT_DDL = {
    "statistics_on_services":
        f"CREATE STATISTICS {ACME}.evil_st ON (id + {ACME}.evil_const(1)), title FROM {ACME}.services_service",
    "index_on_providers": f"CREATE INDEX evil_idx ON {ACME}.services_serviceprovider ((id + {ACME}.evil_const(1)))",
    "partial_index_on_categories":
        f"CREATE INDEX evil_idx ON {ACME}.services_servicecategory (id) WHERE {ACME}.evil_const(1) = 1",
}


def run_through_a_held_wait(arena: Arena, queued_on: str, work: Callable[[], object], ddl: str) -> dict[str, object]:
    """The tenant, without any right on `queued_on`, holds a lock wait on it open: PREPARE holds ACCESS
    SHARE (locked while parsed, privileges are checked at execution) and CREATE RULE queues ACCESS
    EXCLUSIVE behind it (locked before the ownership check). `work` runs into that wait; meanwhile the
    tenant runs `ddl`, then lets go. Returns what the rule and `work` gave (a result or an error)."""
    holder = arena.connect_tenant(autocommit=False)
    holder.execute(f"PREPARE hold AS SELECT 1 FROM {queued_on}", prepare=False)
    queuer = arena.connect_tenant()
    queuer.execute("SET statement_timeout = '150s'")   # (outlasts both waits below on a loaded machine)
    outcome: dict[str, object] = {}

    def attempt(name: str, call: Callable[[], object]) -> threading.Thread:
        def run() -> None:
            try:
                outcome[name] = call()
            except psycopg.Error as exc:
                outcome[name] = exc
        thread = threading.Thread(target=run)
        thread.start()
        return thread

    def wait_until(query: str) -> None:
        deadline = time.monotonic() + 60
        while not arena.su.execute(query).fetchone()[0]:
            assert time.monotonic() < deadline, query
            time.sleep(0.02)

    waiting = (f"SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = '{queued_on}'::regclass"
               f"{THIS_DATABASE} AND mode ")
    rule = f"CREATE RULE evil_q AS ON INSERT TO {queued_on} DO INSTEAD NOTHING"
    queued = attempt("rule", lambda: queuer.execute(rule))
    wait_until(waiting + "= 'AccessExclusiveLock'")
    worked = attempt("work", work)
    wait_until(waiting + "<> 'AccessExclusiveLock'")                   # the work waits behind the rule
    arena.connect_tenant().execute(ddl)
    holder.rollback()
    queued.join(60)
    worked.join(60)
    assert isinstance(outcome["rule"], psycopg.errors.InsufficientPrivilege), outcome
    return outcome


@pytest.mark.parametrize("queued_on", ["public.tenants_tenant", "public.service_catalog"])
@pytest.mark.parametrize("ddl", list(HELD_WAIT_DDL))
def test_a_tenant_held_wait_after_the_service_check(arena: Arena, ddl: str, queued_on: str) -> None:
    """HOLE, fixed (review, ninth session). on_service_change checked its three tables, then waited:
    project_services() locked the registry (registry_row()), the apply statement the catalog, before
    the reader, told by the filter 'changed_ids' that the tables were checked, planned its read. The
    tenant held such a wait open (run_through_a_held_wait) and added statistics or an index over its
    own code: they ran as the definer. The reader now checks right before it plans, after every wait."""
    from tests.market import insert_provider, insert_service, insert_service_category, update_service

    t = arena.tenant
    provider = insert_provider(t, ACME)
    category = insert_service_category(t, ACME)
    service = insert_service(t, ACME, provider["id"], category_id=category["id"])
    writer = arena.connect_tenant()
    writer.execute("SET statement_timeout = '20s'")
    outcome = run_through_a_held_wait(
        arena, queued_on, lambda: update_service(writer, ACME, service["id"], title="Written while queued"),
        HELD_WAIT_DDL[ddl])
    assert not arena.evil_ran(), f"tenant code ran as catalog_sync_owner (writer: {outcome['work']!r})"
    arena.assert_canary()


@pytest.mark.parametrize("queued_on", ["public.tenants_tenant", "public.job_catalog"])
def test_a_tenant_held_wait_inside_a_backfill(arena: Arena, queued_on: str) -> None:
    """HOLE, fixed (ninth session, found looking for the pattern above). backfill_tenant() checks the
    tenant's tables once, then, per catalog, plans a count of the source table: the count of providers
    came after the jobs' refresh, which waits for the registry and the job catalog. An index the tenant
    added during such a wait was folded by that count's planner as the definer. Each count is now
    preceded by a check of its table."""
    from tests.market import insert_provider

    insert_provider(arena.tenant, ACME)
    installer = psycopg.connect(arena.db.dsn(), autocommit=True)
    arena._extra.append(installer)
    installer.execute("SET statement_timeout = '20s'")
    outcome = run_through_a_held_wait(
        arena, queued_on,
        lambda: installer.execute("SELECT * FROM catalog_sync.backfill_tenant(%s)", (arena.acme_id,)).fetchall(),
        HELD_WAIT_DDL["index_on_providers"])
    assert not arena.evil_ran(), f"tenant code ran as catalog_sync_owner (backfill: {outcome['work']!r})"
    arena.assert_canary()


UUID_KEYS = {table: f"{table}_uuid_key" for table in ("ats_jobposting", "services_serviceprovider", "services_service")}
UUID_KEY_CHANGES = {
    "dropped": ["ALTER TABLE {t} DROP CONSTRAINT {k}"],
    "made_deferrable": ["ALTER TABLE {t} DROP CONSTRAINT {k}",
                        "ALTER TABLE {t} ADD CONSTRAINT {k} UNIQUE (uuid) DEFERRABLE INITIALLY DEFERRED"],
    "made_partial": ["ALTER TABLE {t} DROP CONSTRAINT {k}",
                     "CREATE UNIQUE INDEX {k} ON {t} (uuid) WHERE id > 0"],
}


@pytest.mark.parametrize("change", list(UUID_KEY_CHANGES))
@pytest.mark.parametrize("table", list(UUID_KEYS))
def test_a_table_without_its_uuid_key_fails_closed(arena: Arena, table: str, change: str) -> None:
    """HOLE, fixed (red team, eighteenth session). The sync tolerated duplicate uuids (the tenant dropped
    the unique constraint): it projected every holder of a uuid, but from its own snapshot, without a
    lock. Two transactions that moved a uuid at once each synced without the other's change: a public
    job went missing from the catalog, and a job made internal-only stayed public (verify: drift).
    (Earlier sessions' tests here swapped uuids in one statement, gave a public job's uuid to a private
    one, or passed it on from a row trigger under a deferrable key.) The contract now requires the
    unique key (immediate, valid, not partial), which makes a transaction that takes a uuid wait for
    the one that gives it up; without it, every write fails closed."""
    from tests.market import insert_provider, insert_service

    t = arena.tenant
    if table == "ats_jobposting":
        row = insert_job(t, ACME)
    else:
        provider = insert_provider(t, ACME)
        row = provider if table == "services_serviceprovider" else insert_service(t, ACME, provider["id"])
    for statement in UUID_KEY_CHANGES[change]:
        t.execute(sql.SQL(statement).format(t=ident(ACME, table), k=sql.Identifier(UUID_KEYS[table])))
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="unique index on uuid"):
        t.execute(sql.SQL("UPDATE {} SET uuid = gen_random_uuid() WHERE id = %s").format(ident(ACME, table)),
                  (row["id"],))
    problems = arena.su.execute("SELECT * FROM catalog_sync.contract_problems(%s::regclass, %s)",
                                (f"{ACME}.{table}", table)).fetchall()
    assert len(problems) == 1 and "unique index on uuid" in problems[0][0], problems
    arena.assert_canary()


def test_a_uuid_moved_by_two_transactions_at_once_stays_in_sync(arena: Arena) -> None:
    """(red team, eighteenth session) One transaction gives a public job's uuid up, another gives it to
    a second public job, at once: with the unique key, the second waits for the first, and the
    catalog follows both (it lost the job before the key was required)."""
    t = arena.tenant
    first, second = insert_jobs(t, ACME, [{}, {}])
    giver = arena.connect_tenant(autocommit=False)
    giver.execute(f"UPDATE {ACME}.ats_jobposting SET uuid = gen_random_uuid() WHERE id = %s", (first["id"],))
    outcome = write_while_blocked(
        arena, lambda w: w.execute(f"UPDATE {ACME}.ats_jobposting SET uuid = %s WHERE id = %s",
                                   (first["uuid"], second["id"])),
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND usename = %s "
        "AND wait_event_type = 'Lock'", (TENANT_ROLE,), giver)
    assert outcome == {"ok": True}, outcome
    giver.close()
    assert arena.acme_row(second["uuid"]) is None
    assert arena.acme_row(first["uuid"]) is not None
    assert arena.verify_acme() == []
    arena.assert_canary()


def test_closing_public_to_tenants_stops_the_registry_lock_queue(arena: Arena) -> None:
    """A lock queued on the registry (PREPARE, then CREATE RULE, both locking before any privilege
    check) would stall every reader of it: security.md's Limits. The documented remedy, USAGE on
    public for the roles that need it only, makes the tenant's name lookup fail before it locks,
    and the sync keeps working for the tenant."""
    from tests.market import insert_provider, provider_row

    arena.su.execute("REVOKE USAGE ON SCHEMA public FROM PUBLIC")
    arena.su.execute(f"GRANT USAGE ON SCHEMA public TO {seed.APP_ROLE}, catalog_reader, catalog_sync_owner, "
                     "catalog_sync_installer")
    try:
        holder = arena.connect_tenant(autocommit=False)
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="schema public"):
            holder.execute("PREPARE hold_registry AS SELECT 1 FROM public.tenants_tenant", prepare=False)
        holder.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="schema public"):
            arena.tenant.execute("CREATE RULE q AS ON INSERT TO public.tenants_tenant DO INSTEAD NOTHING")
        provider = insert_provider(arena.tenant, ACME)
        assert provider_row(arena.su, provider["uuid"]) is not None
        assert arena.verify_acme() == []
    finally:
        arena.su.execute("GRANT USAGE ON SCHEMA public TO PUBLIC")
    arena.assert_canary()


def test_writes_outside_read_committed_are_refused(arena: Arena) -> None:
    """HOLE, fixed (found in review). The contract checks read pg_catalog with the statement's snapshot;
    under REPEATABLE READ that is the transaction's first, older than what the planner sees. The
    tenant takes a snapshot, adds an index over its own code from another session, then writes:
    the check would pass on the old snapshot and the planner run the new index as the definer.
    Sync triggers refuse any isolation level but READ COMMITTED."""
    t = arena.tenant
    job = insert_job(t, ACME, category_id=category_id(t, ACME))
    for level in ("REPEATABLE READ", "SERIALIZABLE"):
        w = arena.connect_tenant(autocommit=False)
        w.execute(f"SET TRANSACTION ISOLATION LEVEL {level}")
        w.execute("SELECT 1")                                # the snapshot is taken
        t.execute(f"CREATE INDEX evil_idx ON {ACME}.ats_jobcategory (id) WHERE {ACME}.evil_const(1) = 1")
        with pytest.raises(psycopg.errors.FeatureNotSupported, match="READ COMMITTED"):
            update_job(w, ACME, job["id"], title=f"Written in {level}")
        w.rollback()
        t.execute(f"DROP INDEX {ACME}.evil_idx")
    assert not arena.evil_ran()
    arena.assert_canary()


@pytest.mark.parametrize("call", [
    "SELECT catalog_sync.purge_tenant(999999)",
    "SELECT * FROM catalog_sync.schema_registration('tenant_acme')",
    "SELECT * FROM catalog_sync.tenant_schemas()",
    "SELECT * FROM catalog_sync.verify_global()",
    "SELECT * FROM catalog_sync.attached_relids('tenant_acme')",
    "SELECT * FROM catalog_sync.audit()",
], ids=["purge_tenant", "schema_registration", "tenant_schemas", "verify_global", "attached_relids", "audit"])
def test_installer_reads_of_the_registry_outside_read_committed_are_refused(arena: Arena, call: str) -> None:
    """HOLE, fixed (review, twenty-fifth session). The installers' functions that read the registry
    (purge_tenant(), schema_registration(), ...) did not refuse REPEATABLE READ: an installer's session
    took its snapshot, the application (the registry's owner) committed an index over its own code, and
    the call's contract check passed on the old snapshot while the planner ran the index's code as
    catalog_sync_owner. Every read of the registry for installers now goes through assert_registry(),
    which refuses any isolation level but READ COMMITTED, as the sync triggers do."""
    with psycopg.connect(arena.db.dsn(user=seed.APP_ROLE), autocommit=True) as app:
        app.execute(evil_sql("public", seed.APP_ROLE))    # the application role's code, in public
        installer = psycopg.connect(arena.db.dsn(), autocommit=False)
        arena._extra.append(installer)
        installer.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        installer.execute("SELECT 1")                   # the snapshot is taken
        app.execute("CREATE INDEX evil_registry_idx ON public.tenants_tenant ((id + public.evil_const(1)))")
        with pytest.raises(psycopg.errors.FeatureNotSupported, match="READ COMMITTED"):
            installer.execute(call)
        installer.rollback()
        if "audit" in call:                             # READ COMMITTED: audit reports the index ...
            found = installer.execute(call).fetchall()
            assert any("tenants_tenant" in str(row) for row in found), found
        else:                                           # ... the others refuse it (the contract check sees it)
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="tenants_tenant contract"):
                installer.execute(call)
        installer.rollback()
    assert not arena.su.execute("SELECT is_called FROM public.evil_seq").fetchone()[0], \
        "the application's code ran as another role while an installer's function read the registry"
    arena.assert_canary()


# ------------------------------------------------------------------ binding the sync functions

def sync_trigger_functions(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute("SELECT p.proname FROM pg_proc p WHERE p.pronamespace = 'catalog_sync'::regnamespace "
                        "AND p.prorettype = 'trigger'::regtype ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def sync_trigger_count(conn: psycopg.Connection) -> int:
    return int(conn.execute("SELECT count(*) FROM pg_trigger tg JOIN pg_proc p ON p.oid = tg.tgfoid "
                            "WHERE p.pronamespace = 'catalog_sync'::regnamespace").fetchone()[0])


def test_binding_sync_functions_to_relations_of_the_tenants_choosing(arena: Arena) -> None:
    """CREATE TRIGGER needs EXECUTE: every sync function, bound with the other tenant's id to a table,
    temp table, view, partition or its own registered table, is refused (42501), even if the tenant
    had USAGE on catalog_sync."""
    t, su = arena.tenant, arena.su
    t.execute(f"CREATE TABLE {ACME}.lookalike (LIKE {ACME}.ats_jobposting INCLUDING ALL)")
    t.execute(f"CREATE TEMP TABLE tmp_jobs (LIKE {ACME}.ats_jobposting)")
    t.execute(f"CREATE VIEW {ACME}.jobs_view AS SELECT * FROM {ACME}.ats_jobposting")
    t.execute(f"CREATE TABLE {ACME}.parted (LIKE {ACME}.ats_jobposting) PARTITION BY RANGE (id)")
    t.execute(f"CREATE TABLE {ACME}.parted_1 PARTITION OF {ACME}.parted FOR VALUES FROM (MINVALUE) TO (MAXVALUE)")
    targets = [f"{ACME}.lookalike", "pg_temp.tmp_jobs", f"{ACME}.jobs_view", f"{ACME}.parted_1",
               f"{ACME}.parted", f"{ACME}.ats_jobposting", f"{ACME}.ats_jobcategory"]
    before = sync_trigger_count(su)
    assert len(sync_trigger_functions(su)) >= 7
    accepted = []
    for schema_usage in (False, True):
        if schema_usage:
            su.execute(f"GRANT USAGE ON SCHEMA catalog_sync TO {TENANT_ROLE}")
        try:
            for fn in sync_trigger_functions(su):
                for target in targets:
                    for arg in (str(arena.globex_id), str(arena.acme_id), ""):
                        try:
                            t.execute(f"CREATE TRIGGER zz_bind AFTER INSERT ON {target} FOR EACH STATEMENT "
                                      f"EXECUTE FUNCTION catalog_sync.{fn}({arg and repr(arg)})")
                            accepted.append((schema_usage, fn, target, arg))
                        except psycopg.errors.InsufficientPrivilege:
                            pass
        finally:
            if schema_usage:
                su.execute(f"REVOKE USAGE ON SCHEMA catalog_sync FROM {TENANT_ROLE}")
    assert accepted == []
    assert sync_trigger_count(su) == before
    t.execute(f"INSERT INTO {ACME}.lookalike SELECT * FROM {ACME}.ats_jobposting")
    arena.assert_canary()
    assert arena.acme_count() == 0


def test_create_or_replace_trigger_with_other_arguments_is_refused(arena: Arena,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Re-binding a sync trigger to the other tenant's id is refused; replacing it with the tenant's own
    function is allowed (owner), reported as outdated by verify, and repaired."""
    t = arena.tenant
    for arg in (str(arena.globex_id), "", "1; SELECT 1"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            t.execute(f"CREATE OR REPLACE TRIGGER catalog_sync_job_insert AFTER INSERT ON {ACME}.ats_jobposting "
                      "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
                      f"EXECUTE FUNCTION catalog_sync.on_job_change({arg and repr(arg)})")
    assert set(arena.acme_triggers().values()) == {"INSTALLED"}
    job = insert_job(t, ACME)
    assert arena.acme_row(job["uuid"]) is not None

    t.execute(f"CREATE FUNCTION {ACME}.noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$")
    t.execute(f"CREATE OR REPLACE TRIGGER catalog_sync_job_update AFTER UPDATE ON {ACME}.ats_jobposting "
              f"FOR EACH STATEMENT EXECUTE FUNCTION {ACME}.noop()")
    update_job(t, ACME, job["id"], published_on_career_page=False)
    assert ("trigger_outdated", "ats_jobposting.catalog_sync_job_update") in arena.verify_acme()
    assert run_cli(capsys, "verify", "--repair", "--dsn", arena.db.dsn())[0] == 0
    assert arena.verify_acme() == [] and arena.acme_row(job["uuid"]) is None
    arena.assert_canary()


# ------------------------------------------------------------------ calling the machinery

def test_every_machinery_function_refuses_the_tenant(arena: Arena) -> None:
    """Every function of catalog_sync, called directly by the tenant: 42501. Arguments are
    sub-selects, so the planner cannot fold a STRICT call away before the EXECUTE check."""
    su, t = arena.su, arena.tenant
    functions = su.execute(
        "SELECT p.proname, p.prokind, array(SELECT pg_catalog.format_type(a, NULL) "
        "FROM unnest(p.proargtypes::oid[]) WITH ORDINALITY AS x (a, n) ORDER BY n) "
        "FROM pg_proc p WHERE p.pronamespace = 'catalog_sync'::regnamespace ORDER BY 1").fetchall()
    assert len(functions) > 40
    wrong: list[str] = []
    for schema_usage in (False, True):       # USAGE on the schema (a misconfiguration) changes nothing
        if schema_usage:
            su.execute(f"GRANT USAGE ON SCHEMA catalog_sync TO {TENANT_ROLE}")
        try:
            for name, kind, argtypes in functions:
                args = sql.SQL(", ").join(sql.SQL("(SELECT NULL::{})").format(sql.SQL(a)) for a in argtypes)
                call = sql.SQL("{} catalog_sync.{}({})").format(
                    sql.SQL("CALL" if kind == "p" else "SELECT"), sql.Identifier(name), args)
                try:
                    t.execute(call)
                    wrong.append(f"{name}: ran")
                except psycopg.errors.InsufficientPrivilege as exc:
                    # refused for want of USAGE or EXECUTE, not by a check inside a function that ran
                    # (review, seventeenth session: any 42501 counted)
                    if not re.match(r"permission denied for (schema|function|procedure) ",
                                    exc.diag.message_primary or ""):
                        wrong.append(f"{name}: ran, then {exc.diag.message_primary}")
                except psycopg.Error as exc:
                    wrong.append(f"{name}: {exc.sqlstate} {exc.diag.message_primary}")
        finally:
            if schema_usage:
                su.execute(f"REVOKE USAGE ON SCHEMA catalog_sync FROM {TENANT_ROLE}")
    assert wrong == []
    assert su.execute("SELECT pg_has_role(%s, 'catalog_sync_installer', 'MEMBER')", (TENANT_ROLE,)).fetchone() \
        == (False,)
    arena.assert_canary()


# ------------------------------------------------------------------ forged identity

def test_forged_tenant_identity_in_row_data(arena: Arena) -> None:
    """Tenant-looking columns and values, the other tenant's job uuid and title, session settings:
    the catalog row still carries the tenant bound at attach; the other tenant's row is untouched,
    also when the forged job is updated and deleted."""
    t = arena.tenant
    t.execute(f"ALTER TABLE {ACME}.ats_jobposting ADD COLUMN tenant_id bigint DEFAULT {arena.globex_id}, "
              f"ADD COLUMN tenant_schema text DEFAULT '{GLOBEX}', ADD COLUMN company_name text "
              "DEFAULT 'Globex Corporation', ADD COLUMN schema_name text DEFAULT 'tenant_globex'")
    t.execute(f"ALTER TABLE {ACME}.ats_jobcategory ADD COLUMN tenant_id bigint DEFAULT {arena.globex_id}")
    t.execute("SET application_name = 'tenant_globex'")
    t.execute(f"SET catalog_sync.tenant_id = '{arena.globex_id}'")
    forged = insert_job(t, ACME, uuid=arena.canary["uuid"], title=arena.canary["title"],
                        slug=arena.canary["slug"], team="Globex Corporation")
    row = arena.acme_row(forged["uuid"])
    assert row is not None
    assert (row["tenant_id"], row["tenant_schema"], row["company_name"]) == (arena.acme_id, ACME, "Acme Robotics")
    arena.assert_canary()
    update_job(t, ACME, forged["id"], published_on_career_page=False)
    assert arena.acme_row(forged["uuid"]) is None
    arena.assert_canary()
    update_job(t, ACME, forged["id"], published_on_career_page=True)
    t.execute(f"DELETE FROM {ACME}.ats_jobposting WHERE uuid = %s", (arena.canary["uuid"],))
    assert arena.acme_count() == 0
    arena.assert_canary()
    assert arena.verify_acme() == []


# ------------------------------------------------------------------ switching the sync off

SWITCH_OFF = {
    "disable_trigger": [f"ALTER TABLE {ACME}.ats_jobposting DISABLE TRIGGER catalog_sync_job_update"],
    "disable_trigger_user": [f"ALTER TABLE {ACME}.ats_jobposting DISABLE TRIGGER USER"],
    "enable_replica": [f"ALTER TABLE {ACME}.ats_jobposting ENABLE REPLICA TRIGGER catalog_sync_job_update"],
    "enable_plain_then_replica_role": [
        f"ALTER TABLE {ACME}.ats_jobposting ENABLE TRIGGER catalog_sync_job_update"],
    "drop_trigger": [f"DROP TRIGGER catalog_sync_job_update ON {ACME}.ats_jobposting"],
    "replace_with_own_function": [
        f"CREATE FUNCTION {ACME}.noop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
        f"CREATE OR REPLACE TRIGGER catalog_sync_job_update AFTER UPDATE ON {ACME}.ats_jobposting "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {ACME}.noop()"],
}


@pytest.mark.parametrize("how", list(SWITCH_OFF))
def test_switching_the_trigger_off_then_unpublishing_is_detected_and_repaired(
        arena: Arena, how: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The owner can switch its sync trigger off (PostgreSQL allows it): status and verify report it
    and the stale public job, `verify --repair` re-attaches (as superuser, though the tenant owns the
    table) and removes the job; `session_replication_role` is superuser-only."""
    t = arena.tenant
    job = insert_job(t, ACME)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        t.execute("SET session_replication_role = replica")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):   # RI triggers are system triggers
        t.execute(f"ALTER TABLE {ACME}.ats_jobposting DISABLE TRIGGER ALL")
    for stmt in SWITCH_OFF[how]:
        t.execute(stmt)
    update_job(t, ACME, job["id"], published_on_career_page=False)
    if how == "enable_plain_then_replica_role":
        # a plain ENABLE still fires for a non-superuser; only a superuser could set the role
        assert arena.acme_row(job["uuid"]) is None
        assert ("trigger_disabled", "ats_jobposting.catalog_sync_job_update") in arena.verify_acme()
    else:
        assert arena.acme_row(job["uuid"]) is not None, "the switched-off trigger still ran"
        findings = arena.verify_acme()
        assert any(p.startswith("trigger_") for p, _ in findings) and ("orphan", None) in findings
        status = arena.su.execute("SELECT triggers FROM catalog_sync.status() WHERE schema_name = %s",
                                  (ACME,)).fetchone()[0]
        assert "INSTALLED 32" not in status
    code, out, _ = run_cli(capsys, "verify", "--dsn", arena.db.dsn())
    assert code == 1 and ACME in out
    code, out, err = run_cli(capsys, "verify", "--repair", "--dsn", arena.db.dsn())
    assert code == 0, (out, err)
    assert arena.acme_row(job["uuid"]) is None
    assert arena.verify_acme() == [] and set(arena.acme_triggers().values()) == {"INSTALLED"}
    update_job(t, ACME, job["id"], published_on_career_page=True)
    assert arena.acme_row(job["uuid"]) is not None
    arena.assert_canary()


@pytest.mark.parametrize("how", list(SWITCH_OFF))
def test_switching_the_trigger_off_is_refused_with_protect(
        arena: Arena, how: str, capsys: pytest.CaptureFixture[str]) -> None:
    """With protect on, the tenant's own role (the tables' owner) cannot switch its sync off: each way is
    refused before it commits, and the triggers stay as attach left them (red-team review, thirty-eighth
    session: the refusals were tested as the application role only)."""
    assert run_cli(capsys, "protect", "--dsn", arena.db.dsn())[0] == 0
    t = arena.tenant
    for stmt in SWITCH_OFF[how]:
        if stmt.startswith("CREATE FUNCTION"):
            t.execute(stmt)             # (its own function: allowed; binding it is what is refused)
            continue
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="refused"):
            t.execute(stmt)
    assert set(arena.acme_triggers().values()) == {"INSTALLED"} and arena.verify_acme() == []
    job = insert_job(t, ACME)
    update_job(t, ACME, job["id"], published_on_career_page=False)
    assert arena.acme_row(job["uuid"]) is None
    arena.assert_canary()


def test_trigger_toggled_inside_one_transaction_is_found_by_row_comparison(
        arena: Arena, capsys: pytest.CaptureFixture[str]) -> None:
    """Disable, unpublish, re-enable ALWAYS, commit: the triggers look INSTALLED afterwards, so only the
    row comparison of verify can find the job that stayed public; repair removes it."""
    t = arena.tenant
    job = insert_job(t, ACME)
    with t.transaction():
        t.execute(f"ALTER TABLE {ACME}.ats_jobposting DISABLE TRIGGER catalog_sync_job_update")
        update_job(t, ACME, job["id"], published_on_career_page=False)
        t.execute(f"ALTER TABLE {ACME}.ats_jobposting ENABLE ALWAYS TRIGGER catalog_sync_job_update")
    assert set(arena.acme_triggers().values()) == {"INSTALLED"}
    assert arena.acme_row(job["uuid"]) is not None
    assert ("orphan", None) in arena.verify_acme()
    assert run_cli(capsys, "verify", "--repair", "--dsn", arena.db.dsn())[0] == 0
    assert arena.acme_row(job["uuid"]) is None and arena.verify_acme() == []
    arena.assert_canary()


# ------------------------------------------------------------------ truncate, rename, drop

def test_truncate_removes_only_the_tenants_own_rows(arena: Arena) -> None:
    t = arena.tenant
    for table in ("ats_jobposting", "ats_jobcategory"):     # the category's CASCADE truncates the jobs
        insert_jobs(t, ACME, [{"category_id": category_id(t, ACME)}, {}])
        assert arena.acme_count() == 2
        t.execute(f"TRUNCATE {ACME}.{table} CASCADE")
        assert arena.acme_count() == 0
        assert arena.verify_acme() == []
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        t.execute(f"TRUNCATE {GLOBEX}.ats_jobposting CASCADE")
    arena.assert_canary()


def test_renamed_table_keeps_syncing(arena: Arena) -> None:
    """The binding is by OID: a renamed table keeps syncing under its new name."""
    t = arena.tenant
    job = insert_job(t, ACME)
    t.execute(f"ALTER TABLE {ACME}.ats_jobposting RENAME TO jobs_renamed")
    t.execute(f"ALTER TABLE {ACME}.ats_jobcategory RENAME TO cats_renamed")
    t.execute(f"UPDATE {ACME}.jobs_renamed SET title = 'After rename', updated_at = now() WHERE id = %s",
              (job["id"],))
    assert arena.acme_row(job["uuid"])["title"] == "After rename"
    t.execute(f"UPDATE {ACME}.jobs_renamed SET published_on_career_page = false WHERE id = %s", (job["id"],))
    assert arena.acme_row(job["uuid"]) is None
    assert arena.verify_acme() == []
    arena.assert_canary()


@pytest.mark.parametrize("old_table", ["renamed", "dropped"])
def test_a_table_swapped_in_under_the_contract_name_is_found_and_repaired(
        arena: Arena, old_table: str, capsys: pytest.CaptureFixture[str]) -> None:
    """HOLE, fixed (red team, fourteenth session). The tenant renames its job table away and puts a copy
    under the name: the application writes to the copy, which has no sync trigger, so jobs made private
    stayed public, and verify (which follows the registered OID, the frozen table) said clean. The same
    shape, with the old table dropped, is a restore from a dump or a table rebuilt and swapped in: verify
    said table_missing, and repair purged the tenant and detached it. Now both are table_replaced:
    repair attaches the table the name means and re-syncs the tenant from it."""
    t = arena.tenant
    jobs = insert_jobs(t, ACME, [{}, {}])
    t.execute(f"CREATE TABLE {ACME}.jobs_copy (LIKE {ACME}.ats_jobposting INCLUDING ALL)")
    t.execute(f"INSERT INTO {ACME}.jobs_copy SELECT * FROM {ACME}.ats_jobposting")
    if old_table == "renamed":
        t.execute(f"ALTER TABLE {ACME}.ats_jobposting RENAME TO ats_jobposting_frozen")
    else:
        t.execute(f"DROP TABLE {ACME}.ats_jobposting CASCADE")
    t.execute(f"ALTER TABLE {ACME}.jobs_copy RENAME TO ats_jobposting")
    t.execute(f"UPDATE {ACME}.ats_jobposting SET is_internal_only = true WHERE id = %s", (jobs[0]["id"],))
    assert arena.acme_row(jobs[0]["uuid"]) is not None        # nothing synced the copy

    code, out, err = run_cli(capsys, "verify", "--tenant", ACME, "--json", "--dsn", arena.db.dsn())
    found = json.loads(out)["findings"]
    assert code == 1 and [f["problem"] for f in found] == ["table_replaced"], (out, err)
    assert found[0]["detail"].startswith(f"{ACME}.ats_jobposting is relation "), found
    assert found[0]["detail"].endswith(
        f"(that OID now names {ACME}.ats_jobposting_frozen; an unrelated object if this follows a restore into "
        "another cluster)"
        if old_table == "renamed" else "(dropped)"), found
    code, out, err = run_cli(capsys, "verify", "--repair", "--dsn", arena.db.dsn())
    assert code == 0 and f"{ACME}: triggers attached" in out, (out, err)
    assert arena.acme_row(jobs[0]["uuid"]) is None and arena.acme_row(jobs[1]["uuid"]) is not None
    assert arena.su.execute("SELECT detached_at FROM catalog_sync.tenant WHERE tenant_id = %s",
                            (arena.acme_id,)).fetchone() == (None,)
    update_job(t, ACME, jobs[1]["id"], title="Synced again")
    assert arena.acme_row(jobs[1]["uuid"])["title"] == "Synced again"  # type: ignore[index]
    assert arena.verify_acme() == []
    if old_table == "renamed":
        # (review) its sync triggers went with its registration: the tenant's writes to it succeed
        assert f"dropped 4 sync trigger(s) left on the replaced table {ACME}.ats_jobposting_frozen" in out, out
        t.execute(f"UPDATE {ACME}.ats_jobposting_frozen SET title = 'old copy' WHERE id = %s", (jobs[1]["id"],))
        assert not arena.su.execute("SELECT * FROM catalog_sync.audit() WHERE check_name = "
                                    "'unregistered_sync_trigger'").fetchall()
    arena.assert_canary()


def test_a_replaced_table_s_name_reaches_the_terminal_without_its_escape_sequences(
        arena: Arena, capsys: pytest.CaptureFixture[str]) -> None:
    """SECURITY (red team, fiftieth session) verify --repair printed its "repaired:" lines as they were, and
    one names the replaced table, whose name the tenant chooses: escape sequences in it erased the lines
    above and set the terminal's title; U+202E reversed how the line read. Replaced by "?", as everywhere
    else; and the tool's output streams replace what a line forgot (terminal_safe())."""
    t = arena.tenant
    name = "c\x1b[1A\x1b[2K\x1b]0;owned\x07\u202egnp\nclean: x"     # (a line of its own, without printable())
    t.execute(f"CREATE TABLE {ACME}.cat_copy (LIKE {ACME}.ats_jobcategory INCLUDING ALL)")
    t.execute(sql.SQL("ALTER TABLE {}.ats_jobcategory RENAME TO {}").format(sql.Identifier(ACME),
                                                                             sql.Identifier(name)))
    t.execute(f"ALTER TABLE {ACME}.cat_copy RENAME TO ats_jobcategory")
    code, out, err = run_cli(capsys, "verify", "--repair", "--dsn", arena.db.dsn())
    assert code == 0, (out, err)
    assert "left on the replaced table tenant_acme.\"c?[1A?[2K?]0;owned??gnp?clean: x\"" in out, out
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]", out + err), (out, err)
    assert arena.verify_acme() == []
    # whatever a line forgot, the streams replace (line feeds and tabs pass)
    sink = io.StringIO()
    cli._GuardedOutput(sink).write("a\x1b[2J\u009b\u202e\u2066b\r\n\tc\x00")
    assert sink.getvalue() == "a?[2J???b?\n\tc?"
    sink = io.StringIO()
    cli._QuietErrors(sink).write("\x1b]0;x\x07\n")
    assert sink.getvalue() == "?]0;x?\n"
    arena.assert_canary()


def test_the_protection_checks_purge_nothing_when_called_directly(arena: Arena) -> None:
    """HOLE, fixed (review, sixteenth session). The protection's checks are definer functions that
    PUBLIC may call (the event triggers run as the dropping role). check_drop() purged the tenant of
    every registered table it was handed that no longer existed: another tenant's table rebuilt and
    swapped in (a restore, a DBA's rebuild; protect off) let any role wipe that tenant's catalog rows
    and detach it, and verify then said clean. Now the dropped tables come from the sql_drop event
    itself: called directly, with the dropped table's OID in every argument, no check changes anything."""
    app = arena.app
    app.execute(f"CREATE TABLE {GLOBEX}.jobs_copy (LIKE {GLOBEX}.ats_jobposting INCLUDING ALL)")
    app.execute(f"INSERT INTO {GLOBEX}.jobs_copy SELECT * FROM {GLOBEX}.ats_jobposting")
    app.execute(f"DROP TABLE {GLOBEX}.ats_jobposting CASCADE")
    app.execute(f"ALTER TABLE {GLOBEX}.jobs_copy RENAME TO ats_jobposting")
    registered = arena.su.execute("SELECT relid FROM catalog_sync.attached_table WHERE tenant_id = %s "
                                  "ORDER BY relid", (arena.globex_id,)).fetchall()
    dropped = [r[0] for r in registered if arena.su.execute(
        "SELECT NOT EXISTS (SELECT FROM pg_class WHERE oid = %s)", (r[0],)).fetchone()[0]]
    assert len(dropped) == 1
    checks = arena.su.execute(
        "SELECT p.oid::regprocedure::text, p.proargtypes::regtype[]::text[] FROM pg_proc p "
        "WHERE p.pronamespace = 'catalog_sync_protect'::regnamespace "
        "AND has_function_privilege('public', p.oid, 'EXECUTE')").fetchall()
    assert {c[0].split("(")[0] for c in checks} >= {"catalog_sync_protect.check_drop"}, checks
    values = {"oid[]": sql.Literal(dropped).as_string(None) + "::oid[]", "oid": f"{dropped[0]}::oid"}
    attacker = arena.connect_tenant()
    for signature, argtypes in checks:
        name = signature.split("(")[0]
        args = ", ".join(values.get(t, f"NULL::{t}") for t in argtypes)
        with contextlib.suppress(psycopg.Error):
            attacker.execute(f"SELECT {name}({args})")
    assert arena.su.execute("SELECT detached_at FROM catalog_sync.tenant WHERE tenant_id = %s",
                            (arena.globex_id,)).fetchone() == (None,)
    assert arena.su.execute("SELECT relid FROM catalog_sync.attached_table WHERE tenant_id = %s ORDER BY relid",
                            (arena.globex_id,)).fetchall() == registered
    arena.assert_canary()


def test_a_view_under_the_old_name_of_a_renamed_table_is_no_replacement(arena: Arena,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """(review) Renamed, with a view keeping the old name for the application: writes through the view
    reach the registered table and sync; verify is clean (it said table_replaced, and repair could never
    attach the view)."""
    t = arena.tenant
    job = insert_job(t, ACME)
    t.execute(f"ALTER TABLE {ACME}.ats_jobposting RENAME TO ats_jobposting_v2")
    t.execute(f"CREATE VIEW {ACME}.ats_jobposting AS SELECT * FROM {ACME}.ats_jobposting_v2")
    t.execute(f"UPDATE {ACME}.ats_jobposting SET title = 'Through the view' WHERE id = %s", (job["id"],))
    assert arena.acme_row(job["uuid"])["title"] == "Through the view"  # type: ignore[index]
    assert run_cli(capsys, "verify", "--dsn", arena.db.dsn())[0] == 0
    arena.assert_canary()


@pytest.mark.parametrize("shape", ["view over a copy", "view with an INSTEAD OF trigger",
                                   "view naming the registered table in a subquery", "view swapping two columns",
                                   "view with two columns renamed"])
def test_a_view_under_the_contract_name_that_writes_elsewhere_is_a_replacement(
        arena: Arena, shape: str, capsys: pytest.CaptureFixture[str]) -> None:
    """HOLE (red team, nineteenth session), fixed. The registered table renamed away, a copy of it made,
    and a view of the copy put under the contract name: the application's writes went to the copy, a job
    made internal stayed public, and verify, audit and status were clean (only a table counted as a
    replacement, so that a view keeping an old name working would not). Now only a plain view straight
    over the registered table, with no trigger or rule of its own, is no replacement; verify reports
    table_replaced and backfill refuses the tenant instead of reporting success."""
    t = arena.tenant
    job = insert_job(t, ACME)
    t.execute(f"ALTER TABLE {ACME}.ats_jobposting RENAME TO ats_jobposting_frozen")
    t.execute(f"CREATE TABLE {ACME}.ats_jobposting_live (LIKE {ACME}.ats_jobposting_frozen INCLUDING ALL)")
    t.execute(f"INSERT INTO {ACME}.ats_jobposting_live SELECT * FROM {ACME}.ats_jobposting_frozen")
    if shape == "view over a copy":
        t.execute(f"CREATE VIEW {ACME}.ats_jobposting AS SELECT * FROM {ACME}.ats_jobposting_live")
    elif shape == "view naming the registered table in a subquery":    # (re-test of the fix)
        t.execute(f"CREATE VIEW {ACME}.ats_jobposting AS SELECT c.* FROM {ACME}.ats_jobposting_live c "
                  f"WHERE NOT EXISTS (SELECT FROM {ACME}.ats_jobposting_frozen WHERE false)")
    elif shape == "view swapping two columns":     # (re-test): the write lands on the other column
        columns = [r[0] for r in t.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped "
            "ORDER BY attnum", (f"{ACME}.ats_jobposting_frozen",)).fetchall()]
        swap = {"is_internal_only": "published_on_career_page", "published_on_career_page": "is_internal_only"}
        t.execute(f"CREATE VIEW {ACME}.ats_jobposting AS SELECT "
                  + ", ".join(f"{swap.get(c, c)} AS {c}" for c in columns)
                  + f" FROM {ACME}.ats_jobposting_frozen")
    elif shape == "view with two columns renamed":    # (second re-test): its stored query keeps the old names
        t.execute(f"CREATE VIEW {ACME}.ats_jobposting AS SELECT * FROM {ACME}.ats_jobposting_frozen")
        for old_name, new_name in (("is_internal_only", "tmp"), ("published_on_career_page", "is_internal_only"),
                                   ("tmp", "published_on_career_page")):
            t.execute(f"ALTER VIEW {ACME}.ats_jobposting RENAME COLUMN {old_name} TO {new_name}")
    else:   # over the registered table, but its writes routed to the copy
        t.execute(f"CREATE VIEW {ACME}.ats_jobposting AS SELECT * FROM {ACME}.ats_jobposting_frozen")
        t.execute(f"""CREATE FUNCTION {ACME}.route() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
                      UPDATE {ACME}.ats_jobposting_live SET is_internal_only = NEW.is_internal_only
                      WHERE id = NEW.id; RETURN NEW; END $$""")
        t.execute(f"CREATE TRIGGER route INSTEAD OF UPDATE ON {ACME}.ats_jobposting "
                  f"FOR EACH ROW EXECUTE FUNCTION {ACME}.route()")
    t.execute(f"UPDATE {ACME}.ats_jobposting SET is_internal_only = true WHERE id = %s", (job["id"],))
    assert arena.acme_row(job["uuid"]) is not None      # still public: the write went to the copy
    assert [p for p, _ in arena.verify_acme()] == ["table_replaced"]
    assert run_cli(capsys, "verify", "--dsn", arena.db.dsn())[0] == 1
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState, match="another table than the registered"):
        arena.su.execute("SELECT * FROM catalog_sync.backfill_tenant(%s)", (arena.acme_id,))
    arena.su.rollback()
    code, out, _ = run_cli(capsys, "verify", "--repair", "--dsn", arena.db.dsn())    # a view is no table
    assert code == 1 and f"not repaired (attach refused): {ACME}.ats_jobposting: relation {ACME}.ats_jobposting " \
        "is not a plain table (relkind v)" in out, out
    arena.assert_canary()


def test_a_registry_naming_another_schema_than_the_tables_is_found(
        arena: Arena, capsys: pytest.CaptureFixture[str]) -> None:
    """HOLE (second re-test, nineteenth session), fixed. The application (it owns the registry) set the
    tenant's schema_name to a schema that does not exist, and put a copy of the job table under the
    contract name in the tenant's schema: its writes to the copy were not synced, and verify looked for
    a replacement only under the registry's name, and was clean. Now a registered table outside the
    schema the registry names is table_replaced. Then only verify said so (twentieth session): audit and
    status were clean and backfill reported success, reading the registered table; replaced_tables()
    now decides it for all four."""
    t = arena.tenant
    insert_job(t, ACME)
    arena.su.execute(f"UPDATE public.tenants_tenant SET schema_name = 'tenant_acme_v2' WHERE schema_name = '{ACME}'")
    findings = arena.verify_acme()
    assert ("table_replaced", f"the registry names schema tenant_acme_v2 for this tenant; its registered "
            f"ats_jobposting is {ACME}.ats_jobposting") in findings, findings
    code, out, _ = run_cli(capsys, "audit", "--json", "--dsn", arena.db.dsn())
    replaced = [f for f in json.loads(out)["findings"] if f["check_name"] == "table_replaced"]
    assert code == 1 and {f["object"] for f in replaced} >= {"tenant_acme_v2.ats_jobposting"}, out
    assert all(f"is {ACME}." in f["detail"] for f in replaced), replaced
    code, out, err = run_cli(capsys, "status", "--dsn", arena.db.dsn())
    assert f"the registry names schema tenant_acme_v2, and the registered ats_jobcategory is {ACME}." in err, \
        (code, out, err)
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState, match="the registry names schema tenant_acme_v2"):
        arena.su.execute("SELECT * FROM catalog_sync.backfill_tenant(%s)", (arena.acme_id,))
    arena.su.rollback()
    arena.su.execute(f"UPDATE public.tenants_tenant SET schema_name = '{ACME}' WHERE schema_name = 'tenant_acme_v2'")
    assert arena.verify_acme() == []
    arena.assert_canary()


REGISTRY_TRIGGERS = ("catalog_sync_tenant_update", "catalog_sync_tenant_delete")


def set_schema_names_unseen(app: psycopg.Connection, route: str, renames: dict[str, str]) -> None:
    """The application (it owns the registry) changes tenants' schema_name so that the registry's update
    trigger does not see it: with the trigger disabled meanwhile, or by a rewrite of the column."""
    cases = " ".join(f"WHEN '{old}' THEN '{new}'" for old, new in renames.items())
    if route == "trigger disabled":
        for name in REGISTRY_TRIGGERS:
            app.execute(f"ALTER TABLE public.tenants_tenant DISABLE TRIGGER {name}")
        app.execute(f"UPDATE public.tenants_tenant SET schema_name = CASE schema_name {cases} END "
                    f"WHERE schema_name IN ({', '.join(repr(o) for o in renames)})")
        for name in REGISTRY_TRIGGERS:
            app.execute(f"ALTER TABLE public.tenants_tenant ENABLE ALWAYS TRIGGER {name}")
    else:
        app.execute(f"ALTER TABLE public.tenants_tenant ALTER COLUMN schema_name TYPE varchar(63) "
                    f"USING CASE schema_name {cases} ELSE schema_name END")


@pytest.mark.parametrize("route", ["trigger disabled", "rewrite"])
def test_a_registry_schema_name_changed_unseen_is_found(
        arena: Arena, capsys: pytest.CaptureFixture[str], route: str) -> None:
    """HOLE (red team, twenty-first session), fixed. The machinery keeps its own copy of each tenant's
    schema name, which the registry's update trigger keeps equal to the registry's. The application
    changed the registry's schema_name where that trigger did not see it; replaced_tables() compared the
    registered tables with the copy, so only the rows' tenant_schema was stale, repair re-synced them
    from the registered tables, and verify was then clean while django-tenants routed the tenant's
    writes to a schema nothing syncs. Now the registry's name decides: table_replaced (moved)."""
    insert_job(arena.tenant, ACME)
    set_schema_names_unseen(arena.app, route, {ACME: "tenant_acme_v2"})
    findings = arena.verify_acme()
    assert ("table_replaced", "the registry names schema tenant_acme_v2 for this tenant; its registered "
            f"ats_jobposting is {ACME}.ats_jobposting") in findings, findings
    code, out, _ = run_cli(capsys, "verify", "--repair", "--dsn", arena.db.dsn())
    assert code == 1 and "not repaired (attach refused): schema tenant_acme_v2 does not exist" in out, out
    assert ("table_replaced", "the registry names schema tenant_acme_v2 for this tenant; its registered "
            f"ats_jobposting is {ACME}.ats_jobposting") in arena.verify_acme()
    code, out, err = run_cli(capsys, "status", "--dsn", arena.db.dsn())
    assert code == 2 and "the registry names schema tenant_acme_v2" in err, (code, out, err)
    with pytest.raises(psycopg.errors.ObjectNotInPrerequisiteState, match="the registry names schema tenant_acme_v2"):
        arena.su.execute("SELECT * FROM catalog_sync.backfill_tenant(%s)", (arena.acme_id,))
    arena.su.rollback()
    set_schema_names_unseen(arena.app, route, {"tenant_acme_v2": ACME})
    assert arena.verify_acme() == []
    assert run_cli(capsys, "verify", "--dsn", arena.db.dsn())[0] == 0
    arena.assert_canary()


def test_two_tenants_swapping_schema_names_unseen_are_repaired(
        db: Db, conn: psycopg.Connection, app: psycopg.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    """(Red team, twenty-first session.) Two tenants' schema names swapped by a rewrite of the registry's
    column: each tenant's registered tables are now the other's. verify reports both, repair attaches
    what each name means now and re-syncs both, and the catalog follows the registry: a job written
    in a schema is published under the tenant whose registry row names that schema."""
    acme_id, globex_id = db.tenant_id(ACME), db.tenant_id(GLOBEX)
    insert_job(app, ACME)
    insert_job(app, GLOBEX)
    set_schema_names_unseen(app, "rewrite", {ACME: GLOBEX, GLOBEX: ACME})
    code, out, _ = run_cli(capsys, "verify", "--json", "--dsn", db.dsn())
    replaced = {(f["tenant_id"], f["schema"]) for f in json.loads(out)["findings"] if f["problem"] == "table_replaced"}
    assert code == 1 and replaced == {(acme_id, GLOBEX), (globex_id, ACME)}, out
    code, out, err = run_cli(capsys, "verify", "--repair", "--dsn", db.dsn())
    assert code == 0, (out, err)
    assert run_cli(capsys, "verify", "--dsn", db.dsn())[0] == 0
    assert conn.execute("SELECT tenant_id, schema_name::text FROM catalog_sync.tenant WHERE tenant_id IN (%s, %s) "
                        "ORDER BY 1", (acme_id, globex_id)).fetchall() == sorted([(acme_id, GLOBEX), (globex_id, ACME)])
    job = insert_job(app, GLOBEX)
    assert conn.execute("SELECT tenant_id, tenant_schema FROM public.job_catalog WHERE job_uuid = %s",
                        (job["uuid"],)).fetchall() == [(acme_id, GLOBEX)]
    assert run_cli(capsys, "verify", "--dsn", db.dsn())[0] == 0


def test_a_tenant_whose_tables_went_to_another_is_not_left_public(
        db: Db, conn: psycopg.Connection, app: psycopg.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    """HOLE (red team, twenty-first session), fixed. With the registry's triggers on, the application archived
    Globex (its schema_name set to a schema that does not exist) and gave Globex's schema to Acme. Repair
    attached that schema for Acme, which took Globex's tables from it: Globex stayed attached with no
    table, and verify skipped it (it read "not attached"), status counted 0 of 0 and a suspended Globex
    kept its rows public, all of it with verify clean. Now such a tenant is table_missing, and repair
    removes its rows and detaches it, as for a dropped table."""
    acme_id, globex_id = db.tenant_id(ACME), db.tenant_id(GLOBEX)
    insert_job(app, GLOBEX)
    app.execute("UPDATE public.tenants_tenant SET schema_name = 'tenant_globex_archive' WHERE id = %s", (globex_id,))
    app.execute("UPDATE public.tenants_tenant SET schema_name = %s WHERE id = %s", (GLOBEX, acme_id))
    code, out, _ = run_cli(capsys, "verify", "--repair", "--dsn", db.dsn())
    assert code == 1 and "not repaired (attach refused): schema tenant_globex_archive does not exist" in out, out
    assert ("table_missing", "no ats_jobposting is registered for this tenant: its table was attached for another "
            "tenant since") in [(r[0], r[1]) for r in conn.execute(
                "SELECT problem, detail FROM catalog_sync.verify_tenant(%s)", (globex_id,))], out
    code, out, _ = run_cli(capsys, "verify", "--repair", "--dsn", db.dsn())
    assert code == 1 and "tenant_globex_archive: a source table is gone; catalog rows removed" in out, out
    assert conn.execute("SELECT count(*) FROM public.job_catalog WHERE tenant_id = %s",
                        (globex_id,)).fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM public.job_catalog WHERE tenant_id = %s AND tenant_schema = %s",
                        (acme_id, GLOBEX)).fetchone()[0] > 0
    # (forty-ninth session) the archived tenant, off the catalogs, is reported until it is opted out
    assert "tenant_tables_gone  " in out and "missing: the schema itself" in out, out
    assert run_cli(capsys, "detach", "tenant_globex_archive", "--dsn", db.dsn())[0] == 0
    assert run_cli(capsys, "verify", "--dsn", db.dsn())[0] == 0


def test_tenant_cannot_rename_its_schema(arena: Arena) -> None:
    """Renaming a schema also needs CREATE on the database, which a tenant role does not have."""
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        arena.tenant.execute(f"ALTER SCHEMA {ACME} RENAME TO tenant_acme_renamed")
    assert arena.verify_acme() == []
    arena.assert_canary()


def test_renamed_table_is_still_verified(arena: Arena, capsys: pytest.CaptureFixture[str]) -> None:
    """HOLE, fixed (fixed). `catalog-sync verify` (and --repair) only visits tenants listed by tenant_schemas(), which
    finds a tenant by a table NAMED ats_jobposting. Rename the table, switch the trigger off,
    unpublish: status shows DISABLED, but verify says "clean" (exit 0) and repair does nothing, so the
    private job stays public."""
    t = arena.tenant
    job = insert_job(t, ACME)
    t.execute(f"ALTER TABLE {ACME}.ats_jobposting RENAME TO jobs_renamed")
    t.execute(f"ALTER TABLE {ACME}.jobs_renamed DISABLE TRIGGER USER")
    t.execute(f"UPDATE {ACME}.jobs_renamed SET published_on_career_page = false WHERE id = %s", (job["id"],))
    assert ("orphan", None) in arena.verify_acme()          # the per-tenant function sees it
    code, out, _ = run_cli(capsys, "verify", "--json", "--dsn", arena.db.dsn())
    findings = json.loads(out)["findings"]
    assert code == 1 and any(f["tenant_id"] == arena.acme_id for f in findings), \
        "verify skipped the tenant whose job table was renamed"
    code, out, err = run_cli(capsys, "verify", "--repair", "--dsn", arena.db.dsn())
    # the rows repaired; the triggers re-attached, or the attach refused with the tenant named (the
    # operator restores the table's name)
    assert arena.acme_row(job["uuid"]) is None, (code, out, err)
    assert code == 0 or (code == 1 and f"not repaired (attach refused): {ACME}" in out), (code, out, err)
    arena.assert_canary()


@pytest.mark.parametrize("statement", [f"DROP TABLE {ACME}.ats_jobposting CASCADE", f"DROP SCHEMA {ACME} CASCADE"])
def test_dropped_table_or_schema(arena: Arena, statement: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The tenant may drop its own table or schema (owner). What happens: its catalog rows STAY
    public (documented), the other tenant is untouched, the sync of the other tables keeps its
    binding; verify_tenant() reports the missing relation. HOLE (fixed): `catalog-sync verify`
    does not visit the tenant any more (tenant_schemas() finds tenants by table name), so it reports
    nothing and exits 0 while the rows stay public."""
    t = arena.tenant
    insert_job(t, ACME)
    t.execute(statement)
    arena.assert_canary()
    assert arena.acme_count() == 1                           # documented: the rows stay
    findings = arena.verify_acme()
    assert any(p == "table_missing" and "was dropped" in (d or "") for p, d in findings)
    code, out, _ = run_cli(capsys, "verify", "--json", "--dsn", arena.db.dsn())
    reported = [f for f in json.loads(out)["findings"] if f["tenant_id"] == arena.acme_id]
    assert code == 1 and reported, "verify reports nothing for a tenant whose tables were dropped"
    # repair takes the rows that can never be verified again out, and records the detach; the tenant, off the
    # catalogs, is reported until its tables are back or it is opted out (forty-ninth session)
    code, out, _ = run_cli(capsys, "verify", "--repair", "--dsn", arena.db.dsn())
    assert code == 1 and "drift: tenant_tables_gone 1" in out, out
    assert arena.acme_count() == 0
    arena.assert_canary()


def test_a_tenant_detached_for_a_dropped_table_is_reported_once_the_table_is_back(
        arena: Arena, capsys: pytest.CaptureFixture[str]) -> None:
    """HOLE (red team, twenty-first session), fixed. Repair detaches a tenant whose source table was dropped
    (its rows can never be verified again). That was recorded as a detach on purpose, an opt-out: once the
    application put the table back, verify was clean, attach --all skipped the tenant, and its new public
    jobs were never synced. Now the sync's own detach is only "not attached": verify reports the tenant
    once its schema holds the contract tables again, repair attaches it, and a detach on purpose still
    opts it out."""
    t = arena.tenant
    t.execute(f"CREATE TABLE {ACME}.category_copy AS SELECT * FROM {ACME}.ats_jobcategory")
    t.execute(f"DROP TABLE {ACME}.ats_jobcategory CASCADE")
    code, out, _ = run_cli(capsys, "verify", "--repair", "--dsn", arena.db.dsn())
    assert code == 1 and f"{ACME}: a source table is gone; catalog rows removed, tenant detached" in out, out
    assert "drift: tenant_tables_gone 1" in out, out        # (until the table is back: forty-ninth session)
    # status tells the sync's own detach from an opt-out (a known gap of the twenty-first session)
    assert status_of(capsys, arena, ACME) == ("detached by sync", (False, True, operations.TABLE_GONE))
    t.execute(f"CREATE TABLE {ACME}.ats_jobcategory (LIKE {ACME}.category_copy)")
    t.execute(f"ALTER TABLE {ACME}.ats_jobcategory ADD PRIMARY KEY (id), ADD UNIQUE (slug), "
              "ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY")
    t.execute(f"INSERT INTO {ACME}.ats_jobcategory SELECT * FROM {ACME}.category_copy")
    job = insert_job(t, ACME)
    assert arena.acme_row(job["uuid"]) is None
    code, out, _ = run_cli(capsys, "verify", "--json", "--dsn", arena.db.dsn())
    reported = [(f["problem"], f["detail"]) for f in json.loads(out)["findings"] if f["tenant_id"] == arena.acme_id]
    assert code == 1 and [p for p, _ in reported] == ["tenant_not_attached"], out
    assert re.match(rf"{ACME} \(detached by the sync at \d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\dZ: ", reported[0][1]), reported
    assert reported[0][1].endswith(": a source table was gone (verify --repair))"), reported
    code, out, err = run_cli(capsys, "verify", "--repair", "--dsn", arena.db.dsn())
    assert code == 0 and f"{ACME}: triggers attached" in out, (out, err)
    assert arena.acme_row(job["uuid"]) is not None
    # a detach on purpose opts it out, even after the sync's own
    arena.su.execute("SELECT * FROM catalog_sync.detach_schema(%s, false, 'a source table was gone')", (ACME,))
    assert run_cli(capsys, "detach", ACME, "--dsn", arena.db.dsn())[1].startswith(
        f"{ACME} was detached by the sync (why: status --json, detached_because): marked it detached on purpose")
    assert run_cli(capsys, "verify", "--dsn", arena.db.dsn())[0] == 1           # (its rows: unattached_rows)
    assert arena.su.execute("SELECT detached FROM catalog_sync.tenant_schemas() WHERE schema_name = %s",
                            (ACME,)).fetchone() == (True,)
    assert status_of(capsys, arena, ACME) == ("detached", (False, True, None))
    arena.assert_canary()


def status_of(capsys: pytest.CaptureFixture[str], arena: Arena, schema: str
              ) -> tuple[str, tuple[bool, bool, str | None]]:
    """The schema's attach column in status's table, and (attached, detached, detached_because) of --json."""
    code, out, err = run_cli(capsys, "status", "--dsn", arena.db.dsn())
    assert code == 0, (out, err)
    line = next(line for line in out.splitlines() if line.startswith(schema + " "))
    header = next(line for line in out.splitlines() if line.startswith("schema "))
    column = line[header.index("attach"):header.index("triggers")].strip()
    code, out, err = run_cli(capsys, "status", "--json", "--dsn", arena.db.dsn())
    row = next(r for r in json.loads(out) if r["schema"] == schema)
    return column, (row["attached"], row["detached"], row["detached_because"])


# ------------------------------------------------------------------ RLS, views, rules

RLS_ATTACKS = {
    "deny_all_policy": [f"ALTER TABLE {ACME}.ats_jobposting ENABLE ROW LEVEL SECURITY",
                        f"CREATE POLICY hide ON {ACME}.ats_jobposting USING (false)"],
    "evil_policy_for_the_definer": [
        f"ALTER TABLE {ACME}.ats_jobposting ENABLE ROW LEVEL SECURITY",
        f"CREATE POLICY mine ON {ACME}.ats_jobposting TO {TENANT_ROLE} USING (true)",
        f"CREATE POLICY evil ON {ACME}.ats_jobposting TO catalog_sync_owner USING ({ACME}.evil())"],
    "forced_evil_policy": [f"ALTER TABLE {ACME}.ats_jobposting ENABLE ROW LEVEL SECURITY",
                           f"ALTER TABLE {ACME}.ats_jobposting FORCE ROW LEVEL SECURITY",
                           f"CREATE POLICY evil ON {ACME}.ats_jobposting USING ({ACME}.evil())"],
    "evil_policy_on_category": [f"ALTER TABLE {ACME}.ats_jobcategory ENABLE ROW LEVEL SECURITY",
                                f"CREATE POLICY mine ON {ACME}.ats_jobcategory TO {TENANT_ROLE} USING (true)",
                                f"CREATE POLICY evil ON {ACME}.ats_jobcategory USING ({ACME}.evil())"],
}


@pytest.mark.parametrize("attack", list(RLS_ATTACKS))
def test_row_level_security_fails_closed(arena: Arena, attack: str) -> None:
    """row_security = off on the definer and a NOBYPASSRLS owner: any policy makes the sync raise
    instead of reading filtered rows, and no policy expression runs as the definer."""
    t = arena.tenant
    job = insert_job(t, ACME)
    before = arena.acme_row(job["uuid"])
    for stmt in RLS_ATTACKS[attack]:
        t.execute(stmt)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        update_job(t, ACME, job["id"], title="hidden", published_on_career_page=False)
    assert arena.acme_row(job["uuid"]) == before
    assert not arena.evil_ran(), "a policy expression ran as the definer"
    arena.assert_canary()


@pytest.mark.parametrize(("table", "write"), [
    ("services_servicecategory", "service"),
    ("services_skill", "provider"),
    ("services_service", "provider"),
    ("services_serviceprovider_categories", "provider"),
], ids=["category_under_a_service_write", "skill_under_a_provider_write", "services_under_a_provider_write",
        "links_under_a_provider_write"])
def test_row_level_security_on_a_marketplace_parent_fails_closed(arena: Arena, table: str, write: str) -> None:
    """(review, twenty-fifth session) The marketplace's static reads are blocks whose handler names a lost
    column and raises the error again: a policy's error (42501, the same class) must still fail the write.
    With the handler's RAISE dropped, a service write succeeded and its catalog row was deleted."""
    t = arena.tenant
    provider = market.insert_provider(t, ACME)
    category = market.insert_service_category(t, ACME)
    skill = market.insert_skill(t, ACME)
    market.link_category(t, ACME, provider["id"], category["id"])
    market.link_skill(t, ACME, provider["id"], skill["id"])
    service = market.insert_service(t, ACME, provider["id"], category_id=category["id"])
    before = (market.provider_row(arena.su, provider["uuid"]), market.service_row(arena.su, service["uuid"]))
    assert before[0] is not None and before[1] is not None
    t.execute(f"ALTER TABLE {ACME}.{table} ENABLE ROW LEVEL SECURITY")
    t.execute(f"CREATE POLICY mine ON {ACME}.{table} TO {TENANT_ROLE} USING (true)")
    t.execute(f"CREATE POLICY evil ON {ACME}.{table} USING ({ACME}.evil())")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        if write == "service":
            market.update_service(t, ACME, service["id"], title="hidden", is_public=False)
        else:
            market.update_provider(t, ACME, provider["id"], display_name="hidden", marketplace_enabled=False)
    assert (market.provider_row(arena.su, provider["uuid"]), market.service_row(arena.su, service["uuid"])) == before
    assert not arena.evil_ran(), "a policy expression ran as the definer"
    arena.assert_canary()


def prepare_view_swap(t: psycopg.Connection) -> None:
    """What PostgreSQL 15 requires before an ON SELECT rule turns a table into a view: empty, no
    triggers (the sync triggers and FK triggers dropped, VACUUM clears relhastriggers), no indexes."""
    t.execute(f"CREATE TABLE {ACME}.shadow (LIKE {ACME}.ats_jobposting)")
    job = insert_job(t, ACME, title="Shadow job", category_id=category_id(t, ACME))
    t.execute(f"INSERT INTO {ACME}.shadow SELECT * FROM {ACME}.ats_jobposting")
    t.execute(f"TRUNCATE {ACME}.ats_jobposting CASCADE")
    assert job
    for (name,) in t.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                             (f"{ACME}.ats_jobposting",)).fetchall():
        t.execute(sql.SQL("DROP TRIGGER {} ON {}").format(sql.Identifier(name), ident(ACME, "ats_jobposting")))
    for rel, con in t.execute(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint WHERE contype IN ('f', 'p', 'u') "
            "AND (conrelid = %(r)s::regclass OR confrelid = %(r)s::regclass) ORDER BY contype = 'f' DESC",
            {"r": f"{ACME}.ats_jobposting"}).fetchall():
        t.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}").format(sql.SQL(rel), sql.Identifier(con)))
    for (idx,) in t.execute("SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = %s::regclass",
                            (f"{ACME}.ats_jobposting",)).fetchall():
        t.execute(sql.SQL("DROP INDEX {}").format(sql.SQL(idx)))
    t.execute(f"VACUUM {ACME}.ats_jobposting")


VIEW_RULE = (f'CREATE RULE "_RETURN" AS ON SELECT TO {ACME}.ats_jobposting DO INSTEAD '
             f"SELECT s.* FROM {ACME}.shadow s WHERE {ACME}.evil()")


def test_view_swap_fails_closed(arena: Arena, capsys: pytest.CaptureFixture[str]) -> None:
    """An emptied table turned into a view over tenant code (PostgreSQL 15, the OID is kept): the
    contract check sees relkind 'v' before anything is read; the view never runs as the definer."""
    t = arena.tenant
    prepare_view_swap(t)
    t.execute(VIEW_RULE)
    assert t.execute("SELECT relkind FROM pg_class WHERE oid = %s::regclass",
                     (f"{ACME}.ats_jobposting",)).fetchone() == ("v",)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="contract"):
        t.execute(f"UPDATE {ACME}.ats_jobcategory SET name = 'Renamed' WHERE slug = 'category-1'")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="contract"):
        arena.su.execute("SELECT * FROM catalog_sync.backfill_tenant(%s)", (arena.acme_id,))
    assert any(p == "contract" and "relkind v" in (d or "") for p, d in arena.verify_acme())
    assert run_cli(capsys, "verify", "--dsn", arena.db.dsn())[0] == 1
    assert not arena.evil_ran(), "the view ran as the definer"
    assert arena.acme_count() == 0
    arena.assert_canary()


def test_view_swap_race_between_contract_check_and_read(arena: Arena) -> None:
    """HOLE, fixed (TOCTOU). The contract is checked on the catalog snapshot, then the read opens the table.
    Session A converts the emptied table into a view inside an open transaction; session B writes a
    category, passes the check (relkind still 'r'), blocks on the table lock, and after A commits
    reads the VIEW: the tenant's function runs as catalog_sync_owner and shadow rows are published."""
    t = arena.tenant
    prepare_view_swap(t)
    relid = arena.su.execute("SELECT %s::regclass::oid", (f"{ACME}.ats_jobposting",)).fetchone()[0]
    a = arena.connect_tenant(autocommit=False)
    a.execute(VIEW_RULE)                                  # holds ACCESS EXCLUSIVE until commit
    write_while_blocked(
        arena, lambda b: b.execute(f"UPDATE {ACME}.ats_jobcategory SET name = 'Renamed' WHERE slug = 'category-1'"),
        "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = %s" + THIS_DATABASE, (relid,), a)
    assert not arena.evil_ran(), "the swapped-in view ran as the definer (check-then-read race)"
    assert arena.su.execute("SELECT count(*) FROM public.job_catalog WHERE title = 'Shadow job'").fetchone() == (0,)
    arena.assert_canary()


def test_rules_on_a_tenant_table_never_run_as_the_definer(arena: Arena) -> None:
    """DO ALSO / DO INSTEAD rules rewrite the tenant's own statements (run as the tenant); the definer
    only reads the table, which a non-SELECT rule does not affect. The catalog follows the rows."""
    t = arena.tenant
    job = insert_job(t, ACME)
    t.execute(f"CREATE TABLE {ACME}.diverted (LIKE {ACME}.ats_jobposting)")
    t.execute(f"CREATE RULE also_evil AS ON UPDATE TO {ACME}.ats_jobposting DO ALSO SELECT {ACME}.evil()")
    t.execute(f"CREATE RULE divert AS ON INSERT TO {ACME}.ats_jobposting DO INSTEAD "
              f"INSERT INTO {ACME}.diverted VALUES (NEW.*) RETURNING diverted.*")
    update_job(t, ACME, job["id"], title="Ruled")
    insert_job(t, ACME, title="Diverted")
    assert arena.acme_row(job["uuid"])["title"] == "Ruled"
    assert arena.acme_count() == 1
    assert arena.evil_armed() and not arena.evil_ran()
    assert arena.verify_acme() == []
    arena.assert_canary()


# ------------------------------------------------------------------ inheritance and partitions

INHERITANCE = {
    "child_inherits_registered_table": [
        f"CREATE TABLE {ACME}.child (LIKE {ACME}.ats_jobposting INCLUDING CONSTRAINTS)",
        f"ALTER TABLE {ACME}.child INHERIT {ACME}.ats_jobposting"],
    "create_table_inherits": [f"CREATE TABLE {ACME}.child () INHERITS ({ACME}.ats_jobposting)"],
    "registered_table_inherits_tenant_parent": [
        f"CREATE TABLE {ACME}.parent (LIKE {ACME}.ats_jobposting)",
        f"ALTER TABLE {ACME}.ats_jobposting INHERIT {ACME}.parent"],
    "registered_table_attached_as_partition": [
        f"CREATE TABLE {ACME}.parted (LIKE {ACME}.ats_jobposting) PARTITION BY RANGE (id)",
        f"ALTER TABLE {ACME}.parted ATTACH PARTITION {ACME}.ats_jobposting FOR VALUES FROM (MINVALUE) TO (MAXVALUE)"],
    "category_child": [f"CREATE TABLE {ACME}.cat_child () INHERITS ({ACME}.ats_jobcategory)"],
}


@pytest.mark.parametrize("attack", list(INHERITANCE))
def test_inheritance_and_partitions_fail_closed(arena: Arena, attack: str) -> None:
    """A registered table that takes part in inheritance or partitioning is refused on the next sync
    read (or PostgreSQL refuses the DDL): rows of a child are never published."""
    t = arena.tenant
    job = insert_job(t, ACME)
    before = arena.acme_row(job["uuid"])
    # PostgreSQL 15 accepts every one of these statements (review of the tests, forty-ninth session: a test
    # that let PostgreSQL's refusal pass would go vacuous without a word the day one is refused)
    for stmt in INHERITANCE[attack]:
        t.execute(stmt)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="inheritance|partition"):
        update_job(t, ACME, job["id"], title="Through a child")
    assert arena.acme_row(job["uuid"]) == before
    assert any(p == "contract" for p, _ in arena.verify_acme())
    arena.assert_canary()


# ------------------------------------------------------------------ edits after the sync

LATE_EDIT_BODY = f"""
    UPDATE {ACME}.ats_jobposting SET title = 'Edited after sync', updated_at = pg_catalog.now()
     WHERE title LIKE 'Late%' AND title <> 'Edited after sync';
    UPDATE {ACME}.ats_jobposting SET published_on_career_page = false
     WHERE title LIKE 'Hide%' AND published_on_career_page;
"""
EDITORS = {
    "after_statement_trigger_named_last": f"""
        CREATE FUNCTION {ACME}.late_edit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF pg_catalog.pg_trigger_depth() = 1 THEN {LATE_EDIT_BODY} END IF; RETURN NULL; END $$;
        CREATE TRIGGER zzz_late AFTER INSERT OR UPDATE ON {ACME}.ats_jobposting
            FOR EACH STATEMENT EXECUTE FUNCTION {ACME}.late_edit();""",
    "after_row_trigger_named_first": f"""
        CREATE FUNCTION {ACME}.late_edit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF pg_catalog.pg_trigger_depth() = 1 THEN {LATE_EDIT_BODY} END IF; RETURN NULL; END $$;
        CREATE TRIGGER aaa_early AFTER INSERT OR UPDATE ON {ACME}.ats_jobposting
            FOR EACH ROW EXECUTE FUNCTION {ACME}.late_edit();""",
    "deferred_constraint_trigger": f"""
        CREATE FUNCTION {ACME}.late_edit() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF pg_catalog.pg_trigger_depth() = 1 THEN {LATE_EDIT_BODY} END IF; RETURN NULL; END $$;
        CREATE CONSTRAINT TRIGGER zzz_deferred AFTER INSERT OR UPDATE ON {ACME}.ats_jobposting
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {ACME}.late_edit();""",
}


@pytest.mark.parametrize("editor", list(EDITORS))
def test_tenant_triggers_that_edit_after_the_sync(arena: Arena, editor: str) -> None:
    """The tenant's own AFTER or deferred constraint trigger changes rows after the sync ran: their
    writes fire the sync again, so at commit the catalog is the projection of the committed rows."""
    t = arena.tenant
    t.execute(EDITORS[editor])
    with t.transaction():
        late, hide, plain = insert_jobs(t, ACME, [{"title": "Late one"}, {"title": "Hide me"}, {"title": "Plain"}])
        update_job(t, ACME, plain["id"], title="Late too")
    assert arena.acme_row(late["uuid"])["title"] == "Edited after sync"
    assert arena.acme_row(plain["uuid"])["title"] == "Edited after sync"
    assert arena.acme_row(hide["uuid"]) is None
    assert arena.verify_acme() == []
    arena.assert_canary()


# ------------------------------------------------------------------ huge HTML

def test_huge_html_is_bounded(arena: Arena) -> None:
    """A 10 MB description (worst-case characters for escaping): synced in bounded time, and the
    catalog column is bounded (input cut to 1,000,000 characters, at most 6 output characters each)."""
    t = arena.tenant
    payload = ('<p onclick="x()">"&amp;\'' * 500_000)[:10_000_000]
    assert len(payload) == 10_000_000
    started = time.monotonic()
    # benefits: the most work per tag for the balancing pass (a deep stack, an end tag that closes
    # nothing after every character)
    job = insert_job(t, ACME, description=payload, requirements="<" * 10_000_000,
                     benefits="<ul>" * 99 + "</p>x" * 2_000_000)
    elapsed = time.monotonic() - started
    assert elapsed < 120, f"a 10 MB description took {elapsed:.1f}s"     # (1.6 s here: a bound, not a timing)
    row = arena.acme_row(job["uuid"])
    assert row is not None
    assert len(row["description"]) <= 6_000_000 and len(row["requirements"]) <= 6_000_000
    assert row["benefits"] == "<ul>" * 99 + "x" * 199_920 + "</ul>" * 99
    assert "onclick" not in row["description"].replace("onclick=&quot;", "")
    assert "<p onclick" not in row["description"]
    arena.assert_canary()


# ------------------------------------------------------------------ identifiers into the installer

SCHEMA_NAMES = {
    "double_quote": 'tenant_q"uote',
    "double_quote_injection": "tenant_x\"; SELECT nextval('public.inj_seq'); SELECT \"",
    "single_quote_injection": "tenant_s'; SELECT nextval('public.inj_seq'); SELECT '",
    "dollar_quotes": "tenant_d$$; SELECT nextval($$public.inj_seq$$); $$",
    "format_specifiers": "tenant_%I%s%L%1$s\\",
    "semicolon_and_space": "tenant_a; b",
    "unicode": "tenant_ünï_数据_é",
    "63_bytes_ascii": "tenant_" + "x" * 56,
    "63_bytes_multibyte": "tenant_" + "é" * 28,
}


@pytest.fixture
def inj_seq(conn: psycopg.Connection) -> psycopg.Connection:
    conn.execute("CREATE SEQUENCE public.inj_seq")
    conn.execute("GRANT USAGE, SELECT, UPDATE ON SEQUENCE public.inj_seq TO PUBLIC")
    return conn


def attach_and_exercise(arena: Arena, schema: str, capsys: pytest.CaptureFixture[str],
                        refusal_allowed: bool) -> None:
    """Create the tenant as django-tenants would, attach it through the CLI and attach_schema(), then
    sync, backfill, verify, status and detach --purge it; or, where allowed, a clean refusal."""
    assert len(schema.encode()) <= 63
    su, dsn = arena.su, arena.db.dsn()
    tenant_id, created = create_tenant(su, schema[len("tenant_"):], "Hostile name")
    assert created == schema
    assert su.execute("SELECT count(*) FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone() == (1,)
    code, out, err = run_cli(capsys, "attach", schema, "--dsn", dsn)
    if code != 0 and refusal_allowed:
        assert code == 2 and err.strip().splitlines()[-1].startswith("catalog-sync: error:"), (out, err)
        with pytest.raises(psycopg.Error) as refused:
            su.execute("SELECT * FROM catalog_sync.attach_schema(%s)", (schema,))
        assert refused.value.sqlstate not in ("42601", "XX000"), errtext(refused.value)   # no syntax error
        assert su.execute("SELECT count(*) FROM catalog_sync.tenant WHERE tenant_id = %s",
                          (tenant_id,)).fetchone() == (0,)
        assert su.execute("SELECT count(*) FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid "
                          "WHERE c.relnamespace = %s::regnamespace AND NOT tg.tgisinternal",
                          (sql.Identifier(schema).as_string(su),)).fetchone() == (0,)
    else:
        assert code == 0, err
        assert su.execute("SELECT triggers_changed FROM catalog_sync.attach_schema(%s)",
                          (schema,)).fetchone() == (0,)
        job = insert_job(arena.app, schema)
        row = su.execute("SELECT tenant_id, tenant_schema FROM public.job_catalog WHERE job_uuid = %s",
                         (job["uuid"],)).fetchone()
        assert row == (tenant_id, schema)
        su.execute("DELETE FROM public.job_catalog WHERE job_uuid = %s", (job["uuid"],))
        assert run_cli(capsys, "backfill", "--tenant", schema, "--dsn", dsn)[0] == 0
        assert su.execute("SELECT count(*) FROM public.job_catalog WHERE tenant_id = %s",
                          (tenant_id,)).fetchone() == (1,)
        code, out, err = run_cli(capsys, "verify", "--tenant", schema, "--dsn", dsn)
        assert code == 0, (out, err)
        assert run_cli(capsys, "status", "--dsn", dsn)[0] == 0
        code, out, err = run_cli(capsys, "detach", schema, "--purge", "--dsn", dsn)
        assert code == 0, err
        assert su.execute("SELECT count(*) FROM public.job_catalog WHERE tenant_id = %s",
                          (tenant_id,)).fetchone() == (0,)
    assert not su.execute("SELECT is_called FROM public.inj_seq").fetchone()[0], "SQL in a schema name ran"
    assert su.execute("SELECT to_regclass('public.job_catalog') IS NOT NULL").fetchone() == (True,)
    arena.assert_canary()


def test_hostile_schema_names_never_inject(arena: Arena, inj_seq: psycopg.Connection,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """Schema names with quotes, $$, format specifiers, semicolons, unicode, or exactly 63 bytes, through
    attach_schema() and the CLI (attach, backfill, verify, status, detach): they work or are refused
    cleanly, and the SQL in them never runs."""
    for schema in SCHEMA_NAMES.values():
        attach_and_exercise(arena, schema, capsys, refusal_allowed=True)


def test_schema_names_that_need_quoting_can_be_attached(arena: Arena, inj_seq: psycopg.Connection,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """BUG. attach_schema() passes quote_ident(p_schema) to has_schema_privilege(), which takes a plain
    schema NAME: every name that quote_ident() quotes (upper case letters, which django-tenants allows,
    or any non-ASCII letter) fails with 'schema "..." does not exist', so such tenants never sync."""
    attach_and_exercise(arena, "tenant_Acme_Corp", capsys, refusal_allowed=False)


def test_schema_name_longer_than_63_bytes_is_refused_cleanly(arena: Arena, inj_seq: psycopg.Connection,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    """63 characters fit the registry column but not NAMEDATALEN: CREATE SCHEMA truncates the name,
    the registry keeps the long one, and attach refuses cleanly (no schema of that name)."""
    schema = "tenant_" + "é" * 29                           # 36 characters, 65 bytes
    create_tenant(arena.su, schema[len("tenant_"):], "Too long")
    with pytest.raises(psycopg.errors.InvalidSchemaName):
        arena.su.execute("SELECT * FROM catalog_sync.attach_schema(%s)", (schema,))
    code, _, err = run_cli(capsys, "attach", schema, "--dsn", arena.db.dsn())
    assert code == 2 and "does not exist" in err
    arena.assert_canary()


# ------------------------------------------------------------------ leaks through errors

def test_errors_and_notices_never_echo_other_tenants_values(arena: Arena) -> None:
    """Every error the sync raises in the tenant's session (contract, RLS, NOT NULL in the catalog,
    duplicate keys, refused bindings and calls) names only the tenant's own objects and values."""
    t, su = arena.tenant, arena.su
    hidden = insert_job(arena.app, GLOBEX, title=f"Globex unpublished {uuid.uuid4().hex[:6]}",
                        published_on_career_page=False, internal_notes="GLOBEX-HIDDEN-NOTE")
    secrets = [arena.canary["title"], str(arena.canary["uuid"]), arena.canary["slug"], arena.canary["reference_code"],
               arena.canary["internal_notes"], "globex-hm@globex.example", hidden["title"], str(hidden["uuid"]),
               "GLOBEX-HIDDEN-NOTE"]
    notices: list[str] = []
    t.add_notice_handler(lambda d: notices.append(" ".join(filter(None, [d.message_primary, d.message_detail,
                                                                          d.message_hint, d.context]))))
    errors: list[str] = []

    def expect_error(stmt: str, params: Any = None) -> None:
        try:
            t.execute(stmt, params)
        except psycopg.Error as exc:
            errors.append(errtext(exc))
        else:
            raise AssertionError(f"expected an error from {stmt}")

    job = insert_job(t, ACME)
    upd = f"UPDATE {ACME}.ats_jobposting SET title = 'x' WHERE id = {job['id']}"
    t.execute(f"ALTER TABLE {ACME}.ats_jobposting ALTER COLUMN title TYPE bpchar")
    expect_error(upd)
    t.execute(f"ALTER TABLE {ACME}.ats_jobposting ALTER COLUMN title TYPE character varying(200)")
    t.execute(f"ALTER TABLE {ACME}.ats_jobposting ENABLE ROW LEVEL SECURITY")
    expect_error(upd)
    t.execute(f"ALTER TABLE {ACME}.ats_jobposting DISABLE ROW LEVEL SECURITY")
    t.execute(f"ALTER TABLE {ACME}.ats_jobposting ALTER COLUMN team DROP NOT NULL")
    expect_error(f"UPDATE {ACME}.ats_jobposting SET team = NULL WHERE id = {job['id']}")
    t.execute(f"ALTER TABLE {ACME}.ats_jobposting DROP CONSTRAINT ats_jobposting_uuid_key CASCADE")
    dup = uuid.uuid4()
    try:
        insert_jobs(t, ACME, [{"uuid": dup}, {"uuid": dup}])
    except psycopg.Error as exc:
        errors.append(errtext(exc))
    else:
        raise AssertionError("expected an error from two new jobs with one uuid")
    t.execute(f"ALTER TABLE {ACME}.ats_jobposting ADD CONSTRAINT ats_jobposting_uuid_key UNIQUE (uuid)")
    expect_error(f"CREATE TRIGGER zz AFTER INSERT ON {ACME}.ats_jobposting FOR EACH STATEMENT "
                 f"EXECUTE FUNCTION catalog_sync.on_job_change('{arena.globex_id}')")
    expect_error(f"SELECT * FROM catalog_sync.verify_tenant({arena.globex_id})")
    expect_error(f"SELECT * FROM catalog_sync.backfill_tenant({arena.globex_id})")
    expect_error(f"SELECT * FROM {GLOBEX}.ats_jobposting")
    expect_error("SELECT * FROM public.job_catalog")
    expect_error("SELECT * FROM public.tenants_tenant")
    # the other tenant's public uuid reused: no conflict, so no error that could echo it
    insert_job(t, ACME, uuid=arena.canary["uuid"])
    assert len(errors) >= 9
    for text in errors + notices:
        for secret in secrets:
            assert secret not in text, f"{secret!r} leaked in: {text[:300]}"
    assert su.execute("SELECT count(*) FROM public.job_catalog WHERE job_uuid = %s",
                      (arena.canary["uuid"],)).fetchone() == (2,)
    arena.assert_canary()


# ------------------------------------------------------------------ direct writes to the catalogs

CATALOG_TABLES = ["public.job_catalog", "public.provider_catalog", "public.service_catalog"]
PRIVATE_TABLES = ["catalog_sync.tenant", "catalog_sync.attached_table", "catalog_sync.contract_column",
                  "catalog_sync.trigger_spec"]


@pytest.mark.parametrize("who", ["tenant", "application", "reader"])
def test_direct_writes_to_the_catalogs_are_refused(arena: Arena, who: str) -> None:
    """INSERT, UPDATE, DELETE, TRUNCATE, COPY, row and table locks on every catalog and registry table by
    the tenant role, the application role and catalog_reader: 42501 for each."""
    if who == "tenant":
        conn = arena.tenant
    elif who == "application":
        conn = arena.app
    else:
        conn = arena.db.connect(role="catalog_reader")
        arena._extra.append(conn)
    gid = arena.globex_id
    allowed: list[str] = []
    for table in CATALOG_TABLES + PRIVATE_TABLES:
        column = arena.su.execute("SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum = 1",
                                  (table,)).fetchone()[0]
        statements = [f"INSERT INTO {table} ({column}) VALUES ({gid})",
                      f"UPDATE {table} SET {column} = {column}",
                      f"DELETE FROM {table}",
                      f"TRUNCATE {table}",
                      f"SELECT 1 FROM {table} FOR UPDATE",
                      f"SELECT 1 FROM {table} FOR KEY SHARE"]
        for stmt in statements:
            try:
                conn.execute(stmt)
                allowed.append(stmt)
            except psycopg.errors.InsufficientPrivilege:
                pass
        try:
            with conn.transaction():
                conn.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
            allowed.append(f"LOCK {table}")
        except psycopg.errors.InsufficientPrivilege:
            pass
        try:
            with conn.cursor().copy(f"COPY {table} FROM STDIN") as copy:
                copy.write_row([gid])
            allowed.append(f"COPY {table}")
        except psycopg.errors.InsufficientPrivilege:
            pass
    assert allowed == []
    if who == "reader":
        assert conn.execute("SELECT count(*) FROM public.job_catalog").fetchone()[0] >= 1
    arena.assert_canary()


# ------------------------------------------------------------------ the command line

CLI_INJECTIONS = [
    "tenant_acme'; DELETE FROM public.job_catalog; SELECT '",
    "tenant_acme\"; DELETE FROM public.job_catalog; SELECT \"",
    "tenant_acme$$; SELECT nextval('public.inj_seq'); $$",
    "tenant_acme; SELECT nextval('public.inj_seq')",
    "tenant_acme%I%s%L",
    "tenant_acme\\'; SELECT nextval(E'public.inj_seq'); --",
]


def installer_state(conn: psycopg.Connection) -> tuple[Any, ...]:
    return (
        conn.execute("SELECT tenant_id, job_uuid, xmin::text FROM public.job_catalog ORDER BY 1, 2").fetchall(),
        conn.execute("SELECT * FROM catalog_sync.tenant ORDER BY 1").fetchall(),
        conn.execute("SELECT * FROM catalog_sync.attached_table ORDER BY 1").fetchall(),
        sync_trigger_count(conn),
        conn.execute("SELECT array_agg(nspname ORDER BY nspname) FROM pg_namespace").fetchone(),
        conn.execute("SELECT is_called FROM public.inj_seq").fetchone(),
    )


def test_sql_injection_through_cli_arguments(arena: Arena, inj_seq: psycopg.Connection,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """Schema names with quotes, semicolons, $$ and format specifiers given to attach, backfill,
    verify and detach: exit 2 with one error line, and nothing changed."""
    insert_job(arena.tenant, ACME)
    before = installer_state(arena.su)
    dsn = arena.db.dsn()
    for payload in CLI_INJECTIONS:
        for argv in (["attach", payload], ["attach", payload, "--dry-run"], ["backfill", "--tenant", payload],
                     ["verify", "--tenant", payload], ["verify", "--repair", "--tenant", payload],
                     ["detach", payload], ["detach", payload, "--purge"]):
            code, out, err = run_cli(capsys, *argv, "--dsn", dsn)
            assert code == 2, (argv, out, err)
            assert err.strip().splitlines()[-1].startswith("catalog-sync: error:"), err
    assert installer_state(arena.su) == before
    arena.assert_canary()


def test_cli_sessions_do_not_resolve_names_through_public(arena: Arena, capsys: pytest.CaptureFixture[str]) -> None:
    """HOLE, fixed (application role -> superuser). The CLI runs its own SQL with the session's default
    search_path ("$user", public). `hashtextextended('...', 0)` (backfill lock) and `unnest(%s::text[])`
    (attach pre-flight) resolve to better-matching functions in public, which the application role
    may create: its code then runs as whoever runs catalog-sync, usually a superuser."""
    app = arena.app
    app.execute("CREATE SEQUENCE public.cap_seq")
    app.execute("GRANT USAGE, SELECT, UPDATE ON SEQUENCE public.cap_seq TO PUBLIC")
    app.execute("""CREATE FUNCTION public.hashtextextended(text, integer) RETURNS bigint LANGUAGE plpgsql
                   SET search_path = pg_catalog AS $$
                   BEGIN IF current_user <> 'zumodra_app' THEN PERFORM nextval('public.cap_seq'); END IF;
                         RETURN pg_catalog.hashtextextended($1, $2); END $$""")
    app.execute("""CREATE FUNCTION public.unnest(text[]) RETURNS SETOF text LANGUAGE plpgsql
                   SET search_path = pg_catalog AS $$
                   BEGIN IF current_user <> 'zumodra_app' THEN PERFORM nextval('public.cap_seq'); END IF;
                         RETURN QUERY SELECT pg_catalog.unnest($1); END $$""")
    dsn = arena.db.dsn()
    assert run_cli(capsys, "backfill", "--dsn", dsn)[0] == 0
    assert run_cli(capsys, "attach", GLOBEX, "--dsn", dsn)[0] == 0
    assert run_cli(capsys, "verify", "--dsn", dsn)[0] == 0
    assert not arena.su.execute("SELECT is_called FROM public.cap_seq").fetchone()[0], \
        "catalog-sync ran a function of the application role with its own (superuser) rights"
    arena.assert_canary()


# ------------------------------------------------------------------ availability across tenants

def test_a_tenant_cannot_stall_other_tenants_through_advisory_locks(arena: Arena,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """HOLE, fixed (cross-tenant denial of service). The sync's locks are advisory locks whose keys anyone can
    compute (public hash functions of fixed values) and take: a tenant holding the global 'tenants' key
    blocks every other tenant's writes, and holding the backfill key blocks every backfill and repair."""
    # Found by this test and closed by an explicit hardening step (the audit
    # flags it as high until it is taken): advisory locks are PUBLIC by default.
    assert ("high", "tenant_role_advisory_locks") in {
        (r[0], r[1]) for r in arena.su.execute("SELECT severity, check_name FROM catalog_sync.audit()")}
    assert run_cli(capsys, "protect", "--restrict-advisory-locks", "--dsn", arena.db.dsn())[0] == 0
    assert ("high", "tenant_role_advisory_locks") not in {
        (r[0], r[1]) for r in arena.su.execute("SELECT severity, check_name FROM catalog_sync.audit()")}
    global_key = arena.su.execute("SELECT catalog_sync.lock_key(0, 'tenants', 0)").fetchone()[0]
    backfill_key = arena.su.execute("SELECT hashtextextended('catalog_sync/backfill-run', 0)").fetchone()[0]
    migration_key = arena.su.execute("SELECT hashtextextended('catalog_sync/migration-run', 0)").fetchone()[0]
    globex_category_key = arena.su.execute("SELECT catalog_sync.tenant_lock_space(%s), "
                                           "catalog_sync.parent_lock_key('job_category', 1)",
                                           (arena.globex_id,)).fetchone()
    holder = arena.connect_tenant()
    # (red team, forty-second session) every function of a bigint key, the tool's migration key too
    for function in ADVISORY_LOCKS_OF_A_BIGINT_KEY:
        for key in (global_key, backfill_key, migration_key):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                holder.execute(f"SELECT pg_catalog.{function}(%s::bigint)", (key,))
        # nor a parent row's key of another tenant (forty-fourth session: parents have their own key space)
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match=f"function {function}"):
            holder.execute(f"SELECT pg_catalog.{function}(%s::integer, %s::integer)", globex_category_key)
    arena.app.execute("SET lock_timeout = '2s'")
    insert_job(arena.app, GLOBEX)             # must not wait for the tenant
    assert run_cli(capsys, "backfill", "--dsn", arena.db.dsn())[0] == 0
    # One of them granted back to PUBLIC is the hole again, and audit says which.
    for function in ADVISORY_LOCKS_OF_A_BIGINT_KEY:
        for args in ("bigint", "integer,integer"):
            arena.su.execute(f"GRANT EXECUTE ON FUNCTION pg_catalog.{function}({args}) TO PUBLIC")
            details = [r[0] for r in arena.su.execute("SELECT detail FROM catalog_sync.audit() "
                                                      "WHERE check_name = 'tenant_role_advisory_locks'")]
            arena.su.execute(f"REVOKE EXECUTE ON FUNCTION pg_catalog.{function}({args}) FROM PUBLIC")
            assert details and all(f"{function}({args})" in d for d in details), (function, details)


# Category ids whose key, as the parents' keys were made before the forty-fourth session
# (lock_key(tenant, 'job_category', id), a hash that can be run backwards), was another key of the sync
# or the tool: found by the red team for tenant id 1 (the arena's ACME).
KEYS_ONCE_FORGED_BY_ACME = {
    -8292993324335268097: "SELECT catalog_sync.lock_key(2, 'tenant', 0)",          # GLOBEX's tenant key
    -1017009423808276487: "SELECT hashtextextended('catalog_sync/backfill-run', 0)",
    -7183444257636013941: "SELECT hashtextextended('catalog_sync/migration-run', 0)",
}


def test_a_tenant_cannot_choose_a_parent_id_whose_lock_is_another_tenants(
        arena: Arena, capsys: pytest.CaptureFixture[str]) -> None:
    """HOLE, fixed (red team, forty-fourth session; cross-tenant denial of service, with the advisory-lock
    functions restricted). A category's lock key hashed the tenant, the kind and the id, which the tenant
    chooses, into the bigint key space of the sync's fixed keys and the tool's run locks. The hash can be
    run backwards: with an id found in seconds, a tenant's open transaction held GLOBEX's tenant key (its
    writes waited), the global key (every tenant's did), or the backfill and migration run locks. A parent
    row's key is now (tenant_lock_space(tenant), parent_lock_key(kind, id)), another key space whose first
    half is the tenant's own id."""
    assert (arena.acme_id, arena.globex_id) == (1, 2)       # (the ids the collisions were found for)
    assert run_cli(capsys, "protect", "--restrict-advisory-locks", "--dsn", arena.db.dsn())[0] == 0
    for forged, key in KEYS_ONCE_FORGED_BY_ACME.items():    # they did collide, as the keys were made
        assert arena.su.execute("SELECT hashint8extended(1, hashtextextended('job_category', %s)) = (" + key + ")",
                                (forged,)).fetchone() == (True,)
    holder = arena.connect_tenant(autocommit=False)
    for forged in KEYS_ONCE_FORGED_BY_ACME:
        holder.execute(f"INSERT INTO {ACME}.ats_jobcategory (id, uuid, name, slug, description, created_at, "
                       "updated_at) VALUES (%s, gen_random_uuid(), 'Harmless', %s, '', now(), now())",
                       (forged, f"harmless-{forged}"))
    try:
        locks = arena.su.execute(
            "SELECT objsubid, mode, classid::bigint FROM pg_locks WHERE locktype = 'advisory' AND pid = %s",
            (holder.info.backend_pid,)).fetchall()
        # every key the tenant chose is in its own space; in the space of the fixed keys, shared locks only
        assert {(2, "ExclusiveLock", arena.acme_id)} == {r for r in locks if r[1] == "ExclusiveLock"}, locks
        arena.app.execute("SET lock_timeout = '2s'")
        insert_job(arena.app, GLOBEX)             # must not wait for the tenant
        # (ACME's own tables wait for its transaction: GLOBEX only)
        assert run_cli(capsys, "backfill", "--tenant", GLOBEX, "--dsn", arena.db.dsn())[0] == 0
        assert run_cli(capsys, "attach", GLOBEX, "--dsn", arena.db.dsn())[0] == 0     # (the migration lock)
    finally:
        holder.rollback()


ADVISORY_LOCKS_OF_A_BIGINT_KEY = [f"pg_{t}advisory_{x}lock{s}" for t in ("", "try_") for x in ("", "xact_")
                                  for s in ("", "_shared")]


BLINDERS = {
    "rls": (f"ALTER TABLE {ACME}.ats_jobposting ENABLE ROW LEVEL SECURITY",
            f"ALTER TABLE {ACME}.ats_jobposting DISABLE ROW LEVEL SECURITY"),
    "revoke_select": (f"REVOKE SELECT ON {ACME}.ats_jobposting FROM catalog_sync_owner",
                      f"GRANT SELECT ON {ACME}.ats_jobposting TO catalog_sync_owner"),
    "revoke_usage": (f"REVOKE USAGE ON SCHEMA {ACME} FROM catalog_sync_owner",
                     f"GRANT USAGE ON SCHEMA {ACME} TO catalog_sync_owner"),
}


def test_a_tenant_cannot_blind_verify_for_every_tenant(arena: Arena, capsys: pytest.CaptureFixture[str]) -> None:
    """HOLE, fixed (monitoring denial of service). A tenant's own table setting that makes the definer's read
    fail (RLS enabled, SELECT or USAGE revoked from catalog_sync_owner) fails closed for its writes, but
    also makes `catalog-sync verify`, `verify --repair` and `status` error out (exit 2) for EVERY tenant:
    drift of the other tenants is no longer reported or repaired. Expected: a finding for this tenant,
    the others verified."""
    other = insert_job(arena.app, GLOBEX)
    arena.su.execute("DELETE FROM public.job_catalog WHERE job_uuid = %s", (other["uuid"],))   # globex drift
    blinded = {}
    for name, (blind, undo) in BLINDERS.items():
        arena.tenant.execute(blind)
        code, out, err = run_cli(capsys, "verify", "--json", "--dsn", arena.db.dsn())
        findings = json.loads(out)["findings"] if code in (0, 1) else []
        if not (code == 1 and any(f["tenant_id"] == arena.globex_id and f["problem"] == "missing" for f in findings)
                and any(f["tenant_id"] == arena.acme_id for f in findings)):
            blinded[name] = (code, err.strip())
        arena.tenant.execute(undo)
    assert blinded == {}


# --------------------------------------------- the contract check folded into cached plans
# (catalog_sync.contract_holds()). A single-row job write reads through plans cached for the session: job_sources()'s
# registry query (the registry) and its static read (job and category tables).
# Their contract checks run while those plans are made, and a change to a table
# invalidates the plans that read it. These tests prove the three properties the
# design rests on:
# - the check is folded: writes after the first call contract_holds() no more;
# - a change to a table makes the next write check again, and fail closed;
# - the check runs before the planner folds anything of the table (it is a
#   MATERIALIZED CTE: in a WHERE clause an inlined SQL cast of a changed column
#   would run first, as the definer).


EVIL_CATEGORY_INDEX = f"CREATE INDEX evil_idx ON {ACME}.ats_jobcategory (({ACME}.evil_const(1) + id))"


def holds_calls(conn: psycopg.Connection) -> int:
    """contract_holds() calls of this session's transaction (track_functions = all)."""
    return conn.execute("SELECT coalesce(pg_stat_get_xact_function_calls("
                        "'catalog_sync.contract_holds(regclass, name)'::regprocedure), 0)").fetchone()[0]


def test_the_check_is_folded_into_the_cached_plans(arena: Arena) -> None:
    """In one session: the first write plans the reads and checks job table, category table and
    registry once each (and each job trigger its own table, once); the next writes check nothing of
    the kind; a statistics object on the job table invalidates the plans, so the next write checks
    again."""
    su = arena.su
    su.execute("SET track_functions = 'all'")
    cat = category_id(su, ACME)
    with su.transaction():
        job = insert_job(su, ACME, category_id=cat)
        update_job(su, ACME, job["id"], title="First update")   # the UPDATE trigger caches its own check
        first = holds_calls(su)
        for i in range(5):
            update_job(su, ACME, job["id"], title=f"Title {i}")
        assert holds_calls(su) == first
        su.execute(f"CREATE STATISTICS {ACME}.job_stats ON lower(title) FROM {ACME}.ats_jobposting")
        update_job(su, ACME, job["id"], title="After the DDL")
        again = holds_calls(su)
    # insert: the INSERT trigger's own check, the read's two, the registry's; update: the UPDATE
    # trigger's own (a trigger whose check is not folded makes this 3)
    assert first >= 5, first
    assert again > first, "a change to the job table did not make the next write check again"
    assert arena.acme_row(job["uuid"])["title"] == "After the DDL"  # type: ignore[index]
    arena.assert_canary()


def test_every_read_of_a_tenant_table_folds_its_contract_check(arena: Arena) -> None:
    """A sync function that reads a tenant table by its bare name (static SQL, a plan cached per session
    and tenant) folds that table's contract check into the same statement's plan. A check made earlier,
    in another statement, leaves a window in which a statistics object over the tenant's code, committed
    in between, is folded by the read's planner as the definer (red team, twenty-seventh session:
    uuid_holders() read the job table so, 2 to 19 times in a minute of racing; review: registry_rows()
    the registry), and so does every dynamic read, which follows an explicit check of the same tables
    (review: the same window). The statement must select from the check's CTE (contract.holds): a CTE
    that nothing reads is never planned."""
    su = arena.su
    tables = [("public.tenants_tenant" if t == "tenants_tenant" else t, t) for (t,) in su.execute(
        "SELECT DISTINCT source_table FROM catalog_sync.contract_column ORDER BY 1")]
    bodies = su.execute("SELECT p.proname, p.prosrc FROM pg_proc p "
                        "WHERE p.pronamespace IN ('catalog_sync'::regnamespace, 'catalog_sync_protect'::regnamespace) "
                        "AND p.prolang IN (SELECT oid FROM pg_language WHERE lanname IN ('plpgsql', 'sql'))"
                        ).fetchall()
    reads = dynamic = 0
    for name, body in bodies:
        body = re.sub(r"--[^\n]*", "", body)          # (comments name tables too)
        # A dynamic read (FROM ONLY %s: a name by OID, planned on the spot) builds the same check into
        # its statement (folded_check()), which must select from it (review: a CTE nothing reads is
        # never planned, and a body's static read had satisfied a check of the whole body).
        if re.search(r"\b(?:FROM|JOIN)\s+ONLY\s+%", body, re.I):
            dynamic += 1
            built = [s for s in (re.sub(r"\s+", " ", s) for s in body.split(";")) if "catalog_sync.folded_check(" in s]
            assert built, name
            for statement in built:
                assert re.search(r"\bWITH %", statement) and "(SELECT contract.holds FROM contract)" in statement, \
                    (name, statement)
        for statement in (re.sub(r"\s+", " ", s) for s in body.split(";")):
            for named, table in tables:
                # the table named where a read names it, in any spelling (ONLY or not, an alias or not)
                if re.search(rf"\b(?:FROM|JOIN)\s+(?:ONLY\s+)?{re.escape(named)}\b(?!\.)", statement, re.I):
                    reads += 1
                    assert f"catalog_sync.contract_holds('{named}'::pg_catalog.regclass, '{table}')" in statement \
                        and re.search(r"\bcontract\.holds\b", statement), (name, table, statement)
    assert reads >= 12, reads       # job_sources(), provider_sources(), service_sources(), registry_row(), ...
    assert dynamic >= 7, dynamic    # the same functions' dynamic reads, backfill_tenant(), verify_tenant()


def test_a_change_after_the_plans_were_cached_fails_closed(arena: Arena) -> None:
    """The plans are cached by earlier writes of the session; then the tenant adds an index over
    its own code to the category table. The next job write re-plans its read, checks, and refuses
    it: the index expression never runs as the definer."""
    t = arena.tenant
    cat = category_id(t, ACME)
    job = insert_job(t, ACME, category_id=cat)
    update_job(t, ACME, job["id"], title="Cached")
    t.execute(EVIL_CATEGORY_INDEX)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="contract"):
        update_job(t, ACME, job["id"], title="Refused")
    assert not arena.evil_ran(), "the index expression ran as the definer"
    assert arena.acme_row(job["uuid"])["title"] == "Cached"  # type: ignore[index]
    arena.assert_canary()


def test_the_check_runs_before_an_inlined_cast_of_a_changed_column(arena: Arena) -> None:
    """The category's name becomes a tenant type whose cast to text is an IMMUTABLE SQL function:
    the planner inlines it, and would fold a constant call inside it, as the definer, while it
    plans the read. Folded in a WHERE clause the check ran too late for this (found in review);
    as a MATERIALIZED CTE it runs first, and the write fails closed."""
    t = arena.tenant
    cat = category_id(t, ACME)
    job = insert_job(t, ACME, category_id=cat)
    update_job(t, ACME, job["id"], title="Cached")          # the read's plan is now cached
    t.execute(f"CREATE TYPE {ACME}.evil_text AS ENUM ('x')")
    t.execute(f"""CREATE FUNCTION {ACME}.evil_to_text({ACME}.evil_text) RETURNS text LANGUAGE sql IMMUTABLE
                  AS $$ SELECT CASE WHEN {ACME}.evil_const(1) = 1 THEN 'x' ELSE 'y' END $$""")
    t.execute(f"CREATE CAST ({ACME}.evil_text AS text) WITH FUNCTION {ACME}.evil_to_text({ACME}.evil_text)")
    t.execute(f"ALTER TABLE {ACME}.ats_jobcategory ALTER COLUMN name TYPE {ACME}.evil_text USING 'x'")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="contract"):
        update_job(t, ACME, job["id"], title="Refused")
    assert not arena.evil_ran(), "the tenant's cast ran as the definer before the contract check"
    arena.assert_canary()


def test_plan_cached_inside_a_savepoint_that_hid_an_evil_index(arena: Arena) -> None:
    """Committed: an index over tenant code on the category table. In one transaction a savepoint
    drops it, a write caches the read's plan (the contract holds), ROLLBACK TO SAVEPOINT brings the
    index back: the next write checks again and fails closed."""
    t = arena.tenant
    job = insert_job(t, ACME, category_id=category_id(t, ACME))
    t.execute(EVIL_CATEGORY_INDEX)
    w = arena.connect_tenant(autocommit=False)
    w.execute("SAVEPOINT s")
    w.execute(f"DROP INDEX {ACME}.evil_idx")
    update_job(w, ACME, job["id"], title="cached while hidden")
    w.execute("ROLLBACK TO SAVEPOINT s")
    assert_next_write_fails_closed(arena, w, job["id"])


@pytest.mark.parametrize("between", ["nothing", "discard", "savepoint"])
def test_same_transaction_ddl_after_the_plan_was_cached(arena: Arena, between: str) -> None:
    """The writer's own transaction caches the read's plan, then adds an index over tenant code."""
    t = arena.tenant
    job = insert_job(t, ACME, category_id=category_id(t, ACME))
    w = arena.connect_tenant(autocommit=False)
    update_job(w, ACME, job["id"], title="cached")
    if between == "savepoint":
        w.execute("SAVEPOINT s")
    w.execute(EVIL_CATEGORY_INDEX)
    if between == "discard":
        w.execute("DISCARD PLANS")
    assert_next_write_fails_closed(arena, w, job["id"])


def assert_next_write_fails_closed(arena: Arena, w: psycopg.Connection, job_id: int) -> None:
    """The next job write of `w`'s open transaction is refused (contract); no tenant code ran as the definer."""
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="contract"):
        update_job(w, ACME, job_id, title="refused")
    w.rollback()
    assert not arena.evil_ran()
    arena.assert_canary()


@pytest.mark.parametrize("table", ["ats_jobcategory", "ats_jobposting"])
def test_dropped_statistics_still_in_the_writers_relcache(arena: Arena, table: str) -> None:
    """Inside one transaction that holds every lock of a job write, another session adds statistics
    over tenant code, the writer learns of them (a new lock processes invalidations) and plans a
    query on the table as the tenant, then the statistics are dropped: the contract holds again on a
    new snapshot while the writer's caches may still hold the expression. The next write re-plans
    its read: opening the tables by name processes the pending invalidations before the check, so
    the planner and the check see the same state, and nothing runs as the definer."""
    t = arena.tenant
    job = insert_job(t, ACME, category_id=category_id(t, ACME))
    t.execute(f"CREATE TABLE {ACME}.lock_me (id int)")
    col = "name" if table == "ats_jobcategory" else "title"
    w = arena.connect_tenant(autocommit=False)
    update_job(w, ACME, job["id"], title="first")
    t.execute(f"CREATE STATISTICS {ACME}.evil_st ON (id + {ACME}.evil_const(1)), {col} FROM {ACME}.{table}")
    t.execute(f"ANALYZE {ACME}.{table}")
    w.execute(f"LOCK TABLE {ACME}.lock_me IN ACCESS SHARE MODE")
    w.execute(f"EXPLAIN SELECT * FROM ONLY {ACME}.{table} WHERE {col} = 'x'")     # as the tenant
    assert not arena.evil_ran()
    t.execute(f"DROP STATISTICS {ACME}.evil_st")
    try:
        update_job(w, ACME, job["id"], title="second")
        w.commit()
    except psycopg.Error:
        w.rollback()
    assert not arena.evil_ran(), "a dropped statistics expression ran as the definer"
    arena.assert_canary()


# --------------------------------------------------- names swapped between snapshot and lock
# A sync read runs inside STABLE functions, on the snapshot of the statement that called them, and
# locks its tables only then. A swap of names the tenant commits in between (the registered table
# renamed away, a look-alike of its own renamed into its place) is invisible on that snapshot but
# visible to the parser. The names the read uses must come from the catalog caches after the lock
# (qualified_name(): regclass output). Found by a review of the static read and the folded check;
# the second case also failed before them. The window is milliseconds wide on a backend's first
# write, so each test races: a fresh connection per attempt, the swap fired after a swept delay.

def swap_sql(table: str, kind: str) -> tuple[str, str]:
    """(swap in, swap out): the registered `table` and the look-alike `lookalike` (a `kind`) trade names."""
    swap_in = (f"BEGIN; ALTER TABLE {ACME}.{table} RENAME TO swap_tmp; "
               f"ALTER {kind} {ACME}.lookalike RENAME TO {table}; "
               f"ALTER TABLE {ACME}.swap_tmp RENAME TO lookalike; COMMIT")
    swap_out = (f"BEGIN; ALTER {kind} {ACME}.{table} RENAME TO swap_tmp; "
                f"ALTER TABLE {ACME}.lookalike RENAME TO {table}; "
                f"ALTER {kind} {ACME}.swap_tmp RENAME TO lookalike; COMMIT")
    return swap_in, swap_out


def race_a_name_swap(arena: Arena, table: str, kind: str, write: Callable[[psycopg.Connection, int], object],
                     hit: Callable[[], bool], attempts: int = 120) -> tuple[int, float] | None:
    """Write on a fresh tenant backend while another tenant session swaps names after a swept delay;
    returns (attempt, delay) of the first write after which `hit()` holds, or None."""
    swap_in, swap_out = swap_sql(table, kind)
    real_oid = arena.su.execute("SELECT %s::regclass::oid", (f"{ACME}.{table}",)).fetchone()[0]
    swapper = arena.connect_tenant()
    for attempt in range(attempts):
        if arena.su.execute("SELECT relname FROM pg_class WHERE oid = %s", (real_oid,)).fetchone()[0] != table:
            swapper.execute(swap_out)
        delay = (attempt % 40) * 0.0005
        with psycopg.connect(arena.db.dsn(user=TENANT_ROLE), autocommit=True) as w:
            w.execute("SELECT 1")
            swap = threading.Thread(target=lambda d=delay: (time.sleep(d), swapper.execute(swap_in)))
            swap.start()
            with contextlib.suppress(psycopg.Error):    # failing closed is fine
                write(w, attempt)
            swap.join()
        if hit():
            return attempt, delay
    return None


def create_evil_lookalike_view(t: psycopg.Connection, table: str) -> None:
    """`lookalike`: a view over a copy of `table` that calls evil(), readable by the definer."""
    t.execute(f"CREATE TABLE {ACME}.copy_of_table (LIKE {ACME}.{table})")
    t.execute(f"INSERT INTO {ACME}.copy_of_table SELECT * FROM {ACME}.{table}")
    t.execute(f"CREATE VIEW {ACME}.lookalike AS SELECT c.* FROM {ACME}.copy_of_table c WHERE {ACME}.evil()")
    t.execute(f"GRANT SELECT ON {ACME}.lookalike TO catalog_sync_owner")


def test_a_bulk_job_write_never_reads_a_view_swapped_in_for_the_category_table(arena: Arena) -> None:
    """101 rows: the dynamic read, whose table names used to come from the stale snapshot."""
    t = arena.tenant
    cat = category_id(t, ACME)
    create_evil_lookalike_view(t, "ats_jobcategory")
    insert_jobs(t, ACME, [{"category_id": cat} for _ in range(101)])
    hit = race_a_name_swap(arena, "ats_jobcategory", "VIEW",
                           lambda w, i: w.execute(f"UPDATE {ACME}.ats_jobposting SET title = 'Attempt {i} ' || id"),
                           arena.evil_ran)
    assert hit is None, f"a swapped-in view ran tenant code as the definer (attempt, delay) = {hit}"
    arena.assert_canary()


def test_a_category_write_never_reads_a_view_swapped_in_for_the_job_table(arena: Arena) -> None:
    """The 'categories' read of on_job_category_change (this one predates the static read)."""
    t = arena.tenant
    cat = category_id(t, ACME)
    insert_job(t, ACME, category_id=cat)
    create_evil_lookalike_view(t, "ats_jobposting")
    hit = race_a_name_swap(arena, "ats_jobposting", "VIEW",
                           lambda w, i: w.execute(f"UPDATE {ACME}.ats_jobcategory SET name = 'Category {i}' "
                                                  "WHERE id = %s", (cat,)),
                           arena.evil_ran)
    assert hit is None, f"a swapped-in view ran tenant code as the definer (attempt, delay) = {hit}"
    arena.assert_canary()


def test_a_single_row_write_never_reads_an_unregistered_table_swapped_in(arena: Arena) -> None:
    """The static read: a contract-conforming look-alike of the category table takes its name. The
    folded check would pass it (it checks whatever the name means); the read must not use it."""
    t = arena.tenant
    cat = category_id(t, ACME)
    t.execute(f"CREATE TABLE {ACME}.lookalike (LIKE {ACME}.ats_jobcategory)")
    t.execute(f"INSERT INTO {ACME}.lookalike SELECT * FROM {ACME}.ats_jobcategory")
    t.execute(f"UPDATE {ACME}.lookalike SET name = 'FROM-AN-UNREGISTERED-TABLE'")
    t.execute(f"GRANT SELECT ON {ACME}.lookalike TO catalog_sync_owner")
    job = insert_job(t, ACME, category_id=cat)
    hit = race_a_name_swap(arena, "ats_jobcategory", "TABLE",
                           lambda w, i: update_job(w, ACME, job["id"], title=f"attempt {i}"),
                           lambda: (arena.acme_row(job["uuid"]) or {}).get("category_name")
                           == "FROM-AN-UNREGISTERED-TABLE")
    assert hit is None, f"the write read an unregistered table (attempt, delay) = {hit}"
    arena.assert_canary()


def race_verify_against_a_job_view_swap(arena: Arena, condition: str, verify: Callable[[], object],
                                        hit: Callable[[], bool], attempts: int = 120) -> tuple[int, float] | None:
    """`verify` on a fresh backend per attempt while the tenant swaps a view over a copy of its job
    table (WHERE `condition`, tenant code) in for the registered table after a swept delay (0 to 30
    ms: a fresh backend's verify_tenant() takes tens of milliseconds)."""
    t = arena.tenant
    insert_job(t, ACME, category_id=category_id(t, ACME))
    t.execute(f"CREATE TABLE {ACME}.copy_of_table (LIKE {ACME}.ats_jobposting)")
    t.execute(f"INSERT INTO {ACME}.copy_of_table SELECT * FROM {ACME}.ats_jobposting")
    t.execute(f"CREATE VIEW {ACME}.lookalike AS SELECT c.* FROM {ACME}.copy_of_table c WHERE {condition}")
    t.execute(f"GRANT SELECT ON {ACME}.lookalike TO catalog_sync_owner")
    swap_in, swap_out = swap_sql("ats_jobposting", "VIEW")
    swapper = arena.connect_tenant()

    def restore() -> None:
        if arena.su.execute("SELECT relkind FROM pg_class WHERE oid = %s::regclass",
                            (f"{ACME}.ats_jobposting",)).fetchone() == ("v",):
            swapper.execute(swap_out)

    try:
        for attempt in range(attempts):
            restore()
            delay = (attempt % 120) * 0.00025
            swap = threading.Thread(target=lambda d=delay: (time.sleep(d), swapper.execute(swap_in)))
            swap.start()
            with contextlib.suppress(psycopg.Error):
                verify()
            swap.join()
            if hit():
                return attempt, delay
        return None
    finally:
        restore()


def test_verify_tenant_never_parses_a_view_swapped_in_for_the_job_table(arena: Arena) -> None:
    """HOLE, fixed (found in review; older than this session's changes). verify_tenant() parsed its
    'expired' lookup on the job table by name before anything locked or checked the table: a view
    swapped in under the name had its IMMUTABLE call folded as catalog_sync_owner. It now locks
    every table of the tenant first and checks them again, on a snapshot after the locks, before it
    parses anything; names come from the catalog caches."""

    def verify() -> None:
        with psycopg.connect(arena.db.dsn(), autocommit=True) as v:      # an installer's call
            v.execute("SELECT * FROM catalog_sync.verify_tenant(%s)", (arena.acme_id,)).fetchall()

    hit = race_verify_against_a_job_view_swap(arena, f"{ACME}.evil_const(1) = 1", verify, arena.evil_ran)
    assert hit is None, f"verify ran the tenant's view as catalog_sync_owner (attempt, delay) = {hit}"
    arena.assert_canary()


def test_cli_verify_never_runs_a_swapped_in_view(arena: Arena) -> None:
    """HOLE, fixed (found in review). The same through `catalog-sync verify --tenant`, which ran in one
    REPEATABLE READ, READ ONLY transaction: the contract check read the catalogs on the transaction's
    first snapshot, older than what the parser saw. READ ONLY stops no read and no NOTIFY: the
    view's code, as catalog_sync_owner, read another tenant's sensitive column and sent it to the
    tenant's LISTEN session. verify now runs each tenant in a READ COMMITTED transaction of its own,
    and verify_tenant() refuses any other isolation level."""
    t = arena.tenant
    t.execute(f"""CREATE FUNCTION {ACME}.leak(integer) RETURNS integer LANGUAGE plpgsql IMMUTABLE
                  SET search_path = pg_catalog, pg_temp AS $$
                  BEGIN
                      IF current_user <> '{TENANT_ROLE}' THEN
                          PERFORM pg_catalog.pg_notify('loot', current_user || ': ' ||
                              (SELECT pg_catalog.string_agg(internal_notes, ',') FROM {GLOBEX}.ats_jobposting));
                      END IF;
                      RETURN $1;
                  END $$""")
    listener = arena.connect_tenant()
    listener.execute("LISTEN loot")
    loot: list[str] = []

    def verify() -> None:
        with psycopg.connect(arena.db.dsn(), autocommit=True, options="-c search_path=pg_catalog,pg_temp") as v:
            operations.verify(v, [operations.Tenant(arena.acme_id, ACME)])

    def leaked() -> bool:
        loot.extend(n.payload for n in listener.notifies(timeout=0.05, stop_after=1))
        return bool(loot)

    hit = race_verify_against_a_job_view_swap(arena, f"{ACME}.leak(1) = 1", verify, leaked)
    assert hit is None, f"catalog-sync verify leaked {loot} to the tenant (attempt, delay) = {hit}"
    with arena.su.transaction():
        arena.su.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        with pytest.raises(psycopg.errors.FeatureNotSupported, match="READ COMMITTED"):
            arena.su.execute("SELECT * FROM catalog_sync.verify_tenant(%s)", (arena.acme_id,))
    arena.assert_canary()


@pytest.mark.parametrize(("name", "table", "schema"), [
    ("tenant_acme.ats_jobposting", "ats_jobposting", "tenant_acme"),
    ('"Acme Co".ats_jobposting', "ats_jobposting", '"Acme Co"'),
    ('"a.ats_jobposting".ats_jobposting', "ats_jobposting", '"a.ats_jobposting"'),
    ('acme."Odd Table"', "Odd Table", "acme"),
    ('"$user".ats_jobposting', "ats_jobposting", None),      # the path would read it as the $user token
    (".ats_jobposting", "ats_jobposting", None),
    ("ats_jobposting", "ats_jobposting", None),              # unqualified: on the path, no schema to name
    ('acme."ats_jobposting "', "ats_jobposting", None),
    ("acme.ats_jobcategory", "ats_jobposting", None),
    ("12345", "ats_jobposting", None),                       # a lost OID as regclass prints it
])
def test_schema_naming_names_only_a_schema_a_search_path_can_hold(arena: Arena, name: str, table: str,
                                                                 schema: str | None) -> None:
    """schema_naming() decides which schema a static read puts on its search_path."""
    assert arena.su.execute("SELECT catalog_sync.schema_naming(%s, %s)", (name, table)).fetchone()[0] == schema


@pytest.mark.parametrize(("arg", "bound"), [
    ("0", 0), ("7", 7), ("999999999999999999", 999999999999999999),
    ("07", None), ("+7", None), ("-7", None), (" 7", None), ("7 ", None), ("", None), ("7a", None),
    ("1000000000000000000", None),                          # beyond 10^18 - 1
    ("\uff17", None),                                      # a fullwidth digit: not [0-9]
])
def test_a_trigger_argument_binds_a_tenant_only_as_its_canonical_text(arena: Arena, arg: str,
                                                                      bound: int | None) -> None:
    """bound_tenant_id() is how guard() and audit() read a trigger's binding: only the text attach writes
    for an id from 0 to 10^18 - 1 binds one (any other spelling of the same number is refused)."""
    assert arena.su.execute("SELECT catalog_sync.bound_tenant_id(%s)", (arg,)).fetchone()[0] == bound


def test_static_read_of_a_schema_named_dollar_user(arena: Arena) -> None:
    """Found in review. The static read names the tenant's schema in a search_path; a schema named
    $user reads there as the $user token (then pg_temp), so the read would resolve the writer's
    temp tables. Such a schema takes the dynamic read."""
    su = arena.su
    schema = "$user"
    su.execute("SET ROLE zumodra_app")
    su.execute("INSERT INTO public.tenants_tenant (schema_name, uuid, name, slug, logo_url, website, status, "
               "created_on, updated_at) VALUES (%s, gen_random_uuid(), 'Dollar', 'dollar', "
               "'https://cdn.example.com/d.png', 'https://d.example.com', 'active', now(), now())", (schema,))
    dbname = su.execute("SELECT current_database()").fetchone()[0]
    su.execute("RESET ROLE")
    su.execute(sql.SQL("GRANT CREATE ON DATABASE {} TO zumodra_app").format(sql.Identifier(dbname)))
    su.execute("SET ROLE zumodra_app")
    su.execute(sqlfiles.contract_sql("tenant", schema))
    su.execute("""INSERT INTO "$user".ats_jobcategory (uuid, name, slug, description, created_at, updated_at)
                  VALUES (gen_random_uuid(), 'Real', 'real', '', now(), now())""")
    su.execute("RESET ROLE")
    su.execute("SELECT * FROM catalog_sync.attach_schema(%s)", (schema,))
    with psycopg.connect(arena.db.dsn(), autocommit=True) as app:
        app.execute("SET ROLE zumodra_app")
        app.execute('CREATE TEMP TABLE ats_jobposting (LIKE "$user".ats_jobposting)')
        app.execute('CREATE TEMP TABLE ats_jobcategory (LIKE "$user".ats_jobcategory)')
        app.execute('INSERT INTO pg_temp.ats_jobcategory SELECT * FROM "$user".ats_jobcategory')
        app.execute("UPDATE pg_temp.ats_jobcategory SET name = 'FROM-PG-TEMP'")
        app.execute("GRANT SELECT ON pg_temp.ats_jobposting, pg_temp.ats_jobcategory TO catalog_sync_owner")
        cat = app.execute('SELECT id FROM "$user".ats_jobcategory').fetchone()[0]
        job = insert_job(app, schema, category_id=cat)
        app.execute('INSERT INTO pg_temp.ats_jobposting SELECT * FROM "$user".ats_jobposting')
        app.execute('UPDATE "$user".ats_jobposting SET title = %s WHERE id = %s', ("Second", job["id"]))
    row = su.execute("SELECT title, category_name FROM public.job_catalog WHERE job_uuid = %s",
                     (job["uuid"],)).fetchone()
    assert row == ("Second", "Real"), f"the single-row write read pg_temp, not the registered tables: {row}"
    arena.assert_canary()


# --------------------------------------------- the marketplace's static reads
# A single-row marketplace write reads through static SQL too: provider_parents(), provider_sources()
# and service_sources() fold the contract check of every table they name into their cached plans, as
# job_sources() does (the section above). The same properties, for their tables.

MARKET_TABLES = ["services_serviceprovider", "services_serviceprovider_categories", "services_servicecategory",
                 "services_providerskill", "services_skill", "services_service"]


@dataclass
class Market:
    provider: dict[str, Any]
    category: dict[str, Any]
    skill: dict[str, Any]
    service: dict[str, Any]


def seed_market(t: psycopg.Connection) -> Market:
    provider = market.insert_provider(t, ACME)
    category = market.insert_service_category(t, ACME)
    skill = market.insert_skill(t, ACME)
    market.link_category(t, ACME, provider["id"], category["id"])
    market.link_skill(t, ACME, provider["id"], skill["id"])
    return Market(provider, category, skill, market.insert_service(t, ACME, provider["id"], category_id=category["id"]))


MARKET_WRITES: dict[str, Callable[[psycopg.Connection, Market, str], None]] = {
    # a provider edit reads every marketplace table: the provider's parents, the provider, its services
    "provider_edit": lambda c, m, title: market.update_provider(c, ACME, m.provider["id"], display_name=title),
    "service_edit": lambda c, m, title: market.update_service(c, ACME, m.service["id"], title=title),
}


def test_the_marketplace_check_is_folded_into_the_cached_plans(arena: Arena) -> None:
    """Repeated provider and service edits of one session call contract_holds() no more; statistics on
    the skill table make the next provider edit check again."""
    su = arena.su
    su.execute("SET track_functions = 'all'")
    m = seed_market(su)
    with su.transaction():
        for write in MARKET_WRITES.values():
            write(su, m, "first")
        first = holds_calls(su)
        for i in range(5):
            for write in MARKET_WRITES.values():
                write(su, m, f"edit {i}")
        assert holds_calls(su) == first
        su.execute(f"CREATE STATISTICS {ACME}.skill_stats ON lower(name) FROM {ACME}.services_skill")
        MARKET_WRITES["provider_edit"](su, m, "after the DDL")
        again = holds_calls(su)
    assert first >= 11, first        # the five tables of the provider's read, three of its parents', three services'
    assert again > first, "a change to the skill table did not make the next provider edit check again"
    assert market.provider_row(su, m.provider["uuid"])["display_name"] == "after the DDL"  # type: ignore[index]
    arena.assert_canary()


@pytest.mark.parametrize(("write", "table"), [("provider_edit", t) for t in MARKET_TABLES]
                         + [("service_edit", t) for t in ("services_service", "services_serviceprovider",
                                                          "services_servicecategory")])
def test_a_marketplace_change_after_the_plans_were_cached_fails_closed(arena: Arena, write: str, table: str) -> None:
    """The tenant's writes have cached the reads' plans; then it adds an index over its own code to a
    table the write reads. The next write checks again and is refused; the expression never runs as
    the definer."""
    t = arena.tenant
    m = seed_market(t)
    MARKET_WRITES[write](t, m, "cached")
    MARKET_WRITES[write](t, m, "cached again")
    t.execute(f"CREATE INDEX evil_idx ON {ACME}.{table} ((id + {ACME}.evil_const(1)))")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="contract"):
        MARKET_WRITES[write](t, m, "refused")
    assert not arena.evil_ran(), "the index expression ran as the definer"
    arena.assert_canary()


@pytest.mark.parametrize(("write", "table", "shows"), [
    ("provider_edit", "services_skill", lambda p, s: [x["name"] for x in p["skills_data"]]),
    ("service_edit", "services_servicecategory", lambda p, s: [s["category_name"]]),
])
def test_a_marketplace_write_never_reads_an_unregistered_table_swapped_in(
        arena: Arena, write: str, table: str, shows: Callable[[dict[str, Any], dict[str, Any]], list[str]]) -> None:
    """The static reads: a contract-conforming look-alike takes the name of a registered table. The
    folded check would pass it (it checks whatever the name means); the read must not use it."""
    t = arena.tenant
    m = seed_market(t)
    t.execute(f"CREATE TABLE {ACME}.lookalike (LIKE {ACME}.{table})")
    t.execute(f"INSERT INTO {ACME}.lookalike SELECT * FROM {ACME}.{table}")
    t.execute(f"UPDATE {ACME}.lookalike SET name = 'FROM-AN-UNREGISTERED-TABLE'")
    t.execute(f"GRANT SELECT ON {ACME}.lookalike TO catalog_sync_owner")

    def hit() -> bool:
        provider = market.provider_row(arena.su, m.provider["uuid"]) or {"skills_data": []}
        service = market.service_row(arena.su, m.service["uuid"]) or {"category_name": None}
        return "FROM-AN-UNREGISTERED-TABLE" in shows(provider, service)

    found = race_a_name_swap(arena, table, "TABLE", lambda w, i: MARKET_WRITES[write](w, m, f"attempt {i}"), hit)
    assert found is None, f"the write read an unregistered table (attempt, delay) = {found}"
    arena.assert_canary()


def test_a_renamed_marketplace_table_is_still_checked(arena: Arena) -> None:
    """A trigger's own table folds its check only under its contract name; renamed, guard() checks it
    explicitly, on every statement: an index over tenant code added after the writes cached their
    plans is refused."""
    t = arena.tenant
    m = seed_market(t)
    t.execute(f"ALTER TABLE {ACME}.services_serviceprovider RENAME TO providers_renamed")
    t.execute(f"UPDATE {ACME}.providers_renamed SET display_name = 'cached' WHERE id = %s", (m.provider["id"],))
    assert market.provider_row(arena.su, m.provider["uuid"])["display_name"] == "cached"  # type: ignore[index]
    t.execute(f"CREATE INDEX evil_idx ON {ACME}.providers_renamed ((id + {ACME}.evil_const(1)))")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="contract"):
        t.execute(f"UPDATE {ACME}.providers_renamed SET display_name = 'refused' WHERE id = %s", (m.provider["id"],))
    assert not arena.evil_ran()
    arena.assert_canary()


# What a tenant does so that attach has a lock to take on its tables: a trigger to install (SHARE ROW EXCLUSIVE,
# CREATE TRIGGER's lock), or an EXTRA one to drop (ACCESS EXCLUSIVE, DROP TRIGGER's).
TRIGGERS_TO_CHANGE = {
    "triggers dropped": "DROP TRIGGER {trigger} ON {table}",
    "a trigger renamed": "ALTER TRIGGER {trigger} ON {table} RENAME TO renamed_by_tenant",
}
# How the tenant puts a view of pg_class and the job catalog under the name attach is waiting to lock: its table
# renamed away; or its schema renamed away and another schema of its own (it has CREATE on the database) renamed
# into its name, which takes no lock on the tables (review, fifty-second session).
VIEW_OF_THE_DATABASE = "WITH (security_invoker = true) AS SELECT 1 AS x FROM pg_catalog.pg_class, public.job_catalog"
SWAPS = {
    "the table renamed": ([], [f"ALTER TABLE {ACME}.ats_jobcategory RENAME TO jobs_category",
                               f"CREATE VIEW {ACME}.ats_jobcategory {VIEW_OF_THE_DATABASE}"], []),
    "the schema renamed": (["CREATE SCHEMA evil_swap", f"CREATE VIEW evil_swap.ats_jobcategory {VIEW_OF_THE_DATABASE}"],
                           [f"ALTER SCHEMA {ACME} RENAME TO tenant_acme_moved",
                            f"ALTER SCHEMA evil_swap RENAME TO {ACME}"],
                           [f"ALTER SCHEMA {ACME} RENAME TO evil_swap",        # (back, for the canary's checks)
                            f"ALTER SCHEMA tenant_acme_moved RENAME TO {ACME}"]),
}


# The tenant's lock on the table attach waits for: a write in progress, or DDL (review, fifty-second session).
TENANT_HOLDS = {"its write": "ROW EXCLUSIVE", "its DDL": "ACCESS EXCLUSIVE"}


@pytest.mark.parametrize("holds", TENANT_HOLDS.values(), ids=TENANT_HOLDS.keys())
@pytest.mark.parametrize("swap", SWAPS.values(), ids=SWAPS.keys())
@pytest.mark.parametrize("change", TRIGGERS_TO_CHANGE.values(), ids=TRIGGERS_TO_CHANGE.keys())
def test_a_view_put_under_a_table_name_while_attach_waits_locks_nothing_of_the_database(
        arena: Arena, change: str, swap: tuple[list[str], list[str], list[str]], holds: str) -> None:
    """(security red team, fifty-second session) LOCK looks a name up again once its wait ends. While a
    superuser's attach waited for the tenant's table, the tenant put a security_invoker view of pg_class and
    public.job_catalog under its name: attach's LOCK took the view and, in its mode, checked as the superuser,
    every relation the view reads: SHARE ROW EXCLUSIVE on pg_class and the job catalog (another tenant's job
    writes and all DDL waited), or a queued ACCESS EXCLUSIVE on pg_class (every session waited), for as long as
    a second table the tenant held kept attach waiting. Now LOCK runs as the tables' owner
    (lock_tables_by_name()): the view's relations are checked as the tenant, which may not lock them so; attach
    fails (42501, or 40001 where a name moved) and nothing of the database is locked."""
    su, tenant = arena.su, arena.tenant
    before, during, undo = swap
    dbname = su.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
    su.execute(sql.SQL("GRANT CREATE ON DATABASE {} TO {}").format(sql.Identifier(dbname), sql.Identifier(TENANT_ROLE)))
    for table in ("ats_jobcategory", "ats_jobposting"):
        for (name,) in su.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                                  (f"{ACME}.{table}",)).fetchall():
            tenant.execute(change.format(trigger=f'"{name}"', table=f"{ACME}.{table}"))
            if "RENAME" in change:
                break
    for statement in before:
        tenant.execute(statement)
    holder = arena.connect_tenant(autocommit=False)
    holder.execute(f"LOCK TABLE {ACME}.ats_jobcategory IN {holds} MODE")
    holder2 = arena.connect_tenant(autocommit=False)
    holder2.execute(f"LOCK TABLE {ACME}.ats_jobposting IN ROW EXCLUSIVE MODE")
    observers = [arena.db.connect(autocommit=False) for _ in range(4)]     # (opened before: a new one may stall)
    for observer in observers:
        observer.execute("SET lock_timeout = '1s'")
        observer.commit()
    thread, pid, errors = run_blocked(arena.db, lambda c: c.execute("SELECT * FROM catalog_sync.attach_schema(%s)",
                                                                    (ACME,)), role=None)
    stalled: dict[str, bool] = {}
    held: list[Any] = []
    try:
        wait_until_blocked(su, pid)
        # (by the session that holds the table: its rename goes ahead of attach's queued lock; then it ends)
        for statement in during:
            holder.execute(statement)
        holder.commit()
        time.sleep(0.5)
        held = observers[3].execute(
            "SELECT l.relation::regclass::text, l.mode FROM pg_locks l WHERE l.pid = %s "
            "AND l.mode <> 'AccessShareLock' AND l.relation IN ('pg_class'::regclass, 'public.job_catalog'::regclass)",
            (pid,)).fetchall()
        observers[3].rollback()
        probes: dict[str, Callable[[psycopg.Connection], Any]] = {
            "another tenant's job write": lambda c: update_job(c, GLOBEX, arena.canary["id"], title="later"),
            "unrelated DDL": lambda c: c.execute("CREATE TABLE public.unrelated_probe (x int)"),
            "a read of the catalog":
                lambda c: c.execute("SELECT count(*) FROM pg_catalog.pg_class WHERE relname = 'x'"),
        }
        for observer, (what, probe) in zip(observers[:3], probes.items(), strict=True):
            try:
                probe(observer)
                stalled[what] = False
            except psycopg.errors.LockNotAvailable:
                stalled[what] = True
            observer.rollback()
    finally:
        holder.rollback()
        holder2.rollback()
        thread.join(60)
        for observer in observers:
            observer.close()
        for statement in undo:
            tenant.execute(statement)
        su.execute(sql.SQL("REVOKE CREATE ON DATABASE {} FROM {}").format(sql.Identifier(dbname),
                                                                          sql.Identifier(TENANT_ROLE)))
    assert (held, stalled) == ([], dict.fromkeys(stalled, False)), (held, stalled)
    assert [type(e) for e in errors] in ([], [psycopg.errors.InsufficientPrivilege],
                                         [psycopg.errors.SerializationFailure]), errors
    arena.assert_canary()
    assert not arena.evil_ran()


def test_lock_tables_by_name_takes_the_mode_asked_for_and_refuses_any_other(db: Db, conn: psycopg.Connection) -> None:
    """lock_tables_by_name() (a mode spliced into its LOCK statement): SHARE ROW EXCLUSIVE or ACCESS EXCLUSIVE
    on every table given, in that mode; any other mode refused before anything is locked; a relation dropped
    meanwhile left out."""
    relids = [r[0] for r in conn.execute(
        "SELECT c.oid FROM pg_class c WHERE c.oid IN (%s::regclass, %s::regclass) ORDER BY c.oid",
        (f"{ACME}.ats_jobcategory", f"{ACME}.ats_jobposting")).fetchall()]
    conn.execute("CREATE TABLE public.dropped_meanwhile (x int)")
    gone = db.scalar("SELECT 'public.dropped_meanwhile'::regclass::oid")
    conn.execute("DROP TABLE public.dropped_meanwhile")
    with db.connect(autocommit=False) as c:
        for mode, lock in (("SHARE ROW EXCLUSIVE", "ShareRowExclusiveLock"),
                           ("ACCESS EXCLUSIVE", "AccessExclusiveLock")):
            c.execute("SELECT catalog_sync.lock_tables_by_name(%s::oid[], %s)", ([*relids, gone], mode))
            taken = c.execute("SELECT l.relation, l.mode FROM pg_locks l WHERE l.pid = pg_backend_pid() "
                              "AND l.locktype = 'relation' AND l.relation = ANY (%s) AND l.mode <> 'AccessShareLock' "
                              "ORDER BY 1", (relids,)).fetchall()
            assert taken == [(r, lock) for r in relids], (mode, taken)
            c.rollback()
        for bad in ("ACCESS SHARE", "EXCLUSIVE", "ROW EXCLUSIVE", "SHARE", None,
                    "ACCESS EXCLUSIVE MODE; SELECT 1; --"):
            with pytest.raises(psycopg.errors.RaiseException,
                               match="takes SHARE ROW EXCLUSIVE or ACCESS EXCLUSIVE, not"):
                c.execute("SELECT catalog_sync.lock_tables_by_name(%s::oid[], %s)", (relids, bad))
            c.rollback()
