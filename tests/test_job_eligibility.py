"""The eligibility matrix: a job is in public.job_catalog exactly when
published_on_career_page AND NOT is_internal_only AND status = 'open'
AND (application_deadline IS NULL OR application_deadline > now())
AND its tenant's status is 'active' or 'trial'.

Tenant data is written as the application role (`app`), the catalog is read as
the superuser (`conn`). Every job combination goes into one multi-row INSERT
(or UPDATE) per test, so the whole matrix costs a handful of statements.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tests.jobs import ELIGIBLE, catalog_uuids, insert_jobs, set_tenant, verify_findings

SCHEMA = "tenant_acme"
OTHER = "tenant_globex"
JOB_STATUSES = ("draft", "open", "on_hold", "closed", "filled", "cancelled")
DEADLINES = ("none", "past", "future")
TENANT_STATUSES = ("active", "trial", "suspended", "cancelled")


def deadline(kind: str) -> datetime | None:
    now = datetime.now(UTC)
    return {"none": None, "past": now - timedelta(days=1), "future": now + timedelta(days=1)}[kind]


COMBOS: list[tuple[bool, bool, str, str]] = list(
    itertools.product((True, False), (False, True), JOB_STATUSES, DEADLINES)
)


def combo_values(published: bool, internal: bool, status: str, deadline_kind: str) -> dict[str, Any]:
    return {
        "published_on_career_page": published,
        "is_internal_only": internal,
        "status": status,
        "application_deadline": deadline(deadline_kind),
        "title": f"combo {published} {internal} {status} {deadline_kind}",
    }


def job_eligible(published: bool, internal: bool, status: str, deadline_kind: str) -> bool:
    return published and not internal and status == "open" and deadline_kind != "past"


def tenant_shows(tenant_status: str) -> bool:
    return tenant_status in ("active", "trial")


def insert_matrix(app: psycopg.Connection) -> dict[uuid.UUID, bool]:
    """Every combination in one INSERT; uuid -> whether the job itself is eligible."""
    jobs = insert_jobs(app, SCHEMA, [combo_values(*c) for c in COMBOS])
    return {j["uuid"]: job_eligible(*c) for j, c in zip(jobs, COMBOS, strict=True)}


def test_matrix_has_every_combination() -> None:
    assert len(COMBOS) == 2 * 2 * 6 * 3
    assert sum(job_eligible(*c) for c in COMBOS) == 2  # open, public, deadline none or future


@pytest.mark.parametrize("tenant_status", TENANT_STATUSES)
def test_insert_matrix_under_tenant_status(app: psycopg.Connection, conn: psycopg.Connection,
                                           tenant_status: str) -> None:
    set_tenant(app, SCHEMA, status=tenant_status)
    expected = insert_matrix(app)
    shown = {u for u, ok in expected.items() if ok and tenant_shows(tenant_status)}
    assert catalog_uuids(conn, SCHEMA) == shown
    assert verify_findings(conn) == []


def test_tenant_status_changes_after_insert(app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """Jobs written while the tenant is active; then the tenant goes through every status (and one
    the database does not know: choice fields are not enforced). The other tenant is not affected."""
    expected = insert_matrix(app)
    other = {j["uuid"] for j in insert_jobs(app, OTHER, [dict(ELIGIBLE)] * 2)}
    eligible = {u for u, ok in expected.items() if ok}
    assert catalog_uuids(conn, SCHEMA) == eligible
    for tenant_status in ("trial", "suspended", "active", "cancelled", "archived", "trial"):
        set_tenant(app, SCHEMA, status=tenant_status)
        shown = eligible if tenant_shows(tenant_status) else set()
        assert catalog_uuids(conn, SCHEMA) == shown, tenant_status
        assert catalog_uuids(conn, OTHER) == other, tenant_status
    assert verify_findings(conn) == []


@pytest.mark.parametrize("tenant_status", ("active", "suspended"))
def test_update_matrix(app: psycopg.Connection, conn: psycopg.Connection, tenant_status: str) -> None:
    """Eligible jobs moved into every combination by ONE UPDATE statement, then back."""
    set_tenant(app, SCHEMA, status=tenant_status)
    jobs = insert_jobs(app, SCHEMA, [dict(ELIGIBLE) for _ in COMBOS])
    shows = tenant_shows(tenant_status)
    assert catalog_uuids(conn, SCHEMA) == ({j["uuid"] for j in jobs} if shows else set())

    values = sql.SQL(", ").join(
        sql.SQL("({}::bigint, {}::boolean, {}::boolean, {}::text, {}::timestamptz)").format(
            sql.Literal(j["id"]), sql.Literal(c[0]), sql.Literal(c[1]), sql.Literal(c[2]),
            sql.Literal(deadline(c[3])))
        for j, c in zip(jobs, COMBOS, strict=True)
    )
    app.execute(sql.SQL(
        "UPDATE {}.ats_jobposting j SET published_on_career_page = v.pub, is_internal_only = v.internal, "
        "status = v.status, application_deadline = v.deadline, updated_at = now() "
        "FROM (VALUES {}) AS v (id, pub, internal, status, deadline) WHERE j.id = v.id"
    ).format(sql.Identifier(SCHEMA), values))
    expected = {j["uuid"] for j, c in zip(jobs, COMBOS, strict=True) if job_eligible(*c) and shows}
    assert catalog_uuids(conn, SCHEMA) == expected

    app.execute(sql.SQL(
        "UPDATE {}.ats_jobposting SET published_on_career_page = true, is_internal_only = false, "
        "status = 'open', application_deadline = NULL, updated_at = now()"
    ).format(sql.Identifier(SCHEMA)))
    assert catalog_uuids(conn, SCHEMA) == ({j["uuid"] for j in jobs} if shows else set())
    assert verify_findings(conn) == []


def test_edge_values(app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """status must be exactly 'open'; the deadline is compared with now(), to the second."""
    now = datetime.now(UTC)
    jobs = insert_jobs(app, SCHEMA, [
        *(dict(ELIGIBLE, status=s) for s in ("OPEN", "Open", "open ", " open")),
        dict(ELIGIBLE, application_deadline=now - timedelta(seconds=1)),
        dict(ELIGIBLE, application_deadline=now + timedelta(minutes=1)),
    ])
    assert catalog_uuids(conn, SCHEMA) == {jobs[-1]["uuid"]}


def test_a_deadline_that_is_now_is_passed(app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """(mutation test, thirty-ninth session) The rule is application_deadline > now(): a deadline equal to
    the transaction's now() is passed. With >= the matrix (a day either side) still passed. The trigger
    runs in the writer's transaction, so its now() is the now() the UPDATE wrote."""
    jobs = insert_jobs(app, SCHEMA, [{}, {}])
    assert {j["uuid"] for j in jobs} <= catalog_uuids(conn, SCHEMA)
    app.execute(sql.SQL("UPDATE {}.ats_jobposting SET application_deadline = now() WHERE id = %s")
                .format(sql.Identifier(SCHEMA)), (jobs[0]["id"],))
    app.execute(sql.SQL("UPDATE {}.ats_jobposting SET application_deadline = now() + interval '1 second' "
                        "WHERE id = %s").format(sql.Identifier(SCHEMA)), (jobs[1]["id"],))
    shown = catalog_uuids(conn, SCHEMA)
    assert jobs[0]["uuid"] not in shown and jobs[1]["uuid"] in shown
