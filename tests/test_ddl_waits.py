"""A sync write that waits for DDL on a table its sync reads (concurrency red team, fifty-first session).

A table rewrite (ALTER TABLE ... TYPE, a column added with a volatile default) and TRUNCATE are not
MVCC-safe: the rows they leave carry the DDL's own transaction id, so a snapshot taken before the DDL
committed sees the table empty. The sync's readers are STABLE (they read on their statement's
snapshot) and took their tables' locks inside that statement: a write queued behind such DDL on a
table it reads, not its own, read that table on a snapshot older than the DDL's commit, and committed
a wrong catalog row (a public job deleted, its category lost). Each write now takes those locks in a
statement of its own (catalog_sync.lock_sources()), before the statement that reads the tables, whose
snapshot is then taken after the DDL committed.

Each test: a DDL transaction holds the table (protect is off here, so nothing re-syncs it), a write of
the tenant queues behind it, the DDL commits, the write commits; the catalog must hold what the
committed sources say."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from pyinstaller_tools import seed
from tests.conftest import Db
from tests.jobs import catalog_row, category_id, insert_job, set_tenant, update_job, verify_findings
from tests.market import (
    insert_provider,
    insert_service,
    insert_service_category,
    link_category,
    provider_row,
    service_row,
    update_provider,
    update_service,
)
from tests.test_concurrency import queued_behind, wait_until_blocked

SCHEMA = "tenant_acme"


# (a column added with a volatile default rewrites the table, whatever its columns: Django's AddField of
# a field with a callable default does, on a table the sync reads or not)
REWRITE = "ALTER TABLE {} ADD COLUMN rewritten_at timestamptz DEFAULT clock_timestamp()"
REWRITES_OF_A_PARENT = {
    "registry rewritten": [REWRITE.format("public.tenants_tenant")],
    "category table rewritten": [REWRITE.format(f"{SCHEMA}.ats_jobcategory")],
    "category table rewritten by a column type change":
        [f"ALTER TABLE {SCHEMA}.ats_jobcategory ALTER COLUMN name TYPE varchar(90)"],
}


@pytest.mark.parametrize("ddl", REWRITES_OF_A_PARENT.values(), ids=REWRITES_OF_A_PARENT.keys())
def test_a_job_write_queued_behind_ddl_of_a_table_it_reads_syncs_what_committed(
        db: Db, app: psycopg.Connection, conn: psycopg.Connection, ddl: list[str]) -> None:
    job = insert_job(app, SCHEMA, category_id=category_id(app, SCHEMA, "category-1"))
    queued_behind(db, conn, ddl, lambda c: update_job(c, SCHEMA, job["id"], title="Written behind the DDL"))
    row = catalog_row(conn, job["uuid"])
    assert row is not None and (row["title"], row["category_name"], row["category_slug"]) == (
        "Written behind the DDL", "Category 1", "category-1"), row
    assert verify_findings(conn) == []


PARENT_CHANGES = {
    "category renamed": (lambda c, cat: c.execute(f"UPDATE {SCHEMA}.ats_jobcategory SET name = 'Renamed' "
                                                  "WHERE id = %s", (cat,)), "category_name", "Renamed"),
    "tenant renamed": (lambda c, cat: set_tenant(c, SCHEMA, name="Acme Renamed"), "company_name", "Acme Renamed"),
}


@pytest.mark.parametrize(("change", "column", "shown"), PARENT_CHANGES.values(), ids=PARENT_CHANGES.keys())
def test_a_parent_change_queued_behind_a_rewrite_of_the_job_table_keeps_its_jobs(
        db: Db, app: psycopg.Connection, conn: psycopg.Connection,
        change: Callable[[psycopg.Connection, int], Any], column: str, shown: str) -> None:
    """A parent's change reads its children's table, which its own statement did not lock."""
    cat = category_id(app, SCHEMA, "category-1")
    job = insert_job(app, SCHEMA, category_id=cat)
    queued_behind(db, conn, [REWRITE.format(f"{SCHEMA}.ats_jobposting")], lambda c: change(c, cat))
    row = catalog_row(conn, job["uuid"])
    assert row is not None and row[column] == shown, row
    assert verify_findings(conn) == []


def test_a_service_write_queued_behind_a_rewrite_of_the_provider_table_keeps_the_service(
        db: Db, app: psycopg.Connection, conn: psycopg.Connection) -> None:
    provider = insert_provider(app, SCHEMA)
    service = insert_service(app, SCHEMA, provider["id"])
    queued_behind(db, conn,
                  [REWRITE.format(f"{SCHEMA}.services_serviceprovider")],
                  lambda c: update_service(c, SCHEMA, service["id"], title="Written behind the DDL"))
    row = service_row(conn, service["uuid"])
    assert row is not None and row["title"] == "Written behind the DDL", row
    assert verify_findings(conn) == []


LINKS = f"{SCHEMA}.services_serviceprovider_categories"
LINK_CHANGES = {
    "rewritten": [REWRITE.format(LINKS)],
    # (a fixture reload: TRUNCATE, then the same rows again, in one transaction)
    "truncated and reloaded": [f"CREATE TEMP TABLE saved_links AS SELECT * FROM {LINKS}", f"TRUNCATE {LINKS}",
                               f"INSERT INTO {LINKS} SELECT * FROM saved_links"],
}


@pytest.mark.parametrize("ddl", LINK_CHANGES.values(), ids=LINK_CHANGES.keys())
def test_a_provider_write_queued_behind_ddl_of_its_category_links_keeps_its_categories(
        db: Db, app: psycopg.Connection, conn: psycopg.Connection, ddl: list[str]) -> None:
    provider = insert_provider(app, SCHEMA)
    link_category(app, SCHEMA, provider["id"], insert_service_category(app, SCHEMA, "Design")["id"])
    before = provider_row(conn, provider["uuid"])
    assert before is not None and before["category_names"] == ["Design"], before
    queued_behind(db, conn, ddl,
                  lambda c: update_provider(c, SCHEMA, provider["id"], display_name="Written behind the DDL"))
    row: dict[str, Any] | None = provider_row(conn, provider["uuid"])
    assert row is not None and (row["display_name"], row["category_names"]) == (
        "Written behind the DDL", ["Design"]), row
    assert verify_findings(conn) == []


def test_a_job_write_of_a_tenant_that_renamed_its_category_table_queued_behind_its_rewrite_syncs(
        db: Db, app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """The category table renamed (Django's RenameModel): no table of the contract's name to lock by name,
    so guard() locks the registered one by OID, before the statement that reads it."""
    job = insert_job(app, SCHEMA, category_id=category_id(app, SCHEMA, "category-1"))
    conn.execute(f"ALTER TABLE {SCHEMA}.ats_jobcategory RENAME TO jobs_category")
    queued_behind(db, conn, [REWRITE.format(f"{SCHEMA}.jobs_category")],
                  lambda c: update_job(c, SCHEMA, job["id"], title="Written behind the DDL"))
    row = catalog_row(conn, job["uuid"])
    assert row is not None and (row["title"], row["category_name"]) == ("Written behind the DDL", "Category 1"), row


def test_verify_queued_behind_a_rewrite_compares_the_rewritten_rows(
        db: Db, app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """The CLI's verify locks the tenant's tables before verify_tenant()'s statement (lock_tenant_tables()):
    it reported every job of a table rewritten while it waited as an orphan."""
    from pyinstaller_tools import operations

    insert_job(app, SCHEMA)
    findings: list[Any] = []
    queued_behind(db, conn, [REWRITE.format(f"{SCHEMA}.ats_jobposting")],
                  lambda c: findings.extend(operations.verify(c, None)), role=None)
    assert findings == [], findings


def test_verify_tenant_from_sql_queued_behind_a_rewrite_fails_rather_than_report_orphans(
        db: Db, app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """Called from SQL without lock_tenant_tables() first, verify_tenant() waits inside its statement: it fails
    with serialization_failure, naming the table (assert_not_rewritten())."""
    insert_job(app, SCHEMA)
    tenant_id = db.tenant_id(SCHEMA)
    error = queued_behind(db, conn, [REWRITE.format(f"{SCHEMA}.ats_jobposting")],
                          lambda c: c.execute("SELECT * FROM catalog_sync.verify_tenant(%s)", (tenant_id,)).fetchall(),
                          role=None, fails=True)
    assert isinstance(error, psycopg.errors.SerializationFailure) and str(error).startswith(
        f"catalog_sync: {SCHEMA}.ats_jobposting was rewritten or truncated by a transaction that committed while "
        "this statement waited for its lock"), error
    with db.connect() as again:     # (and run again, it compares the rewritten rows)
        assert again.execute("SELECT * FROM catalog_sync.verify_tenant(%s)", (tenant_id,)).fetchall() == []


def test_a_backfill_dry_run_queued_behind_a_rewrite_counts_nothing_to_do(
        db: Db, app: psycopg.Connection, conn: psycopg.Connection) -> None:
    insert_job(app, SCHEMA)
    tenant_id = db.tenant_id(SCHEMA)
    rows: list[Any] = []
    queued_behind(db, conn, [REWRITE.format(f"{SCHEMA}.ats_jobposting")],
                  lambda c: rows.extend(c.execute("SELECT catalog, inserted, updated, removed "
                                                  "FROM catalog_sync.backfill_tenant(%s, true)",
                                                  (tenant_id,)).fetchall()), role=None)
    assert rows == [("jobs", 0, 0, 0), ("providers", 0, 0, 0), ("services", 0, 0, 0)], rows


def test_a_relation_the_sync_cannot_read_under_the_category_tables_name_does_not_fail_the_tenants_writes(
        db: Db, app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """(review, fifty-first session) The category table renamed, and a table of the application's put under its
    name without the machinery's grant: the job writes locked that one by name, and failed with "permission
    denied". Only a relation the definer may read is locked by name; otherwise the registered tables by OID."""
    job = insert_job(app, SCHEMA, category_id=category_id(app, SCHEMA, "category-1"))
    app.execute(f"ALTER TABLE {SCHEMA}.ats_jobcategory RENAME TO jobs_category")
    app.execute(f"CREATE TABLE {SCHEMA}.ats_jobcategory (id bigint)")     # (no grant to catalog_sync_owner)
    update_job(app, SCHEMA, job["id"], title="Written beside a look-alike")
    row = catalog_row(conn, job["uuid"])
    assert row is not None and (row["title"], row["category_name"]) == ("Written beside a look-alike",
                                                                         "Category 1"), row


def test_a_migration_that_changes_categories_then_alters_their_table_deadlocks_with_a_job_write(
        db: Db, app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """(review, fifty-first session; docs/architecture.md, Deadlocks) A job's write locks its category table
    before it waits for its category's lock: a migration that renamed the category (its exclusive lock) and
    then alters the table waits for the write, which waits for it. PostgreSQL cancels one of the two (40P01);
    the other commits, and the catalog follows what committed."""
    cat = category_id(app, SCHEMA, "category-1")
    job = insert_job(app, SCHEMA, category_id=cat, title="Before")
    written: list[bool] = []
    with db.connect(role=seed.APP_ROLE, autocommit=False) as migration, \
            db.connect(role=seed.APP_ROLE) as writer:
        migration.execute(f"UPDATE {SCHEMA}.ats_jobcategory SET name = 'Renamed' WHERE id = %s", (cat,))

        def write() -> None:
            try:
                update_job(writer, SCHEMA, job["id"], title="Written during the migration")
                written.append(True)
            except psycopg.errors.DeadlockDetected:
                written.append(False)

        thread = threading.Thread(target=write)
        thread.start()
        wait_until_blocked(conn, writer.info.backend_pid)
        try:
            migration.execute(f"ALTER TABLE {SCHEMA}.ats_jobcategory ALTER COLUMN slug SET NOT NULL")
            migration.commit()
            migrated = True
        except psycopg.errors.DeadlockDetected:
            migration.rollback()
            migrated = False
        thread.join(60)
    assert written == [not migrated], (written, migrated)
    row = catalog_row(conn, job["uuid"])
    assert row is not None and (row["title"], row["category_name"]) == (
        ("Before", "Renamed") if migrated else ("Written during the migration", "Category 1")), row
    assert verify_findings(conn) == []


def test_a_transactions_own_rewrites_never_fail_its_writes(db: Db, app: psycopg.Connection,
                                                          conn: psycopg.Connection) -> None:
    """(review, fifty-first session) assert_not_rewritten() compares what the statement's snapshot shows of a
    table with what it is now: a migration that rewrites tables (in savepoints too) and then writes, all in one
    transaction, sees its own rewrites, and syncs."""
    cat = category_id(app, SCHEMA, "category-1")
    job = insert_job(app, SCHEMA, category_id=cat)
    with db.connect(autocommit=False) as migration:
        migration.execute(REWRITE.format(f"{SCHEMA}.ats_jobcategory"))
        migration.execute(REWRITE.format("public.tenants_tenant"))
        migration.execute("SAVEPOINT a")
        migration.execute(f"ALTER TABLE {SCHEMA}.ats_jobcategory ALTER COLUMN name TYPE varchar(95)")
        migration.execute("RELEASE a")
        migration.execute("SAVEPOINT b")
        migration.execute(f"ALTER TABLE {SCHEMA}.ats_jobposting ALTER COLUMN title TYPE varchar(300)")
        migration.execute("ROLLBACK TO b")
        update_job(migration, SCHEMA, job["id"], title="Own")
        migration.execute(f"UPDATE {SCHEMA}.ats_jobcategory SET name = 'Own category' WHERE id = %s", (cat,))
        set_tenant(migration, SCHEMA, name="Own Acme")
        migration.commit()
    row = catalog_row(conn, job["uuid"])
    assert row is not None and (row["title"], row["category_name"], row["company_name"]) == (
        "Own", "Own category", "Own Acme"), row
    assert verify_findings(conn) == []


def test_verify_queued_behind_a_rewrite_of_the_registry_still_finds_drift(
        db: Db, app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """(review, fifty-first session) The CLI's list of tenants, read on a snapshot older than a rewrite of the
    registry it waited for, was empty: verify was clean over a missing row."""
    from pyinstaller_tools import operations

    job = insert_job(app, SCHEMA)
    conn.execute("DELETE FROM public.job_catalog WHERE job_uuid = %s", (job["uuid"],))
    findings: list[Any] = []
    queued_behind(db, conn, [REWRITE.format("public.tenants_tenant")],
                  lambda c: findings.extend(operations.verify(c, None)), role=None)
    assert [(f["problem"], f["schema"]) for f in findings] == [("missing", SCHEMA)], findings


def test_status_queued_behind_a_cluster_of_a_job_table_counts_its_jobs(
        db: Db, app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """(review, fifty-first session) CLUSTER gives a table a new file, as a rewrite does: status() that waited
    for it fails for the tenant with 40001 (assert_not_rewritten() cannot tell them apart); the CLI reads that
    tenant again, in a statement after the wait."""
    from pyinstaller_tools import operations

    insert_job(app, SCHEMA)
    rows: list[Any] = []
    with db.connect() as holder:
        pk = holder.execute("SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p'",
                            (f"{SCHEMA}.ats_jobposting",)).fetchone()[0]  # type: ignore[index]
    queued_behind(db, conn, [f"CLUSTER {SCHEMA}.ats_jobposting USING {pk}"],
                  lambda c: rows.extend(operations.status(c)), role=None)
    acme = [r for r in rows if r["schema"] == SCHEMA]
    assert [(r["eligible"], r["catalog_rows"], r["error"]) for r in acme] == [(1, 1, None)], rows


def test_status_queued_behind_a_rewrite_of_the_registry_lists_every_tenant(
        db: Db, app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """(review, fifty-first session) The CLI's status read the registry's tenants on a snapshot older than a
    rewrite it waited for (none listed, then 40001): it locks the registry first, as verify does."""
    from pyinstaller_tools import operations

    rows: list[Any] = []

    def status(session: psycopg.Connection) -> None:
        session.autocommit = True       # (as the CLI's)
        rows.extend(operations.status(session))

    queued_behind(db, conn, [REWRITE.format("public.tenants_tenant")], status, role=None)
    assert {(r["schema"], r["error"]) for r in rows} >= {(SCHEMA, None), ("tenant_globex", None)}, rows


def cli_behind(db: Db, conn: psycopg.Connection, ddl: list[str], argv: list[str]) -> tuple[int, str, str]:
    """`catalog-sync argv` (a process of its own) started while `ddl` runs in an open transaction, which commits
    once the command waits for a lock: (exit code, stdout, stderr)."""
    with db.connect(autocommit=False) as holder:
        for statement in ddl:
            holder.execute(statement)
        tool = subprocess.Popen([sys.executable, "-m", "pyinstaller_tools.cli", *argv, "--dsn", db.dsn()],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while not conn.execute("SELECT FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                   "AND application_name LIKE 'catalog-sync %'").fetchall():
                assert tool.poll() is None and time.monotonic() < deadline, tool.communicate()
                time.sleep(0.02)
        finally:
            holder.commit()
        out, err = tool.communicate(timeout=60)
    return tool.returncode, out, err


# Each command's first read of the registry, and what shows it read the rewritten registry (rows and all).
COMMANDS_BEHIND_A_REGISTRY_REWRITE = {
    "attach --all": (["attach", "--all"], "up to date: 2 schema(s)"),
    "attach SCHEMA": (["attach", SCHEMA], "up to date: 1 schema(s)"),
    "backfill": (["backfill"], "acme: 1 inserted"),
    "backfill --dry-run": (["backfill", "--dry-run"], "would insert 1"),
    "detach": (["detach", "tenant_globex"], "detached tenant_globex"),
    "audit": (["audit"], "audit:"),
}


@pytest.mark.parametrize("argv,done", COMMANDS_BEHIND_A_REGISTRY_REWRITE.values(),
                         ids=COMMANDS_BEHIND_A_REGISTRY_REWRITE.keys())
def test_a_command_started_during_a_rewrite_of_the_registry_waits_for_it_and_reads_the_rewritten_rows(
        db: Db, app: psycopg.Connection, conn: psycopg.Connection, argv: list[str], done: str) -> None:
    """(fifty-second session) attach, backfill, detach and audit read the registry in their first statement that
    reads it, on a snapshot taken before a rewrite of the registry that statement waited for: each failed
    with 40001 (exit 2, "Retry the transaction") behind a Django migration that rewrote it. Each now waits
    for the registry's lock in a statement of its own first (wait_for_registry())."""
    job = insert_job(app, SCHEMA)
    conn.execute("DELETE FROM public.job_catalog WHERE job_uuid = %s", (job["uuid"],))
    code, out, err = cli_behind(db, conn, [REWRITE.format("public.tenants_tenant")], argv)
    assert (code, "rewritten" in err, done in out + err) == (0, False, True), (out, err)


def test_an_attach_chunk_that_waited_for_a_rewrite_of_the_registry_is_retried(
        db: Db, conn: psycopg.Connection) -> None:
    """(fifty-second session) A chunk of attach --all that waits inside its statement for a rewrite of the
    registry begun after the command's start fails with 40001: it is tried again, as after a deadlock."""
    from pyinstaller_tools import operations

    lines: list[str] = []
    attached: list[Any] = []
    queued_behind(db, conn, [REWRITE.format("public.tenants_tenant")],
                  lambda c: attached.append(operations.attach_chunk(c, [SCHEMA], lines.append)), role=None)
    assert (attached, lines) == ([([(SCHEMA, 0)], [])],
                                 ["attach: a table renamed or rewritten meanwhile in a chunk (attempt 1), retrying it"])


def test_attach_all_during_a_schema_rename_names_that_schema_and_attaches_the_others(
        db: Db, app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """(concurrency trial, fifty-second session) A tenant's schema renamed as docs/operations.md says (ALTER SCHEMA
    and the registry's schema_name in one transaction) while attach --all waited for it: the chunk failed with
    "tenant_globex.ats_jobcategory was dropped while attaching", exit 2, and a new tenant of the same chunk
    stayed unattached. The chunk is attached one schema at a time; the renamed one is named."""
    from tests.jobs import create_tenant

    create_tenant(conn, "initech", "Initech")
    code, out, err = cli_behind(db, conn, ["ALTER SCHEMA tenant_globex RENAME TO tenant_globex2",
                                           "UPDATE public.tenants_tenant SET schema_name = 'tenant_globex2' "
                                           "WHERE schema_name = 'tenant_globex'"], ["attach", "--all"])
    assert code == 2, (out, err)
    assert "attach: tenant_globex skipped: cannot attach schema tenant_globex" in err, err
    assert "1 failed during this attach (each one's error above: renamed, dropped or off the contract since the " \
           "pre-flight, or a deadlock): tenant_globex; run the same attach again" in err, err
    assert conn.execute("SELECT schema_name, attached FROM catalog_sync.tenant_schemas() ORDER BY 1").fetchall() == [
        ("tenant_acme", True), ("tenant_globex2", True), ("tenant_initech", True)]
