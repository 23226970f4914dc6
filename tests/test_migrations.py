"""db/ applied directly, `alembic upgrade head` and its offline SQL give the
same database; `alembic downgrade base` leaves exactly the application's."""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest

from pyinstaller_tools import migrate, seed, sqlfiles
from pyinstaller_tools.cluster import find_bindir
from pyinstaller_tools.connection import ToolError
from tests.conftest import ROOT, Db


def _bin(name: str) -> str:
    path = find_bindir() / name
    return str(path) if path.exists() else (shutil.which(name) or name)


@pytest.fixture
def fresh(db: Db) -> Iterator[callable]:
    """Factory of empty databases holding only the application side (one tenant)."""
    made: list[str] = []

    def make(name: str) -> Db:
        with db.connect() as conn:
            conn.execute(f"CREATE DATABASE {name}")
        made.append(name)
        target = Db(db.host, db.port, name)
        with target.connect() as conn:
            seed.setup_app(conn)
            seed.create_tenant(conn, "acme", "Acme")
        return target

    yield make
    with db.connect() as conn:
        for name in made:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def schema_dump(target: Db) -> str:
    out = subprocess.run(
        [_bin("pg_dump"), "--schema-only", "--no-comments", "--exclude-table=public.alembic_version",
         "-d", target.dsn()],
        capture_output=True, text=True, check=True,
    ).stdout
    # Drop the lines that name versions or carry pg_dump's per-run \restrict key.
    return "\n".join(line for line in out.splitlines()
                     if not re.match(r"^(-- (Dumped|PostgreSQL database dump)|\\(un)?restrict )", line))


def psql_script(target: Db, script: str) -> None:
    subprocess.run([_bin("psql"), "-v", "ON_ERROR_STOP=1", "-q", "-X", "-d", target.dsn()],
                   input=script, capture_output=True, text=True, check=True)


def recorded_revision(target: Db) -> str | None:
    with target.connect() as conn:
        return migrate.current(conn)


def test_db_directly_equals_alembic_head_equals_offline_sql(fresh) -> None:
    direct, online, offline = fresh("m_direct"), fresh("m_online"), fresh("m_offline")
    psql_script(direct, sqlfiles.install_script())
    migrate.upgrade(online.dsn())
    psql_script(offline, migrate.offline_sql())
    assert "catalog_sync" in schema_dump(direct)
    assert schema_dump(direct) == schema_dump(online)
    assert schema_dump(online) == schema_dump(offline)
    assert recorded_revision(online) == recorded_revision(offline) == "0001"


def test_downgrade_base_removes_everything_and_upgrade_again(fresh) -> None:
    target = fresh("m_roundtrip")
    before = schema_dump(target)
    migrate.upgrade(target.dsn())
    with target.connect() as conn:
        conn.execute("SELECT catalog_sync.attach_schema('tenant_acme')")
        assert conn.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'catalog_sync%'").fetchone()[0] > 0
    migrate.downgrade(target.dsn())
    with target.connect() as conn:
        assert conn.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'catalog_sync%'").fetchone()[0] == 0
        assert conn.execute("SELECT to_regnamespace('catalog_sync')").fetchone()[0] is None
    assert schema_dump(target) == before
    migrate.upgrade(target.dsn())
    with target.connect() as conn:
        assert conn.execute("SELECT count(*) FROM catalog_sync.attach_schema('tenant_acme')").fetchone()[0] == 1


def test_plain_alembic_takes_the_tools_connection_variables_in_the_tools_order(db: Db) -> None:
    """(DBA trial, twenty-second session) Plain alembic read DATABASE_URL and PG*, not CATALOG_SYNC_DSN,
    which the tool reads first: with both set, `catalog-sync migrate` and `alembic upgrade head`
    reached two databases."""
    env = {**os.environ, "CATALOG_SYNC_DSN": db.dsn(), "DATABASE_URL": "host=127.0.0.1 port=1 connect_timeout=2"}
    result = subprocess.run([sys.executable, "-m", "alembic", "-c", str(ROOT / "migrations" / "alembic.ini"),
                             "current"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0 and "0001" in result.stdout, (result.stdout, result.stderr)


@pytest.mark.parametrize("where", ["-x", "env"])
def test_plain_alembic_reads_a_lock_timeout_as_the_tool_does(db: Db, where: str) -> None:
    """(review, forty-ninth session) The tool refuses a bare --lock-timeout under 100 (milliseconds, likely
    meant in seconds); plain alembic took the same value from -x lock_timeout or the variable as 5 ms."""
    env = {**os.environ, "CATALOG_SYNC_DSN": db.dsn()} | ({"CATALOG_SYNC_DDL_LOCK_TIMEOUT": "5"} if where == "env"
                                                          else {})
    result = subprocess.run([sys.executable, "-m", "alembic", "-c", str(ROOT / "migrations" / "alembic.ini"),
                             *(["-x", "lock_timeout=5"] if where == "-x" else []), "upgrade", "head"],
                            env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0 and "a bare number is milliseconds: '5' would wait 5 ms" in result.stderr, (
        result.stdout, result.stderr[-2000:])
    if where == "env":      # (mutation review, fiftieth session) -x lock_timeout wins over the variable
        result = subprocess.run([sys.executable, "-m", "alembic", "-c", str(ROOT / "migrations" / "alembic.ini"),
                                 "-x", "lock_timeout=2s", "upgrade", "head"],
                                env=env, capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 0, (result.stdout, result.stderr[-2000:])


def test_every_db_file_is_installed_exactly_once() -> None:
    root = ROOT / "db"
    on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*.sql")} - {"uninstall.sql"}
    listed = sqlfiles.install_order()
    assert len(listed) == len(set(listed))
    assert set(listed) == on_disk


def test_migrate_is_idempotent(db: Db) -> None:
    """The template is at head: upgrading again changes nothing."""
    before = schema_dump(db)
    migrate.upgrade(db.dsn())
    assert schema_dump(db) == before


def test_install_runs_in_one_transaction(fresh) -> None:
    """A failing install leaves nothing behind (alembic's transaction per migration)."""
    target = fresh("m_broken")
    with target.connect() as conn:
        conn.execute("CREATE TABLE public.job_catalog (x int)")  # collides with the install
    with pytest.raises(ToolError, match="job_catalog"):
        migrate.upgrade(target.dsn())
    with target.connect() as conn:
        assert conn.execute("SELECT to_regnamespace('catalog_sync')").fetchone()[0] is None


def test_offline_sql_bounds_its_lock_waits_like_the_online_path(fresh, capsys: pytest.CaptureFixture[str]) -> None:
    from pyinstaller_tools import cli

    assert cli.main(["migrate", "--sql", "--lock-timeout", "1.5s"]) == 0
    script = capsys.readouterr().out
    assert script.startswith("\\set ON_ERROR_STOP on\nSET lock_timeout = '1.5s';\n")
    target = fresh("m_offline_cli")
    psql_script(target, script)              # the whole script, as a DBA applies it
    assert recorded_revision(target) == "0001"


def test_the_offline_removal_script_removes_what_migrate_installed(
        fresh, capsys: pytest.CaptureFixture[str]) -> None:
    """(DBA walk-through, fortieth session) The removal's script was only plain alembic's, from
    migrations/alembic.ini, which a pip install does not have: `uninstall --sql` renders it. Applied with
    psql it leaves the application's schema, then `uninstall --yes` drops the empty version table."""
    from pyinstaller_tools import cli

    target = fresh("m_offline_removal")
    before = schema_dump(target)
    migrate.upgrade(target.dsn())
    with target.connect() as conn:
        conn.execute("SELECT catalog_sync.attach_schema('tenant_acme')")
    assert cli.main(["uninstall", "--sql", "--lock-timeout", "2s"]) == 0      # no --yes: it changes nothing
    script = capsys.readouterr().out
    assert script.startswith("\\set ON_ERROR_STOP on\nSET lock_timeout = '2s';\n") and "DROP SCHEMA" in script
    assert recorded_revision(target) == "0001"
    psql_script(target, script)
    with target.connect() as conn:
        assert conn.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'catalog_sync%'").fetchone() == (0,)
        assert conn.execute("SELECT to_regclass('public.alembic_version') IS NOT NULL").fetchone() == (True,)
    assert schema_dump(target) == before
    # (review, fortieth session) a role that may not drop it is told so, not refused
    assert cli.main(["uninstall", "--yes", "--dsn", target.dsn(seed.APP_ROLE)]) == 0
    out = capsys.readouterr().out
    assert "nothing to uninstall" in out and "public.alembic_version left unread" in out, out
    assert cli.main(["uninstall", "--yes", "--dsn", target.dsn()]) == 0
    out = capsys.readouterr().out
    assert "nothing to uninstall" in out and "empty public.alembic_version dropped" in out, out
    with target.connect() as conn:
        assert conn.execute("SELECT to_regclass('public.alembic_version')").fetchone() == (None,)
    assert cli.main(["uninstall", "--yes", "--dsn", target.dsn()]) == 0          # again: nothing at all
    assert "dropped" not in capsys.readouterr().out


def _tool_output(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """What catalog-sync prints (a script), run in-process; it must succeed."""
    from pyinstaller_tools import cli

    assert cli.main(list(argv)) == 0
    return capsys.readouterr().out


def refused(target: Db, text: str, user: str | None = None) -> str:
    """psql's stderr for a script that must fail. (Plain psql, without -v ON_ERROR_STOP=1: the script
    itself tells it to stop (review, fortieth session: psql went on after the refusal, and ran the forged
    function it had refused).)"""
    with pytest.raises(subprocess.CalledProcessError) as failed:
        subprocess.run([_bin("psql"), "-q", "-X", "-d", target.dsn(user or "postgres")],
                       input=text, capture_output=True, text=True, check=True)
    return failed.value.stderr


def test_the_offline_scripts_stop_at_a_clear_error_and_change_nothing(
        fresh, db: Db, capsys: pytest.CaptureFixture[str]) -> None:
    """(DBA walk-through, fortieth session) The rendered scripts failed on raw errors ("must be member of
    role catalog_sync_owner", "relation alembic_version already exists", "relation public.tenants_tenant
    does not exist"): each now starts with a check that names the problem, and psql stops there."""
    script = functools.partial(_tool_output, capsys)
    install, upgrade, removal = (script("migrate", "--sql"), script("migrate", "--sql", "--revision", "0001:head"),
                                 script("uninstall", "--sql"))
    target = fresh("m_offline_checks")
    before = schema_dump(target)
    assert "needs a superuser" in refused(target, install, seed.APP_ROLE)
    assert "catalog_sync is not installed in this database: nothing to remove" in refused(target, removal)
    assert "catalog_sync is not installed in this database: this script upgrades" in refused(target, upgrade)
    assert schema_dump(target) == before
    with db.connect() as conn:
        conn.execute("CREATE DATABASE m_offline_no_registry")
    try:
        assert "public.tenants_tenant does not exist" in refused(Db(db.host, db.port, "m_offline_no_registry"),
                                                                 install)
    finally:
        with db.connect() as conn:
            conn.execute("DROP DATABASE m_offline_no_registry WITH (FORCE)")
    psql_script(target, script("migrate", "--sql", "--revision", "0001"))   # one revision: from base (review)
    installed = schema_dump(target)
    assert "public.alembic_version exists: this script installs from nothing" in refused(target, install)
    assert "needs a superuser" in refused(target, removal, seed.APP_ROLE)
    assert schema_dump(target) == installed
    psql_script(target, upgrade)                      # nothing after 0001 yet: the check, and no change
    assert schema_dump(target) == installed
    # (review, fortieth session) The removal runs the machinery's drop_triggers() as the superuser: over a
    # machinery changed since it was pinned, it stops, as uninstall does (the script ran a forged one).
    with target.connect(role="catalog_sync_owner") as conn:      # (what code run as the owner could do)
        conn.execute("ALTER FUNCTION catalog_sync.drop_triggers(oid) SET work_mem = '64kB'")
    assert "the machinery changed after it was installed" in refused(target, removal)
    assert "the machinery changed after it was installed" in refused(target, upgrade)
    with target.connect() as conn:
        conn.execute("ALTER FUNCTION catalog_sync.drop_triggers(oid) RESET work_mem")
        conn.execute("UPDATE public.alembic_version SET version_num = 'elsewhere'")
    assert "does not record revision 0001" in refused(target, removal)
    assert "does not record revision 0001" in refused(target, upgrade)
    with target.connect() as conn:
        conn.execute("DROP TABLE public.alembic_version")
    assert "public.alembic_version does not exist" in refused(target, removal)
    assert schema_dump(target) == installed
    # (review) the install over a machinery installed without alembic's record (install-sql) is refused before
    # its first DDL, which protect's event triggers, the machinery's code, would see as the superuser
    assert "catalog_sync, catalog_sync_protect, catalog_sync_pin, public.job_catalog, public.provider_catalog, " \
        "public.service_catalog exist already, without alembic's record" in refused(target, install)
    assert schema_dump(target) == installed


def test_every_removal_path_refuses_to_drop_what_it_did_not_create(
        fresh, capsys: pytest.CaptureFixture[str]) -> None:
    """(DBA trial, forty-fifth session) `uninstall --yes` refused an application's view over a machinery
    function and a table owned by catalog_reader, but the script of `uninstall --sql` and plain alembic's
    `downgrade base` dropped them (DROP SCHEMA ... CASCADE, DROP OWNED BY) without a word. db/uninstall.sql
    itself now refuses them first, so every path does."""
    from pyinstaller_tools import cli

    target = fresh("m_removal_dependents")
    migrate.upgrade(target.dsn())
    with target.connect() as conn:
        conn.execute("SELECT catalog_sync.attach_schema('tenant_acme')")
        conn.execute("CREATE VIEW public.sync_dashboard AS SELECT * FROM catalog_sync.status()")
        conn.execute("CREATE TABLE public.app_owned (note text)")
        conn.execute("INSERT INTO public.app_owned VALUES ('kept')")
        conn.execute("ALTER TABLE public.app_owned OWNER TO catalog_reader")
    installed = schema_dump(target)
    assert cli.main(["uninstall", "--sql"]) == 0
    with pytest.raises(subprocess.CalledProcessError) as failed:
        psql_script(target, capsys.readouterr().out)
    assert "catalog-sync: uninstall would fail on, or drop, objects it did not create: table public.app_owned " \
        "is owned by role catalog_reader; view public.sync_dashboard depends on function catalog_sync.status(" \
        in failed.value.stderr and "nothing was removed" in failed.value.stderr, failed.value.stderr
    done = subprocess.run([sys.executable, "-m", "alembic", "-c", str(ROOT / "migrations" / "alembic.ini"),
                           "-x", f"dsn={target.dsn()}", "downgrade", "base"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "objects it did not create: table public.app_owned" in done.stderr, \
        done.stderr[-2000:]
    assert schema_dump(target) == installed and recorded_revision(target) == "0001"
    with target.connect() as conn:
        assert conn.execute("SELECT note FROM public.app_owned").fetchall() == [("kept",)]
        assert conn.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'catalog_sync%'").fetchone()[0] > 0
        conn.execute("DROP VIEW public.sync_dashboard")
        conn.execute("ALTER TABLE public.app_owned OWNER TO postgres")
    done = subprocess.run([sys.executable, "-m", "alembic", "-c", str(ROOT / "migrations" / "alembic.ini"),
                           "-x", f"dsn={target.dsn()}", "downgrade", "base"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and recorded_revision(target) is None, done.stderr[-2000:]
    # (review, forty-fifth session) plain alembic shows the removal's notices too (roles are cluster-wide, and
    # the other test databases keep them)
    assert "notice: role catalog_sync_owner kept: still used in another database" in done.stderr, done.stderr


def test_each_alembic_revision_has_its_install_section() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(ROOT / "migrations"))
    assert {rev.revision for rev in script.walk_revisions()} == set(sqlfiles.revisions())


@pytest.mark.parametrize("alteration", ["DROP COLUMN logo_url", "ALTER COLUMN name TYPE bpchar"])
def test_migrate_refuses_a_registry_that_fails_the_contract(fresh, alteration: str) -> None:
    """(final review, twenty-third session) migrate installed onto a registry without a column the sync
    reads, exit 0, and every tenant's first write then failed. Now it names the problem and installs nothing."""
    target = fresh("m_registry")
    with target.connect() as conn:
        conn.execute(f"ALTER TABLE public.tenants_tenant {alteration}")
    with pytest.raises(ToolError, match="public.tenants_tenant does not match the tenants_tenant contract") as exc:
        migrate.upgrade(target.dsn())
    assert "Nothing was installed" in str(exc.value)
    with target.connect() as conn:
        assert conn.execute("SELECT to_regnamespace('catalog_sync')").fetchone()[0] is None


def test_an_install_by_an_earlier_build_is_named_not_used(fresh: callable, capsys: pytest.CaptureFixture[str]
                                                          ) -> None:  # type: ignore[valid-type]
    """(crash trial, forty-seventh session) A database installed by an earlier development build (revision 0001
    changes in place until the first release) passed as this build's: migrate said "already at 0001: nothing to
    migrate", status, verify and audit were clean, then attach and uninstall failed on "function ... does not
    exist". Every command now names the functions this build has and the database lacks, and changes nothing."""
    from pyinstaller_tools import cli

    target = fresh("earlier_build")
    assert cli.main(["migrate", "--dsn", target.dsn()]) == 0
    assert {"catalog_sync.removal_problem", "catalog_sync_pin.changes"} <= sqlfiles.machinery_functions()
    with target.connect() as conn:       # what the earlier build did not have yet, pinned as it installed it
        conn.execute("DROP FUNCTION catalog_sync.removal_problem()")
        # (dropped since the pin instead, it is the pin's alarm that every command gives: review of the check)
        assert cli.main(["status", "--dsn", target.dsn()]) == 2
        assert "the machinery changed after it was installed" in capsys.readouterr().err
        conn.execute("SELECT catalog_sync_pin.pin()")
        before = conn.execute("SELECT count(*) FROM pg_proc WHERE pronamespace = 'catalog_sync'::regnamespace"
                              ).fetchone()
    capsys.readouterr()
    for argv in (["migrate"], ["status"], ["verify"], ["attach", "--all"], ["uninstall", "--yes"]):
        assert cli.main([*argv, "--dsn", target.dsn()]) == 2, argv
        err = capsys.readouterr().err
        assert (f"catalog-sync: error: {argv[0]}: the machinery installed in this database lacks 1 function(s) of "
                "this build of catalog-sync (catalog_sync.removal_problem); nothing was changed") in err, err
        assert "rebuild it (docs/operations.md, \"Upgrades\")" in err
        assert ("run catalog-sync migrate" in err) == (argv[0] != "migrate"), err
    assert cli.main(["audit", "--json", "--dsn", target.dsn()]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert (findings[0]["check_name"], findings[0]["severity"]) == ("machinery_outdated", "high"), findings
    assert "machinery_outdated" not in {f["check_name"] for f in findings[1:]}, findings
    # No pin at all (its schema dropped, as the docs' rebuild route does before applying it anew): the pin's
    # own message, which says what to apply, not "rebuild it" (review of the check).
    with target.connect() as conn:
        conn.execute("DROP SCHEMA catalog_sync_pin CASCADE")
    assert cli.main(["status", "--dsn", target.dsn()]) == 2
    err = capsys.readouterr().err
    assert "the machinery has no pin (schema catalog_sync_pin)" in err and "rebuild" not in err, err
    with target.connect() as conn:
        assert conn.execute("SELECT count(*) FROM pg_proc WHERE pronamespace = 'catalog_sync'::regnamespace"
                            ).fetchone() == before


def test_the_offline_scripts_stop_over_a_machinery_whose_pin_is_empty_or_gone(
        fresh, capsys: pytest.CaptureFixture[str]) -> None:
    """(mutation review, fiftieth session) Of the offline scripts' checks, the pin's two (empty: a restore
    without data; gone) had no test, nor the "nothing was changed" that a refusal not saying so itself gets."""
    from pyinstaller_tools.connection import MACHINERY_PIN_EMPTY, MACHINERY_UNPINNED

    script = functools.partial(_tool_output, capsys)
    install, upgrade, removal = (script("migrate", "--sql"), script("migrate", "--sql", "--revision", "0001:head"),
                                 script("uninstall", "--sql"))
    target = fresh("m_offline_pin")
    assert ("catalog-sync: this script needs a superuser (it creates or drops the machinery's roles and the objects "
            "they own); nothing was changed") in refused(target, install, seed.APP_ROLE)
    psql_script(target, script("migrate", "--sql", "--revision", "0001"))
    with target.connect() as conn:
        conn.execute("DELETE FROM catalog_sync_pin.pinned")
    for text in (upgrade, removal):
        assert MACHINERY_PIN_EMPTY in refused(target, text)
    with target.connect() as conn:
        conn.execute("DROP SCHEMA catalog_sync_pin CASCADE")
    for text in (upgrade, removal):
        error = refused(target, text)
        assert MACHINERY_UNPINNED in error and "nothing was changed" not in error, error


def test_the_offline_scripts_check_first_inside_their_transaction(capsys: pytest.CaptureFixture[str]) -> None:
    """(mutation review, fiftieth session) The check is the first statement of the script's transaction (a
    client that does not stop at the refusal still rolls back what follows); before BEGIN only where there is
    no transaction (nothing to render)."""
    from pyinstaller_tools import cli

    for argv in (["migrate", "--sql"], ["uninstall", "--sql"]):
        assert cli.main(argv) == 0
        out = capsys.readouterr().out
        assert out.count("DO $preflight$") == 1 and out.index("BEGIN;\n") < out.index("DO $preflight$"), argv


def test_plain_alembic_takes_x_dsn_over_the_variables(db: Db) -> None:
    """(mutation review, fiftieth session) -x dsn=... first, as --dsn comes first for the tool: with
    CATALOG_SYNC_DSN set too, plain alembic is not to reach that other database."""
    env = {**os.environ, "CATALOG_SYNC_DSN": "host=127.0.0.1 port=1 connect_timeout=2"}
    result = subprocess.run([sys.executable, "-m", "alembic", "-c", str(ROOT / "migrations" / "alembic.ini"),
                             "-x", f"dsn={db.dsn()}", "current"], env=env, capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 0 and "0001" in result.stdout, (result.stdout, result.stderr[-2000:])


def test_plain_alembic_refuses_an_empty_catalog_sync_dsn(db: Db) -> None:
    """(mutation review, fiftieth session) An empty CATALOG_SYNC_DSN (a variable unset, as under cron) is
    refused by name, as the tool refuses it, not read as libpq's defaults."""
    env = {**os.environ, "CATALOG_SYNC_DSN": " ", "PGHOST": "127.0.0.1", "PGPORT": str(db.port), "PGUSER": "postgres",
           "PGDATABASE": db.dbname}
    result = subprocess.run([sys.executable, "-m", "alembic", "-c", str(ROOT / "migrations" / "alembic.ini"),
                             "current"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0 and "CATALOG_SYNC_DSN is set but empty" in result.stderr, (
        result.stdout, result.stderr[-2000:])


@pytest.mark.parametrize("where", ["-x", "env"])
def test_plain_alembic_names_where_a_refused_lock_timeout_came_from(db: Db, where: str) -> None:
    """(mutation review, fiftieth session) The refusal names -x lock_timeout or the variable, whichever gave
    the value."""
    env = {**os.environ, "CATALOG_SYNC_DSN": db.dsn()} | ({"CATALOG_SYNC_DDL_LOCK_TIMEOUT": "5"} if where == "env"
                                                          else {})
    result = subprocess.run([sys.executable, "-m", "alembic", "-c", str(ROOT / "migrations" / "alembic.ini"),
                             *(["-x", "lock_timeout=5"] if where == "-x" else []), "current"],
                            env=env, capture_output=True, text=True, timeout=60, check=False)
    source = "-x lock_timeout" if where == "-x" else "CATALOG_SYNC_DDL_LOCK_TIMEOUT"
    assert result.returncode != 0 and f"{source}: a bare number is milliseconds" in result.stderr, (
        result.stdout, result.stderr[-2000:])


# An application transaction on the registry when the install starts: its statements before the install waits
# for it, and those after (a Django migration: a data step, then AddField).
REGISTRY_HELD_BY = {
    "an ALTER TABLE": (["ALTER TABLE public.tenants_tenant ADD COLUMN note text"], []),
    "a write, then an ALTER TABLE": (["UPDATE public.tenants_tenant SET name = name"],
                                     ["ALTER TABLE public.tenants_tenant ADD COLUMN note text"]),
}


@pytest.mark.parametrize("held_by", REGISTRY_HELD_BY.values(), ids=REGISTRY_HELD_BY.keys())
def test_an_install_queued_behind_a_transaction_on_the_registry_waits_for_it(
        fresh, db: Db, held_by: tuple[list[str], list[str]]) -> None:
    """(concurrency trial, fifty-second session) The install's GRANT on the registry waited for an application's
    ALTER TABLE of it (a Django AddField in the same deploy) without a lock, then failed with the catalog's bare
    "tuple concurrently updated" once the ALTER committed. The install takes the registry's SHARE ROW EXCLUSIVE
    first, the mode its trigger and the catalogs' foreign keys take later: it waits, within lock_timeout, holding
    nothing of the registry, and installs. (A weaker first lock, ACCESS SHARE, was granted behind a write and
    upgraded later: the write's transaction then altered the registry, and each waited for the other; mutation
    review, same session.)"""
    import threading

    from tests.test_concurrency import wait_until_blocked

    first, then = held_by
    target = fresh("m_behind_registry")
    errors: list[BaseException] = []
    with target.connect(autocommit=False) as holder, db.connect() as watcher:
        for statement in first:
            holder.execute(statement)
        before = {r[0] for r in watcher.execute("SELECT pid FROM pg_stat_activity").fetchall()}

        def install() -> None:
            try:
                migrate.upgrade(target.dsn())
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        thread = threading.Thread(target=install)
        thread.start()
        try:
            pid = None
            for _ in range(3000):
                new = [r[0] for r in watcher.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = 'm_behind_registry' AND pid <> %s",
                    (holder.info.backend_pid,)).fetchall() if r[0] not in before]
                if new:
                    pid = new[0]
                    break
            assert pid is not None
            wait_until_blocked(watcher, pid)
            for statement in then:
                holder.execute(statement)
        finally:
            holder.commit()
            thread.join(60)
    assert not errors, errors
    assert recorded_revision(target) == "0001"
