"""verify finds every kind of drift, `verify --repair` fixes it; backfill and
attach are idempotent. Drift is made as the superuser (catalog rows) or as the
application role (its own tables' triggers), as it happens in real life."""

from __future__ import annotations

import json
import shlex
import subprocess
import threading
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import psycopg
import pytest
from psycopg import sql

from pyinstaller_tools import cli, seed
from tests.conftest import Db
from tests.jobs import (
    add_copied_sync_trigger,
    catalog_count,
    catalog_row,
    catalog_snapshot,
    catalog_uuids,
    category_id,
    create_tenant,
    insert_job,
    insert_jobs,
    set_tenant,
    update_job,
    verify_findings,
)
from tests.market import insert_provider, insert_service
from tests.test_concurrency import wait_until_blocked

ACME = "tenant_acme"
GLOBEX = "tenant_globex"
JOB_TRIGGERS = ("catalog_sync_job_insert", "catalog_sync_job_update", "catalog_sync_job_delete",
                "catalog_sync_job_truncate")


def run(db: Db, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main([*argv, "--dsn", db.dsn()])
    out, err = capsys.readouterr()
    return code, out, err


def problems(conn: psycopg.Connection) -> list[tuple[str, str | None]]:
    return sorted(verify_findings(conn), key=lambda f: (f[0], f[1] or ""))


def assert_repaired(db: Db, conn: psycopg.Connection, capsys: pytest.CaptureFixture[str]) -> str:
    """verify exits 1, verify --repair exits 0, then verify is clean (SQL and CLI). Returns repair's output."""
    code, out, err = run(db, capsys, "verify")
    assert code == 1, (out, err)
    code, out, err = run(db, capsys, "verify", "--repair")
    assert code == 0, (out, err)
    assert "repaired:" in out
    repaired = out
    assert problems(conn) == []
    code, out, err = run(db, capsys, "verify")
    assert code == 0, (out, err)
    assert out.startswith("clean")
    return repaired


def alter_trigger(app: psycopg.Connection, action: str, trigger: str, table: str = "ats_jobposting",
                  schema: str = ACME) -> None:
    app.execute(sql.SQL("ALTER TABLE {}.{} " + action + " TRIGGER {}").format(
        sql.Identifier(schema), sql.Identifier(table), sql.Identifier(trigger)))


def write_some(app: psycopg.Connection) -> list[dict[str, Any]]:
    """A little of everything the application does."""
    jobs = insert_jobs(app, ACME, [{"category_id": category_id(app, ACME)}, {}, {"status": "draft"}, {}])
    insert_jobs(app, GLOBEX, [{}, {"is_internal_only": True}])
    update_job(app, ACME, jobs[0]["id"], title="Updated")
    update_job(app, ACME, jobs[2]["id"], status="open")
    app.execute("DELETE FROM tenant_acme.ats_jobposting WHERE id = %s", (jobs[3]["id"],))
    app.execute("UPDATE tenant_acme.ats_jobcategory SET name = 'Renamed' WHERE slug = 'category-1'")
    set_tenant(app, GLOBEX, name="Globex Renamed")
    return jobs


# ---------------------------------------------------------------------- clean


def test_clean_after_normal_operations(app: psycopg.Connection, conn: psycopg.Connection, db: Db,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    write_some(app)
    assert catalog_count(conn) == 4
    assert problems(conn) == []
    code, out, _ = run(db, capsys, "verify")
    assert code == 0 and out.startswith("clean")


# ----------------------------------------------------------------- row drift


def test_missing_row(app: psycopg.Connection, conn: psycopg.Connection, db: Db,
                     capsys: pytest.CaptureFixture[str]) -> None:
    job = insert_job(app, ACME)
    conn.execute("DELETE FROM public.job_catalog WHERE job_uuid = %s", (job["uuid"],))
    assert problems(conn) == [("missing", None)]
    key = conn.execute("SELECT key FROM catalog_sync.verify_tenant(%s)", (db.tenant_id(ACME),)).fetchone()
    assert key == (job["uuid"],)
    assert_repaired(db, conn, capsys)
    assert catalog_row(conn, job["uuid"]) is not None


def test_a_tenant_never_backfilled_is_told_how_to_backfill_it(app: psycopg.Connection, conn: psycopg.Connection,
                                                              db: Db, capsys: pytest.CaptureFixture[str]) -> None:
    """A tenant attached but never backfilled (or whose backfill stopped) is nothing but missing rows: verify
    names the command that fills them, for that tenant only."""
    jobs = [insert_job(app, ACME) for _ in range(3)]
    insert_job(app, GLOBEX)
    conn.execute("DELETE FROM public.job_catalog WHERE tenant_id = %s", (db.tenant_id(ACME),))
    code, out, err = run(db, capsys, "verify")
    assert code == 1 and out.count("missing") == len(jobs) + 1, (out, err)   # (the rows, and the drift line)
    assert f"fix: catalog-sync backfill --tenant {ACME}, or verify --repair" in err, err
    code, out, err = run(db, capsys, "backfill", "--tenant", ACME)
    assert code == 0, (out, err)
    assert catalog_uuids(conn, ACME) == {j["uuid"] for j in jobs}
    assert problems(conn) == []
    code, out, err = run(db, capsys, "verify")
    assert code == 0 and "missing" not in err, (out, err)


def test_stale_row(app: psycopg.Connection, conn: psycopg.Connection, db: Db,
                   capsys: pytest.CaptureFixture[str]) -> None:
    job = insert_job(app, ACME)
    original = catalog_row(conn, job["uuid"])
    assert original is not None
    conn.execute("UPDATE public.job_catalog SET title = 'Tampered', description = '<script>x</script>' "
                 "WHERE job_uuid = %s", (job["uuid"],))
    found = problems(conn)
    assert len(found) == 1 and found[0][0] == "stale"
    assert "title" in (found[0][1] or "") and "description" in (found[0][1] or "")
    # (DBA trial, fiftieth session) verify says what stale rows come from, and the fix
    code, out, err = run(db, capsys, "verify")
    assert code == 1 and ("note: stale rows differ from the projection of their sources (stale: a column "
                          "differs; orphan: no eligible source row)") in err, (out, err)
    assert f"fix: catalog-sync backfill --tenant {ACME}, or verify --repair" in err, err
    assert_repaired(db, conn, capsys)
    row = catalog_row(conn, job["uuid"])
    assert row is not None
    assert (row["title"], row["description"]) == (original["title"], original["description"])


def test_orphan_row(app: psycopg.Connection, conn: psycopg.Connection, db: Db,
                    capsys: pytest.CaptureFixture[str]) -> None:
    job = insert_job(app, ACME)
    bogus = uuid.uuid4()
    conn.execute("CREATE TEMP TABLE bogus AS SELECT * FROM public.job_catalog WHERE job_uuid = %s",
                 (job["uuid"],))
    conn.execute("ALTER TABLE bogus DROP COLUMN search")
    conn.execute("UPDATE bogus SET job_uuid = %s, title = 'Bogus'", (bogus,))
    conn.execute("INSERT INTO public.job_catalog SELECT * FROM bogus")
    assert problems(conn) == [("orphan", None)]
    code, out, err = run(db, capsys, "verify")
    assert code == 1 and "note: orphan rows differ from the projection" in err, (out, err)
    assert f"fix: catalog-sync backfill --tenant {ACME}, or verify --repair" in err, err
    assert_repaired(db, conn, capsys)
    assert catalog_uuids(conn, ACME) == {job["uuid"]}


def test_expired_row(app: psycopg.Connection, conn: psycopg.Connection, db: Db,
                     capsys: pytest.CaptureFixture[str]) -> None:
    """The deadline passes without any write: verify reports the row as expired."""
    job = insert_job(app, ACME)
    with app.transaction():
        alter_trigger(app, "DISABLE", "catalog_sync_job_update")
        app.execute("UPDATE tenant_acme.ats_jobposting "
                    "SET application_deadline = now() - interval '1 minute' WHERE id = %s", (job["id"],))
        alter_trigger(app, "ENABLE ALWAYS", "catalog_sync_job_update")
    assert catalog_row(conn, job["uuid"]) is not None
    assert problems(conn) == [("expired", None)]
    assert_repaired(db, conn, capsys)
    assert catalog_row(conn, job["uuid"]) is None


def drift_of_every_kind(app: psycopg.Connection, conn: psycopg.Connection) -> dict[str, list[uuid.UUID]]:
    """ACME's jobs with every kind of row drift at once, and a stale service: the keys of each kind."""
    jobs = insert_jobs(app, ACME, [{"category_id": category_id(app, ACME)} for _ in range(8)])
    stale, missing, expired, expired_draft, unpublished = jobs[0], jobs[1], jobs[2:4], jobs[4], jobs[5]
    with app.transaction():                  # no write syncs them: the deadline passes, a job is made private
        alter_trigger(app, "DISABLE", "catalog_sync_job_update")
        # (one statement: a row updated twice in one transaction queues its deferred foreign key check,
        # and the trigger could not be enabled again before the commit)
        app.execute("UPDATE tenant_acme.ats_jobposting "
                    "SET application_deadline = CASE WHEN id = ANY(%(expired)s) THEN now() - interval '1 minute' "
                    "                                ELSE application_deadline END, "
                    "    status = CASE WHEN id = ANY(%(draft)s) THEN 'draft' ELSE status END "
                    "WHERE id = ANY(%(expired)s || %(draft)s)",
                    {"expired": [j["id"] for j in [*expired, expired_draft]],
                     "draft": [expired_draft["id"], unpublished["id"]]})
        alter_trigger(app, "ENABLE ALWAYS", "catalog_sync_job_update")
    conn.execute("UPDATE public.job_catalog SET title = 'Tampered' WHERE job_uuid = %s", (stale["uuid"],))
    conn.execute("DELETE FROM public.job_catalog WHERE job_uuid = %s", (missing["uuid"],))
    bogus = uuid.uuid4()                     # a catalog row with no source job at all
    conn.execute("CREATE TEMP TABLE bogus AS SELECT * FROM public.job_catalog WHERE job_uuid = %s",
                 (jobs[6]["uuid"],))
    conn.execute("ALTER TABLE bogus DROP COLUMN search")
    conn.execute("UPDATE bogus SET job_uuid = %s", (bogus,))
    conn.execute("INSERT INTO public.job_catalog SELECT * FROM bogus")
    provider = insert_provider(app, ACME)
    service = insert_service(app, ACME, provider["id"])
    conn.execute("UPDATE public.service_catalog SET title = 'Tampered' WHERE service_uuid = %s", (service["uuid"],))
    return {"stale": [stale["uuid"]], "missing": [missing["uuid"]],
            # (an orphan whose deadline passed is expired, whatever else made it private)
            "expired": sorted(j["uuid"] for j in [*expired, expired_draft]),
            "orphan": sorted([unpublished["uuid"], bogus]), "service": [service["uuid"]]}


def test_expired_among_other_drift(app: psycopg.Connection, conn: psycopg.Connection, db: Db,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    """Expired, orphan, missing and stale job rows at once: each is reported as what it is, with its
    details, ordered by catalog, problem and key (verify keeps its comparison's findings and only looks
    up the orphans' deadlines)."""
    keys = drift_of_every_kind(app, conn)
    found = conn.execute("SELECT problem, key, detail, catalog FROM catalog_sync.verify_tenant(%s)",
                         (db.tenant_id(ACME),)).fetchall()
    assert found == [*[("expired", k, None, "jobs") for k in keys["expired"]],
                     ("missing", keys["missing"][0], None, "jobs"),
                     *[("orphan", k, None, "jobs") for k in keys["orphan"]],
                     ("stale", keys["stale"][0], "title", "jobs"),
                     ("stale", keys["service"][0], "title", "services")], found
    assert_repaired(db, conn, capsys)


def test_a_source_row_without_its_key_is_missing_not_an_orphan(app: psycopg.Connection, conn: psycopg.Connection,
                                                              db: Db) -> None:
    """(Red team, forty-third session) A job whose uuid is NULL (its NOT NULL dropped, written while its
    triggers were off) was reported an orphan of key NULL: it is an eligible row the catalog lacks.
    (Review) Where no real orphan was there, it hid every job finding of the tenant: the comparison's flag
    still took it for an orphan, and the rows held back for the deadline lookup were never returned."""
    job = insert_job(app, ACME)
    stale, missing = insert_job(app, ACME), insert_job(app, ACME)
    draft = insert_job(app, ACME, status="draft")
    conn.execute("UPDATE public.job_catalog SET title = 'edited' WHERE job_uuid = %s", (stale["uuid"],))
    conn.execute("DELETE FROM public.job_catalog WHERE job_uuid = %s", (missing["uuid"],))
    triggers = [r[0] for r in conn.execute(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND tgname LIKE 'catalog_sync%%'",
        (f"{ACME}.ats_jobposting",))]

    def without_triggers(statement: str, params: tuple[Any, ...]) -> None:
        with conn.transaction():
            for name in triggers:
                conn.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER {}").format(
                    sql.Identifier(ACME, "ats_jobposting"), sql.Identifier(name)))
            conn.execute(statement, params)
            for name in triggers:
                conn.execute(sql.SQL("ALTER TABLE {} ENABLE ALWAYS TRIGGER {}").format(
                    sql.Identifier(ACME, "ats_jobposting"), sql.Identifier(name)))

    def found() -> list[tuple[Any, ...]]:
        return conn.execute("SELECT problem, key, detail, catalog FROM catalog_sync.verify_tenant(%s)",
                            (db.tenant_id(ACME),)).fetchall()

    conn.execute(f"ALTER TABLE {ACME}.ats_jobposting ALTER uuid DROP NOT NULL")
    # a public job without its key, and no orphan: the other findings are still there
    without_triggers(f"UPDATE {ACME}.ats_jobposting SET uuid = NULL, status = 'open' WHERE id = %s", (draft["id"],))
    assert found() == [("missing", missing["uuid"], None, "jobs"), ("missing", None, None, "jobs"),
                       ("stale", stale["uuid"], "title", "jobs")], found()
    # one whose catalog row is left behind: that row is the orphan
    without_triggers(f"UPDATE {ACME}.ats_jobposting SET uuid = NULL WHERE id = %s", (job["id"],))
    assert found() == [("missing", missing["uuid"], None, "jobs"), ("missing", None, None, "jobs"),
                       ("missing", None, None, "jobs"), ("orphan", job["uuid"], None, "jobs"),
                       ("stale", stale["uuid"], "title", "jobs")], found()


def test_an_unreadable_table_is_named_with_each_reason(conn: psycopg.Connection, db: Db,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """What would make the sync's read fail (read_problems()): row level security, and catalog_sync_owner
    without SELECT (or USAGE), each a finding of its own, by table; the tenant's rows are not compared."""
    conn.execute(f"ALTER TABLE {ACME}.ats_jobposting ENABLE ROW LEVEL SECURITY")
    conn.execute(f"REVOKE SELECT ON {ACME}.ats_jobposting, {ACME}.ats_jobcategory FROM catalog_sync_owner")
    found = conn.execute("SELECT problem, detail FROM catalog_sync.verify_tenant(%s) WHERE problem = 'unreadable'",
                         (db.tenant_id(ACME),)).fetchall()
    assert sorted(found) == sorted([
        ("unreadable", f"row level security is enabled on {ACME}.ats_jobposting"),
        ("unreadable", f"catalog_sync_owner may not read {ACME}.ats_jobposting"),
        ("unreadable", f"catalog_sync_owner may not read {ACME}.ats_jobcategory")]), found
    row = conn.execute("SELECT eligible, error FROM catalog_sync.status() WHERE tenant_id = %s",
                       (db.tenant_id(ACME),)).fetchone()
    assert row is not None and row[0] is None and row[1], row
    # repair leaves the tenant, and says where to look
    code, out, err = run(db, capsys, "verify", "--repair")
    assert code == 1 and (f"not repaired (tables unreadable or busy, or a row their read fails on: see verify's "
                          f"unreadable and error findings for them): {ACME}\n") in out, (out, err)


def test_verify_projects_the_jobs_once_when_it_finds_an_orphan(app: psycopg.Connection, conn: psycopg.Connection,
                                                                db: Db) -> None:
    """An orphan (expired or not) no longer makes verify project every job of the tenant a second time
    (sanitizing all their HTML again) to tell expired rows from the others: job_sources() runs once."""
    drift_of_every_kind(app, conn)
    conn.execute("SET track_functions = 'pl'")
    with conn.transaction(force_rollback=True):
        problems_found = [r[0] for r in conn.execute("SELECT problem FROM catalog_sync.verify_tenant(%s)",
                                                     (db.tenant_id(ACME),))]
        calls = dict(conn.execute("SELECT funcname, calls FROM pg_stat_xact_user_functions "
                                  "WHERE schemaname = 'catalog_sync' AND funcname IN ('job_sources', 'compare_jobs')"
                                  ).fetchall())
    assert "expired" in problems_found and "orphan" in problems_found
    assert calls == {"job_sources": 1, "compare_jobs": 1}, calls


def deadline_in_a_second(app: psycopg.Connection, jobs: list[dict[str, Any]]) -> datetime:
    """Gives the jobs a deadline one second after the one statement that sets it: each is in the catalog
    by construction (a deadline computed first, then inserted, could pass before a slow insert)."""
    rows = app.execute(f"UPDATE {ACME}.ats_jobposting SET application_deadline = now() + interval '1 second' "
                       "WHERE id = ANY(%s) RETURNING application_deadline", ([j["id"] for j in jobs],)).fetchall()
    assert len(rows) == len(jobs), rows
    return rows[0][0]


def test_a_deadline_of_now_is_passed_for_expire_and_verify(app: psycopg.Connection, conn: psycopg.Connection,
                                                           db: Db) -> None:
    """(mutation review, forty-ninth session) A job is public while its deadline is after now(): at a
    deadline equal to now() (one transaction's clock) expire removes its row and verify calls it expired,
    not an orphan. No test had a deadline equal to now()."""
    job = insert_job(app, ACME)
    with conn.transaction():                # (rolled back at its end: psycopg.Rollback)
        conn.execute("UPDATE public.job_catalog SET application_deadline = now() WHERE job_uuid = %s", (job["uuid"],))
        assert conn.execute("SELECT catalog_sync.expire_jobs(true)").fetchone() == (1,)
        # the source's deadline too, where no trigger sees it: verify calls the row expired
        conn.execute(f"ALTER TABLE {ACME}.ats_jobposting DISABLE TRIGGER catalog_sync_job_update")
        conn.execute(f"UPDATE {ACME}.ats_jobposting SET application_deadline = now() WHERE id = %s", (job["id"],))
        assert ("expired", job["uuid"]) in [(p, k) for p, k, _, _ in conn.execute(
            "SELECT problem, key, detail, catalog FROM catalog_sync.verify_tenant(%s)", (db.tenant_id(ACME),))]
        assert conn.execute("SELECT catalog_sync.expire_jobs()").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM public.job_catalog WHERE job_uuid = %s",
                            (job["uuid"],)).fetchone() == (0,)
        raise psycopg.Rollback
    assert problems(conn) == [] and catalog_count(conn, ACME) == 1


def test_a_verify_of_a_detached_tenant_is_refused(app: psycopg.Connection, conn: psycopg.Connection, db: Db,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """(mutation review, forty-ninth session) verify_tenant() of a tenant detached (without --purge, its rows
    kept) refuses it: nothing of it is compared, as the tool refuses --tenant of it first."""
    insert_job(app, ACME)
    assert run(db, capsys, "detach", ACME)[0] == 0
    with pytest.raises(psycopg.errors.UndefinedObject, match="is not attached"):
        conn.execute("SELECT * FROM catalog_sync.verify_tenant(%s)", (db.tenant_id(ACME),))


def test_expire_removes_the_jobs_whose_deadline_passed(app: psycopg.Connection, conn: psycopg.Connection, db: Db,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Time, not a write, makes a job ineligible: `catalog-sync expire` (cheap, to schedule) removes its row."""
    soon = insert_job(app, ACME)
    deadline = deadline_in_a_second(app, [soon])
    later = insert_job(app, ACME, application_deadline=deadline + timedelta(days=1))
    undated = insert_job(app, ACME)
    while conn.execute("SELECT now() <= %s", (deadline,)).fetchone()[0]:
        time.sleep(0.2)
    assert problems(conn) == [("expired", None)]
    code, out, err = run(db, capsys, "verify")
    assert code == 1 and "fix: catalog-sync expire, which removes just those" in err, (out, err)
    code, out, err = run(db, capsys, "expire", "--dry-run")
    assert code == 0 and "would remove 1 job(s)" in out, err
    assert catalog_row(conn, soon["uuid"]) is not None
    code, out, err = run(db, capsys, "expire", "--json")
    assert code == 0 and json.loads(out) == {"expired": 1, "dry_run": False}, err
    assert catalog_row(conn, soon["uuid"]) is None
    assert catalog_uuids(conn, ACME) == {later["uuid"], undated["uuid"]}
    assert problems(conn) == []
    assert run(db, capsys, "expire")[1].startswith("removed 0 job(s)")


def test_the_expire_dry_run_counts_only_the_deadlines_that_passed(app: psycopg.Connection,
                                                                 conn: psycopg.Connection) -> None:
    """(mutation review, fiftieth session) The dry run's deadline comparison flipped (>= now()) passed:
    the one test had a single future-dated row, which it counted either way. Several future deadlines,
    two that pass: the dry run counts none of the rows before, exactly the two after, and removes nothing."""
    soon = [insert_job(app, ACME), insert_job(app, ACME)]
    deadline = deadline_in_a_second(app, soon)
    later = [insert_job(app, ACME, application_deadline=deadline + timedelta(days=d)) for d in (1, 2, 30)]
    later.append(insert_job(app, GLOBEX, application_deadline=deadline + timedelta(hours=1)))
    insert_job(app, ACME)                   # (no deadline)
    assert conn.execute("SELECT catalog_sync.expire_jobs(true)").fetchone() == (0,)
    while conn.execute("SELECT now() <= %s", (deadline,)).fetchone()[0]:
        time.sleep(0.2)
    assert conn.execute("SELECT catalog_sync.expire_jobs(true)").fetchone() == (2,)
    assert catalog_count(conn) == 7         # (a dry run)
    assert conn.execute("SELECT catalog_sync.expire_jobs()").fetchone() == (2,)
    assert catalog_uuids(conn, ACME) | catalog_uuids(conn, GLOBEX) >= {j["uuid"] for j in later}
    assert all(catalog_row(conn, j["uuid"]) is None for j in soon)


def test_expire_removes_only_the_expired_tenants_row_of_a_shared_uuid(app: psycopg.Connection,
                                                                       conn: psycopg.Connection, db: Db) -> None:
    """(mutation review, fiftieth session) The catalog's key is (tenant_id, job_uuid): two tenants' rows may
    share a uuid (a schema cloned from another keeps its rows' uuids). With tenant_id left out of expire's
    DELETE, every test passed: a job expired in one tenant removed the other tenant's public row too."""
    expiring = insert_job(app, ACME)
    shared = insert_job(app, GLOBEX, uuid=expiring["uuid"])
    deadline = deadline_in_a_second(app, [expiring])
    assert conn.execute("SELECT tenant_schema FROM public.job_catalog WHERE job_uuid = %s ORDER BY 1",
                        (shared["uuid"],)).fetchall() == [(ACME,), (GLOBEX,)]
    while conn.execute("SELECT now() <= %s", (deadline,)).fetchone()[0]:
        time.sleep(0.2)
    assert conn.execute("SELECT catalog_sync.expire_jobs()").fetchone() == (1,)
    assert conn.execute("SELECT tenant_id, tenant_schema FROM public.job_catalog WHERE job_uuid = %s",
                        (shared["uuid"],)).fetchall() == [(db.tenant_id(GLOBEX), GLOBEX)]
    assert problems(conn) == []


def test_expire_never_waits_for_a_writer(app: psycopg.Connection, conn: psycopg.Connection, db: Db,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """(review, tenth session) expire waited for a writer holding an expired row, and the tenant's next
    writes of the other expired rows (locked by expire) queued behind it: it skips that row instead."""
    held, other = insert_job(app, ACME), insert_job(app, ACME)
    deadline = deadline_in_a_second(app, [held, other])
    while conn.execute("SELECT now() <= %s", (deadline,)).fetchone()[0]:
        time.sleep(0.2)
    with db.connect(autocommit=False) as writer:
        writer.execute("SELECT 1 FROM public.job_catalog WHERE job_uuid = %s FOR UPDATE", (held["uuid"],))
        conn.execute("SET lock_timeout = '5s'")       # a wait would fail this call, not hang the test
        assert conn.execute("SELECT catalog_sync.expire_jobs()").fetchone() == (1,)
        conn.execute("RESET lock_timeout")
        writer.rollback()
    assert catalog_row(conn, other["uuid"]) is None and catalog_row(conn, held["uuid"]) is not None
    assert run(db, capsys, "expire")[1].startswith("removed 1 job(s)")
    assert problems(conn) == []


# ------------------------------------------------------------- trigger drift


def test_trigger_not_enabled_always(app: psycopg.Connection, conn: psycopg.Connection, db: Db,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    """DISABLE, ENABLE REPLICA and plain ENABLE (skipped under session_replication_role = replica)."""
    for action in ("DISABLE", "ENABLE REPLICA", "ENABLE"):
        alter_trigger(app, action, "catalog_sync_job_insert")
        assert problems(conn) == [("trigger_disabled", "ats_jobposting.catalog_sync_job_insert")], action
        code, out, err = run(db, capsys, "verify")      # (notes on stderr, as every note: docs check)
        assert code == 1 and "note: trigger_disabled is any state but ENABLE ALWAYS, also a plain ENABLE" in err
        assert "fix: verify --repair as the tables' owner, or ALTER TABLE" in err and "note:" not in out, out
        assert_repaired(db, conn, capsys)
        job = insert_job(app, ACME)
        assert catalog_row(conn, job["uuid"]) is not None, action


def test_category_trigger_disabled(app: psycopg.Connection, conn: psycopg.Connection, db: Db,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    job = insert_job(app, ACME, category_id=category_id(app, ACME))
    alter_trigger(app, "DISABLE", "catalog_sync_jobcat_update", table="ats_jobcategory")
    app.execute("UPDATE tenant_acme.ats_jobcategory SET name = 'Silent' WHERE slug = 'category-1'")
    assert problems(conn) == [("stale", "category_name"),
                              ("trigger_disabled", "ats_jobcategory.catalog_sync_jobcat_update")]
    assert_repaired(db, conn, capsys)
    row = catalog_row(conn, job["uuid"])
    assert row is not None and row["category_name"] == "Silent"


def test_registry_trigger_disabled(app: psycopg.Connection, conn: psycopg.Connection, db: Db,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    job = insert_job(app, ACME)
    app.execute("ALTER TABLE public.tenants_tenant DISABLE TRIGGER catalog_sync_tenant_update")
    set_tenant(app, ACME, name="Renamed While Disabled")
    assert problems(conn) == [("stale", "company_name"),
                              ("trigger_disabled", "tenants_tenant.catalog_sync_tenant_update")]
    assert_repaired(db, conn, capsys)
    row = catalog_row(conn, job["uuid"])
    assert row is not None and row["company_name"] == "Renamed While Disabled"


def test_trigger_dropped(app: psycopg.Connection, conn: psycopg.Connection, db: Db,
                         capsys: pytest.CaptureFixture[str]) -> None:
    app.execute("DROP TRIGGER catalog_sync_job_delete ON tenant_acme.ats_jobposting")
    assert problems(conn) == [("trigger_missing", "ats_jobposting.catalog_sync_job_delete")]
    assert_repaired(db, conn, capsys)
    job = insert_job(app, ACME)
    app.execute("DELETE FROM tenant_acme.ats_jobposting WHERE id = %s", (job["id"],))
    assert catalog_row(conn, job["uuid"]) is None


def test_trigger_outdated(app: psycopg.Connection, conn: psycopg.Connection, db: Db,
                          capsys: pytest.CaptureFixture[str]) -> None:
    # A comment is the table owner's to write and means nothing to the sync.
    app.execute("COMMENT ON TRIGGER catalog_sync_job_insert ON tenant_acme.ats_jobposting IS 'catalog_sync:old'")
    assert problems(conn) == []
    # As left by an older release: the same trigger with another definition hash.
    tenant_id = conn.execute("SELECT id FROM public.tenants_tenant WHERE schema_name = 'tenant_acme'").fetchone()[0]
    conn.execute("CREATE OR REPLACE TRIGGER catalog_sync_job_update AFTER UPDATE ON tenant_acme.ats_jobposting "
                 "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
                 f"EXECUTE FUNCTION catalog_sync.on_job_change('{tenant_id}', 'catalog_sync:old')")
    conn.execute("ALTER TABLE tenant_acme.ats_jobposting ENABLE ALWAYS TRIGGER catalog_sync_job_update")
    assert problems(conn) == [("trigger_outdated", "ats_jobposting.catalog_sync_job_update")]
    assert_repaired(db, conn, capsys)


@pytest.mark.parametrize("renamed", ["OLD TABLE AS old_rows", "NEW TABLE AS new_rows"])
def test_a_trigger_whose_transition_table_was_renamed_is_outdated(conn: psycopg.Connection, db: Db,
                                                                 capsys: pytest.CaptureFixture[str],
                                                                 renamed: str) -> None:
    """(mutation test, thirty-ninth session) With the comparison of the old transition table's name left
    out of trigger_states(), every test passed: the same trigger, arguments and hash included, under
    another transition table name (every write would fail: the function reads old_rows, new_rows) must
    be OUTDATED, and repaired."""
    definition = conn.execute("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = 'catalog_sync_job_update' "
                              "AND tgrelid = 'tenant_acme.ats_jobposting'::regclass").fetchone()[0]
    assert renamed in definition, definition
    conn.execute("DROP TRIGGER catalog_sync_job_update ON tenant_acme.ats_jobposting")
    conn.execute(definition.replace(renamed, renamed + "_x"))
    conn.execute("ALTER TABLE tenant_acme.ats_jobposting ENABLE ALWAYS TRIGGER catalog_sync_job_update")
    assert problems(conn) == [("trigger_outdated", "ats_jobposting.catalog_sync_job_update")]
    assert_repaired(db, conn, capsys)


def test_a_trigger_of_another_type_is_outdated(conn: psycopg.Connection, db: Db,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """(mutation review, fiftieth session) With the comparison of the trigger's type (timing, level, events)
    left out of trigger_states(), every test passed. The same function, arguments and transition tables,
    but FOR EACH ROW (PostgreSQL allows transition tables there; it runs the sync once per row, each time
    over the whole statement's rows): OUTDATED for verify, status and audit, and repaired."""
    definition = conn.execute("SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = 'catalog_sync_job_update' "
                              "AND tgrelid = 'tenant_acme.ats_jobposting'::regclass").fetchone()[0]
    assert "FOR EACH STATEMENT" in definition, definition
    conn.execute("DROP TRIGGER catalog_sync_job_update ON tenant_acme.ats_jobposting")
    conn.execute(definition.replace("FOR EACH STATEMENT", "FOR EACH ROW"))
    conn.execute("ALTER TABLE tenant_acme.ats_jobposting ENABLE ALWAYS TRIGGER catalog_sync_job_update")
    assert conn.execute("SELECT tgtype FROM pg_trigger WHERE tgname = 'catalog_sync_job_update' "
                        "AND tgrelid = 'tenant_acme.ats_jobposting'::regclass").fetchone() == (16 | 1,)
    assert problems(conn) == [("trigger_outdated", "ats_jobposting.catalog_sync_job_update")]
    assert conn.execute("SELECT severity, object, detail FROM catalog_sync.audit()").fetchall() == [
        ("medium", "tenant_acme.ats_jobposting.catalog_sync_job_update", "OUTDATED")]
    assert_repaired(db, conn, capsys)


def copy_sync_triggers(conn: psycopg.Connection, source: str, target: str, tables: str = "%",
                       onto: str | None = None) -> int:
    """What a schema clone does (django-tenants' clone_schema(), from a template that was attached): every
    sync trigger of the source schema's tables (LIKE `tables`) made again on the target's table of the
    same name (or on `onto`), with its definition (and so its tenant id) unchanged. Returns how many."""
    defs = conn.execute(
        "SELECT pg_get_triggerdef(tg.oid), tg.tgname, c.relname FROM pg_trigger tg "
        "JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_proc p ON p.oid = tg.tgfoid "
        "WHERE c.relnamespace = %s::regnamespace AND p.pronamespace = 'catalog_sync'::regnamespace "
        "AND c.relname LIKE %s", (source, tables)).fetchall()
    for definition, name, table in defs:
        quoted = sql.Identifier(target).as_string(conn)
        conn.execute(definition.replace(f" ON {source}.{table} ", f" ON {quoted}.{onto or table} "))
        alter_trigger(conn, "ENABLE ALWAYS", name, onto or table, target)
    return len(defs)


def test_a_sync_trigger_under_another_name_is_found_and_dropped(app: psycopg.Connection, conn: psycopg.Connection,
                                                                db: Db, capsys: pytest.CaptureFixture[str]) -> None:
    """HOLE (red team, twenty-second session), fixed. A trigger that calls a sync function under a name the
    spec does not have (a schema clone's copy that renames triggers, bound to the template's tenant) made
    every write to the table fail, while verify, status and audit were clean. Now it is EXTRA: verify
    reports trigger_extra, status counts it, audit reports it, and repair (attach) drops it."""
    add_copied_sync_trigger(conn, ACME, "ats_jobposting", "on_job_change", db.tenant_id(GLOBEX), "zz_copied_job_insert")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="is not attached for this tenant"):
        insert_job(app, ACME)
    assert problems(conn) == [("trigger_extra", "ats_jobposting.zz_copied_job_insert")]
    code, out, err = run(db, capsys, "status", "--json")
    rows = {r["schema"]: r for r in json.loads(out)}
    assert code == 0 and rows[ACME]["triggers"] == "EXTRA 1, INSTALLED 32", (out, err)
    assert conn.execute("SELECT severity, object, detail FROM catalog_sync.audit() WHERE check_name = 'trigger'"
                        ).fetchall() == [("medium", "tenant_acme.ats_jobposting.zz_copied_job_insert", "EXTRA")]
    assert_repaired(db, conn, capsys)
    job = insert_job(app, ACME)
    assert catalog_row(conn, job["uuid"]) is not None
    assert conn.execute("SELECT count(*) FROM pg_trigger WHERE tgname = 'zz_copied_job_insert'").fetchone() == (0,)
    code, out, err = run(db, capsys, "attach", ACME)     # (what attach changed: a drop is one)
    assert code == 0 and "up to date: 1 schema(s) attached already, their triggers installed; no trigger " \
        "created, replaced or dropped" in out, out
    # (red team) quoted where it needs it: this one is not the spec's catalog_sync_job_insert
    add_copied_sync_trigger(conn, ACME, "ats_jobposting", "on_job_change", db.tenant_id(GLOBEX),
                            "catalog_sync_job_insert ")
    assert problems(conn) == [("trigger_extra", 'ats_jobposting."catalog_sync_job_insert "')]
    assert_repaired(db, conn, capsys)
    # the registry's triggers too (review): verify_global reports it, repair drops it
    conn.execute("CREATE TRIGGER zz_copied_tenant_update AFTER UPDATE ON public.tenants_tenant "
                 "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
                 "EXECUTE FUNCTION catalog_sync.on_tenant_change('catalog_sync:copied')")
    assert problems(conn) == [("trigger_extra", "tenants_tenant.zz_copied_tenant_update")]
    assert_repaired(db, conn, capsys)
    assert conn.execute("SELECT count(*) FROM pg_trigger WHERE tgname = 'zz_copied_tenant_update'").fetchone() == (0,)


def test_attach_dropping_an_extra_trigger_does_not_deadlock_a_reader_that_then_writes(
        db: Db, conn: psycopg.Connection) -> None:
    """(review, twenty-second session) attach took the lock CREATE TRIGGER needs on a table with an EXTRA
    trigger, then upgraded it for DROP TRIGGER: an application transaction that had read the table and
    then wrote it deadlocked with it. Now such a table is locked for the drop at once: the writer goes
    first (it holds a lock the waiting attach wants), then attach."""
    add_copied_sync_trigger(conn, ACME, "ats_jobcategory", "on_job_category_change", db.tenant_id(ACME), "zz_copy")
    errors: list[BaseException] = []
    with db.connect(role=seed.APP_ROLE, autocommit=False) as writer, db.connect() as installer:
        writer.execute(f"SELECT count(*) FROM {ACME}.ats_jobcategory")

        def attach() -> None:
            try:
                installer.execute("SELECT * FROM catalog_sync.attach_schema(%s)", (ACME,))
            except BaseException as exc:        # (reported below)
                errors.append(exc)
        thread = threading.Thread(target=attach)
        thread.start()
        wait_until_blocked(conn, installer.info.backend_pid)
        writer.execute(f"UPDATE {ACME}.ats_jobcategory SET name = name WHERE false")
        writer.commit()
        thread.join(60)
    assert errors == [] and not thread.is_alive(), errors
    assert problems(conn) == []


def test_repairing_a_renamed_registry_trigger_does_not_deadlock_a_reader_that_then_writes(
        db: Db, conn: psycopg.Connection) -> None:
    """(the same, on the registry, whose repair runs install_triggers() alone) A sync trigger renamed is
    MISSING under its name and EXTRA under the new one: install_triggers() created the first (SHARE ROW
    EXCLUSIVE), then upgraded for the drop of the second, and deadlocked with a reader that then wrote.
    It now takes the drop's lock first."""
    conn.execute("ALTER TRIGGER catalog_sync_tenant_update ON public.tenants_tenant RENAME TO zz_renamed")
    errors: list[BaseException] = []
    with db.connect(role=seed.APP_ROLE, autocommit=False) as writer, db.connect() as installer:
        writer.execute("SELECT count(*) FROM public.tenants_tenant")

        def repair() -> None:
            try:
                installer.execute("SELECT catalog_sync.install_triggers(ARRAY['public.tenants_tenant'::regclass::oid],"
                                  " '{tenants_tenant}', NULL)")
            except BaseException as exc:        # (reported below)
                errors.append(exc)
        thread = threading.Thread(target=repair)
        thread.start()
        wait_until_blocked(conn, installer.info.backend_pid)
        writer.execute("UPDATE public.tenants_tenant SET name = name WHERE false")
        writer.commit()
        thread.join(60)
    assert errors == [] and not thread.is_alive(), errors
    assert problems(conn) == []


def test_copied_sync_triggers_get_the_fix_that_fits_their_schema(app: psycopg.Connection, conn: psycopg.Connection,
                                                               db: Db, capsys: pytest.CaptureFixture[str]) -> None:
    """HOLE (red team, twenty-second session), fixed. A schema cloned from an attached tenant (django-tenants'
    clone_schema()) carries that tenant's sync triggers: every write to the new tenant fails. audit said
    they "sync nothing" and advised `catalog-sync detach`, which opts the new tenant out for good (verify
    and audit then clean, its public rows never published); for a copied table in an attached tenant's
    schema, detach would opt that tenant out. Now audit says what the triggers do and the fix that fits:
    attach for a registry tenant's contract table, drop_triggers() for any other table of a tenant's
    schema, detach for a schema no tenant has."""
    _, clone = create_tenant(conn, "clone", "Clone")
    acme_id = db.tenant_id(ACME)
    assert copy_sync_triggers(conn, ACME, clone) == 32
    app.execute(f"CREATE TABLE {ACME}.jobs_copy (LIKE {ACME}.ats_jobposting INCLUDING ALL)")
    assert copy_sync_triggers(conn, ACME, ACME, "ats_jobposting", onto="jobs_copy") == 4
    app.execute(f"CREATE SCHEMA tenant_gone AUTHORIZATION {seed.APP_ROLE}")
    app.execute(f"CREATE TABLE tenant_gone.ats_jobcategory (LIKE {ACME}.ats_jobcategory INCLUDING ALL)")
    assert copy_sync_triggers(conn, ACME, "tenant_gone", "ats_jobcategory") == 4
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="is not attached for this tenant"):
        insert_job(app, clone)
    # (DBA trial, forty-fifth session) status showed nothing of them: EXTRA, as attach would drop them
    code, out, err = run(db, capsys, "status", "--json")
    rows = {r["schema"]: r for r in json.loads(out)}
    assert rows[clone]["attached"] is False and rows[clone]["triggers"] == "EXTRA 32", rows[clone]
    assert rows[clone]["trigger_counts"] == {"EXTRA": 32} and rows["tenant_globex"]["triggers"] == "INSTALLED 32"
    found = {obj: detail for obj, detail in conn.execute(
        "SELECT object, detail FROM catalog_sync.audit() WHERE check_name = 'unregistered_sync_trigger'")}
    assert set(found) == {f"{clone}.{t}" for t in ("ats_jobposting", "ats_jobcategory", "services_serviceprovider",
                                                  "services_serviceprovider_categories", "services_servicecategory",
                                                  "services_providerskill", "services_skill", "services_service")
                          } | {f"{ACME}.jobs_copy", "tenant_gone.ats_jobcategory"}, found
    fails = (f"every write to the table fails (they are bound to tenant {acme_id}, which is in the registry and "
             "not detached: relation ")
    assert all(fails in detail for detail in found.values()), found
    assert found[f"{clone}.ats_jobposting"].endswith(
        f"catalog-sync attach {clone} replaces them (tenant {db.tenant_id(clone)}, never attached: attach checks "
        "its schema against the contract first), then "
        f"catalog-sync backfill --tenant={clone} publishes its rows"), found
    assert found[f"{ACME}.jobs_copy"].endswith(
        f"SELECT catalog_sync.drop_triggers('{ACME}.jobs_copy'::regclass) drops them (as the table's owner who is "
        f"an installer, or as a superuser); not catalog-sync detach {ACME}, which would opt tenant {acme_id} out"
    ), found
    assert found["tenant_gone.ats_jobcategory"].endswith("catalog-sync detach tenant_gone drops them (run it as the "
                                                         "owner of the tables who is an installer, or as a superuser)")
    # (DBA walkthrough, twenty-fifth session) writes that fail are high (audit exits 1), inert triggers medium
    severity = "SELECT severity FROM catalog_sync.audit() WHERE object = 'tenant_gone.ats_jobcategory'"
    assert conn.execute(severity).fetchone() == ("high",)
    # (red team) a trigger that does not fire makes no write fail
    conn.execute("ALTER TABLE tenant_gone.ats_jobcategory DISABLE TRIGGER USER")
    assert conn.execute("SELECT detail FROM catalog_sync.audit() WHERE object = 'tenant_gone.ats_jobcategory'"
                        ).fetchone()[0].startswith("sync triggers on a table that is not attached: they sync nothing; ")
    assert conn.execute(severity).fetchone() == ("medium",)
    # (review) one that fires only where changes are replicated in fails there
    name = conn.execute("SELECT min(tgname) FROM pg_trigger WHERE tgrelid = 'tenant_gone.ats_jobcategory'::regclass"
                        ).fetchone()[0]
    alter_trigger(conn, "ENABLE REPLICA", name, "ats_jobcategory", "tenant_gone")
    assert conn.execute("SELECT detail FROM catalog_sync.audit() WHERE object = 'tenant_gone.ats_jobcategory'"
                        ).fetchone()[0].startswith("sync triggers on a table that is not attached: every write to the "
                                                   "table fails under session_replication_role = replica (a "
                                                   "superuser's session that sets it) (they are bound to tenant ")
    # each fix, as advised
    code, out, err = run(db, capsys, "attach", clone)
    assert code == 0 and ("attached 1 schema(s), 0 of them up to date already: 32 trigger(s) created, replaced or "
                          "dropped") in out, (out, err)
    job = insert_job(app, clone)
    assert catalog_row(conn, job["uuid"]) is not None
    assert conn.execute(f"SELECT catalog_sync.drop_triggers('{ACME}.jobs_copy'::regclass)").fetchone() == (4,)
    code, out, err = run(db, capsys, "detach", "tenant_gone")
    assert code == 0 and "dropped 4 sync trigger(s) left on its tables" in out, (out, err)
    assert conn.execute("SELECT * FROM catalog_sync.audit() WHERE check_name = 'unregistered_sync_trigger'"
                        ).fetchall() == []
    assert problems(conn) == []
    assert conn.execute("SELECT detached_at FROM catalog_sync.tenant WHERE tenant_id = %s",
                        (acme_id,)).fetchone() == (None,)


def test_the_audit_advice_is_a_command_line_for_any_schema_name(app: psycopg.Connection, conn: psycopg.Connection,
                                                                 db: Db, capsys: pytest.CaptureFixture[str]) -> None:
    """(red team, twenty-second session) The advice quoted the schema as SQL does (quote_ident): a name
    with a quote in it gave a command line that named another schema. Now it is one shell word, after
    "--" where it would read as an option (review)."""
    for odd in ("Tenant \"Odd's\" %s", "-x"):
        _advice_for_an_odd_schema_name_runs(odd, app, conn, db, capsys)


def _advice_for_an_odd_schema_name_runs(odd: str, app: psycopg.Connection, conn: psycopg.Connection, db: Db,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    conn.execute(sql.SQL("CREATE SCHEMA {} AUTHORIZATION {}").format(sql.Identifier(odd),
                                                                      sql.Identifier(seed.APP_ROLE)))
    app.execute(sql.SQL("CREATE TABLE {}.ats_jobcategory (LIKE tenant_acme.ats_jobcategory INCLUDING ALL)").format(
        sql.Identifier(odd)))
    assert copy_sync_triggers(conn, ACME, odd, "ats_jobcategory") == 4
    detail = conn.execute("SELECT detail FROM catalog_sync.audit() WHERE check_name = 'unregistered_sync_trigger'"
                          ).fetchone()[0]
    command = shlex.split(detail[detail.index("catalog-sync detach "):detail.index(" drops them")])
    assert command == ["catalog-sync", "detach", *(["--"] if odd.startswith("-") else []), odd], command
    code = cli.main([command[1], "--dsn", db.dsn(), *command[2:]])
    out, err = capsys.readouterr()
    assert code == 0 and "dropped 4 sync trigger(s) left on its tables" in out, (out, err)


def test_writes_while_triggers_disabled(app: psycopg.Connection, conn: psycopg.Connection, db: Db,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    changed, closed, deleted, untouched = insert_jobs(app, ACME, [{}, {}, {}, {}])
    for trigger in JOB_TRIGGERS[:3]:
        alter_trigger(app, "DISABLE", trigger)
    added = insert_job(app, ACME)
    update_job(app, ACME, changed["id"], title="Changed silently")
    update_job(app, ACME, closed["id"], status="closed")
    app.execute("DELETE FROM tenant_acme.ats_jobposting WHERE id = %s", (deleted["id"],))
    found = problems(conn)
    assert [f for f in found if not f[0].startswith("trigger_")] == [
        ("missing", None), ("orphan", None), ("orphan", None), ("stale", "title")]
    assert sorted(f[1] for f in found if f[0] == "trigger_disabled") == sorted(
        f"ats_jobposting.{t}" for t in JOB_TRIGGERS[:3])
    assert_repaired(db, conn, capsys)
    assert catalog_uuids(conn, ACME) == {added["uuid"], changed["uuid"], untouched["uuid"]}
    row = catalog_row(conn, changed["uuid"])
    assert row is not None and row["title"] == "Changed silently"
    later = insert_job(app, ACME)  # the triggers work again
    assert catalog_row(conn, later["uuid"]) is not None


# -------------------------------------------------------------- tenant drift


def test_tenant_not_attached(app: psycopg.Connection, conn: psycopg.Connection, db: Db,
                             capsys: pytest.CaptureFixture[str]) -> None:
    _, schema = create_tenant(conn, "initech", "Initech")
    seed.seed_categories(app, schema, 2)
    jobs = insert_jobs(app, schema, [{}, {}, {"status": "closed"}])
    assert problems(conn) == [("tenant_not_attached", schema)]
    assert_repaired(db, conn, capsys)
    assert catalog_uuids(conn, schema) == {jobs[0]["uuid"], jobs[1]["uuid"]}
    later = insert_job(app, schema)
    assert catalog_row(conn, later["uuid"]) is not None


def test_unattached_rows_of_a_dropped_tenant_schema(app: psycopg.Connection, conn: psycopg.Connection, db: Db,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Detached without purge, then its schema dropped: only the stray rows remain; repair removes them."""
    insert_jobs(app, ACME, [{}, {}])
    other = insert_job(app, GLOBEX)
    conn.execute("SELECT * FROM catalog_sync.detach_schema('tenant_acme', false)")
    app.execute("DROP SCHEMA tenant_acme CASCADE")
    assert catalog_count(conn, ACME) == 2
    assert problems(conn) == [("unattached_rows", "2 job_catalog rows")]
    # (its schema is gone: named by its id)
    assert f"repaired: tenant {db.tenant_id(ACME)} (not attached): 2 catalog rows removed" in assert_repaired(
        db, conn, capsys)
    assert catalog_count(conn, ACME) == 0
    assert catalog_row(conn, other["uuid"]) is not None



def test_rows_of_a_tenant_gone_from_the_registry_without_its_delete_trigger(
        app: psycopg.Connection, conn: psycopg.Connection, db: Db, capsys: pytest.CaptureFixture[str]) -> None:
    """HOLE (red team, twentieth session), fixed. The registry's owner dropped its key with CASCADE (the
    catalogs' foreign keys to it went too; protect now refuses that), then changed a tenant's id (or
    truncated the registry and put the others back): the registry's delete trigger never fired, the
    tenant's rows stayed public, and verify was clean (it listed tenants from the registry, and counted
    the rows as attached). Now they are unattached_rows, and repair purges them and forgets the tenant,
    as the foreign keys' cascade would have."""
    insert_jobs(app, ACME, [{}, {}])
    other = insert_job(app, GLOBEX)
    acme_id = db.tenant_id(ACME)
    conn.execute("ALTER TABLE public.tenants_tenant DROP CONSTRAINT tenants_tenant_pkey CASCADE")
    conn.execute("UPDATE public.tenants_tenant SET id = id + 100000, schema_name = 'acme_archived' WHERE id = %s",
                 (acme_id,))
    assert conn.execute("SELECT count(*) FROM public.job_catalog WHERE tenant_id = %s", (acme_id,)).fetchone() == (2,)
    assert problems(conn) == [("unattached_rows", "2 job_catalog rows (tenant not in the registry)")]
    assert f"repaired: tenant {acme_id} (not attached): 2 catalog rows removed" in assert_repaired(db, conn, capsys)
    assert conn.execute("SELECT (SELECT count(*) FROM public.job_catalog WHERE tenant_id = %s), "
                        "(SELECT count(*) FROM catalog_sync.tenant WHERE tenant_id = %s)",
                        (acme_id, acme_id)).fetchone() == (0, 0)
    assert catalog_row(conn, other["uuid"]) is not None

def test_detached_without_purge(app: psycopg.Connection, conn: psycopg.Connection, db: Db,
                                capsys: pytest.CaptureFixture[str]) -> None:
    """Detached without purge (schema kept): verify reports the rows; repair brings it back in sync."""
    jobs = insert_jobs(app, ACME, [{}, {}])
    conn.execute("SELECT * FROM catalog_sync.detach_schema('tenant_acme', false)")
    assert catalog_count(conn, ACME) == 2
    update_job(app, ACME, jobs[0]["id"], status="closed")  # no trigger any more
    assert ("unattached_rows", "2 job_catalog rows") in problems(conn)
    # (DBA trial, thirteenth session: the line named the tenant by its id only)
    assert f"repaired: {ACME} (tenant {db.tenant_id(ACME)}, not attached): 2 catalog rows removed" in assert_repaired(
        db, conn, capsys)
    # attached again and in sync, or purged: either way no stale row is left public
    assert catalog_row(conn, jobs[0]["uuid"]) is None


def test_purge_refuses_a_tenant_attached_while_it_waited(app: psycopg.Connection, conn: psycopg.Connection,
                                                         db: Db) -> None:
    """HOLE (red team, twenty-first session), fixed. purge_tenant() (repair of unattached_rows) checked that
    the tenant was not attached before it waited for the tenant's lock: an attach and backfill that
    committed meanwhile lost every catalog row. Now it locks first, then checks, and refuses."""
    insert_jobs(app, ACME, [{}, {}])
    conn.execute("SELECT * FROM catalog_sync.detach_schema(%s, false)", (ACME,))
    tenant_id = db.tenant_id(ACME)
    with db.connect(autocommit=False) as attacher, db.connect() as purger:
        attacher.execute("SELECT * FROM catalog_sync.attach_schema(%s)", (ACME,))
        attacher.execute("SELECT * FROM catalog_sync.backfill_tenant(%s)", (tenant_id,))
        outcome: list[BaseException | int] = []

        def purge() -> None:
            try:
                outcome.append(purger.execute("SELECT catalog_sync.purge_tenant(%s)", (tenant_id,)).fetchone()[0])
            except psycopg.Error as exc:
                outcome.append(exc)

        thread = threading.Thread(target=purge)
        thread.start()
        wait_until_blocked(conn, purger.info.backend_pid)
        attacher.commit()
        thread.join(60)
    assert len(outcome) == 1 and isinstance(outcome[0], psycopg.errors.ObjectNotInPrerequisiteState), outcome
    assert catalog_count(conn, ACME) == 2
    assert problems(conn) == []


def rename_unseen(conn: psycopg.Connection, old: str, new: str) -> None:
    """A tenant's schema renamed, and its registry row with it, where the registry's update trigger does
    not see it (disabled meanwhile): the machinery's copy of the name keeps the old one."""
    conn.execute("ALTER TABLE public.tenants_tenant DISABLE TRIGGER catalog_sync_tenant_update")
    conn.execute("UPDATE public.tenants_tenant SET schema_name = %s WHERE schema_name = %s", (new, old))
    conn.execute("ALTER TABLE public.tenants_tenant ENABLE ALWAYS TRIGGER catalog_sync_tenant_update")


def test_repair_detaches_a_tenant_renamed_unseen_and_repairs_the_others(
        app: psycopg.Connection, conn: psycopg.Connection, db: Db, capsys: pytest.CaptureFixture[str]) -> None:
    """HOLE (red team, twenty-first session), fixed. A tenant's registry row named a new, empty schema
    (changed where the registry's trigger did not see it) and one of its tables was dropped: repair's
    detach looked the tenant's tables up by the machinery's stale copy of the name, found none, and
    failed ("sync triggers still installed"), which stopped every later repair: another tenant's
    disabled trigger was never repaired. Now detach finds the tenant through the registry."""
    insert_jobs(app, ACME, [{}])
    conn.execute("CREATE SCHEMA tenant_acme_new")
    rename_unseen(conn, ACME, "tenant_acme_new")
    conn.execute(f"DROP TABLE {ACME}.services_skill CASCADE")
    alter_trigger(app, "DISABLE", "catalog_sync_job_insert", schema=GLOBEX)
    code, out, err = run(db, capsys, "verify", "--repair")
    assert code == 1 and "tenant_acme_new: a source table is gone; catalog rows removed" in out, (out, err)
    assert conn.execute("SELECT count(*) FROM public.job_catalog WHERE tenant_id = %s",
                        (db.tenant_id("tenant_acme_new"),)).fetchone() == (0,)
    # (forty-ninth session: a tenant so detached is reported until its tables are back, or it is opted out)
    assert [p for p, _ in problems(conn)] == ["tenant_tables_gone"]
    assert conn.execute("SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass AND tgname LIKE 'catalog_sync%%'",
                        (f"{ACME}.ats_jobposting",)).fetchone() == (0,)


def test_detach_of_a_new_tenant_reusing_an_old_name_leaves_the_old_tenant_alone(
        app: psycopg.Connection, conn: psycopg.Connection, db: Db, capsys: pytest.CaptureFixture[str]) -> None:
    """HOLE (red team, twenty-first session), fixed. Globex's schema and registry row renamed where the
    registry's trigger did not see it; then a new tenant got Globex's old schema name (django-tenants
    reusing it), and the DBA opted the new one out: detach found Globex's tables by the machinery's stale
    copy of the name and dropped all of Globex's sync triggers. Now detach finds the new tenant through
    the registry, and repair's backfill makes the copy the registry's name again."""
    insert_jobs(app, GLOBEX, [{}])
    conn.execute(f"ALTER SCHEMA {GLOBEX} RENAME TO tenant_globex2")
    rename_unseen(conn, GLOBEX, "tenant_globex2")
    globex_id = db.tenant_id("tenant_globex2")
    run(db, capsys, "verify", "--repair")       # (the rows' tenant_schema was stale)
    assert conn.execute("SELECT schema_name::text FROM catalog_sync.tenant WHERE tenant_id = %s",
                        (globex_id,)).fetchone() == ("tenant_globex2",)
    # the copy stale again (as before that repair, or without one), to show detach does not go by it
    conn.execute("UPDATE catalog_sync.tenant SET schema_name = %s WHERE tenant_id = %s", (GLOBEX, globex_id))
    _, schema = create_tenant(conn, "globex_new", "Globex Reborn")
    conn.execute(f"ALTER SCHEMA {schema} RENAME TO {GLOBEX}")
    conn.execute("UPDATE public.tenants_tenant SET schema_name = %s WHERE schema_name = %s", (GLOBEX, schema))
    code, out, err = run(db, capsys, "detach", GLOBEX)
    assert code == 0 and out.startswith(f"{GLOBEX} was not attached: marked it detached on purpose"), (out, err)
    assert problems(conn) == []
    assert catalog_count(conn, "tenant_globex2") > 0
    assert conn.execute("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'tenant_globex2.ats_jobposting'::regclass "
                        "AND tgname LIKE 'catalog_sync%%'").fetchone()[0] > 0


# ----------------------------------------------------------------- backfill


def backfill(conn: psycopg.Connection, tenant_id: int, dry_run: bool = False) -> tuple[int, int, int]:
    row = conn.execute("SELECT inserted, updated, removed FROM catalog_sync.backfill_tenant(%s, %s)",
                       (tenant_id, dry_run)).fetchone()
    assert row is not None
    return (int(row[0]), int(row[1]), int(row[2]))


def make_three_drifts(app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """One missing, one stale, one orphan row in tenant_acme."""
    a, b, c = insert_jobs(app, ACME, [{}, {}, {}])
    conn.execute("DELETE FROM public.job_catalog WHERE job_uuid = %s", (a["uuid"],))
    conn.execute("UPDATE public.job_catalog SET title = 'Tampered' WHERE job_uuid = %s", (b["uuid"],))
    with app.transaction():
        alter_trigger(app, "DISABLE", "catalog_sync_job_delete")
        app.execute("DELETE FROM tenant_acme.ats_jobposting WHERE id = %s", (c["id"],))
        app.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK events before ALTER TABLE
        alter_trigger(app, "ENABLE ALWAYS", "catalog_sync_job_delete")
    assert problems(conn) == [("missing", None), ("orphan", None), ("stale", "title")]


def test_backfill_repairs_then_is_idempotent(app: psycopg.Connection, conn: psycopg.Connection,
                                             db: Db) -> None:
    make_three_drifts(app, conn)
    assert backfill(conn, db.tenant_id(ACME)) == (1, 1, 1)
    assert problems(conn) == []
    snapshot = catalog_snapshot(conn)
    assert backfill(conn, db.tenant_id(ACME)) == (0, 0, 0)
    assert backfill(conn, db.tenant_id(GLOBEX)) == (0, 0, 0)
    assert catalog_snapshot(conn) == snapshot  # not even rewritten


def test_backfill_dry_run_writes_nothing(app: psycopg.Connection, conn: psycopg.Connection, db: Db,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    make_three_drifts(app, conn)
    snapshot = catalog_snapshot(conn)
    assert backfill(conn, db.tenant_id(ACME), dry_run=True) == (1, 1, 1)
    assert catalog_snapshot(conn) == snapshot
    code, out, err = run(db, capsys, "backfill", "--dry-run", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["dry_run"] is True
    assert {k: report["total"][k] for k in ("inserted", "updated", "removed", "errors")} == {
        "inserted": 1, "updated": 1, "removed": 1, "errors": 0}
    # (DBA trial, thirteenth session: the progress lines said "1 inserted" in a dry run)
    assert f"backfill [1/2] {ACME}: would insert 1, update 1, remove 1 (dry run)" in err, err
    assert catalog_snapshot(conn) == snapshot
    assert len(problems(conn)) == 3


def test_backfill_dry_run_counts_each_catalog(app: psycopg.Connection, conn: psycopg.Connection,
                                              db: Db) -> None:
    make_three_drifts(app, conn)
    provider = insert_provider(app, ACME)
    insert_service(app, ACME, provider["id"])
    conn.execute("DELETE FROM public.provider_catalog WHERE provider_uuid = %s", (provider["uuid"],))
    rows = conn.execute("SELECT catalog, eligible, inserted, updated, removed "
                        "FROM catalog_sync.backfill_tenant(%s, true)", (db.tenant_id(ACME),)).fetchall()
    assert [tuple(r) for r in rows] == [("jobs", 2, 1, 1, 1), ("providers", 1, 1, 0, 0), ("services", 1, 0, 0, 0)]
    # A problem of no catalog (a disabled trigger) counts in none of them.
    alter_trigger(app, "DISABLE", "catalog_sync_job_update")
    assert [tuple(r) for r in conn.execute("SELECT catalog, inserted, updated, removed "
                                           "FROM catalog_sync.backfill_tenant(%s, true, 'providers')",
                                           (db.tenant_id(ACME),))] == [("providers", 1, 0, 0)]
    assert [tuple(r) for r in conn.execute("SELECT catalog, inserted, updated, removed "
                                           "FROM catalog_sync.backfill_tenant(%s, true, 'jobs')",
                                           (db.tenant_id(ACME),))] == [("jobs", 1, 1, 1)]
    assert len(problems(conn)) == 5


# ------------------------------------------------------------------- attach


def test_attach_is_idempotent(conn: psycopg.Connection) -> None:
    query = ("SELECT oid, xmin::text, tgenabled, tgargs FROM pg_trigger "
             "WHERE tgname LIKE 'catalog_sync%' ORDER BY oid")
    triggers = conn.execute(query).fetchall()
    assert len(triggers) == 2 * 32 + 2
    for schema in (ACME, GLOBEX):
        row = conn.execute("SELECT triggers_changed FROM catalog_sync.attach_schema(%s)",
                           (schema,)).fetchone()
        assert row == (0,)
    assert conn.execute(query).fetchall() == triggers
    assert problems(conn) == []


def test_attach_brings_every_table_of_a_schema_in_line(conn: psycopg.Connection) -> None:
    """One attach_schema() call fixes every table of the schema at once: a missing, a disabled and an
    outdated trigger are installed again, sync triggers the spec no longer has are dropped (on two
    tables), a trigger of the application is left alone; a second call changes nothing."""
    tenant_id = conn.execute("SELECT id FROM public.tenants_tenant WHERE schema_name = %s", (ACME,)).fetchone()[0]
    conn.execute("CREATE FUNCTION public.app_audit() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END'")
    conn.execute("CREATE TRIGGER app_audit AFTER INSERT ON tenant_acme.ats_jobposting "
                 "FOR EACH STATEMENT EXECUTE FUNCTION public.app_audit()")
    # As an older release could leave them: sync triggers under names the spec no longer has.
    conn.execute("CREATE TRIGGER catalog_sync_job_legacy AFTER INSERT ON tenant_acme.ats_jobposting "
                 "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
                 f"EXECUTE FUNCTION catalog_sync.on_job_change('{tenant_id}', 'catalog_sync:old')")
    conn.execute("CREATE TRIGGER catalog_sync_service_legacy AFTER TRUNCATE ON tenant_acme.services_service "
                 f"FOR EACH STATEMENT EXECUTE FUNCTION catalog_sync.on_service_change('{tenant_id}', 'x')")
    conn.execute("DROP TRIGGER catalog_sync_provskill_delete ON tenant_acme.services_providerskill")
    conn.execute("ALTER TABLE tenant_acme.ats_jobcategory DISABLE TRIGGER catalog_sync_jobcat_update")
    conn.execute("CREATE OR REPLACE TRIGGER catalog_sync_job_update AFTER UPDATE ON tenant_acme.ats_jobposting "
                 "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
                 f"EXECUTE FUNCTION catalog_sync.on_job_change('{tenant_id}', 'catalog_sync:old')")
    assert conn.execute("SELECT triggers_changed FROM catalog_sync.attach_schema(%s)", (ACME,)).fetchone() == (5,)
    names = conn.execute("SELECT c.relname, tg.tgname, tg.tgenabled FROM pg_trigger tg "
                         "JOIN pg_class c ON c.oid = tg.tgrelid "
                         "WHERE c.relnamespace = 'tenant_acme'::regnamespace AND NOT tg.tgisinternal").fetchall()
    expected = conn.execute("SELECT source_table, trigger_name, 'A' FROM catalog_sync.trigger_spec "
                            "WHERE source_table <> 'tenants_tenant'").fetchall()
    assert sorted(names) == sorted([*expected, ("ats_jobposting", "app_audit", "O")])
    assert problems(conn) == []
    assert conn.execute("SELECT triggers_changed FROM catalog_sync.attach_schema(%s)", (ACME,)).fetchone() == (0,)


def test_attach_registers_a_recreated_table(app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """A source table replaced by another of the same name: attach registers the new one (by OID) and
    forgets the old one, whose triggers then refuse to publish anything."""
    app.execute("ALTER TABLE tenant_acme.ats_jobcategory RENAME TO ats_jobcategory_old")
    app.execute("CREATE TABLE tenant_acme.ats_jobcategory (LIKE tenant_acme.ats_jobcategory_old INCLUDING ALL)")
    assert conn.execute("SELECT triggers_changed FROM catalog_sync.attach_schema(%s)", (ACME,)).fetchone() == (4,)
    registered = conn.execute(
        "SELECT a.relid::regclass::text FROM catalog_sync.attached_table a JOIN catalog_sync.tenant t "
        "USING (tenant_id) WHERE t.schema_name = %s AND a.source_table = 'ats_jobcategory'", (ACME,)).fetchall()
    assert registered == [("tenant_acme.ats_jobcategory",)]
    assert conn.execute("SELECT count(*) FROM catalog_sync.attached_table "
                        "WHERE relid = 'tenant_acme.ats_jobcategory_old'::regclass").fetchone() == (0,)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="not attached"):
        app.execute("UPDATE tenant_acme.ats_jobcategory_old SET name = name || '!'")


def test_verify_tenant_option_limits_scope(app: psycopg.Connection, conn: psycopg.Connection, db: Db,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    job = insert_job(app, GLOBEX)
    conn.execute("UPDATE public.job_catalog SET title = 'Tampered' WHERE job_uuid = %s", (job["uuid"],))
    assert run(db, capsys, "verify", "--tenant", ACME)[0] == 0
    code, out, _ = run(db, capsys, "verify", "--tenant", GLOBEX, "--json")
    assert code == 1
    report = json.loads(out)
    assert report["clean"] is False
    assert [(f["problem"], f["schema"], f["key"], f["detail"]) for f in report["findings"]] == [
        ("stale", GLOBEX, str(job["uuid"]), "title")]


def test_detached_on_purpose_is_not_drift(app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """detach --purge is a decision: verify does not ask for the tenant back."""
    insert_jobs(app, ACME, [{}, {}])
    conn.execute("SELECT * FROM catalog_sync.detach_schema('tenant_acme', true)")
    assert catalog_count(conn, ACME) == 0
    assert problems(conn) == []
    assert conn.execute("SELECT attached FROM catalog_sync.tenant_schemas() WHERE schema_name = 'tenant_acme'"
                        ).fetchone() == (False,)


def test_a_restore_into_another_collation_keeps_the_pin(db: Db, capsys: pytest.CaptureFixture[str]) -> None:
    """(Review, forty-fifth session) The pin hashed its items in the database's collation order: restored into
    a database of another locale, every command was refused ("the machinery changed"), with no item named.
    They are hashed in C order now."""
    from tests.test_migrations import _bin

    dump = subprocess.run([_bin("pg_dump"), "-d", db.dsn()], capture_output=True, text=True, check=True).stdout
    with db.connect() as conn:
        conn.execute("CREATE DATABASE restored_icu TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' "
                     "LOCALE 'C.UTF-8'")
    target = Db(db.host, db.port, "restored_icu")
    try:
        subprocess.run([_bin("psql"), "-v", "ON_ERROR_STOP=1", "-q", "-X", "-d", target.dsn()], input=dump,
                       capture_output=True, text=True, check=True)
        with target.connect() as conn:
            assert conn.execute("SELECT md5(string_agg(i, E'\\n' ORDER BY i)) <> md5(string_agg(i, E'\\n' "
                                "ORDER BY i COLLATE \"C\")) FROM catalog_sync_pin.items() i").fetchone() == (True,)
        code, out, err = run(target, capsys, "verify", "--json")
        assert "machinery changed" not in err, err
        assert code == 1 and {f["problem"] for f in json.loads(out)["findings"]} == {"table_replaced"}, (out, err)
    finally:
        with db.connect() as conn:
            conn.execute("DROP DATABASE IF EXISTS restored_icu WITH (FORCE)")


def test_a_database_restored_from_a_dump_is_repaired_not_purged(db: Db, app: psycopg.Connection,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """(docs review, fourteenth session) pg_dump and a restore give every table a new OID, and the
    registry binds tables by OID: every tenant write then failed (`relation N is not attached for this
    tenant`), verify reported table_missing everywhere, and repair would have detached and purged every
    tenant. Now: table_replaced, and repair attaches the restored tables and keeps the catalog."""
    from tests.test_migrations import _bin

    jobs = insert_jobs(app, ACME, [{}, {}])
    dump = subprocess.run([_bin("pg_dump"), "-d", db.dsn()], capture_output=True, text=True,
                          check=True).stdout
    with db.connect() as conn:
        conn.execute("CREATE DATABASE restored")
    target = Db(db.host, db.port, "restored")
    try:
        subprocess.run([_bin("psql"), "-v", "ON_ERROR_STOP=1", "-q", "-X", "-d", target.dsn()], input=dump,
                       capture_output=True, text=True, check=True)
        with target.connect() as conn:
            before = conn.execute("SELECT count(*) FROM public.job_catalog").fetchone()
            with target.connect(role=seed.APP_ROLE) as writer, pytest.raises(psycopg.errors.InsufficientPrivilege,
                                                                             match="is not attached"):
                update_job(writer, ACME, jobs[0]["id"], title="Before the repair")
        code, out, err = run(target, capsys, "verify", "--json")
        problems = {(f["schema"], f["problem"]) for f in json.loads(out)["findings"]}
        assert code == 1 and problems == {(ACME, "table_replaced"), (GLOBEX, "table_replaced")}, out
        # (DBA review, seventeenth session) audit called the restored tables' triggers inert and advised
        # detach (an opt-out of every tenant), status showed MISSING triggers and exited 0: both now
        # name the restore and its fix. A restore into another cluster may hand the old OIDs to unrelated
        # objects (an index, another tenant's table): audit and status decide by name, as verify does.
        with target.connect() as conn:
            conn.execute("UPDATE catalog_sync.attached_table SET relid = 'public.tenants_tenant_pkey'::regclass "
                         "WHERE source_table = 'ats_jobposting' AND tenant_id = (SELECT tenant_id FROM "
                         "catalog_sync.tenant WHERE schema_name = %s)", (ACME,))
            conn.execute(f"UPDATE catalog_sync.attached_table SET relid = '{GLOBEX}.ats_jobposting'::regclass "
                         "WHERE source_table = 'ats_jobcategory' AND tenant_id = (SELECT tenant_id FROM "
                         "catalog_sync.tenant WHERE schema_name = %s)", (ACME,))
        code, out, err = run(target, capsys, "audit", "--json")
        findings = json.loads(out)["findings"]
        checks = {f["check_name"] for f in findings}
        assert code == 1 and checks <= {"table_replaced", "tenant_not_attached"}, out
        assert len([f for f in findings if f["check_name"] == "table_replaced"]) == 2 * 8, out
        assert all("verify --repair" in f["detail"] for f in findings if f["check_name"] == "table_replaced")
        assert {f["object"].split(".")[0] for f in findings if f["check_name"] == "table_replaced"} == {ACME, GLOBEX}
        code, out, err = run(target, capsys, "status")
        assert code == 2 and "restored from a dump, or rebuilt" in err and "verify --repair attaches" in err, (out, err)
        # (DBA trial, forty-fifth session) attach registers the restored tables, the triggers having come with the
        # dump: its dry run and its summary said "up to date" and nothing of that
        code, out, err = run(target, capsys, "attach", "--all", "--dry-run")
        assert code == 0 and out.strip().endswith(
            "64 up to date; 16 table(s) of 2 schema(s) to register anew (restored from a dump, or swapped in: "
            "verify's table_replaced)"), (out, err)
        code, out, err = run(target, capsys, "attach", ACME)
        assert code == 0 and out.splitlines()[0] == (
            "up to date: 1 schema(s) attached already, their triggers installed; no trigger created, replaced or "
            "dropped; 8 table(s) of 1 schema(s) registered anew (restored from a dump, or swapped in: verify's "
            "table_replaced)"), (out, err)
        code, out, err = run(target, capsys, "verify", "--json")
        assert {(f["schema"], f["problem"]) for f in json.loads(out)["findings"]} == {(GLOBEX, "table_replaced")}, out
        code, out, err = run(target, capsys, "verify", "--repair")
        assert code == 0 and "detached" not in out, (out, err)
        with target.connect() as conn:
            assert conn.execute("SELECT count(*) FROM public.job_catalog").fetchone() == before == (2,)
            with target.connect(role=seed.APP_ROLE) as writer:
                update_job(writer, ACME, jobs[0]["id"], title="After the repair")
            assert conn.execute("SELECT title FROM public.job_catalog WHERE job_uuid = %s",
                                (jobs[0]["uuid"],)).fetchone() == ("After the repair",)
        assert run(target, capsys, "verify")[0] == 0
        assert run(target, capsys, "status")[0] == 0
        code, out, err = run(target, capsys, "audit", "--json")
        assert not {f["check_name"] for f in json.loads(out)["findings"]} & {"table_replaced", "table_missing"}, out
    finally:
        with db.connect() as conn:
            conn.execute("DROP DATABASE IF EXISTS restored WITH (FORCE)")


RUNS_BEGUN_DURING_A_VERIFY = {     # the lock each takes, and what the repair's line calls it
    "a backfill": ("BACKFILL_LOCK_SQL", "a backfill, repair or uninstall"),
    "a migrate": ("MIGRATION_LOCK_SQL", "a migrate or uninstall"),
}


@pytest.mark.parametrize("run_begun", RUNS_BEGUN_DURING_A_VERIFY.values(), ids=RUNS_BEGUN_DURING_A_VERIFY.keys())
def test_a_repair_shut_out_by_a_run_begun_during_its_verify_still_reports_what_it_found(
        db: Db, app: psycopg.Connection, conn: psycopg.Connection, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, run_begun: tuple[str, str]) -> None:
    """(concurrency trial, fifty-second session) verify --repair lets the run lock go after its up-front check;
    a backfill or another repair that took it during the verify made the repair exit 2 with the up-front
    refusal's message, the drift it had found never shown. It reports the findings, not repaired, exit 1,
    and runs no closing verify (nothing was repaired)."""
    from pyinstaller_tools import operations

    job = insert_job(app, ACME)
    conn.execute("DELETE FROM public.job_catalog WHERE job_uuid = %s", (job["uuid"],))
    verifies: list[int] = []
    real_verify = operations.verify
    with db.connect() as other:
        def verify_then_a_backfill_begins(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
            found = real_verify(*args, **kwargs)
            verifies.append(len(found))
            other.execute(f"SELECT pg_advisory_lock({getattr(operations, run_begun[0])})")
            return found

        monkeypatch.setattr(operations, "verify", verify_then_a_backfill_begins)
        code, out, err = run(db, capsys, "verify", "--repair")
        pid = other.info.backend_pid
    assert (code, verifies) == (1, [1]), (out, err)
    assert f"not repaired ({run_begun[1]} began during this verify (backend pid {pid}" in out, out
    assert "missing" in out and "repaired:" not in out, out
    assert [p for p, _ in problems(conn)] == ["missing"]
