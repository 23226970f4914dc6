"""The sync never JIT-compiles (docs/architecture.md, "No JIT in the sync").

JIT is decided when a plan is made, and the sync's plans over transition tables
are cached for the session with default row estimates: without `SET jit = off`
one bulk statement left every later job write of that session compiling its
change detection (about 1 s per single-row UPDATE instead of a few ms).
With `jit_above_cost = 0` every plan asks for JIT; auto_explain shows which
statements compiled. The statement the test runs itself compiles (the control);
nothing the sync runs inside it may.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from pyinstaller_tools import seed
from tests.conftest import Db
from tests.jobs import category_id, insert_job, update_job
from tests.market import insert_provider, insert_service, insert_service_category

ACME = "tenant_acme"


@pytest.fixture
def explained(conn: psycopg.Connection) -> Iterator[list[str]]:
    """Every statement `conn` runs, nested ones included, with its plan, as notices."""
    if not conn.execute("SELECT pg_catalog.pg_jit_available()").fetchone()[0]:
        pytest.skip("this server has no JIT provider (llvmjit)")
    plans: list[str] = []
    conn.add_notice_handler(lambda d: plans.append(d.message_primary or ""))
    conn.execute("LOAD 'auto_explain'")
    for setting, value in (("auto_explain.log_min_duration", "0"), ("auto_explain.log_analyze", "on"),
                           ("auto_explain.log_nested_statements", "on"), ("auto_explain.log_level", "notice"),
                           ("jit", "on"), ("jit_above_cost", "0"), ("jit_inline_above_cost", "0"),
                           ("jit_optimize_above_cost", "0")):
        conn.execute("SELECT pg_catalog.set_config(%s, %s, false)", (setting, value))
    yield plans


def run(conn: psycopg.Connection, plans: list[str], statement: str, *, role: str | None = None) -> list[str]:
    """Runs `statement`; returns the beginnings of the nested statements that compiled."""
    plans.clear()
    if role:
        conn.execute(psycopg.sql.SQL("SET ROLE {}").format(psycopg.sql.Identifier(role)))
    try:
        conn.execute(statement)
    finally:
        conn.execute("RESET ROLE")
    top = [p for p in plans if f"Query Text: {statement}" in p]
    assert len(top) == 1, "auto_explain did not show the statement the test ran"
    assert "\nJIT:" in top[0], "control: the test's own statement should have been JIT-compiled"
    # (PostgreSQL's own foreign-key checks are not the sync's: they lock with KEY SHARE)
    nested = [p for p in plans if p not in top and "FOR KEY SHARE OF" not in p]
    assert any("catalog_sync." in p or "_catalog" in p for p in nested), "auto_explain showed no statement of the sync"
    return [p.split("Query Text: ", 1)[1][:120] for p in nested if "\nJIT:" in p]


def test_job_writes_never_compile(conn: psycopg.Connection, explained: list[str]) -> None:
    job = insert_job(conn, ACME, category_id=category_id(conn, ACME))
    update_job(conn, ACME, job["id"], title="Before")
    statements = (
        f"UPDATE {ACME}.ats_jobposting SET title = title || '!' WHERE id = {job['id']}",
        f"UPDATE {ACME}.ats_jobcategory SET name = name || '!'",
        "UPDATE public.tenants_tenant SET name = name || '!' WHERE schema_name = 'tenant_acme'",
        f"DELETE FROM {ACME}.ats_jobposting WHERE id = {job['id']}",
    )
    for statement in statements:
        assert run(conn, explained, statement, role=seed.APP_ROLE if ACME in statement else None) == [], statement


def test_marketplace_writes_never_compile(conn: psycopg.Connection, explained: list[str]) -> None:
    provider = insert_provider(conn, ACME)
    insert_service(conn, ACME, provider["id"])
    category = insert_service_category(conn, ACME)
    statements = (
        f"UPDATE {ACME}.services_serviceprovider SET display_name = display_name || '!'",
        f"UPDATE {ACME}.services_service SET title = title || '!'",
        f"INSERT INTO {ACME}.services_serviceprovider_categories (serviceprovider_id, servicecategory_id) "
        f"VALUES ({provider['id']}, {category['id']})",
        f"UPDATE {ACME}.services_servicecategory SET name = name || '!'",
    )
    for statement in statements:
        assert run(conn, explained, statement, role=seed.APP_ROLE) == [], statement


def test_backfill_verify_status_and_purge_never_compile(conn: psycopg.Connection, db: Db,
                                                       explained: list[str]) -> None:
    insert_job(conn, ACME)
    tenant = db.tenant_id(ACME)

    def check(call: str) -> None:
        # (an expression of its own, so that the control has something to compile)
        statement = f"SELECT count(*) FILTER (WHERE r IS NOT NULL) FROM {call} AS r"
        assert run(conn, explained, statement) == [], statement

    # (tenant_schemas(), which the tool calls directly too: a probe it rarely runs passed jit_above_cost,
    # and every call compiled, 0.6 s; twenty-first session)
    for call in (f"catalog_sync.backfill_tenant({tenant})", f"catalog_sync.verify_tenant({tenant})",
                 "catalog_sync.verify_global()", "catalog_sync.status()", "catalog_sync.tenant_schemas()"):
        check(call)
    conn.execute("SELECT catalog_sync.detach_schema(%s)", (ACME,))   # purge is for detached tenants
    check(f"catalog_sync.purge_tenant({tenant})")
