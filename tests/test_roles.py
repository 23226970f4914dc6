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
from tests.jobs import catalog_count, create_tenant, insert_job
from tests.test_cli import assert_refused, state, triggers_on


def test_the_app_role_as_installer_attaches_and_backfills(db: Db, conn: psycopg.Connection) -> None:
    """The role that owns the tenant tables, granted catalog_sync_installer, is enough."""
    seed.create_tenant(conn, "initech", "Initech")
    conn.execute("GRANT catalog_sync_installer TO zumodra_app")
    try:
        with db.connect(role=seed.APP_ROLE) as app:
            insert_job(app, "tenant_initech")       # (a schema cloned with rows)
            with app.transaction():                 # as the post_schema_sync hook of docs/operations.md
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
            assert_refused(result, "role ops_dba does not own tenant_acme.",
                           "Detach as the role that owns the tenant tables")
            # (DBA trial, forty-ninth session: the dry run said only that, where it can tell what detach would do)
            assert result[1] == ("dry run: would drop 32 trigger(s) from tenant_acme\n" if dry_run else ""), result
            assert result[2].startswith("catalog-sync: error: dry run: the detach itself would be refused: "
                                        if dry_run else "catalog-sync: error: role ops_dba"), result
    finally:
        conn.execute("REVOKE USAGE ON SCHEMA tenant_acme FROM ops_dba")
    assert state(conn) == before


def test_repair_by_an_installer_that_does_not_own_the_registry_names_both_privileges(
        db: Db, conn: psycopg.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    """(docs review, thirty-eighth session) A repair by an installer that does not own the registry fails to
    re-install a registry trigger on the table's privilege ("permission denied for table tenants_tenant"),
    where the registry's owner fails on the trigger function's: the explanation said only the second. Now it
    names both, and the tenants are still repaired (exit 1: drift remains)."""
    db.login_role("ops_dba", "catalog_sync_installer")
    conn.execute("ALTER TABLE public.tenants_tenant DISABLE TRIGGER catalog_sync_tenant_update")
    try:
        code, out, err = cli.main(["verify", "--repair", "--dsn", db.dsn("ops_dba")]), *capsys.readouterr()
        assert code == 1, (out, err)
        line = next(row for row in out.splitlines()
                    if row.startswith("not repaired") and "public.tenants_tenant" in row)
        assert "needs a superuser (install_triggers() creates them and sets them ENABLE ALWAYS, which needs the " \
               "ownership of public.tenants_tenant, and EXECUTE on catalog_sync.on_tenant_change" in line, line
        # (DBA walk-through, fortieth session: the note then said "verify --repair as the tables' owner")
        assert "fix: verify --repair as a superuser for those of public.tenants_tenant" in err, err
        assert conn.execute("SELECT tgenabled FROM pg_trigger WHERE tgrelid = 'public.tenants_tenant'::regclass "
                            "AND tgname = 'catalog_sync_tenant_update'"
                            ).fetchone() == ("D",)
    finally:
        conn.execute("ALTER TABLE public.tenants_tenant ENABLE ALWAYS TRIGGER catalog_sync_tenant_update")


def drop_one_sync_trigger(conn: psycopg.Connection, schema: str) -> None:
    name = conn.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND tgname LIKE 'catalog_sync%%' "
                        "ORDER BY tgname LIMIT 1", (f"{schema}.ats_jobposting",)).fetchone()
    conn.execute(f'DROP TRIGGER "{name[0]}" ON {schema}.ats_jobposting')


def hand_tables_to_solo_owner(conn: psycopg.Connection, schema: str) -> None:
    """The schema's contract tables owned by solo_owner, a role of their own (created if absent)."""
    conn.execute("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'solo_owner') THEN "
                 "CREATE ROLE solo_owner NOLOGIN; END IF; END $$")
    for table in conn.execute("SELECT DISTINCT source_table FROM catalog_sync.trigger_spec "
                              "WHERE source_table <> 'tenants_tenant'").fetchall():
        conn.execute(f"ALTER TABLE {schema}.{table[0]} OWNER TO solo_owner")


def test_attach_all_and_repair_go_past_a_schema_the_role_does_not_own(
        db: Db, conn: psycopg.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    """(DBA trial, thirteenth session) One tenant handed to a role of its own stopped `attach --all`
    (--skip-refused or not: the whole chunk rolled back, its dry run saw nothing) and `verify --repair`
    (nothing repaired) for the application role. Now the pre-flight refuses that schema by name, as a
    contract mismatch: attach stops before anything (or, with --skip-refused, attaches the others),
    repair repairs the others and reports it."""
    hand_tables_to_solo_owner(conn, "tenant_globex")
    drop_one_sync_trigger(conn, "tenant_acme")
    drop_one_sync_trigger(conn, "tenant_globex")
    conn.execute("GRANT catalog_sync_installer TO zumodra_app")
    app_dsn = db.dsn(seed.APP_ROLE)
    refusal = "role zumodra_app does not own tenant_globex."

    def cli_run(*argv: str) -> tuple[int, str, str]:
        return (cli.main([*argv, "--dsn", app_dsn]), *capsys.readouterr())

    def missing(schema: str) -> int:
        return 32 - triggers_on(conn, schema)
    try:
        before = state(conn)
        for dry_run in ([], ["--dry-run"]):
            assert_refused(cli_run("attach", "--all", *dry_run), refusal, "--skip-refused")
        assert state(conn) == before
        code, out, err = cli_run("attach", "--all", "--skip-refused")
        assert code == 2 and refusal in err and "tenant_acme" not in err.splitlines()[-1], (out, err)
        assert (missing("tenant_acme"), missing("tenant_globex")) == (0, 1)

        drop_one_sync_trigger(conn, "tenant_acme")
        with db.connect(role=seed.APP_ROLE) as app:
            job = insert_job(app, "tenant_acme")
        conn.execute("DELETE FROM public.job_catalog WHERE job_uuid = %s", (job["uuid"],))
        code, out, err = cli_run("verify", "--repair")
        assert code == 1, (out, err)
        assert f"not repaired (attach refused): {refusal}" in out and "tenant_acme: 1 inserted" in out, out
        # (DBA walkthrough, twenty-fifth session: the refused tenant was listed as repaired)
        assert "tenant_globex: its rows only, 0 inserted, 0 updated, 0 removed (its triggers: not repaired, " \
               "see below)" in out, out
        assert (missing("tenant_acme"), missing("tenant_globex"), catalog_count(conn, "tenant_acme")) == (0, 1, 1)

        # (review) a dropped table of that schema: repair detaches such a tenant, which needs the owner too
        conn.execute("DROP TABLE tenant_globex.services_skill CASCADE")
        drop_one_sync_trigger(conn, "tenant_acme")
        code, out, err = cli_run("verify", "--repair")
        assert code == 1 and f"not repaired (detach refused): {refusal}" in out, (out, err)
        assert missing("tenant_acme") == 0
    finally:
        conn.execute("REVOKE catalog_sync_installer FROM zumodra_app")


def test_attach_all_leaves_alone_an_up_to_date_schema_of_another_owner(
        db: Db, conn: psycopg.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    """(DBA walk-through, fortieth session) Once a schema belonged to a role of its own, every attach --all
    of the application role exited 2 ("1 refused"), though that schema was attached and up to date: a
    deploy's or cron job's attach step failed for good. It is left alone, and refused again only when
    attach would have something to do there."""
    hand_tables_to_solo_owner(conn, "tenant_globex")
    conn.execute("GRANT catalog_sync_installer TO zumodra_app")

    def cli_run(*argv: str) -> tuple[int, str, str]:
        return (cli.main([*argv, "--dsn", db.dsn(seed.APP_ROLE)]), *capsys.readouterr())
    try:
        before = state(conn)
        for argv in (["attach", "--all"], ["attach", "--all", "--dry-run"], ["attach", "tenant_globex"]):
            code, out, err = cli_run(*argv)
            assert code == 0, (argv, out, err)
            assert "note: 1 schema(s) of another owner left alone, attached and up to date: tenant_globex" in err
        assert state(conn) == before
        drop_one_sync_trigger(conn, "tenant_globex")             # now attach has work there: refused again
        assert_refused(cli_run("attach", "--all"), "role zumodra_app does not own tenant_globex.")
        # (review, fortieth session) nor where attach would change something but the triggers: a grant the
        # machinery lost, a table the registry no longer names (restored from a dump, swapped in)
        conn.execute("CREATE TABLE public.not_a_tenant_table (id int)")
        for breakage in ("ALTER TABLE tenant_globex.ats_jobposting DISABLE TRIGGER catalog_sync_job_insert",
                         "REVOKE SELECT ON tenant_globex.ats_jobcategory FROM catalog_sync_owner",
                         "REVOKE USAGE ON SCHEMA tenant_globex FROM catalog_sync_owner",
                         "UPDATE catalog_sync.attached_table SET relid = 'public.not_a_tenant_table'::regclass "
                         "WHERE relid = 'tenant_globex.services_skill'::regclass"):
            assert cli.main(["attach", "tenant_globex", "--dsn", db.dsn()]) == 0     # a superuser mends it
            assert cli_run("attach", "tenant_globex")[0] == 0
            conn.execute(breakage)
            assert_refused(cli_run("attach", "tenant_globex"), "role zumodra_app does not own tenant_globex.")
    finally:
        conn.execute("REVOKE catalog_sync_installer FROM zumodra_app")


def test_attach_refuses_a_schema_whose_owner_must_grant_the_machinery_usage(
        db: Db, conn: psycopg.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    """(review, thirteenth session) The tables' owner that does not own the schema passed the ownership
    pre-flight, then attach failed granting catalog_sync_owner USAGE on the schema (the chunk rolled back)."""
    conn.execute("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'solo_owner') THEN "
                 "CREATE ROLE solo_owner NOLOGIN; END IF; END $$")
    _, schema = create_tenant(conn, "initech", "Initech")
    conn.execute(f"ALTER SCHEMA {schema} OWNER TO solo_owner")
    conn.execute("GRANT catalog_sync_installer TO zumodra_app")
    try:
        before = state(conn)
        result = (cli.main(["attach", schema, "--dsn", db.dsn(seed.APP_ROLE)]), *capsys.readouterr())
        assert_refused(result, f"role zumodra_app does not own schema {schema}")
        assert state(conn) == before
    finally:
        conn.execute("REVOKE catalog_sync_installer FROM zumodra_app")


def test_attach_from_sql_refuses_a_schema_it_cannot_grant_usage_on(db: Db, conn: psycopg.Connection) -> None:
    """(review, thirteenth session) A django-tenants hook calls attach_schema() without the tool's
    pre-flight. The tables' owner with only USAGE on another role's schema attached it: the GRANT USAGE to
    the machinery merely warned, and the tenant's writes would then fail. Now it is refused."""
    conn.execute("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'solo_owner') THEN "
                 "CREATE ROLE solo_owner NOLOGIN; END IF; END $$")
    _, schema = create_tenant(conn, "initech", "Initech")
    conn.execute(f"ALTER SCHEMA {schema} OWNER TO solo_owner")
    conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO zumodra_app")
    conn.execute("GRANT catalog_sync_installer TO zumodra_app")
    try:
        before = state(conn)
        with db.connect(role=seed.APP_ROLE) as app, pytest.raises(psycopg.errors.InsufficientPrivilege) as err:
            app.execute("SELECT * FROM catalog_sync.attach_schema(%s)", (schema,))
        assert f"role zumodra_app does not own schema {schema}" in str(err.value)
        assert state(conn) == before
    finally:
        conn.execute("REVOKE catalog_sync_installer FROM zumodra_app")


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
