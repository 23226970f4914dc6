"""The commands that change triggers or the install wait a bounded time for a
lock. A command queued behind a long transaction would otherwise block the
application's statements on that table for as long as it waits (DROP TRIGGER
even blocks reads), and attach would hold the locks of every schema of its
chunk meanwhile. Each test holds a lock in an open application transaction,
runs the command with a short --lock-timeout, and checks what it changed:
only what it could do without waiting.

A command that still waits after 60 s fails the test (the holder is then
rolled back so that it ends): that is the hang these tests exist for, not a
timing assertion."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from pyinstaller_tools import cli, operations, seed
from pyinstaller_tools.connection import ToolError
from tests import jobs
from tests.conftest import ROOT, Db
from tests.test_cli import assert_refused, state, triggers_on
from tests.test_migrations import fresh  # noqa: F401 - a fixture

ACME, GLOBEX = "tenant_acme", "tenant_globex"
TIMEOUT = "300ms"


@contextmanager
def held(db: Db, statement: str) -> Iterator[psycopg.Connection]:
    """An application transaction that ran `statement` and stays open (rolled back at the end)."""
    with db.connect(role=seed.APP_ROLE, autocommit=False) as holder:
        holder.execute(statement)
        try:
            yield holder
        finally:
            holder.rollback()


def run_bounded(capsys: pytest.CaptureFixture[str], holder: psycopg.Connection,
                *argv: str) -> tuple[int, str, str]:
    """cli.main(argv) in a thread; if it is still waiting after 60 s, end the holder and fail."""
    result: list[int] = []
    raised: list[BaseException] = []

    def target() -> None:
        try:
            result.append(cli.main(list(argv)))
        except BaseException as exc:  # noqa: BLE001 - e.g. argparse's SystemExit, re-raised below
            raised.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(60)
    if thread.is_alive():
        holder.cancel_safe()
        holder.rollback()
        thread.join()
        pytest.fail(f"catalog-sync {argv[0]} still waited for the lock after 60 s")
    if raised:
        raise raised[0]
    out, err = capsys.readouterr()
    return result[0], out, err


def lock_jobs(schema: str) -> str:
    return f"LOCK TABLE {schema}.ats_jobposting IN ROW EXCLUSIVE MODE"


def test_attach_skips_a_busy_schema_and_attaches_the_rest_of_its_chunk(
        db: Db, conn: psycopg.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    for schema in (ACME, GLOBEX):
        conn.execute("SELECT catalog_sync.detach_schema(%s)", (schema,))
    with held(db, lock_jobs(GLOBEX)) as holder:
        code, out, err = run_bounded(capsys, holder, "attach", ACME, GLOBEX, "--lock-timeout", TIMEOUT,
                                     "--dsn", db.dsn())
        assert triggers_on(conn, ACME) > 0 and triggers_on(conn, GLOBEX) == 0
    # (DBA trial, forty-fifth session: the busy one was not said in the summary)
    assert code == 2 and ("attached 1 schema(s), 0 of them up to date already, 1 busy (not attached, below): 32 "
                          "trigger(s) created") in out, (out, err)
    error = err.strip().splitlines()[-1]
    assert error.startswith("catalog-sync: error: schema(s) not attached: 1 busy") and GLOBEX in error, err
    assert "--lock-timeout 300ms" in error and ACME not in error, error
    assert f"{GLOBEX} skipped" in err
    # The same attach again, the lock released: attaches the rest (idempotent).
    code, out, err = run_bounded(capsys, conn, "attach", ACME, GLOBEX, "--dsn", db.dsn())
    assert code == 0 and "1 of them up to date already: " in out, (out, err)
    assert triggers_on(conn, GLOBEX) == triggers_on(conn, ACME)


def test_attach_says_one_progress_line_per_chunk_also_when_one_is_split(
        db: Db, conn: psycopg.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    """(DBA trial, forty-fourth session) A chunk split into single schemas by a busy one printed a progress
    line per schema: 200 lines for a chunk of 200. One per chunk, as for the others."""
    extra = [jobs.create_tenant(conn, f"chunk{n}", f"Chunk {n}")[1] for n in range(2)]
    for schema in (ACME, GLOBEX):
        conn.execute("SELECT catalog_sync.detach_schema(%s)", (schema,))
    with held(db, lock_jobs(GLOBEX)) as holder:
        code, out, err = run_bounded(capsys, holder, "attach", ACME, GLOBEX, *extra, "--chunk-size", "2",
                                     "--lock-timeout", TIMEOUT, "--dsn", db.dsn())
    assert code == 2 and "attached 3 schema(s)" in out, (out, err)
    counts = [line for line in err.splitlines() if line.startswith("attach: ") and " schemas (" in line]
    assert [line.split(" (")[0] for line in counts] == ["attach: 2/4 schemas", "attach: 4/4 schemas"], err


def test_detach_of_a_busy_schema_changes_nothing(
        db: Db, conn: psycopg.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    before = state(conn)
    with held(db, "SELECT count(*) FROM tenant_acme.ats_jobposting") as holder:
        # DROP TRIGGER needs ACCESS EXCLUSIVE: even a reader makes the schema busy.
        result = run_bounded(capsys, holder, "detach", ACME, "--purge", "--lock-timeout", TIMEOUT,
                             "--dsn", db.dsn())
    assert_refused(result, f"{ACME} not detached", "--lock-timeout 300ms", "nothing was changed")
    assert state(conn) == before


@pytest.mark.parametrize("command", ["detach", "uninstall"])
def test_a_wait_in_tries_without_a_limit_says_it_is_still_trying(
        db: Db, conn: psycopg.Connection, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        command: str) -> None:
    """--lock-timeout 0: a progress line while the tries go on (detach printed nothing: review, forty-fourth
    session), and the command done once the holder lets go."""
    monkeypatch.setattr(operations, "LOCK_TRIES_PROGRESS_S", 0.3)
    with held(db, "SELECT count(*) FROM tenant_acme.ats_jobposting") as holder:
        timer = threading.Timer(1.5, holder.rollback)
        timer.start()
        try:
            code, out, err = run_bounded(capsys, holder, command, *([ACME] if command == "detach" else ["--yes"]),
                                         "--lock-timeout", "0", "--dsn", db.dsn())
        finally:
            timer.join()
    assert code == 0, (out, err)
    assert f"{command}: " in err and " tries at its locks in " in err and "still trying (--lock-timeout 0" in err, err


def test_uninstall_waiting_on_a_tenant_table_removes_nothing(
        db: Db, conn: psycopg.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    before = state(conn)
    with held(db, lock_jobs(GLOBEX)) as holder:
        result = run_bounded(capsys, holder, "uninstall", "--yes", "--lock-timeout", TIMEOUT, "--dsn", db.dsn())
    assert_refused(result, f"uninstall stopped at tenants 1 to 2 of 2 ({ACME} to {GLOBEX}): could not take the locks",
                   f"--lock-timeout {TIMEOUT} (", "nothing was removed")
    assert state(conn) == before


def test_migrate_waiting_on_the_registry_installs_nothing_then_succeeds(
        fresh: Callable[[str], Db], capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    target = fresh("m_locked")
    # A tenant's row being saved in an open transaction: the install's trigger
    # and foreign key on the registry wait for it.
    with held(target, "UPDATE public.tenants_tenant SET updated_at = now()") as holder:
        result = run_bounded(capsys, holder, "migrate", "--lock-timeout", TIMEOUT, "--dsn", target.dsn())
        assert_refused(result, "lock timeout", "the migration needs", "rolled back", f"--lock-timeout {TIMEOUT} (")
        with target.connect() as conn:
            assert conn.execute("SELECT to_regnamespace('catalog_sync')").fetchone()[0] is None
            assert conn.execute("SELECT to_regclass('public.alembic_version')").fetchone()[0] is None
    code, out, err = run_bounded(capsys, holder, "migrate", "--dsn", target.dsn())
    assert code == 0 and "base -> 0001" in out, (out, err)


@pytest.mark.parametrize("command", ["migrate", "uninstall"])
def test_migrate_and_uninstall_bound_their_wait_for_alembics_version_table(
        db: Db, conn: psycopg.Connection, capsys: pytest.CaptureFixture[str], command: str) -> None:
    """(review, forty-fourth session) The revision alembic records was read in a session of its own, without
    the command's lock_timeout: behind a lock on public.alembic_version, migrate --lock-timeout 1s waited
    14 s, as long as the lock was held."""
    before = state(conn)
    with db.connect(autocommit=False) as holder:
        holder.execute("LOCK TABLE public.alembic_version IN ACCESS EXCLUSIVE MODE")
        try:
            result = run_bounded(capsys, holder, command, *(["--yes"] if command == "uninstall" else []),
                                 "--lock-timeout", TIMEOUT, "--dsn", db.dsn())
        finally:
            holder.rollback()
    assert_refused(result, f"{command}: public.alembic_version stayed locked longer than --lock-timeout {TIMEOUT} (",
                   "nothing was changed")
    assert state(conn) == before


def test_repair_leaves_a_busy_tenant_for_the_next_run_and_repairs_the_others(
        db: Db, conn: psycopg.Connection, app: psycopg.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    stale = jobs.insert_job(app, ACME, title="Before the drift")
    conn.execute(sql.SQL("UPDATE public.job_catalog SET title = 'drifted' WHERE job_uuid = %s"), (stale["uuid"],))
    trigger = conn.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'tenant_globex.ats_jobposting'::regclass "
                           "AND tgname LIKE 'catalog_sync%' ORDER BY 1 LIMIT 1").fetchone()[0]
    conn.execute(sql.SQL("DROP TRIGGER {} ON tenant_globex.ats_jobposting").format(sql.Identifier(trigger)))
    with held(db, lock_jobs(GLOBEX)) as holder:
        code, out, err = run_bounded(capsys, holder, "verify", "--repair", "--lock-timeout", TIMEOUT,
                                     "--dsn", db.dsn())
    assert code == 1, (out, err)                      # the busy tenant's drift is still there
    assert f"not repaired (a lock on its tables was held longer than --lock-timeout {TIMEOUT}" in out, out
    assert "pg_stat_activity" in out and GLOBEX in out, out
    assert "trigger_missing" in out and "stale" not in out.split("drift:")[1], out
    assert jobs.catalog_row(conn, stale["uuid"])["title"] == "Before the drift"
    code, out, err = run_bounded(capsys, conn, "verify", "--repair", "--dsn", db.dsn())
    assert code == 0 and "repaired: tenant_globex: triggers attached" in out, (out, err)


def test_repair_leaves_a_detached_tenant_whose_lock_is_held_and_purges_the_others(
        db: Db, conn: psycopg.Connection, app: psycopg.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    """(code review, forty-seventh session) The purge of a detached tenant's rows that waited too long for
    the tenant's lock stopped the whole repair: the rows of the tenants after it stayed public."""
    for schema in (ACME, GLOBEX):
        jobs.insert_job(app, schema)
        conn.execute("SELECT catalog_sync.detach_schema(%s, false)", (schema,))
    acme, globex = (jobs.catalog_count(conn, s) for s in (ACME, GLOBEX))
    assert (acme, globex) == (1, 1)
    with db.connect(autocommit=False) as holder:
        holder.execute("SELECT pg_advisory_xact_lock(catalog_sync.lock_key(%s, 'tenant', 0))", (db.tenant_id(ACME),))
        code, out, err = run_bounded(capsys, holder, "verify", "--repair", "--lock-timeout", TIMEOUT,
                                     "--dsn", db.dsn())
        holder.rollback()
    assert code == 1, (out, err)                      # ACME's rows are still there
    assert f"repaired: {GLOBEX} (tenant {db.tenant_id(GLOBEX)}, not attached): 1 catalog rows removed" in out, out
    assert f"not repaired (a lock on its tables was held longer than --lock-timeout {TIMEOUT}" in out, out
    assert (jobs.catalog_count(conn, ACME), jobs.catalog_count(conn, GLOBEX)) == (1, 0)
    code, out, err = run_bounded(capsys, conn, "verify", "--repair", "--dsn", db.dsn())
    assert code == 0 and jobs.catalog_count(conn, ACME) == 0, (out, err)


def test_attach_with_several_connections_skips_only_the_busy_schema(
        db: Db, conn: psycopg.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    for schema in (ACME, GLOBEX):
        conn.execute("SELECT catalog_sync.detach_schema(%s)", (schema,))
    with held(db, lock_jobs(ACME)) as holder:
        code, out, err = run_bounded(capsys, holder, "attach", ACME, GLOBEX, "--jobs", "2", "--chunk-size", "1",
                                     "--lock-timeout", TIMEOUT, "--dsn", db.dsn())
    assert code == 2 and "attached 1 schema(s)" in out and f"{ACME} skipped" in err, (out, err)
    assert "2/2 schemas" in err, err                       # the progress counts the skipped one too
    assert triggers_on(conn, GLOBEX) > 0 and triggers_on(conn, ACME) == 0


def test_attach_stops_at_a_locked_registry_instead_of_blaming_each_schema(
        db: Db, conn: psycopg.Connection) -> None:
    """(review) a lock every schema needs made the fallback time out once per schema of the chunk."""
    for schema in (ACME, GLOBEX):
        conn.execute("SELECT catalog_sync.detach_schema(%s)", (schema,))
    messages: list[str] = []
    # (a statement_timeout as a guard: without the tool's lock_timeout the attach waited for ever, and the
    # test hung instead of failing: mutation pass, fortieth session)
    with db.connect(autocommit=False) as holder, \
            psycopg.connect(db.dsn(), autocommit=True, options="-c statement_timeout=30s") as attacher:
        holder.execute("LOCK TABLE public.tenants_tenant IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(ToolError, match="tenant registry public.tenants_tenant stayed locked"):
            operations.attach(attacher, [ACME, GLOBEX], 200, messages.append, lock_timeout=TIMEOUT)
        holder.rollback()
    assert not any("one at a time" in m or "skipped" in m for m in messages), messages
    assert triggers_on(conn, ACME) == triggers_on(conn, GLOBEX) == 0


def test_an_attach_that_fails_after_some_chunks_says_what_was_attached(
        db: Db, conn: psycopg.Connection, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """(DBA trial, thirty-ninth session) Chunks commit on their own: an error after the first ones (there, a
    worker refused a connection) ended attach with the error alone, as though nothing had been attached.
    Here the second chunk's lock wait ends at the role's statement_timeout, before --lock-timeout."""
    for schema in (ACME, GLOBEX):
        conn.execute("SELECT catalog_sync.detach_schema(%s)", (schema,))
    monkeypatch.setenv("PGOPTIONS", "-c statement_timeout=500")
    with held(db, lock_jobs(GLOBEX)) as holder:
        result = run_bounded(capsys, holder, "attach", ACME, GLOBEX, "--chunk-size", "1", "--dsn", db.dsn())
    code, _, err = result
    line = err.strip().splitlines()[-1]         # (after the progress lines)
    assert code == 2 and line.startswith("catalog-sync: error: canceling statement due to statement timeout"), err
    assert "1 of 2 schema(s) were attached before that" in line and "fix the error, then run attach again" in line
    assert "nothing was" not in line, line
    assert triggers_on(conn, ACME) > 0 and triggers_on(conn, GLOBEX) == 0


def test_attach_refuses_at_once_when_the_registry_stays_locked(
        db: Db, conn: psycopg.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    """(the registry's lock is waited for before the contract check reads it: fifty-second session)"""
    before = state(conn)
    with db.connect(autocommit=False) as holder:
        holder.execute("LOCK TABLE public.tenants_tenant IN ACCESS EXCLUSIVE MODE")
        result = run_bounded(capsys, holder, "attach", "--all", "--lock-timeout", TIMEOUT, "--dsn", db.dsn())
        holder.rollback()
    assert_refused(result, "the tenant registry", "stayed locked (--lock-timeout 300ms", "nothing was done")
    assert state(conn) == before


def test_a_statement_timeout_is_named_with_where_it_comes_from_and_its_fix(
        db: Db, conn: psycopg.Connection, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """(DBA trial, thirty-ninth session) A statement_timeout of the role, the database or PGOPTIONS ended a
    command with the server's bare "canceling statement due to statement timeout"."""
    monkeypatch.setenv("PGOPTIONS", "-c statement_timeout=200")
    for schema in (ACME, GLOBEX):
        conn.execute("SELECT catalog_sync.detach_schema(%s)", (schema,))
    before = state(conn)
    with db.connect(autocommit=False) as holder:
        holder.execute("LOCK TABLE public.tenants_tenant IN ACCESS EXCLUSIVE MODE")
        result = run_bounded(capsys, holder, "attach", "--all", "--dsn", db.dsn())   # lock_timeout 5s > 200 ms
        holder.rollback()
    assert_refused(result, "statement timeout", "PGOPTIONS", "statement_timeout=0")
    assert state(conn) == before


def test_tenant_role_handover_of_a_busy_schema_changes_nothing(
        db: Db, conn: psycopg.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    db.login_role("tenant_busy_owner", "catalog_reader")
    conn.execute("REVOKE catalog_reader FROM tenant_busy_owner")
    seed.create_tenant(conn, "busy", "Busy Ltd")
    owners = "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class WHERE relnamespace = 'tenant_busy'::regnamespace"
    before = conn.execute(owners).fetchall()
    with held(db, "SELECT count(*) FROM tenant_busy.ats_jobposting") as holder:
        result = run_bounded(capsys, holder, "attach", "tenant_busy", "--tenant-role", "tenant_busy_owner",
                             "--lock-timeout", TIMEOUT, "--dsn", db.dsn())
    assert_refused(result, "tenant_busy not handed to tenant_busy_owner", "nothing was changed")
    assert conn.execute(owners).fetchall() == before
    assert triggers_on(conn, "tenant_busy") == 0


@pytest.mark.parametrize(("value", "ok"), [("0", True), ("0ms", True), ("1ms", True), ("1.5ms", True),
                                           ("500us", False), ("0.4", False), ("100us", False), ("\u0665s", False)])
def test_lock_timeouts_under_a_millisecond_are_refused(value: str, ok: bool,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """(review) PostgreSQL rounds them to 0, which means no limit at all; 0 itself says so."""
    if ok:
        assert cli.build_parser().parse_args(["detach", ACME, "--lock-timeout", value]).lock_timeout == value
        return
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["detach", ACME, "--lock-timeout", value])
    assert "from 1ms" in capsys.readouterr().err


def test_the_ddl_commands_and_backfill_have_their_own_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """(review) one variable tuned for backfill's long waits would let uninstall queue the application."""
    monkeypatch.setenv("CATALOG_SYNC_LOCK_TIMEOUT", "120s")
    monkeypatch.setenv("CATALOG_SYNC_DDL_LOCK_TIMEOUT", "2s")
    parse = cli.build_parser().parse_args
    assert parse(["backfill"]).lock_timeout == "120s"
    for argv in (["attach", "--all"], ["detach", ACME], ["migrate"], ["uninstall"], ["verify"], ["status"],
                 ["expire"], ["audit"]):
        assert parse(argv).lock_timeout == "2s", argv
    monkeypatch.delenv("CATALOG_SYNC_DDL_LOCK_TIMEOUT")
    parse = cli.build_parser().parse_args        # defaults are read when the parser is built
    assert parse(["uninstall"]).lock_timeout == "5s" and parse(["backfill"]).lock_timeout == "120s"


def migration_on(schema: str) -> str:
    """What an application's ALTER TABLE holds until it commits."""
    return f"LOCK TABLE {schema}.ats_jobposting IN ACCESS EXCLUSIVE MODE"


def test_verify_reports_a_busy_tenant_and_verifies_the_others(
        db: Db, conn: psycopg.Connection, app: psycopg.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    """verify waited without limit for a tenant whose tables an application's migration held."""
    stale = jobs.insert_job(app, ACME, title="Before the drift")
    conn.execute("UPDATE public.job_catalog SET title = 'drifted' WHERE job_uuid = %s", (stale["uuid"],))
    with held(db, migration_on(GLOBEX)) as holder:
        code, out, err = run_bounded(capsys, holder, "verify", "--json", "--lock-timeout", TIMEOUT,
                                     "--dsn", db.dsn())
        text = run_bounded(capsys, holder, "verify", "--lock-timeout", TIMEOUT, "--dsn", db.dsn())
    assert code == 2, (out, err)
    findings = json.loads(out)["findings"]
    assert sorted((f["problem"], f["schema"]) for f in findings) == [("error", GLOBEX), ("stale", ACME)], findings
    # (DBA trial, forty-ninth session: the summary read "drift: error 1, stale 1")
    assert text[0] == 2 and "\ndrift: stale 1; not verified: 1 tenant(s) (error)\n" in text[1], text
    detail = next(f["detail"] for f in findings if f["problem"] == "error")
    assert detail.startswith("busy: its tables or their indexes stayed locked (canceling statement due to lock "
                             f"timeout; --lock-timeout {TIMEOUT}; "), detail
    assert "pg_stat_activity" in detail and "run verify again later" in detail, detail


def test_a_tenant_ended_by_a_statement_timeout_is_reported_with_the_fix(
        db: Db, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """(DBA trial, thirty-ninth session) Under the role's statement_timeout, verify advised "run it again for
    them (--tenant)", which fails the same way."""
    monkeypatch.setenv("PGOPTIONS", "-c statement_timeout=1000")
    with held(db, migration_on(GLOBEX)) as holder:
        code, out, err = run_bounded(capsys, holder, "verify", "--json", "--dsn", db.dsn())   # lock_timeout 5s
    assert code == 2, (out, err)
    findings = json.loads(out)["findings"]
    assert [(f["problem"], f["schema"]) for f in findings] == [("error", GLOBEX)], findings
    assert "statement timeout" in findings[0]["detail"] and "statement_timeout=0" in findings[0]["detail"]
    line = err.strip().splitlines()[-1]
    assert line.startswith("catalog-sync: error: verify failed for 1 tenant(s)") and "statement_timeout=0" in line, err


def test_status_reports_a_busy_tenant_and_reads_the_others(
        db: Db, conn: psycopg.Connection, app: psycopg.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    """status waited without limit there, and any read failure of one tenant failed the whole run."""
    jobs.insert_jobs(app, ACME, [{}, {}])
    with held(db, migration_on(GLOBEX)) as holder:
        code, out, err = run_bounded(capsys, holder, "status", "--json", "--lock-timeout", TIMEOUT,
                                     "--dsn", db.dsn())
        assert code == 2, (out, err)
        rows = {r["schema"]: r for r in json.loads(out)}
        assert (rows[ACME]["eligible"], rows[ACME]["catalog_rows"], rows[ACME]["error"]) == (2, 2, None)
        assert rows[GLOBEX]["eligible"] is None and rows[GLOBEX]["triggers"] == "INSTALLED 32", rows[GLOBEX]
        assert rows[GLOBEX]["error"].startswith("busy: its tables or their indexes stayed locked (canceling "
                                                f"statement due to lock timeout; --lock-timeout {TIMEOUT}; ")
        assert f"status: 1 tenant(s) not read: {GLOBEX}; busy:" in err, err
        code, out, err = run_bounded(capsys, holder, "status", "--lock-timeout", TIMEOUT, "--dsn", db.dsn())
        assert code == 2 and out.splitlines()[0].split()[-1] == "error" and "busy: its tables" in out, (out, err)
        # the SQL function, all tenants in one call: the busy tenant's row says why, the others are counted
        conn.execute(f"SET lock_timeout = '{TIMEOUT}'")
        whole = {r["schema_name"]: r for r in
                 conn.cursor(row_factory=dict_row).execute("SELECT * FROM catalog_sync.status()").fetchall()}
        conn.execute("RESET lock_timeout")
        assert whole[GLOBEX]["error"] == "55P03: canceling statement due to lock timeout", whole[GLOBEX]
        assert (whole[ACME]["eligible"], whole[ACME]["error"]) == (2, None)
    code, out, err = run_bounded(capsys, conn, "status", "--json", "--dsn", db.dsn())
    assert code == 0 and all(r["error"] is None for r in json.loads(out)), (out, err)


@pytest.mark.parametrize("locked", ["public.tenants_tenant", "catalog_sync.tenant"])
@pytest.mark.parametrize("argv", [["verify"], ["verify", "--tenant", ACME], ["status"], ["backfill"],
                                  ["backfill", "--tenant", ACME, "--dry-run"], ["detach", ACME],
                                  ["detach", ACME, "--purge", "--dry-run"]], ids=" ".join)
def test_read_commands_name_a_locked_registry(argv: list[str], locked: str, db: Db, conn: psycopg.Connection,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """(DBA trial, thirteenth session: backfill waited without limit for the registry, silently, then
    reported the time after the wait; docs review, thirty-eighth session: detach said only "canceling
    statement due to lock timeout")"""
    before = state(conn)
    with db.connect(autocommit=False) as holder:
        holder.execute(f"LOCK TABLE {locked} IN ACCESS EXCLUSIVE MODE")
        result = run_bounded(capsys, holder, *argv, "--lock-timeout", TIMEOUT, "--dsn", db.dsn())
        holder.rollback()
    assert_refused(result, f"{argv[0]}: the tenant registry, a catalog or the machinery's tables stayed locked "
                           f"(--lock-timeout {TIMEOUT}; ", "pg_stat_activity")
    assert state(conn) == before


@pytest.mark.parametrize("command, locked, message", [
    # (the machinery's pin is checked first, and reads the catalogs' definitions: the common wording)
    ("expire", "public.job_catalog", "expire: the tenant registry, a catalog or the machinery's tables stayed "
                                     f"locked (--lock-timeout {TIMEOUT}; "),
    ("audit", "public.tenants_tenant", "audit: the tenant registry, a catalog or the machinery's tables stayed locked "
                                       f"(--lock-timeout {TIMEOUT}; "),
])
def test_expire_and_audit_wait_a_bounded_time(command: str, locked: str, message: str, db: Db,
                                              conn: psycopg.Connection, app: psycopg.Connection,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    """(docs review, twelfth session) expire, scheduled from cron, and audit waited without limit behind
    DDL on the job catalog or the registry; now they stop after --lock-timeout with one line, in JSON too."""
    job = jobs.insert_job(app, ACME)
    conn.execute("UPDATE public.job_catalog SET application_deadline = now() - interval '1 minute' "
                 "WHERE job_uuid = %s", (job["uuid"],))
    with db.connect(autocommit=False) as holder:
        holder.execute(f"LOCK TABLE {locked} IN ACCESS EXCLUSIVE MODE")
        code, out, err = run_bounded(capsys, holder, command, "--lock-timeout", TIMEOUT, "--dsn", db.dsn())
        assert_refused((code, out, err), message, "pg_stat_activity")
        code, out, err = run_bounded(capsys, holder, command, "--json", "--lock-timeout", TIMEOUT, "--dsn", db.dsn())
        assert code == 2 and json.loads(out)["error"].startswith(message), (out, err)
        holder.rollback()
    code, out, err = run_bounded(capsys, conn, command, "--json", "--dsn", db.dsn())
    assert code in (0, 1), (out, err)
    if command == "expire":
        assert json.loads(out) == {"expired": 1, "dry_run": False} and jobs.catalog_row(conn, job["uuid"]) is None


def test_plain_alembic_waits_as_long_as_migrate(fresh: Callable[[str], Db]) -> None:  # noqa: F811
    """(review, twelfth session) plain `alembic upgrade head` connected without lock_timeout and queued
    behind the registry's open transaction without limit (docs/operations.md, "Install", the bullet on
    plain alembic)."""
    target = fresh("m_alembic")
    alembic = [sys.executable, "-m", "alembic", "-c", str(ROOT / "migrations" / "alembic.ini"),
               "-x", f"dsn={target.dsn()}"]
    quiet = {k: v for k, v in os.environ.items() if k != "CATALOG_SYNC_DDL_LOCK_TIMEOUT"}
    with held(target, "UPDATE public.tenants_tenant SET updated_at = now()"):
        # The limit from -x, else from the environment, else the default 5 s (review, seventeenth
        # session: only -x was tested).
        for options, env in ((["-x", f"lock_timeout={TIMEOUT}"], quiet),
                             ([], {**quiet, "CATALOG_SYNC_DDL_LOCK_TIMEOUT": TIMEOUT}),
                             ([], quiet)):
            done = subprocess.run([*alembic, *options, "upgrade", "head"], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=60)
            assert done.returncode != 0 and "lock timeout" in done.stderr, (options, env, done.stderr[-2000:])
            with target.connect() as conn:
                assert conn.execute("SELECT to_regnamespace('catalog_sync')").fetchone()[0] is None
        # (the environment's value is the one used: a malformed one is refused, as the tool refuses it)
        done = subprocess.run([*alembic, "upgrade", "head"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                              env={**quiet, "CATALOG_SYNC_DDL_LOCK_TIMEOUT": "soon"})
        assert done.returncode != 0 and ("CATALOG_SYNC_DDL_LOCK_TIMEOUT: expected a duration from 1ms up to 24 "
                                         "days") in done.stderr, done.stderr[-2000:]
    done = subprocess.run([*alembic, "upgrade", "head"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    with target.connect() as conn:
        assert conn.execute("SELECT to_regnamespace('catalog_sync')").fetchone()[0] is not None


def test_an_attach_with_several_connections_that_fails_in_a_chunk_says_so(
        db: Db, conn: psycopg.Connection, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """(mutation pass) test_an_attach_that_fails_after_some_chunks_says_what_was_attached with --jobs 2: the
    error of a worker's chunk is the command's error (exit 2), with what the other connection attached, not
    a success that left the schema out."""
    for schema in (ACME, GLOBEX):
        conn.execute("SELECT catalog_sync.detach_schema(%s)", (schema,))
    monkeypatch.setenv("PGOPTIONS", "-c statement_timeout=500")
    with held(db, lock_jobs(GLOBEX)) as holder:
        code, out, err = run_bounded(capsys, holder, "attach", ACME, GLOBEX, "--jobs", "2", "--chunk-size", "1",
                                     "--dsn", db.dsn())
    line = err.strip().splitlines()[-1]
    assert code == 2, (out, err)
    assert line.startswith("catalog-sync: error: canceling statement due to statement timeout"), err
    assert "1 of 2 schema(s) were attached before that" in line, line
    assert triggers_on(conn, ACME) > 0 and triggers_on(conn, GLOBEX) == 0


# ------------------------------------------------------------------ in_lock_tries(): uninstall's and detach's locks

def raise_sqlstate(conn: psycopg.Connection, sqlstate: str) -> None:
    """A server error of that SQLSTATE, as psycopg raises it."""
    conn.execute(sql.SQL("DO $$ BEGIN RAISE EXCEPTION 'raised by the test' USING ERRCODE = {}; END $$").format(
        sql.Literal(sqlstate)))


def locking_acme(tool: psycopg.Connection, tries: list[int]) -> Callable[[operations.Run], None]:
    """An in_lock_tries() lock step: ACME's job table, exclusively; each try counted in `tries`."""

    def lock(run: operations.Run) -> None:
        tries.append(1)
        run(f"LOCK TABLE {ACME}.ats_jobposting IN ACCESS EXCLUSIVE MODE")

    return lock


@pytest.mark.parametrize("lock_timeout", ["500", "300ms"], ids=["plain number: ms", "with unit"])
def test_in_lock_tries_gives_up_after_lock_timeout_having_tried_again(db: Db, conn: psycopg.Connection,
                                                                       lock_timeout: str) -> None:
    """(review, forty-second session) A lock held throughout: several tries, then LocksNotTaken; a plain
    number is milliseconds, as the server reads lock_timeout."""
    holder = db.connect(autocommit=False)
    holder.execute(f"LOCK TABLE {ACME}.ats_jobposting IN ACCESS EXCLUSIVE MODE")
    tries: list[int] = []
    try:
        with db.connect() as tool:
            with pytest.raises(operations.LocksNotTaken):
                operations.in_lock_tries(tool, lock_timeout, locking_acme(tool, tries),
                                         lambda: pytest.fail("worked without its locks"))
            assert tool.execute("SHOW lock_timeout").fetchone() != ("200ms",)     # the tries' settings went
    finally:
        holder.rollback()
        holder.close()
    assert 2 <= len(tries) < 50, tries


def test_in_lock_tries_without_a_limit_waits_in_tries_until_it_gets_the_locks(db: Db) -> None:
    """--lock-timeout 0: tries go on until the holder lets go; the work then runs once."""
    holder = db.connect(autocommit=False)
    holder.execute(f"LOCK TABLE {ACME}.ats_jobposting IN ACCESS EXCLUSIVE MODE")
    timer = threading.Timer(1.5, holder.rollback)
    timer.start()
    tries: list[int] = []
    worked: list[int] = []
    try:
        with db.connect() as tool:
            assert operations.in_lock_tries(tool, "0", locking_acme(tool, tries),
                                            lambda: worked.append(1) or "done") == "done"
    finally:
        timer.join()        # (its rollback may still be reading its result: not closed under it)
        holder.close()
    assert len(tries) >= 2 and worked == [1], (tries, worked)


def test_in_lock_tries_tries_again_after_a_deadlock_or_a_table_gone_while_locking(db: Db) -> None:
    """A deadlock, or a table renamed or dropped between reading its name and locking it, is another try;
    the same errors in the work, or any other error, are raised at once, nothing tried again."""
    with db.connect() as tool:
        failures = iter(["40P01", "42P01"])

        def lock(run: operations.Run) -> None:
            failure = next(failures, None)
            if failure:
                raise_sqlstate(tool, failure)

        assert operations.in_lock_tries(tool, "5s", lock, lambda: "done") == "done"
        for sqlstate, error in (("42P01", psycopg.errors.UndefinedTable), ("22012", psycopg.errors.DivisionByZero)):
            worked: list[str] = []

            def work(sqlstate: str = sqlstate, worked: list[str] = worked) -> None:
                worked.append(sqlstate)
                raise_sqlstate(tool, sqlstate)

            with pytest.raises(error):
                operations.in_lock_tries(tool, "5s", lambda run: None, work)
            assert worked == [sqlstate]


def test_in_lock_tries_gives_each_statement_of_a_try_only_the_time_left(db: Db) -> None:
    """(DBA trial, forty-third session) The try's timeouts were set once, so each statement of a lock step
    had the whole budget: four statements held their locks for up to 3.2 s, and a write waiting behind
    them reached its deadlock check (1 s) first, failing with 40P01. Each statement now gets what is left
    of the try's budget."""
    settings: list[list[int]] = []
    with db.connect() as tool:

        def lock(run: operations.Run) -> None:
            seen = []
            for _ in range(2):
                row = run("SELECT setting::int FROM pg_settings WHERE name = 'statement_timeout'").fetchone()
                seen.append(int(row[0]))
                run("SELECT pg_sleep(0.06)")
            settings.append(seen)

        assert operations.in_lock_tries(tool, "5s", lock, lambda: "done") == "done"
    assert len(settings) == 1, settings
    first, second = settings[0]
    assert first <= operations.LOCK_TRIES_MS[0] and second <= first - 50, settings


def test_in_lock_tries_tries_again_when_the_restore_of_its_timeouts_is_cancelled(
        db: Db, monkeypatch: pytest.MonkeyPatch) -> None:
    """(review, forty-third session) The statement that restores the timeouts after the lock step runs under
    the try's last statement_timeout, maybe 1 ms: its cancel failed the whole command. It is another try."""
    restores: list[tuple[str, str]] = []
    real_set_timeouts = operations.set_timeouts
    locked: list[int] = []
    worked: list[int] = []

    def set_timeouts(conn: psycopg.Connection, lock_timeout: str, statement_timeout: str) -> None:
        if locked and len(locked) == 1 and not restores:        # the first try's restore, as if it came late
            restores.append((lock_timeout, statement_timeout))
            conn.execute("SET LOCAL statement_timeout = 1")
            conn.execute("SELECT pg_sleep(0.2)")
        real_set_timeouts(conn, lock_timeout, statement_timeout)

    monkeypatch.setattr(operations, "set_timeouts", set_timeouts)
    with db.connect() as tool:
        assert operations.in_lock_tries(tool, "5s", lambda run: locked.append(1),
                                        lambda: worked.append(1) or "done") == "done"
        assert tool.execute("SHOW statement_timeout").fetchone() == ("0",)
    assert len(restores) == 1 and len(locked) == 2 and worked == [1], (restores, locked, worked)


def test_in_lock_tries_refuses_an_open_transaction(db: Db) -> None:
    """Inside a transaction its tries would be savepoints: locks taken before them not let go."""
    with db.connect(autocommit=False) as tool:
        tool.execute("SELECT 1")
        with pytest.raises(AssertionError, match="no transaction open"):
            operations.in_lock_tries(tool, "5s", lambda run: None, lambda: None)


@pytest.mark.parametrize("argv", [["expire"], ["expire", "--dry-run"], ["protect"]], ids=" ".join)
def test_expire_and_protect_do_not_wait_for_the_registry(argv: list[str], db: Db, conn: psycopg.Connection,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """(fifty-second session) expire and protect do not read the registry: unlike the commands that do, they do
    not wait for its lock first (require_installed(reads_registry=False)); a Django migration holding the
    registry does not stop the every-minute expire."""
    with db.connect(autocommit=False) as holder:
        holder.execute("LOCK TABLE public.tenants_tenant IN ACCESS EXCLUSIVE MODE")    # DDL on the registry
        code, out, err = run_bounded(capsys, holder, *argv, "--lock-timeout", TIMEOUT, "--dsn", db.dsn())
        holder.rollback()
    assert (code, "stayed locked" in err) == (0, False), (out, err)
