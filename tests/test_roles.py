"""Who can install what: attach by a non-superuser installer, refusals with a
clear message, and a plain wheel that carries the SQL and the migrations."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import psycopg
import pytest

from pyinstaller_tools import cli, seed, sqlfiles
from tests.conftest import ROOT, Db
from tests.jobs import catalog_count, insert_job
from tests.test_cli import assert_refused, state


def test_the_app_role_as_installer_attaches_and_backfills(db: Db, conn: psycopg.Connection) -> None:
    """The role that owns the tenant tables, granted catalog_sync_installer, is enough."""
    seed.create_tenant(conn, "initech", "Initech")
    conn.execute("GRANT catalog_sync_installer TO zumodra_app")
    try:
        with db.connect(role=seed.APP_ROLE) as app:
            insert_job(app, "tenant_initech")
            row = app.execute(
                "SELECT tenant_id, triggers_changed FROM catalog_sync.attach_schema('tenant_initech')").fetchone()
            assert row is not None and row[1] == 32
            app.execute("SELECT * FROM catalog_sync.backfill_tenant(%s)", (row[0],))
            insert_job(app, "tenant_initech")
    finally:       # roles are cluster-wide: a later test (test_cli's missing privileges) expects the plain app role
        conn.execute("REVOKE catalog_sync_installer FROM zumodra_app")
    assert catalog_count(conn, "tenant_initech") == 2


def test_an_installer_that_does_not_own_the_tables_is_refused(db: Db, conn: psycopg.Connection) -> None:
    seed.create_tenant(conn, "initech", "Initech")
    db.login_role("ops_dba", "catalog_sync_installer")
    with db.connect(role="ops_dba") as ops, pytest.raises(psycopg.errors.InsufficientPrivilege) as err:
        ops.execute("SELECT * FROM catalog_sync.attach_schema('tenant_initech')")
    assert "does not own" in str(err.value)
    assert conn.execute("SELECT attached FROM catalog_sync.tenant_schemas() WHERE schema_name = 'tenant_initech'"
                        ).fetchone() == (False,)


@pytest.mark.parametrize("usage", [False, True], ids=["no_usage_on_the_schema", "usage_on_the_schema"])
def test_an_installer_that_does_not_own_the_tables_cannot_detach(
        usage: bool, db: Db, conn: psycopg.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    """(DBA trial, thirteenth session) detach answered "permission denied for schema" with the hint of
    every role, or "must be owner of relation ats_jobcategory" (no schema, no fix), where its dry run
    and attach name the role, the table and what to run it as. Now all three say the same."""
    db.login_role("ops_dba", "catalog_sync_installer")
    if usage:
        conn.execute("GRANT USAGE ON SCHEMA tenant_acme TO ops_dba")
    before = state(conn)
    try:
        for dry_run in ([], ["--dry-run"]):
            result = (cli.main(["detach", "tenant_acme", *dry_run, "--dsn", db.dsn("ops_dba")]),
                      *capsys.readouterr())
            assert_refused(result, "catalog_sync: role ops_dba does not own tenant_acme.",
                           "Detach as the role that owns the tenant tables")
    finally:
        conn.execute("REVOKE USAGE ON SCHEMA tenant_acme FROM ops_dba")
    assert state(conn) == before


def test_the_reader_role_reads_the_catalog_only(db: Db, conn: psycopg.Connection) -> None:
    db.login_role("web", "catalog_reader")
    with db.connect(role=seed.APP_ROLE) as app:
        insert_job(app, "tenant_acme")
    with db.connect(role="web") as web:
        assert web.execute("SELECT count(*) FROM public.job_catalog").fetchone() == (1,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            web.execute("UPDATE public.job_catalog SET title = 'defaced'")


def test_a_plain_wheel_ships_the_sql_and_the_migrations(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    wheel = next(tmp_path.glob("*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in sqlfiles.install_order() + ["install.txt", "uninstall.sql"]:
        assert f"pyinstaller_tools/db/{name}" in names, name
    for name in ("env.py", "helpers.py", "alembic.ini", "script.py.mako", "versions/0001_install.py"):
        assert f"pyinstaller_tools/migrations/{name}" in names, name
    assert "pyinstaller_tools/contract/tenant_schema.sql" in names
