"""alembic upgrade/downgrade with the package's own migrations."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import as_file, files
from typing import TextIO

import psycopg
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from pyinstaller_tools.connection import (
    ALEMBIC_VERSION_PROBLEM,
    FORGED_ROLE_MISSING,
    FORGED_SCHEMAS,
    LONG_TRANSACTION,
    MACHINERY_AS_PINNED,
    MACHINERY_CHANGED,
    MACHINERY_CHANGES,
    MACHINERY_OBJECTS,
    MACHINERY_PIN_EMPTY,
    MACHINERY_UNPINNED,
    SUBSCRIBED,
    SUBSCRIBED_REFUSAL,
    SUBSCRIBED_WRITES,
    ToolError,
    alembic_version_problem,
    connect_kwargs,
    describe,
    forged_schemas_advice,
    one_line,
    print_own_notice,
    require_own_version_table,
    server_message,
)


def _config(output_buffer: TextIO | None = None) -> Config:
    with as_file(files("pyinstaller_tools.migrations")) as path:
        cfg = Config(str(path / "alembic.ini"), output_buffer=output_buffer)
        cfg.set_main_option("script_location", str(path))
        cfg.set_main_option("version_locations", str(path / "versions"))
    return cfg


@contextmanager
def _one_line_errors(action: str = "upgrade", lock_timeout: str | None = None) -> Iterator[None]:
    """alembic's and SQLAlchemy's errors as the tool's one-line errors."""
    try:
        yield
    except sa.exc.DBAPIError as exc:
        if not isinstance(exc.orig, psycopg.Error):
            raise ToolError(one_line(exc)) from exc
        raise ToolError(_describe_migration_error(_server_error(exc.orig), action, lock_timeout)) from exc
    except psycopg.Error as exc:            # the migrations' SQL runs on the psycopg connection itself
        raise ToolError(_describe_migration_error(_server_error(exc), action, lock_timeout)) from exc
    except CommandError as exc:
        raise ToolError(f"{one_line(exc)} (revisions: {', '.join(revisions())}, or head / base)") from exc


def _server_error(exc: psycopg.Error) -> psycopg.Error:
    """The server's error behind a client-side one. A session ended by the server (57P01: a restart,
    pg_terminate_backend()) fails the migration's statement; SQLAlchemy's rollback on the way out then fails
    with "the connection is lost", which replaces it (forty-first session: migrate terminated mid-run said
    only that). The first error is that one's __context__."""
    if exc.sqlstate is not None:
        return exc
    context = exc.__context__
    while context is not None:
        orig = context.orig if isinstance(context, sa.exc.DBAPIError) else context
        if isinstance(orig, psycopg.Error) and orig.sqlstate is not None:
            return orig
        context = context.__context__
    return exc


def _describe_migration_error(exc: psycopg.Error, action: str, lock_timeout: str | None) -> str:
    diag = exc.diag
    detail = " ".join((diag.message_detail or "").split())     # e.g. which objects depend on which
    if isinstance(exc, psycopg.errors.LockNotAvailable):
        outcome = ("the revision it was applying rolled back (one transaction per revision: any before it in "
                   "this run stay applied)" if action == "upgrade" else "nothing was removed")
        what = "migration" if action == "upgrade" else "uninstall"
        limit = f"--lock-timeout {lock_timeout}" if lock_timeout else "--lock-timeout"
        return (f"{server_message(exc)}: a transaction held a lock the {what} needs longer than "
                f"{limit} ({LONG_TRANSACTION}); {outcome}; run it again later, "
                "or with a larger --lock-timeout")
    if isinstance(exc, psycopg.errors.DependentObjectsStillExist):
        # not the server's "use DROP ... CASCADE": that would drop the application's objects too
        return f"{server_message(exc)}: {detail} (drop or change those objects first)"
    return describe(exc) + (f" ({detail})" if detail else "")


def _run(dsn: str, action: str, revision: str, lock_timeout: str | None) -> None:
    # lock_timeout bounds each lock wait: a migration queued behind a long
    # transaction would block the application's statements on that table.
    def connect() -> psycopg.Connection:
        conn = psycopg.connect(dsn, **connect_kwargs(dsn, lock_timeout))
        conn.add_notice_handler(print_own_notice)
        return conn

    engine = sa.create_engine("postgresql+psycopg://", creator=connect, poolclass=sa.NullPool)
    try:
        with _one_line_errors(action, lock_timeout), engine.connect() as conn:
            cfg = _config()
            cfg.attributes["connection"] = conn
            getattr(command, action)(cfg, revision)
    finally:
        engine.dispose()


def upgrade(dsn: str, revision: str = "head", lock_timeout: str | None = None) -> None:
    _run(dsn, "upgrade", revision, lock_timeout)


def downgrade(dsn: str, revision: str = "base", lock_timeout: str | None = None) -> None:
    _run(dsn, "downgrade", revision, lock_timeout)


def drop_empty_version_table(dsn: str, lock_timeout: str | None = None) -> tuple[bool, str | None]:
    """After a downgrade to base alembic keeps its version table, empty: drop it, unless a version is
    recorded in it (another alembic project using the same table). Whether this call dropped it, and why
    it stays where it does (None where it is gone)."""
    with psycopg.connect(dsn, **connect_kwargs(dsn, lock_timeout)) as conn:
        try:
            conn.execute("LOCK TABLE public.alembic_version IN ACCESS EXCLUSIVE MODE")
        except psycopg.errors.UndefinedTable:
            return False, None
        except psycopg.errors.LockNotAvailable:
            return False, "it stayed locked longer than --lock-timeout"
        require_own_version_table(conn)
        used = conn.execute("SELECT EXISTS (SELECT FROM public.alembic_version)").fetchone()
        if used and used[0]:
            return False, "a version is recorded in it (another alembic project?)"
        conn.execute("DROP TABLE public.alembic_version")
    return True, None


def forget_version(dsn: str, lock_timeout: str | None = None) -> None:
    """Deletes catalog-sync's revision from public.alembic_version where nothing is installed any more
    (db/uninstall.sql run by hand on a database that migrate or its --sql script installed: the machinery
    is gone, the record stayed, and migrate would take the database for installed)."""
    with psycopg.connect(dsn, **connect_kwargs(dsn, lock_timeout)) as conn:
        require_own_version_table(conn)
        conn.execute("DELETE FROM public.alembic_version WHERE version_num = ANY (%s)", (revisions(),))


def offline_sql(revision: str = "head") -> str:
    """`alembic upgrade head --sql`: the script a DBA can review and run with psql."""
    out = io.StringIO()
    cfg = _config(output_buffer=out)
    with _one_line_errors():
        command.upgrade(cfg, revision, sql=True)
    return out.getvalue()


def _literal(text: str) -> str:
    """A plain SQL string literal (no backslash in it: read alike whatever standard_conforming_strings)."""
    assert "\\" not in text
    return "'" + text.replace("'", "''") + "'"


def _raise_if(condition: str, message: str, says_nothing_ran: bool = False) -> str:
    """PL/pgSQL: stop the script with `message` (an SQL text expression) when `condition` holds; the
    message ends saying that nothing was changed, unless it `says_nothing_ran` itself."""
    tail = "" if says_nothing_ran else " || '; nothing was changed'"
    return (f"    IF {condition} THEN\n"
            f"        RAISE EXCEPTION '%', 'catalog-sync: ' || {message}{tail};\n"
            "    END IF;\n")


def offline_preflight(from_revision: str | None = None, removal: bool = False) -> str:
    """The DO block that starts the offline scripts' transaction (offline_script()): it stops psql at a
    clear error, before anything changes, where migrate or uninstall would refuse: not a superuser; a
    schema of the machinery's names or a public.alembic_version that is not catalog-sync's or alembic's
    own; over an installed machinery (an upgrade from `from_revision`, or the removal), one changed since
    its installer pinned it, whose code the script would run as the superuser (review, fortieth session);
    no registry; the install over a version table or over a machinery installed without alembic; an
    upgrade or removal over another revision. (DBA walk-through, fortieth session: the scripts failed on
    raw errors such as "relation alembic_version already exists".) Reads system catalogs, and the version
    table only once it is known to be alembic's own."""
    version_before, version_after = (_literal(part) for part in alembic_version_problem("\x01").split("\x01"))
    refusal = "this script " + SUBSCRIBED_REFUSAL.replace("{what}", SUBSCRIBED_WRITES)
    subscribed_before, subscribed_after = (_literal(part) for part in refusal.split("{names}"))
    body = [
        _raise_if("NOT coalesce((SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user), "
                  "false)",
                  _literal("this script needs a superuser (it creates or drops the machinery's roles and the "
                           "objects they own)")),
        "    v_found := (" + FORGED_SCHEMAS + ");\n",
        _raise_if("v_found IS NOT NULL",
                  f"v_found || CASE WHEN pg_catalog.right(v_found, {len(FORGED_ROLE_MISSING)}) = "
                  f"{_literal(FORGED_ROLE_MISSING)} THEN {_literal(forged_schemas_advice(True))} "
                  f"ELSE {_literal(forged_schemas_advice(False))} END", True),
        "    v_found := (" + ALEMBIC_VERSION_PROBLEM + ");\n",
        _raise_if("v_found IS NOT NULL", f"{version_before} || v_found || {version_after}", True),
    ]
    has_version = "pg_catalog.to_regclass('public.alembic_version') IS NOT NULL"
    if removal or from_revision is not None:
        expected = from_revision if from_revision is not None else revisions()[-1]
        body += [
            _raise_if("pg_catalog.to_regnamespace('catalog_sync') IS NULL",
                      _literal("catalog_sync is not installed in this database" + (
                          ": nothing to remove" if removal else
                          ": this script upgrades an installed one (catalog-sync migrate --sql renders the "
                          "install)"))),
            _raise_if("pg_catalog.to_regnamespace('catalog_sync_pin') IS NULL", _literal(MACHINERY_UNPINNED), True),
            # (a subscriber's registry and catalogs are the publisher's rows: review, forty-sixth session)
            "    v_found := (" + SUBSCRIBED + ");\n",
            _raise_if("v_found IS NOT NULL", f"{subscribed_before} || v_found || {subscribed_after}", True),
            _raise_if("NOT EXISTS (SELECT FROM catalog_sync_pin.pinned)", _literal(MACHINERY_PIN_EMPTY), True),
            _raise_if(f"NOT {MACHINERY_AS_PINNED}", f"{_literal(MACHINERY_CHANGED)} || {MACHINERY_CHANGES}", True),
            # (two statements: the second is planned only where the table exists)
            _raise_if(f"NOT ({has_version})", _literal(
                f"public.alembic_version does not exist: no revision is recorded, and this script starts from "
                f"{expected} (installed from catalog-sync install-sql? then catalog-sync uninstall --yes removes "
                "it)")),
            _raise_if(f"NOT EXISTS (SELECT FROM public.alembic_version v WHERE v.version_num = {_literal(expected)})",
                      _literal(f"public.alembic_version does not record revision {expected}, which this script "
                               "starts from (" + (
                                   "installed from catalog-sync install-sql? then catalog-sync uninstall --yes "
                                   "removes it" if removal else
                                   "render --revision CURRENT:head, CURRENT from SELECT version_num FROM "
                                   "public.alembic_version") + ")")),
        ]
    else:
        body.append(_raise_if(has_version, _literal(
            "public.alembic_version exists: this script installs from nothing; over an installed database "
            "render --revision CURRENT:head (SELECT version_num FROM public.alembic_version), and an empty table "
            "left by a downgrade goes with catalog-sync uninstall --yes")))
        # (review, fortieth session: over a machinery installed without alembic, the script's first DDL fired
        # protect's event triggers, the machinery's code, as the superuser; migrate refuses such a database)
        body.append("    v_found := (" + MACHINERY_OBJECTS + ");\n")
        body.append(_raise_if("v_found IS NOT NULL", "v_found || " + _literal(
            " exist already, without alembic's record of them (installed from catalog-sync install-sql or db/ "
            "directly, or a removal by hand that stopped part-way?): catalog-sync uninstall --yes removes such a "
            "machinery (the catalogs too), then apply this script")))
    if not removal:
        body.append(_raise_if("pg_catalog.to_regclass('public.tenants_tenant') IS NULL", _literal(
            "public.tenants_tenant does not exist in this database: catalog-sync installs into the application's "
            "database after django-tenants' migrations created the registry (wrong database?)")))
    return "DO $preflight$\nDECLARE\n    v_found text;\nBEGIN\n" + "".join(body) + "END\n$preflight$;\n"


def offline_script(lock_timeout: str, script: str, from_revision: str | None = None, removal: bool = False) -> str:
    """An offline script as the tool prints it: psql told to stop at the first error (plain `psql -f` goes
    on after one: review, fortieth session), the tool's session settings, then alembic's script with
    offline_preflight() as the first statement of its transaction, before its first DDL: a refusal also
    rolls back whatever a client that does not stop would run after it."""
    # (and the online sessions' settings that the script's results or messages depend on: under a role's
    # quote_all_identifiers = on the install failed, and its notices went unseen under client_min_messages =
    # warning; settings trial, forty-sixth session)
    head = (f"\\set ON_ERROR_STOP on\nSET lock_timeout = {_literal(lock_timeout)};\n"
            "SET search_path = pg_catalog, pg_temp;\nSET quote_all_identifiers = off;\n"
            "SET client_min_messages = notice;\n")
    if "BEGIN;\n" not in script:       # (nothing to render: the check alone, which still tells a wrong database)
        return head + offline_preflight(from_revision, removal) + script
    return head + script.replace("BEGIN;\n", "BEGIN;\n" + offline_preflight(from_revision, removal), 1)


def offline_downgrade_sql() -> str:
    """`alembic downgrade HEAD:base --sql`: the removal as a script to review (what uninstall runs over a
    database migrate installed at the head revision)."""
    out = io.StringIO()
    cfg = _config(output_buffer=out)
    with _one_line_errors("downgrade"):
        command.downgrade(cfg, f"{revisions()[-1]}:base", sql=True)
    return out.getvalue()


def revisions() -> list[str]:
    """catalog-sync's alembic revisions, oldest first."""
    return [s.revision for s in reversed(list(ScriptDirectory.from_config(_config()).walk_revisions()))]


def resolve_revision(revision: str) -> str | None:
    """The revision `revision` names as alembic reads it (head, heads, a unique prefix, +N relative to the
    current one: returned as given), or None when it names none of catalog-sync's."""
    if not revision.strip():
        return None         # (alembic asserts on an empty one: a traceback, DBA walkthrough's review)
    if revision.startswith("+"):
        return revision
    try:
        script = ScriptDirectory.from_config(_config())
        named = script.get_current_head() if revision in ("head", "heads") else revision
        found = script.get_revision(named) if named else None
    except (CommandError, AssertionError):      # (alembic asserts on a branch's "@" with no name: "@", "0001@")
        return None
    return found.revision if found is not None else None


def require_own_revision(version: str | None) -> None:
    """Refuse a version table that records another alembic project's revision: alembic shares
    public.alembic_version, and ours cannot be told from it."""
    if version is not None and version not in revisions():
        raise ToolError(f"public.alembic_version records revision {version}, which is not catalog-sync's "
                        f"(revisions: {', '.join(revisions())}): another alembic project keeps its version in "
                        "the same table, and two projects cannot share one; give that project its own "
                        "(version_table in its env.py) and run the command again")


def current(conn: psycopg.Connection) -> str | None:
    """The revision public.alembic_version records, read in the caller's session (its lock_timeout bounds
    the wait for the table: review, forty-fourth session, a migrate --lock-timeout 1s waited 14 s here)."""
    require_own_version_table(conn)
    exists = conn.execute("SELECT to_regclass('public.alembic_version') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return None
    row = conn.execute("SELECT version_num FROM public.alembic_version").fetchone()
    return row[0] if row else None
