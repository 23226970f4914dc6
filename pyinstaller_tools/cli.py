"""catalog-sync: attach tenant schemas, backfill, verify and repair the public catalogs.

Results go to stdout, progress to stderr. Exit codes: 0 success (verify: no
drift), 1 drift found, 2 error (one line on stderr, nothing changed by the
failing step).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import os
import re
import shlex
import signal
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, NoReturn

import psycopg

from pyinstaller_tools import __version__, operations, sqlfiles
from pyinstaller_tools.cluster import ClusterError
from pyinstaller_tools.connection import (
    LONG_TRANSACTION,
    MACHINERY_OBJECTS,
    STATEMENT_TIMEOUT_HINT,
    ToolError,
    connect,
    describe,
    error_text,
    is_installed,
    lock_timeout_value,
    name_sessions,
    printable,
    redact,
    resolve_dsn,
    scalar,
    terminal_safe,
)
from pyinstaller_tools.interrupts import die_of_signal, handle_sigterm, terminated

# psycopg logs what it ignores while it cleans up after an error or a Ctrl-C ("error ignored in
# rollback ... another command is already in progress", when a Ctrl-C cancelled a query), and
# logging's last resort printed that on stderr before the command's own error line, which says what
# happened (flaky demo Ctrl-C test, twentieth session). Only that: its other warnings (a cancel that
# failed, an unknown time zone) still reach stderr (review, same session).
# A logger's filter sees only its own records, not those its children pass up: psycopg.transaction logs the
# rollback's (DBA trial, forty-fifth session: the line still appeared after a Ctrl-C of backfill --json).
for _name in ("psycopg", "psycopg.transaction"):
    logging.getLogger(_name).addFilter(
        lambda record: not record.getMessage().startswith("error ignored in rollback"))

EXIT_OK, EXIT_DRIFT, EXIT_ERROR = 0, 1, 2   # EXIT_DRIFT also: audit found a high-severity problem
# The reader of stdout went away (`catalog-sync status | head -1`): what a shell reports for a
# command killed by SIGPIPE, so that it is not mistaken for drift (1) or a failed command (2).
EXIT_BROKEN_PIPE = 128 + 13
# Ctrl-C: main() returns what a shell reports for a command killed by SIGINT; the command itself
# (entry()) then dies of SIGINT, so that a shell script that ran it stops too.
EXIT_INTERRUPTED = 128 + 2
EXIT_TERMINATED = 128 + 15     # SIGTERM, taken as a Ctrl-C: then death by SIGTERM


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _dsn(text: str) -> str:
    # An empty --dsn "$VAR" (a variable unset, as under cron) would otherwise connect with libpq's
    # defaults, past CATALOG_SYNC_DSN, and fail or reach another database without saying why.
    if not text.strip():
        raise argparse.ArgumentTypeError("empty connection string (--dsn or CATALOG_SYNC_DSN from an unset "
                                         "variable?); give one, or leave it out: --dsn, else CATALOG_SYNC_DSN, "
                                         "else DATABASE_URL, else the PG* variables")
    return text


def _demo_dsn(text: str) -> str:
    # The demo reads no variable: its fallback is its own local cluster (DBA review, nineteenth session:
    # the message named CATALOG_SYNC_DSN, DATABASE_URL and PG*, which the demo ignores).
    if not text.strip():
        raise argparse.ArgumentTypeError("empty connection string (from an unset variable?); give one, or leave "
                                         "--dsn out for a throwaway local cluster")
    return text


def _from_env(env: str, text: str) -> str:
    """The suffix ' (from ENV)' when the value argparse checks came from the environment (a default it
    parses like a typed value), else '': the hedge "check ENV when it is set" misled when ENV was not set
    (DBA trial, twenty-second session)."""
    return f" (from {env})" if os.environ.get(env) == text else ""


def _env_positive_int(env: str, default: int) -> dict[str, Any]:
    """argparse keywords for an option whose default comes from `env`: argparse checks a string
    default like a value typed on the command line, so a bad environment value is a usage error."""
    def parse(text: str) -> int:
        try:
            return _positive_int(text)
        except argparse.ArgumentTypeError as exc:
            raise argparse.ArgumentTypeError(f"{exc}{_from_env(env, text)}") from None
    return {"type": parse, "default": os.environ.get(env, str(default))}


# The commands that change triggers or the install wait briefly: the
# application queues behind them while they wait. Backfill has to wait for
# writers, so its timeout is longer and has its own variable.


def _duration(env: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        value, problem = lock_timeout_value(text)
        if problem:
            raise argparse.ArgumentTypeError(f"{problem}{_from_env(env, text)}")
        return value
    return parse


def _add_lock_timeout(p: argparse.ArgumentParser, default: str, waits_for: str,
                      env: str = operations.DDL_LOCK_ENV) -> None:
    p.add_argument("--lock-timeout", type=_duration(env), default=os.environ.get(env, default),
                   help=f"how long to wait for {waits_for}, e.g. 500ms, 5s, 2min; a bare number is "
                        f"milliseconds (from 100; 0 waits without limit) (env {env}, default {default})")


def progress(message: str) -> None:
    # one line, whatever it quotes (schema names, a tenant's types in a contract problem, ...)
    print(printable(message), file=sys.stderr, flush=True)


def _cell(value: object) -> str:
    """A table cell: timestamps to the second (--json keeps them whole), no control characters (cells
    can carry a tenant's text, such as a server message quoting its value)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, float):        # (durations: one precision in a column, 0.030 beside 6.320)
        return f"{value:.3f}"
    return printable(str(value))


def print_table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> None:
    if not rows:
        print("(none)")
        return
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    print("  ".join("-" * w for w in widths))
    for r in cells:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())


def _json_value(value: object) -> str:
    """Timestamps in ISO 8601 (with the T), anything else json does not know as its text."""
    isoformat = getattr(value, "isoformat", None)
    return isoformat() if callable(isoformat) else str(value)


def write_out(text: str) -> None:
    """Writes a long text (a SQL script, a JSON report) to stdout in pieces. Written at once, with
    PYTHONUNBUFFERED=1, a reader that went away part-way (`migrate --sql | psql` where psql fails) lost
    its EPIPE, and the command exited 0 with its output cut (docs review, twentieth session); piece by
    piece, it is a BrokenPipeError (exit 141)."""
    for start in range(0, len(text), 8192):
        sys.stdout.write(text[start:start + 8192])


def _dump_json(data: object) -> None:
    write_out(json.dumps(data, indent=2, default=_json_value) + "\n")


# ----------------------------------------------------------------- commands


def cmd_migrate(args: argparse.Namespace) -> int:
    from pyinstaller_tools import migrate  # (alembic and SQLAlchemy: a quarter second no other command needs)

    if args.sql:
        parts = args.revision.split(":")
        order = ["base", *migrate.revisions()]
        resolved = [p if p == "base" else migrate.resolve_revision(p) for p in parts]
        ranks = [order.index(r) for r in resolved if r in order]
        if args.revision.startswith("-") or parts[-1] == "base" or (
                len(parts) == 2 and len(ranks) == 2 and ranks[1] < ranks[0]):
            # (DBA walkthrough, thirty-eighth session: 0001:base rendered one SET and a note)
            raise ToolError(f"migrate --sql only renders upgrades (--revision {args.revision} would go down); to "
                            "remove catalog-sync, use catalog-sync uninstall --yes; its script to review: "
                            "catalog-sync uninstall --sql")
        # (DBA walkthrough, twenty-seventh session: alembic's own words here, ours online)
        for part, found in zip(parts, resolved, strict=True):
            if found is None:
                raise ToolError(f"unknown revision {part or repr(part)} (revisions: "
                                f"{', '.join(migrate.revisions())}, or head; --sql also renders FROM:TO, FROM may "
                                "be base)")
        if args.dsn:
            progress("note: --sql renders the revisions offline and reads no database (the DSN is not used); "
                     "for a database at an earlier revision, render --revision CURRENT:head")
        # the same bound on lock waits as the online path, for psql (rendered first: a bad revision
        # must not leave a script of one SET behind in a redirected file)
        script = migrate.offline_sql(args.revision)
        if not script.strip():
            progress(f"note: no revision to render for {args.revision} (nothing after it)")
        # (a single revision renders from base, as base:REVISION does)
        start = None if len(resolved) == 1 or resolved[0] == "base" else resolved[0]
        write_out(migrate.offline_script(args.lock_timeout, script, start))
        return EXIT_OK
    if args.revision == "base" or args.revision.startswith("-"):
        raise ToolError(f"migrate only upgrades (--revision {args.revision} would go down); to remove catalog-sync, "
                        "use catalog-sync uninstall --yes")
    target = migrate.resolve_revision(args.revision)
    if target is None:
        # (DBA re-walk, twenty-fifth session: as an installer, an unknown one was "needs a superuser")
        raise ToolError(f"unknown revision {args.revision or repr(args.revision)} "
                        f"(revisions: {', '.join(migrate.revisions())}, or head)")
    dsn = resolve_dsn(args.dsn)
    # A clear error for a bad DSN first. One migrate or uninstall at a time: the lock is the session's
    # (autocommit), held while alembic runs on its own connection.
    with connect(dsn, autocommit=True, lock_timeout=args.lock_timeout) as conn, \
            operations.migration_lock(conn, "migrate"):
        registry = conn.execute("SELECT to_regclass('public.tenants_tenant') IS NOT NULL").fetchone()
        superuser = operations.is_superuser(conn)
        installed = is_installed(conn)
        if installed and not superuser:   # (review, forty-fifth session: "permission denied for schema ...")
            operations.require_installer(conn, "migrate")
        before = _recorded_revision(conn, args.lock_timeout, "migrate")
        migrate.require_own_revision(before)
        if installed:
            if before == migrate.resolve_revision("head"):   # (an earlier build's install passed as this one's)
                operations.require_this_build(conn, "migrate", args.lock_timeout, at_head=True)
            operations.require_pinned(conn, "migrate", args.lock_timeout)   # (an upgrade runs its code as you)
        if not (registry and registry[0]):
            raise ToolError("public.tenants_tenant does not exist in this database: catalog-sync installs into the "
                            "application's database after django-tenants' migrations created the registry (wrong "
                            "database in --dsn?)")
        if before is None and installed:
            raise ToolError("catalog_sync is installed but alembic has no record of it (installed from catalog-sync "
                            "install-sql or db/ directly?); remove it with catalog-sync uninstall --yes (it drops the "
                            "catalogs too), then run migrate, attach --all and backfill")
        if before is not None and not installed:
            # (DBA walkthrough, thirty-eighth session: after db/uninstall.sql by hand, migrate said "already at
            # 0001: nothing to migrate" over a database with nothing installed)
            raise ToolError(f"public.alembic_version records revision {before}, but catalog_sync is not installed "
                            "(removed by hand with db/uninstall.sql?); nothing was changed: catalog-sync uninstall "
                            "--yes clears the record, then run migrate, attach --all and backfill")
        if not superuser and before != target:
            # (it failed part-way with "must be member of role catalog_sync_owner": docs review, twentieth session;
            # already at the target, there is nothing to do, and a deploy's migrate step passes)
            script = "catalog-sync migrate --sql" + (f" --revision {before}:{args.revision}" if before else "")
            raise ToolError(f"migrate needs a superuser to go from {before or 'base'} to {target} (it creates the "
                            f"machinery's roles and objects owned by them); nothing was changed: connect as one, or "
                            f"hand a DBA the script of {script}")
        if before != target:
            operations.require_writable(conn, "migrate")
            if installed:       # (review, forty-sixth session: on a subscriber, its rows are the publisher's)
                operations.require_not_subscribed(conn, "migrate")
        try:
            migrate.upgrade(dsn, args.revision, lock_timeout=args.lock_timeout)
        except KeyboardInterrupt:       # (DBA trial, forty-fourth session: only "terminated after 3.2s")
            progress("migrate: interrupted; a revision it had not committed rolled back (one transaction per "
                     "revision); run migrate again")
            raise
    # (a session of its own: the lock's may have been lost while alembic worked, and the migration stands)
    with connect(dsn, autocommit=True, lock_timeout=args.lock_timeout) as conn:
        after = _recorded_revision(conn, args.lock_timeout, "migrate",
                                   done=f"the migration to {args.revision} was applied")
    print(f"migrated: {before or 'base'} -> {after or 'base'}" if after != before
          else f"already at {after or 'base'}: nothing to migrate")
    return EXIT_OK


def _recorded_revision(conn: psycopg.Connection, lock_timeout: str, command: str,
                       done: str = "nothing was changed") -> str | None:
    """migrate.current() in the command's session, its wait for alembic's table bounded as every other."""
    from pyinstaller_tools import migrate

    try:
        return migrate.current(conn)
    except psycopg.errors.LockNotAvailable as exc:
        raise ToolError(f"{command}: public.alembic_version stayed locked longer than --lock-timeout {lock_timeout} "
                        f"({LONG_TRANSACTION}); {done}; run {command} again later, or with a larger "
                        "--lock-timeout") from exc


UNINSTALL_NEEDS = "uninstall (it drops the machinery's roles, schemas and every tenant's sync triggers)"
NOTHING_TO_UNINSTALL = "nothing to uninstall: catalog-sync is not installed in this database"


def cmd_uninstall(args: argparse.Namespace) -> int:
    from pyinstaller_tools import migrate  # (alembic and SQLAlchemy: a quarter second no other command needs)

    if args.sql:
        # (DBA walk-through, fortieth session: the only way to review the removal was plain alembic with
        # migrations/alembic.ini, a path of the repository that a pip install does not have)
        if args.dsn:
            progress("note: --sql renders the removal offline and reads no database (the DSN is not used); it "
                     "removes what migrate installed, at the last revision: "
                     f"{migrate.revisions()[-1]}")
        write_out(migrate.offline_script(args.lock_timeout, migrate.offline_downgrade_sql(), removal=True))
        return EXIT_OK
    if not args.yes:
        raise ToolError("uninstall drops the catalogs and every sync trigger; add --yes to confirm (--sql prints "
                        "its script instead)")
    dsn = resolve_dsn(args.dsn)
    # One migrate or uninstall at a time, and none while a backfill or repair runs (DBA trial, forty-first
    # session: uninstall dropped the machinery under a running backfill). The locks are the session's
    # (autocommit), held while alembic runs on its own connection.
    with connect(dsn, autocommit=True, lock_timeout=args.lock_timeout) as conn, \
            operations.migration_lock(conn, "uninstall", no_backfill=True):
        installed = is_installed(conn)
        if installed:           # (uninstall.sql calls the machinery's drop_triggers() as you)
            # (review, forty-fifth session: a non-superuser got "permission denied for schema catalog_sync_pin")
            operations.require_superuser(conn, UNINSTALL_NEEDS)
            # (db/uninstall.sql calls this build's functions: those only)
            operations.require_this_build(conn, "uninstall", args.lock_timeout, only=sqlfiles.called_functions(
                sqlfiles.uninstall_sql()) | {"catalog_sync.lock_for_tenant_change"})     # (and its chunks')
            operations.require_pinned(conn, "uninstall", args.lock_timeout)
        restricted = not scalar(conn, "SELECT has_function_privilege('public', "
                                      "'pg_catalog.pg_advisory_xact_lock(bigint)', 'EXECUTE')")
        superuser = operations.is_superuser(conn)
        has_version_table = scalar(conn, "SELECT to_regclass('public.alembic_version') IS NOT NULL")
        # What a removal by hand that stopped part-way leaves (the schema catalog_sync gone, these not).
        leftovers = None if installed else scalar(conn, MACHINERY_OBJECTS)
        if leftovers:
            # (DBA walkthrough, thirty-eighth session: db/uninstall.sql by hand that stopped part-way)
            raise ToolError(f"catalog_sync is gone but {leftovers} remain (a removal by hand that "
                            "stopped part-way?); nothing was changed: drop them as db/uninstall.sql does, then run "
                            "uninstall --yes again")
        if not installed and not superuser:
            # (review, fortieth session: the version table is a superuser's to read, and to clear)
            print(NOTHING_TO_UNINSTALL
                  + ("; public.alembic_version left unread (a superuser's uninstall --yes removes catalog-sync's "
                     "record of a revision from it, which migrate refuses until then, or drops it when empty)"
                     if has_version_table else ""))
            return EXIT_OK
        version = _recorded_revision(conn, args.lock_timeout, "uninstall")
        if version is not None and version not in migrate.revisions() and not installed:
            print(f"{NOTHING_TO_UNINSTALL} (public.alembic_version "
                  f"records {version}, another alembic project's revision: left alone)")
            return EXIT_OK
        migrate.require_own_revision(version)
        if version is None and not installed:
            # (DBA walk-through, fortieth session: plain alembic downgrade base left the table, empty)
            dropped, _ = migrate.drop_empty_version_table(dsn, args.lock_timeout)
            print(NOTHING_TO_UNINSTALL
                  + ("; alembic's empty public.alembic_version dropped (left by alembic downgrade base)"
                     if dropped else ""))
            return EXIT_OK
        # (DBA walkthrough, twenty-seventh session: an installer got "permission denied for table
        # attached_table" from the downgrade's first statement)
        operations.require_superuser(conn, UNINSTALL_NEEDS)
        operations.require_writable(conn, "uninstall")
        if installed:   # (review, forty-sixth session: the apply then looped on "target relation does not exist")
            operations.require_not_subscribed(conn, "uninstall")
        if not installed:
            # (DBA walkthrough, thirty-eighth session: db/uninstall.sql by hand left alembic's record, and
            # uninstall failed on the missing machinery)
            migrate.forget_version(dsn, args.lock_timeout)
            _, kept = migrate.drop_empty_version_table(dsn, args.lock_timeout)
            print(f"{NOTHING_TO_UNINSTALL}; alembic's record of "
                  f"revision {version} removed (left by an uninstall by hand?)"
                  + (f"; public.alembic_version kept: {kept}" if kept else ""))
        else:
            try:
                problem = operations.removal_dependents_problem(conn)
            except psycopg.errors.QueryCanceled as exc:
                # (a statement_timeout of the role over a large database: settings trial, forty-sixth session)
                raise ToolError(f"{error_text(exc)}; nothing was removed") from exc
            if problem:
                raise ToolError(f"{problem}; nothing was removed")
            # The tenants detached on purpose, which the removal forgets: named after it (DBA trial, forty-ninth
            # session: a re-install's attach --all attached them again, without a word). (The machinery's copy
            # of their schema names, which may lag a rename: the registry is the application's to change.)
            opted_out = [str(r[0]) for r in conn.execute(
                "SELECT t.schema_name FROM catalog_sync.tenant AS t "
                "WHERE t.detached_at IS NOT NULL AND t.detached_because IS NULL ORDER BY 1").fetchall()]
            # (what alembic downgrade base runs, with its locks taken in tries: operations.uninstall())
            operations.uninstall(conn, args.lock_timeout, progress,
                                 None if version is None else migrate.revisions())
            if opted_out:
                progress(f"note: the {len(opted_out)} opt-out(s) (tenants detached on purpose) are forgotten with "
                         f"the machinery: {', '.join(map(shlex.quote, opted_out))}; after a new migrate, run "
                         "catalog-sync detach for each before attach --all, or that attaches them again")
            if version is not None:
                _, kept = migrate.drop_empty_version_table(dsn, args.lock_timeout)
                if kept:
                    progress(f"notice: public.alembic_version kept: {kept}")
    if restricted and not installed:        # (else db/uninstall.sql said so, as a notice)
        progress("notice: the advisory-lock functions stay restricted (protect --restrict-advisory-locks): only "
                 "superusers and the roles granted them may call them; a later migrate grants them to the sync's "
                 "roles again; GRANT EXECUTE on them to PUBLIC gives them back (docs/operations.md, \"Uninstall\")")
    if installed:
        print("uninstalled: catalogs, machinery and sync triggers removed")
    return EXIT_OK


def _attach_dry_run(conn: psycopg.Connection, args: argparse.Namespace, schemas: list[str],
                    refused: list[str]) -> int:
    """attach --dry-run, after the pre-flight: what the run would do, with its exit status."""
    if args.tenant_role:
        operations.check_tenant_role(conn, schemas[0], args.tenant_role)
        # (DBA trial, thirty-ninth session: the dry run told the triggers, not the handover)
        print(f"dry run: {schemas[0]} and its tables would be handed to {args.tenant_role} (their owner), "
              f"{args.tenant_role}'s own CREATE/TEMP on the database revoked")
        _warn_without_protection(conn, args.tenant_role)
    already = list(operations.attach_states(conn, schemas).values()).count("attached")
    # (DBA walk-through, fortieth session: how many triggers an upgrade's attach would lock tables for)
    counts: Counter[str] = Counter()
    for by_state in operations.trigger_states_by_schema(conn, schemas).values():
        counts.update(by_state)
    print(f"dry run: {len(schemas)} schema(s) pass the pre-flight: {len(schemas) - already} would be "
          f"attached, {already} attached already; trigger(s): {counts['MISSING']} to create, "
          f"{counts['OUTDATED'] + counts['DISABLED']} to replace (outdated or not enabled always), "
          f"{counts['EXTRA']} to drop (not in the spec), {counts['INSTALLED']} up to date"
          + _registered_anew(operations.tables_to_register(conn, schemas), "to register anew"))
    if refused:          # the same exit status as the real run
        raise ToolError(f"dry run: {len(refused)} schema(s) refused (listed above): {_first(refused)}")
    return EXIT_OK


def _registered_anew(renew: dict[str, int], verb: str) -> str:
    """The tail of attach's summary for the tables it registers anew (operations.tables_to_register())."""
    if not renew:
        return ""
    return (f"; {sum(renew.values())} table(s) of {len(renew)} schema(s) {verb} (restored from a dump, or swapped "
            "in: verify's table_replaced)")


def _attach_report(args: argparse.Namespace, result: operations.AttachResult, schemas: list[str],
                   states: dict[str, str], left_alone: set[str], refused: list[str], renew: dict[str, int],
                   unfilled: list[str]) -> int:
    """attach's summary and what to do next; an error for the schemas left out (busy, refused). `unfilled`:
    schemas attached before this run and never backfilled."""
    renewed = _registered_anew({s: n for s, n in renew.items() if s not in result.busy}, "registered anew")
    if result.changed or result.busy:
        # (DBA trials: forty-first session, ", 5 schema(s) already up to date" read as 5 more; forty-fifth,
        # "N trigger(s) ..., 2 of them up to date already" read as 2 triggers, and the busy schema unsaid)
        busy = f", {len(result.busy)} busy (not attached, below)" if result.busy else ""
        print(f"attached {result.schemas} schema(s), {result.schemas_unchanged} of them up to date already{busy}: "
              f"{result.changed} trigger(s) created, replaced or dropped{renewed}")
    else:       # (DBA walk-through, fortieth session: "attached 4 schema(s): 0 trigger(s) ..." read as work done)
        print(f"up to date: {result.schemas + len(left_alone)} schema(s) attached already, their triggers "
              f"installed; no trigger created, replaced or dropped{renewed}")
    busy_schemas, changed = set(result.busy), set(result.changed_schemas)
    if result.opted_out:        # (chaos trial, forty-seventh session: attach --all re-attached them)
        print(f"left alone: {_first(result.opted_out)}, detached on purpose while this attach ran (an opt-out; "
              "`catalog-sync attach SCHEMA` attaches one again)")
    new = [s for s in schemas if states.get(s) != "attached" and s not in busy_schemas and s not in result.opted_out]
    # Not attached when this attach looked, and nothing to do when it came to them: another session attached
    # them meanwhile (a second attach at once read "up to date: ... attached already", then "run backfill").
    meanwhile = [s for s in new if s not in changed]
    new = [s for s in new if s in changed]
    if new:
        print(f"run `catalog-sync backfill` to publish the rows that existed before attach ({_first(new)})")
    if unfilled:
        print(f"attached before, and never backfilled ({_first(unfilled)}): run `catalog-sync backfill` to "
              "publish their rows")
    if meanwhile:
        # (review, forty-second session: also a schema restored with its sync triggers, never registered)
        print(f"sync triggers in place already ({_first(meanwhile)}: attached meanwhile by another session, or "
              "restored with their tables): run `catalog-sync backfill` to publish the rows that existed before")
    mended = [s for s in result.changed_schemas if states.get(s) == "attached"]
    if mended:
        # (DBA walkthrough, twenty-fifth session: after an upgrade that only replaced an outdated trigger, it
        # asked for a backfill that verify showed was not needed)
        print(f"triggers of attached schemas replaced ({_first(mended)}): run `catalog-sync verify`; a write made "
              "while one was missing or outdated shows there, and verify --repair re-syncs it")
    left_out = []
    if result.busy:
        left_out.append(f"{len(result.busy)} busy ({operations.lock_held('their tables', args.lock_timeout)}): "
                        f"{_first(result.busy)}; run the same attach again later, or with a larger --lock-timeout")
    if refused:
        left_out.append(f"{len(refused)} refused (listed above): {_first(refused)}; fix them, attach them as their "
                        "owner, or detach them (an opt-out)")
    if result.changed_meanwhile:
        left_out.append(f"{len(result.changed_meanwhile)} failed during this attach (each one's error above: renamed, "
                        "dropped or off the contract since the pre-flight, or a deadlock): "
                        f"{_first([s for s, _ in result.changed_meanwhile])}; run the same attach again")
    if left_out:
        raise ToolError("schema(s) not attached: " + "; ".join(left_out))
    return EXIT_OK


def cmd_attach(args: argparse.Namespace) -> int:
    if args.schemas and args.all:
        raise ToolError("name schemas or use --all, not both")
    if not (args.schemas or args.all):
        raise ToolError("name one or more schemas, or use --all")
    if args.tenant_role and (args.all or len(set(args.schemas)) != 1):
        raise ToolError("--tenant-role goes with exactly one schema")

    # every lock wait of the command bounded, the pre-flight's included
    with connect(args.dsn, autocommit=True, lock_timeout=args.lock_timeout) as conn, \
            contextlib.ExitStack() as held:
        same_server = _same_server(args.dsn, conn)

        def connect_bounded() -> psycopg.Connection:
            """A session of --jobs, on the first one's server."""
            return connect(same_server, autocommit=True, lock_timeout=args.lock_timeout)

        if args.tenant_role:
            operations.require_superuser(conn, "attach --tenant-role (it changes the owner of the schema and "
                                               "its tables, and the role's privileges)")
        operations.require_installed(conn, args.command, args.lock_timeout, writes=not args.dry_run)
        if not args.dry_run:
            held.enter_context(operations.no_migration(conn, "attach"))
        try:
            schemas = operations.attachable_schemas(conn) if args.all else list(dict.fromkeys(args.schemas))
            problems = operations.preflight(conn, schemas, jobs=args.jobs, connect=connect_bounded)
        except psycopg.errors.LockNotAvailable as exc:
            raise ToolError(f"the contract check waited longer than --lock-timeout {args.lock_timeout} for a lock "
                            "(DDL on the registry or a tenant's tables? see pg_stat_activity); nothing was "
                            "attached; run attach again later, or with a larger --lock-timeout") from exc
        if args.all and not schemas:     # (--all leaves out only tenants detached on purpose)
            progress(operations.NO_TENANT_SCHEMA if operations.tenant_counts(conn)[0] == 0 else
                     "note: every tenant schema of the registry is detached, on purpose or by the sync while a "
                     "contract table of it is gone (verify reports those: tenant_tables_gone): nothing to attach "
                     "(catalog-sync attach SCHEMA attaches one again)")
            return EXIT_OK      # (no summary after it: "up to date: 0 schema(s)" read as a contradiction)
        # A schema another role owns, where attach would change nothing (operations.up_to_date()), is left
        # alone, not refused; once attach has work there (an upgrade's OUTDATED triggers), it is refused again.
        owned_elsewhere = {schema for schema, problem in problems if problem.endswith(operations.NEEDS_OWNER)}
        refused_otherwise = {schema for schema, problem in problems if not problem.endswith(operations.NEEDS_OWNER)}
        left_alone = operations.up_to_date(conn, sorted(owned_elsewhere - refused_otherwise))
        if left_alone:
            problems = [(schema, problem) for schema, problem in problems if schema not in left_alone]
            schemas = [s for s in schemas if s not in left_alone]
            progress(f"note: {len(left_alone)} schema(s) of another owner left alone, attached and up to date: "
                     f"{_first(sorted(left_alone))}")
        texts = [problem for _, problem in problems]
        if problems and not args.skip_refused:
            shown = "; ".join(texts[:5]) + (f"; and {len(texts) - 5} more" if len(texts) > 5 else "")
            others = len({schema for schema, _ in problems}) < len(schemas)
            outcome = ("dry run: nothing would be attached" if args.dry_run else "nothing was attached") + (
                "" if not others else " (with --skip-refused, the others would be)" if args.dry_run
                 else " (--skip-refused attaches the others)")
            if any(CONTRACT_PROBLEM.search(text) for text in texts):
                # (DBA trial, thirty-ninth session: the contract's refusal named the problem, not the way out)
                outcome += ("; a table that differs from the contract: restore what the sync reads (docs/"
                            "operations.md, \"The columns the sync reads\"), or opt the tenant out with "
                            "catalog-sync detach SCHEMA")
            raise ToolError(f"cannot attach: {shown}; {outcome}")
        refused = sorted({schema for schema, _ in problems})
        for text in texts:
            progress(f"refused: {text}")
        refused_set = set(refused)       # (built once: in the comprehension, once a schema, 1.4 s at 10,000)
        schemas = [s for s in schemas if s not in refused_set]
        if refused and not schemas:
            raise ToolError(f"nothing to attach: every schema named was refused (listed above): {_first(refused)}")
        if args.dry_run:
            return _attach_dry_run(conn, args, schemas, refused)
        if args.tenant_role:
            try:
                remark = operations.secure_tenant_schema(conn, schemas[0], args.tenant_role, args.lock_timeout)
            except psycopg.errors.LockNotAvailable as exc:
                raise ToolError(f"{schemas[0]} not handed to {args.tenant_role}: "
                                f"{operations.lock_held('its tables', args.lock_timeout)}; "
                                "nothing was changed; run it again later") from exc
            revoked = "its own CREATE/TEMP on the database revoked" + (", not PUBLIC's (see the note)" if remark
                                                                       else "")
            print(f"{schemas[0]} now belongs to {args.tenant_role} ({revoked}; no access to the registry)")
            if remark:
                print(f"note: {remark}", file=sys.stderr)
            _warn_without_protection(conn, args.tenant_role)
        states = operations.attach_states(conn, schemas)
        # (crash trial, forty-eighth session: run again after an attach that stopped, it named too few, or none)
        unfilled = operations.never_backfilled(conn, [s for s in schemas if states.get(s) == "attached"])
        renew = operations.tables_to_register(conn, schemas)
        result = operations.AttachResult()
        try:
            operations.attach(conn, schemas, args.chunk_size, progress, jobs=args.jobs, connect=connect_bounded,
                              lock_timeout=args.lock_timeout, result=result, keep_opt_outs=args.all)
        except (ToolError, psycopg.Error) as exc:
            # Chunks commit on their own: say what was attached before the error (DBA trial, thirty-ninth
            # session: a worker refused a connection ended the command with that error alone).
            if isinstance(exc, operations.RegistryBusy):   # (it says so itself)
                raise
            text = error_text(exc)
            if isinstance(exc, psycopg.errors.OutOfMemory) and "max_locks_per_transaction" in text:
                # (DBA trial, forty-first session: the fix docs/operations.md gives was not in the message)
                text += (f"; or attach with a smaller --chunk-size than {args.chunk_size} (a chunk holds the locks "
                         "of its schemas' tables until it commits)")
                if not result.schemas:
                    raise ToolError(f"{text}; nothing was attached") from exc
            if not result.schemas:
                raise
            busy = f", {len(result.busy)} skipped as busy" if result.busy else ""
            # (DBA trial, forty-first session: the run again then advised a backfill of its own schemas only)
            raise ToolError(f"{text}; {result.schemas} of {len(schemas)} schema(s) were attached before that{busy} "
                            "(each chunk commits on its own; they stay attached): fix the error, then run attach "
                            "again, and catalog-sync backfill for the schemas attached") from exc
        except KeyboardInterrupt:   # (Ctrl-C or SIGTERM: crash trial, forty-eighth session, said nothing of it)
            if result.schemas:
                progress(f"attach: interrupted; {result.schemas} of {len(schemas)} schema(s) were attached before "
                         "that (each chunk commits on its own; they stay attached): run attach again, then "
                         "catalog-sync backfill")
            raise
    return _attach_report(args, result, schemas, states, left_alone, refused, renew, unfilled)


# A problem of schema_problems() with a tenant table ("s.ats_jobposting: column ... is missing", "s.ats_jobcategory
# is missing"), not with the schema's name or registration.
CONTRACT_PROBLEM = re.compile(r"^(?!role )[^:]*?\.(ats|services)_\w+(: | is missing$)")


def _first(names: Sequence[str], count: int = 5) -> str:
    names = sorted(names)
    return ", ".join(names[:count]) + (f" and {len(names) - count} more" if len(names) > count else "")


def cmd_detach(args: argparse.Namespace) -> int:
    with connect(args.dsn, lock_timeout=args.lock_timeout) as conn, contextlib.ExitStack() as held:
        operations.require_installed(conn, args.command, args.lock_timeout, writes=not args.dry_run)
        if not args.dry_run:
            held.enter_context(operations.no_migration(conn, "detach"))
        rows: tuple[int, int, int] | None = None
        refusal: str | None = None
        try:          # what it reads first: the registry and the machinery's tables
            before = operations.detach_state(conn, args.schema)
            if before == "unknown" and not args.dry_run:
                # (refuses a name of nothing, naming a near one; and a role that may not detach it)
                refusal = operations.detach_preview(conn, args.schema)[1]
                if refusal:
                    raise ToolError(refusal)
            if args.dry_run:       # no DROP TRIGGER: no lock on the tenant's tables, no wait for its writers
                # (DBA trial, forty-ninth session: an installer not owning the tables got the refusal only,
                # no preview: now the preview, then the refusal the real run would meet, exit 2 as it)
                dropped, refusal = operations.detach_preview(conn, args.schema)
                if args.purge:     # (DBA walkthrough, twenty-fifth session: how many rows would go)
                    rows = operations.catalog_rows(conn, args.schema)
                conn.rollback()
        except psycopg.errors.LockNotAvailable as exc:
            # (docs review, thirty-eighth session: this was the server's bare "canceling statement due to
            # lock timeout", where every other command names the option and pg_stat_activity)
            raise ToolError(operations.registry_busy(args.lock_timeout, "detach") + "; nothing was changed"
                            ) from exc
        if not args.dry_run:
            conn.commit()       # (the reads above; detach's transaction is its own: operations.detach())
            try:
                dropped, rows, before = operations.detach(conn, args.schema, args.purge, args.lock_timeout,
                                                          progress=progress)
            except operations.LocksNotTaken as exc:
                # (concurrency trial, fifty-second session: an open write of its registry row held it, unnamed)
                locked = ("its tables, or the tenant's lock (its writes in progress, its registry row's included, or "
                          "an attach of it)")
                raise ToolError(f"{args.schema} not detached: {operations.locks_not_taken(locked, args.lock_timeout)}; "
                                "nothing was changed; run detach again later, or with a larger --lock-timeout"
                                ) from exc
    purge = ""
    if args.purge:
        # (DBA walk-through, fortieth session: the purge itself said no count, its dry run did)
        if rows is None:
            purge = " and purge its catalog rows"
        else:
            total, counts = sum(rows), f"(jobs {rows[0]}, providers {rows[1]}, services {rows[2]})"
            purge = (f" and purge its {total} catalog row(s) {counts}" if args.dry_run
                     else f"; {total} catalog row(s) purged {counts}")
    if before == "attached":
        print(f"dry run: would drop {dropped} trigger(s) from {args.schema}{purge}" if args.dry_run else
              f"detached {args.schema}: {dropped} trigger(s) dropped"
              + (purge or "; catalog rows kept: still public, and no longer synced (a row made private stays "
                          f"listed; `catalog-sync detach --purge {args.schema}` removes them)"))
    elif before == "unknown":
        # (detach refuses a schema it knows nothing of, unless sync triggers are left on it)
        # (--purge: its catalog rows went with its registry row, whose delete cascades; mutation review,
        # fiftieth session: the option went without a word)
        print(f"{'dry run: ' if args.dry_run else ''}{args.schema} is no tenant (not in the registry): "
              f"{'would drop' if args.dry_run else 'dropped'} {dropped} sync trigger(s) left on its tables"
              + ("; no catalog row to purge (a tenant's go with its registry row)" if args.purge else ""))
    elif before in ("detached", "detached by the sync"):
        left = (f"{'would drop' if args.dry_run else 'dropped'} {dropped} sync trigger(s) left on its tables"
                if dropped else "no trigger to drop")
        if args.purge:      # (its own clause: "no trigger to drop and purge ..." read as one thing not done)
            left += f"; would{purge.removeprefix(' and')}" if args.dry_run else purge
        if before == "detached by the sync":    # (after a source table was gone: not an opt-out until now)
            left = (f"{'would mark' if args.dry_run else 'marked'} it detached on purpose (verify and attach --all "
                    f"skip it); {left}")
            print(f"{'dry run: ' if args.dry_run else ''}{args.schema} was detached by the sync (why: status "
                  f"--json, detached_because): {left}")
        else:
            print(f"{'dry run: ' if args.dry_run else ''}{args.schema} is detached already: {left}")
    else:
        # Not an error: marking a tenant that is not attached is how a DBA opts it out.
        done = "would mark it" if args.dry_run else "marked it"
        # (review, forty-eighth session: sync triggers of a tenant never attached, restored from a dump, say)
        left = f"; {'would drop' if args.dry_run else 'dropped'} {dropped} sync trigger(s) left on its tables" \
            if dropped else ""
        print(f"{'dry run: ' if args.dry_run else ''}{args.schema} was not attached: {done} detached on purpose "
              f"(verify and attach --all skip it; `catalog-sync attach {args.schema}` undoes that){left}{purge}")
    if refusal:
        raise ToolError(f"dry run: the detach itself would be refused: {refusal}")
    return EXIT_OK


def cmd_backfill(args: argparse.Namespace) -> int:
    # (every lock wait bounded: the registry read below, and each tenant's transaction)
    with connect(args.dsn, autocommit=True, lock_timeout=args.lock_timeout) as conn, \
            _sessions(args, conn, holds_lock=True) as sessions:
        operations.require_installed(conn, args.command, args.lock_timeout, writes=not args.dry_run)
        tenants = operations.resolve_tenants(conn, args.tenant, "backfill", args.lock_timeout)
        if not tenants:
            progress(operations.no_tenant_note(conn) or "note: no tenant to backfill")
        # A dry run writes nothing: it may run beside a backfill (each tenant's lock orders them), not
        # during a migrate or uninstall (DBA trial, forty-fifth session: refused as a second backfill). It
        # checks for them at its start only: held, their lock kept a deploy's migrate out for the whole
        # dry run (review, same session).
        if args.dry_run:
            with operations.no_migration(conn, "backfill"):
                pass
        with contextlib.nullcontext() if args.dry_run else operations.backfill_lock(conn):
            report = operations.backfill(sessions, tenants, args.dry_run, args.lock_timeout, progress,
                                         args.catalog, quiet=args.quiet)
            if report["total"]["inserted"] and not args.dry_run:
                operations.analyze_catalogs(sessions.conn, progress)
    if args.json:
        _dump_json(report)
    else:
        print_table(report["tenants"],
                    ["schema", "source_rows", "eligible", "inserted", "updated", "removed", "seconds", "error"])
        if report["tenants"]:     # (DBA trial, forty-ninth session: a sum beside status's jobs, with no word)
            which = (f"the {args.catalog} catalog" if args.catalog
                     else "the three catalogs together: jobs, providers, services")
            print(f"(rows of {which}; --json gives each catalog's)")
        total = report["total"]
        print(f"total: {total['tenants']} tenant(s), {total['inserted']} inserted, {total['updated']} updated, "
              f"{total['removed']} removed, {total['ineligible']} not eligible, "
              + (f"{total['tenants_skipped']} tenant(s) skipped (detached or deleted since the run began), "
                 if total["tenants_skipped"] else "")
              + f"{total['errors']} error(s), {total['seconds']:.3f}s"
              + (" (dry run: nothing written)" if args.dry_run else ""))
    failed = [t["schema"] for t in report["tenants"] if t.get("error")]
    if failed:
        _failed_tenants_line("backfill", failed, "the others committed" if not args.dry_run else "a dry run",
                             where='each one\'s "error"' if args.json else "the error column",
                             reasons=[t["error"] for t in report["tenants"] if t.get("error")])
        return EXIT_ERROR
    return EXIT_OK


def _failed_tenants_line(command: str, schemas: Sequence[str], others: str, where: str = "the error column",
                         reasons: Sequence[str] = ()) -> None:
    """The convention's one error line, after the report, when some tenants failed; `where` is where the
    report gives each one's reason (it differs between the text and the --json output). A statement
    timeout fails again on a second run: the line then says what to change (DBA trial, thirty-ninth
    session)."""
    again = "run it again for them (--tenant)"
    if any("statement timeout" in (reason or "") for reason in reasons):
        again = f"{STATEMENT_TIMEOUT_HINT.removeprefix('hint: ')}; then {again}"
    line = (f"catalog-sync: error: {command} failed for {len(schemas)} tenant(s): {_first(schemas)} (see "
            f"{where}; {others}); {again}")
    print(printable(line), file=sys.stderr)     # (schema names may hold control characters)


def _same_server(dsn: str | None, first: psycopg.Connection) -> str:
    """The DSN, with the host, port and address of `first`'s server: a DSN of several hosts, or a name that
    fails over, could give a later session another one (review, forty-second session)."""
    try:
        hostaddr = first.info.hostaddr
    except psycopg.NotSupportedError:       # (a libpq older than 12)
        hostaddr = ""
    return psycopg.conninfo.make_conninfo(resolve_dsn(dsn), host=first.info.host, port=str(first.info.port),
                                          **({"hostaddr": hostaddr} if hostaddr else {}))


def _sessions(args: argparse.Namespace, first: psycopg.Connection, holds_lock: bool = False) -> operations.Sessions:
    """The sessions of a run over tenants (operations.Sessions), a new one every so many tenants: on the
    server of its first session (_same_server()), and checked against the pin as the first was."""
    pinned: list[str] = []

    def reconnect() -> psycopg.Connection:
        if not pinned:      # (read at the first hand-over, while the first session is still open)
            pinned.append(_same_server(args.dsn, first))
        try:
            session = connect(pinned[0], autocommit=True, lock_timeout=args.lock_timeout)
        except ToolError as exc:
            raise operations.NoNewSession(str(exc)) from exc
        try:
            try:
                problem = operations.machinery_problem(session, args.command, args.lock_timeout)
            except ToolError as exc:    # (busy: a catalog's VACUUM FULL, say; review, forty-third session)
                raise operations.NoNewSession(str(exc)) from exc
            if problem:
                raise ToolError(problem)
        except BaseException:
            session.close()
            raise
        return session

    return operations.Sessions(first, reconnect, progress, args.command, holds_lock)


def _note_subscription(conn: psycopg.Connection) -> None:
    """On a subscriber of the catalogs (logical replication), what verify, status and audit report of the
    registrations is expected there: said first."""
    note = operations.subscription_note(conn)
    if note:
        progress(note)


def cmd_verify(args: argparse.Namespace) -> int:
    with connect(args.dsn, autocommit=True, lock_timeout=args.lock_timeout) as conn, _sessions(args, conn) as sessions:
        operations.require_installed(conn, "verify --repair" if args.repair else args.command, args.lock_timeout,
                                     writes=args.repair)
        if args.repair:
            # Refused now, not after a whole verify (DBA trial, forty-first session); repair takes the lock
            # for its repairs only, and a backfill may start during the closing verify.
            with operations.backfill_lock(conn), operations.no_migration(conn, "verify --repair"):
                pass
        tenants = operations.resolve_tenants(conn, args.tenant, "verify", args.lock_timeout) if args.tenant else None
        _note_subscription(conn)
        findings = operations.verify(sessions, tenants, progress, args.lock_timeout)
        repaired: list[str] = []
        left: list[str] = []
        unrepaired: list[str] = []
        if findings and args.repair:
            # (in the run's current session: the first may be closed by now)
            # (its attach and detach, as attach's and detach's own: not while a migrate changes what they
            # install; code review, forty-seventh session)
            try:
                with operations.no_migration(sessions.conn, "verify --repair"):
                    repaired, left, unrepaired = operations.repair(sessions.conn, findings, progress,
                                                                   args.lock_timeout)
            except operations.RunBusy as exc:
                # (concurrency trial, fifty-second session: a backfill or repair, or a migrate, that began during
                # the verify made it exit 2 with the up-front refusal's message, its findings never shown)
                left = [f"not repaired ({exc.what} began during this verify{exc.holder}): run verify --repair "
                        "again once it ends"]
            try:
                if repaired:    # (nothing repaired: the findings stand; a second verify only waited again)
                    operations.analyze_catalogs(sessions.conn, progress)
                    findings = operations.verify(sessions, tenants, progress, args.lock_timeout)
            except (ToolError, psycopg.Error) as exc:
                if not repaired:
                    raise
                # (red team, forty-third session: the report of what was repaired was lost)
                why = error_text(exc)
                raise ToolError(f"{why}; the {len(repaired)} repair(s) before it stay committed (run verify "
                                "again to see what is left)") from exc
            except KeyboardInterrupt:   # (crash trial, forty-eighth session: only "interrupted after Ns")
                if repaired:
                    progress(f"verify --repair: interrupted in its closing verify; the {len(repaired)} repair(s) "
                             "before it stay committed (run verify again to see what is left)")
                raise
        if args.catalog:
            findings = [f for f in findings if f["catalog"] in (None, args.catalog)]
        note = (None if findings or args.tenant or repaired or left
                else operations.no_tenant_note(sessions.conn))
    if note:
        progress(note)
    if args.json:
        _dump_json({"clean": not findings, "findings": findings,
                    "repaired": repaired, "not_repaired": left})
    else:
        for line in repaired:       # (names a tenant chose: red team, fiftieth session)
            print(f"repaired: {printable(line)}")
        for line in left:
            print(printable(line))
        if findings:
            summary = Counter(str(f["problem"]) for f in findings)
            print_table(findings[:200], ["problem", "schema", "catalog", "key", "detail"])
            if len(findings) > 200:
                print(f"... {len(findings) - 200} more (use --json for all)")
            # (DBA trial, forty-ninth session: a tenant whose check failed read as "drift: error 1")
            drift = ", ".join(f"{k} {v}" for k, v in sorted(summary.items()) if k != "error")
            print((f"drift: {drift}" if drift else "")
                  + ("; " if drift and "error" in summary else "")
                  + (f"not verified: {summary['error']} tenant(s) (error)" if "error" in summary else ""))
            if "trigger_disabled" in summary:
                # (DBA walkthrough, twenty-fifth session: `ENABLE TRIGGER x` left x "disabled" without a word why;
                # fortieth: the registry's triggers need a superuser, not the role that was just refused)
                registry = any(f["problem"] == "trigger_disabled" and f["tenant_id"] is None for f in findings)
                who = ("a superuser for those of public.tenants_tenant, as the tables' owner for a tenant's"
                       if registry else "the tables' owner")
                progress("note: trigger_disabled is any state but ENABLE ALWAYS, also a plain ENABLE (such a "
                         "trigger does not fire under session_replication_role = replica); fix: verify --repair as "
                         f"{who}, or ALTER TABLE ... ENABLE ALWAYS TRIGGER name")
            if "missing" in summary:
                # (what a tenant attached and never backfilled, or whose backfill stopped, looks like)
                progress("note: missing rows are eligible source rows without their catalog row: a tenant "
                         "attached but never backfilled (or whose backfill stopped before it), or rows written "
                         "while its triggers were off; fix: catalog-sync backfill"
                         + _tenant_options(f["schema"] for f in findings if f["problem"] == "missing")
                         + ", or verify --repair")
            drifted = [k for k in ("stale", "orphan") if k in summary]
            if drifted:     # (DBA trial, fiftieth session: 67 stale rows after a rewrite, and no word why)
                progress(f"note: {' and '.join(drifted)} rows differ from the projection of their sources (stale: "
                         "a column differs; orphan: no eligible source row): changes the triggers did not see, "
                         "such as writes while they were disabled, DDL that rewrote a table with protect off or "
                         "run by an installer (a column's type or precision changed), or catalog rows written by "
                         "hand; fix: catalog-sync backfill"
                         + _tenant_options(f["schema"] for f in findings if f["problem"] in drifted)
                         + ", or verify --repair")
            not_attached = [f["schema"] for f in findings if f["problem"] == "tenant_not_attached"
                            and not operations.stopped_by_uninstall(f)]
            if not_attached:    # (crash trial, forty-eighth session: backfill alone left them, with no word)
                # (not --all where an uninstall stopped part-way: it would undo that too; review)
                uninstalling = len(not_attached) < summary["tenant_not_attached"]
                progress("note: tenant_not_attached tenants have no sync triggers (never attached, or detached by "
                         "the sync); fix: catalog-sync attach"
                         + (_tenant_options(not_attached, None, len(not_attached) if uninstalling else 5)
                            or " --all")
                         + ", then catalog-sync backfill; or verify --repair"
                         # (DBA trial, forty-ninth session: advised for schemas whose attach was just refused)
                         + ("; a schema whose attach was refused above needs what its refusal names fixed first"
                            if any(line.startswith("not repaired (attach refused") for line in left) else ""))
            if "tenant_tables_gone" in summary:   # (DBA trial, forty-ninth session: verify was clean)
                progress("note: tenant_tables_gone tenants are off the catalogs: the sync detached them when a "
                         "contract table was gone (a migration's DeleteModel, a dropped schema; or an uninstall "
                         f"stopped part-way, as the detail says), and one still is; fix: {operations.TABLES_STILL_GONE}"
                         " (an uninstall stopped part-way: finish it, or undo it, as the detail says)")
            if "expired" in summary:
                # (DBA walk-through, fortieth session: the cheap fix was not named)
                progress("note: expired rows are jobs whose application deadline passed since their last write "
                         "(nothing fires then); fix: catalog-sync expire, which removes just those (run it on a "
                         "schedule), or verify --repair")
            per_tenant = Counter(f["schema"] or (f"tenant {f['tenant_id']}" if f["tenant_id"] is not None
                                                 else "(global)") for f in findings)
            if len(per_tenant) > 1:       # (the table above shows the first 200 findings only)
                ranked = sorted(per_tenant.items(), key=lambda item: (-item[1], item[0]))
                print("by tenant: " + ", ".join(f"{name} {count}" for name, count in ranked[:10])
                      + (f", and {len(ranked) - 10} more" if len(ranked) > 10 else ""))
        elif args.catalog or args.tenant:   # (say what was compared, not more)
            what = f"the {args.catalog} catalog" if args.catalog else "the catalogs"
            whom = f" of {', '.join(dict.fromkeys(args.tenant))}" if args.tenant else ""
            verb = "equals" if args.catalog else "equal"
            print(f"clean: {what}{whom} {verb} the projection of the sources; their triggers installed")
        else:
            print("clean: the catalog equals the projection of the sources; all triggers installed")
    failed = list(dict.fromkeys(f["schema"] or "(global)" for f in findings if f["problem"] == "error"))
    if failed:
        _failed_tenants_line("verify", failed, "the others were verified",
                             where='the "detail" of each one\'s "error" finding' if args.json else
                             "the detail of each one's error finding",
                             reasons=[f["detail"] for f in findings if f["problem"] == "error"])
        return EXIT_ERROR
    if unrepaired:
        _failed_tenants_line("verify --repair", unrepaired, "the others were repaired",
                             where='"not_repaired"' if args.json else "the not repaired lines above")
        return EXIT_ERROR
    return EXIT_DRIFT if findings else EXIT_OK


def _tenant_options(schemas: Iterable[str | None], option: str | None = "--tenant", shown: int = 5) -> str:
    """' --tenant S' for each of a few schemas, for a fix to copy (`option` None: the names as arguments,
    after ' --' where one reads as an option); more of them: none (all tenants)."""
    names = list(dict.fromkeys(s for s in schemas if s))
    if not names or len(names) > shown:
        return ""
    if option is None:
        return (" --" if any(name.startswith("-") for name in names) else "") + "".join(
            f" {shlex.quote(name)}" for name in names)
    return "".join(f" {option} {shlex.quote(name)}" for name in names)


def cmd_expire(args: argparse.Namespace) -> int:
    with connect(args.dsn, autocommit=True, lock_timeout=args.lock_timeout) as conn:
        operations.require_installed(conn, args.command, args.lock_timeout, writes=not args.dry_run,
                                     reads_registry=False)
        count = operations.expire(conn, args.dry_run, args.lock_timeout)
    if args.json:
        _dump_json({"expired": count, "dry_run": args.dry_run})
    else:
        print(f"{'dry run: would remove' if args.dry_run else 'removed'} {count} job(s) whose application "
              "deadline has passed")
    return EXIT_OK


def attach_state(row: dict[str, Any]) -> str:
    """status's attach column: a detach on purpose is an opt-out; the sync's own (a source table was gone)
    is not, and verify reports that tenant once its tables are back."""
    if row["attached"]:
        return "attached"
    if row["detached"]:
        return "detached by sync" if row.get("detached_because") else "detached"
    return "never"


def print_status(rows: Sequence[dict[str, Any]]) -> None:
    """operations.status() as a table narrow enough for a terminal (--json has every field)."""
    def pair(eligible: int | None, in_catalog: int | None) -> str:
        return f"{'-' if eligible is None else eligible}/{'-' if in_catalog is None else in_catalog}"
    print_table([{"schema": r["schema"], "tenant": r["tenant_status"],
                  "attach": attach_state(r),
                  "triggers": r["triggers"],
                  "jobs": pair(r["eligible"], r["catalog_rows"]),
                  "providers": pair(r["eligible_providers"], r["provider_rows"]),
                  "services": pair(r["eligible_services"], r["service_rows"]),
                  "last_synced_at": r["last_synced_at"], "error": r.get("error")} for r in rows],
                ["schema", "tenant", "attach", "triggers", "jobs", "providers", "services", "last_synced_at"]
                + (["error"] if any(r.get("error") for r in rows) else []))
    if rows:
        print("jobs, providers, services: eligible now / rows in the catalog (-: not counted)")
    # (DBA trial, forty-ninth session: the states were not explained)
    legend = {"detached": "detached: opted out (catalog-sync detach; attach SCHEMA undoes it)",
              "detached by sync": "detached by sync: a source table was gone, or an uninstall stopped part-way "
                                  "(why: status --json, detached_because; verify reports it)",
              "never": "never: not attached (a tenant schema: catalog-sync attach, then backfill; the public "
                       "tenant's, without the tenant tables, never is)"}
    shown = [text for state, text in legend.items() if any(attach_state(r) == state for r in rows)]
    if shown:
        print("attach: " + "; ".join(shown))


def _warn_without_protection(conn: psycopg.Connection, role: str) -> None:
    if not operations.protection_on(conn):
        print(f"warning: catalog-sync protect is off: {role} owns its tables (or will) and can add an index or "
              "statistics over its own code between the sync's contract check and its read, which then run as "
              "catalog_sync_owner; run `catalog-sync protect --restrict-advisory-locks` (docs/security.md"
              "#the-check-then-read-race-and-the-window-that-remains)", file=sys.stderr)


# The tenants status names with their reasons on stderr (the report has every one).
STATUS_ERRORS_SHOWN = 10


def cmd_status(args: argparse.Namespace) -> int:
    with connect(args.dsn, autocommit=True, lock_timeout=args.lock_timeout) as conn, _sessions(args, conn) as sessions:
        operations.require_installed(conn, args.command, args.lock_timeout)
        _note_subscription(conn)
        rows = operations.status(sessions, args.lock_timeout, progress, schemas=args.tenant)
    failed = [r for r in rows if r.get("error")]
    if args.json:
        _dump_json(rows)
    else:
        print_status(rows)
    if failed:
        if len(failed) == 1:
            progress(f"status: 1 tenant(s) not read: {failed[0]['schema']}; {failed[0]['error']}")
            return EXIT_ERROR
        # Each tenant with its own reason: one tenant's (a lock, say) is not another's (a contract change).
        progress(f"status: {len(failed)} tenant(s) not read, each for its own reason:")
        for r in failed[:STATUS_ERRORS_SHOWN]:
            progress(f"  {r['schema']}: {r['error']}")
        if len(failed) > STATUS_ERRORS_SHOWN:
            where = 'each one\'s "error"' if args.json else "the error column"
            progress(f"  and {len(failed) - STATUS_ERRORS_SHOWN} more: see {where}")
        return EXIT_ERROR
    return EXIT_OK


def cmd_audit(args: argparse.Namespace) -> int:
    with connect(args.dsn, autocommit=True, lock_timeout=args.lock_timeout) as conn:
        operations.require_installed(conn, "audit", pinned=False)   # (reported below, as a finding)
        _note_subscription(conn)
        problem = operations.machinery_problem(conn, "audit", args.lock_timeout)
        # A changed machinery is the one finding: catalog_sync.audit() is part of it, and a version
        # that is no longer a definer would run as you (review, seventeenth session). So is one of an
        # earlier build, whose audit() does not check what this build's does (crash trial, forty-seventh).
        missing = [] if problem else operations.missing_functions(conn)
        outdated = operations.this_build_problem("audit", missing)
        if problem:
            findings = [{"severity": "high", "check_name": "machinery_changed", "object": "catalog_sync",
                         "detail": problem}]
        else:   # (an earlier build's audit() is as pinned: what it finds is still reported; review)
            findings = [{"severity": "high", "check_name": "machinery_outdated", "object": "catalog_sync",
                         "detail": outdated}] if outdated else []
            if "catalog_sync.audit" not in missing:
                if "catalog_sync.lock_tenant_tables" not in missing:
                    operations.wait_for_registry(conn, "audit", args.lock_timeout)
                findings += operations.audit(conn, args.lock_timeout)
    high = [f for f in findings if f["severity"] == "high"]
    if args.json:
        _dump_json({"clean": not findings, "high": len(high), "findings": findings})
    elif findings:
        print_table(findings, ["severity", "check_name", "object", "detail"])
        print(f"audit: {len(high)} high, {len(findings) - len(high)} other finding(s)")
    else:
        print("audit: clean (the live database matches the security model)")
    return EXIT_DRIFT if high else EXIT_OK


PROTECT_WRITES = ("sets the event triggers that write the catalogs and the registry when a tenant's tables "
                  "change (a purge, a re-sync)")


def cmd_protect(args: argparse.Namespace) -> int:
    if args.off and args.restrict_advisory_locks:
        raise ToolError("--off removes the protection and gives the advisory locks back; "
                        "it cannot go with --restrict-advisory-locks")
    with connect(args.dsn, autocommit=True, lock_timeout=args.lock_timeout) as conn:
        # event triggers and grants on pg_catalog's functions; for a revoke or grant it does not
        # own, PostgreSQL only warns, so --off would report a change it did not make
        operations.require_superuser(conn, "protect (event triggers, grants on pg_catalog functions)")
        # (it writes no row itself: its event triggers do; DBA trial, forty-ninth session)
        operations.require_installed(conn, args.command, args.lock_timeout, writes=True,
                                     writes_how=PROTECT_WRITES, reads_registry=False)
        count = None
        try:
            with conn.transaction():            # all or nothing
                row = conn.execute("SELECT catalog_sync.set_protection(%s)", (not args.off,)).fetchone()
                if args.restrict_advisory_locks or args.off:
                    count = conn.execute("SELECT catalog_sync.restrict_advisory_locks(%s)",
                                         (not args.off,)).fetchone()
        except psycopg.errors.LockNotAvailable as exc:
            raise ToolError(f"protect: {operations.lock_held('an event trigger', args.lock_timeout)}"
                            "; nothing was changed; run protect again later, or with a larger --lock-timeout"
                            ) from exc
        print(row[0] if row else "")
        if count is not None:
            state = "restricted to the machinery and application roles" if not args.off else "back to PUBLIC"
            print(f"advisory-lock functions ({count[0]}) {state}")
        if not args.off:
            # (DBA walkthrough, twenty-fifth session: with the application role an installer, as "Who runs
            # what" suggests for attaching from its hook, every documented refusal passed unchecked)
            owner = conn.execute(
                "SELECT pg_catalog.quote_ident(r.rolname), r.rolsuper, "
                "pg_catalog.pg_has_role(r.oid, 'catalog_sync_installer', 'MEMBER') FROM pg_catalog.pg_class c "
                "JOIN pg_catalog.pg_roles r ON r.oid = c.relowner "
                "WHERE c.oid = 'public.tenants_tenant'::pg_catalog.regclass").fetchone()
            if owner and (owner[1] or owner[2]):
                what = ("is a superuser, and protect does not check superusers" if owner[1] else
                        "is a member of catalog_sync_installer (directly or through another role), and protect "
                        "does not check installers")
                fix = ("" if owner[1] else
                       " To have them checked, take that membership away from it and run catalog-sync as a separate "
                       f"login role granted catalog_sync_installer and {owner[0]} (attach needs the tables' owner).")
                progress(f"note: {owner[0]}, the owner of public.tenants_tenant (the application role), {what}: the "
                         f"application's migrations pass unchecked.{fix} (docs/operations.md, Protect)")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from pyinstaller_tools import demo

    if args.tenants > len(demo.TENANTS):
        raise ToolError(f"--tenants {args.tenants}: the demo has {len(demo.TENANTS)} sample tenants")
    return demo.run(dsn=args.dsn, keep=args.keep, tenants=args.tenants, jobs=args.jobs)


def cmd_install_sql(args: argparse.Namespace) -> int:
    from pyinstaller_tools import sqlfiles

    write_out(sqlfiles.install_script())
    return EXIT_OK


# ------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="catalog-sync",
        allow_abbrev=False,     # --pu is not --purge, --y is not --yes
        description="Publish the public rows of every tenant schema into the shared catalogs.",
        epilog="Connection: --dsn, else CATALOG_SYNC_DSN, else DATABASE_URL, else libpq's PG* variables "
               "(demo: only --dsn). "
               "Exit codes: 0 ok, 1 drift found (verify) or a high finding (audit), 2 error, "
               "130 interrupted (Ctrl-C), 141 the reader of stdout went away (| head), 143 terminated "
               "(SIGTERM).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, func: Callable[[argparse.Namespace], int], help_text: str,
            connects: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text, allow_abbrev=False)
        if connects:
            p.add_argument("--dsn", default=os.environ.get("CATALOG_SYNC_DSN"), type=_dsn,
                           help="libpq connection string or URL (env CATALOG_SYNC_DSN, else DATABASE_URL, else PG*)")
        p.set_defaults(func=func)
        return p

    p = add("migrate", cmd_migrate, "install or upgrade the machinery (alembic upgrade head)")
    p.add_argument("--revision", default="head", help="target revision (default: head)")
    p.add_argument("--sql", action="store_true", help="print the SQL script instead of running it (offline)")
    _add_lock_timeout(p, operations.DDL_LOCK_TIMEOUT, "a lock (a revision that waits longer rolls back)")

    p = add("uninstall", cmd_uninstall, "remove catalogs, machinery and every sync trigger (alembic downgrade base)")
    p.add_argument("--yes", action="store_true", help="confirm")
    p.add_argument("--sql", action="store_true",
                   help="print the removal's SQL script instead of running it (offline; for review)")
    _add_lock_timeout(p, operations.DDL_LOCK_TIMEOUT,
                      "each transaction's locks (the registry, the tenants' tables, the catalogs), taken in "
                      "tries (longer: it stops; the tenants of chunks done stay uninstalled)")

    add("install-sql", cmd_install_sql, "print db/ as one install script, for reading (it records no alembic "
        "version, so migrate refuses a database installed from it: to apply reviewed SQL, use migrate --sql)",
        connects=False)

    p = add("attach", cmd_attach, "install the sync triggers on tenant schemas (idempotent)")
    p.add_argument("schemas", nargs="*", metavar="SCHEMA")
    p.add_argument("--all", action="store_true",
                   help="every attached tenant, and every other tenant of the registry whose schema has an "
                        "ats_jobposting table, except those detached on purpose")
    p.add_argument("--chunk-size", **_env_positive_int("CATALOG_SYNC_CHUNK_SIZE", operations.DEFAULT_CHUNK_SIZE),
                   help=f"schemas per transaction (env CATALOG_SYNC_CHUNK_SIZE, default "
                        f"{operations.DEFAULT_CHUNK_SIZE})")
    p.add_argument("--jobs", **_env_positive_int("CATALOG_SYNC_JOBS", 1),
                   help="connections attaching chunks at once (env CATALOG_SYNC_JOBS, default 1)")
    p.add_argument("--dry-run", action="store_true",
                   help="run the pre-flight only (contract and ownership), change nothing")
    p.add_argument("--skip-refused", action="store_true",
                   help="attach the schemas that pass the pre-flight (contract and ownership) and name the "
                        "others (exit 2), instead of attaching nothing")
    p.add_argument("--tenant-role", metavar="ROLE",
                   help="first hand the schema to this per-tenant role safely (run as a superuser)")
    _add_lock_timeout(p, operations.DDL_LOCK_TIMEOUT, "a schema's tables (longer: it is skipped, exit 2)")

    p = add("detach", cmd_detach, "drop the sync triggers of a tenant schema")
    p.add_argument("schema", metavar="SCHEMA")
    p.add_argument("--purge", action="store_true", help="also delete the tenant's catalog rows")
    p.add_argument("--dry-run", action="store_true", help="show what would happen, change nothing")
    _add_lock_timeout(p, operations.DDL_LOCK_TIMEOUT, "the schema's tables (longer: nothing is changed)")

    p = add("backfill", cmd_backfill, "make the catalog rows of attached tenants match their sources")
    p.add_argument("--tenant", action="append", metavar="SCHEMA", help="only this tenant schema (repeatable)")
    p.add_argument("--catalog", choices=operations.CATALOGS, help="only this catalog (default: all)")
    p.add_argument("--dry-run", action="store_true", help="count what would change, write nothing")
    p.add_argument("--json", action="store_true", help="machine-readable report")
    p.add_argument("--quiet", action="store_true",
                   help="no progress line per tenant on stderr (errors, and tenants still running after 5s, "
                        "are still reported)")
    _add_lock_timeout(p, operations.BACKFILL_LOCK_TIMEOUT, "a tenant's writers (longer: that tenant fails)",
                      operations.BACKFILL_LOCK_ENV)

    p = add("verify", cmd_verify, "compare catalogs and triggers with the sources (one snapshot per tenant)")
    p.add_argument("--tenant", action="append", metavar="SCHEMA", help="only this tenant schema (repeatable)")
    p.add_argument("--catalog", choices=operations.CATALOGS, help="only report this catalog (default: all)")
    p.add_argument("--repair", action="store_true", help="re-attach triggers and re-sync drifted tenants")
    _add_lock_timeout(p, operations.DDL_LOCK_TIMEOUT,
                      "a tenant's tables (longer: that tenant is an error finding, exit 2; a tenant --repair "
                      "re-attaches is left for the next run)")
    p.add_argument("--json", action="store_true", help="machine-readable report")

    p = add("expire", cmd_expire, "remove the catalog rows of jobs whose application deadline has passed "
                                  "(cheap; schedule it)")
    p.add_argument("--dry-run", action="store_true", help="count them, remove nothing")
    p.add_argument("--json", action="store_true", help="machine-readable report")
    _add_lock_timeout(p, operations.DDL_LOCK_TIMEOUT, "the job catalog (longer: nothing is removed, exit 2)")

    p = add("protect", cmd_protect, "event triggers that refuse tenant DDL switching the sync off (superuser)")
    p.add_argument("--off", action="store_true", help="remove them (and give advisory locks back to PUBLIC)")
    p.add_argument("--restrict-advisory-locks", action="store_true",
                   help="also take pg_advisory_lock() and friends away from PUBLIC (per-tenant roles)")
    _add_lock_timeout(p, operations.DDL_LOCK_TIMEOUT, "the event triggers (another session's DDL on them)")

    p = add("audit", cmd_audit, "check the live database against the security model (exit 1 on a high finding)")
    p.add_argument("--json", action="store_true", help="machine-readable report")
    _add_lock_timeout(p, operations.DDL_LOCK_TIMEOUT, "the tenant registry and the machinery's tables (longer: "
                                                          "no report, exit 2)")

    p = add("status", cmd_status, "per tenant: triggers, eligible vs catalog rows, last sync")
    p.add_argument("--json", action="store_true", help="machine-readable report")
    p.add_argument("--tenant", action="append", metavar="SCHEMA",
                   help="only this tenant schema, attached or not (repeatable)")
    _add_lock_timeout(p, operations.DDL_LOCK_TIMEOUT,
                      "a tenant's tables (longer: its counts are left empty, its error shown, exit 2)")

    p = sub.add_parser("demo", help="run the demo on a throwaway local cluster (or --dsn)", allow_abbrev=False,
                       description="Create tenants from the contract with realistic data, migrate, attach, "
                                   "backfill, change rows, verify and print the catalog.")
    p.add_argument("--dsn", default=None, type=_demo_dsn,
                   help="use this (empty, disposable) database instead of a local cluster")
    p.add_argument("--keep", action="store_true", help="leave the local cluster running and print how to connect")
    p.add_argument("--tenants", type=_positive_int, default=3, help="sample tenants, 1 to 5 (default 3)")
    p.add_argument("--jobs", type=_positive_int, default=20, help="jobs per tenant (default 20)")
    p.set_defaults(func=cmd_demo)
    _Parser.commands = frozenset(sub.choices)
    return parser


class _Parser(argparse.ArgumentParser):
    """Remembers its usage error, so that a --json reader gets it as JSON too."""
    last_error: str | None = None
    words: Sequence[str] = ()
    commands: frozenset[str] = frozenset()

    def error(self, message: str) -> NoReturn:
        # One line, as every other error (not argparse's usage block): the command, the problem,
        # where the usage is.
        command = self.prog.removeprefix("catalog-sync").strip()
        if not command and message.startswith("unrecognized arguments"):
            # (the top level reports a subcommand's extra words: name the subcommand, if one was given)
            command = next((word for word in _Parser.words if word in _Parser.commands), "")
        # (a connection string given where a command or an option was expected: quoted, never its password;
        # the output guards mask it too, and any argument that carries one). The words of this run first:
        # masked inside argparse's quotes, which redact() alone took with the password.
        message = redact(_mask(message))
        if message.startswith("argument --dsn: empty connection string") and not any(
                word == "--dsn" or word.startswith("--dsn=") for word in _Parser.words):
            # (DBA trial, forty-fifth session: "argument --dsn", which was not given)
            message = ("CATALOG_SYNC_DSN is set but empty (a bare CATALOG_SYNC_DSN= in an env file?); give it a "
                       "connection string, or unset it: then DATABASE_URL, else the PG* variables")
        first = next((i for i, word in enumerate(_Parser.words) if word in _Parser.commands), len(_Parser.words))
        early = [w for w in _Parser.words[:first] if w.startswith("-") and w not in ("-h", "--help", "--version")]
        if early or (not command and re.search(r"invalid choice: '[^']*(://|=)", message)):
            message += "; --dsn and the other options go after the command, as in catalog-sync status --dsn URL --json"
        _Parser.last_error = f"{command}: {message}" if command else message
        prog = f"catalog-sync {command}" if command else "catalog-sync"
        self.exit(EXIT_ERROR, f"catalog-sync: error: {_Parser.last_error} (see `{prog} --help`)\n")


class OutputError(Exception):
    """Standard output could not be written, other than a reader gone (BrokenPipeError)."""


def _masked_password(word: str) -> str:
    """A command-line word with the password of a connection string in it masked: a URL's user info up to
    its last '@' (spaces and quotes included), or all of it after the user when there is no '@' (a URL
    the shell split at a space in the password), a password= value (any case, quoted or not)."""
    word = re.sub(r"(://[^:/@]*:).*@", r"\1***@", word, count=1, flags=re.S)
    word = re.sub(r"(://[^:/@]*:)[^@]*$", r"\1***", word, count=1, flags=re.S)
    # (unquoted: up to the next keyword=, spaces and newlines included, as redact() reads it)
    return re.sub(r"(password\s*=\s*)('(?:[^'\\]|\\.)*'?|.*?(?=\s+\w+\s*=|\Z))", r"\1***", word,
                  flags=re.I | re.S)


def _secrets(words: Sequence[str]) -> list[tuple[str, str]]:
    """(form, masked form) for each argument that carries a password, in every spelling an output may
    quote it in: as typed, Python's repr, JSON's escapes, SQL's doubled quotes, control characters
    as '?'. A word that ends in an unfinished password (a URL without its '@', password= and nothing
    or an unterminated quote after it) takes the next word with it, unless that is an option: the shell split the
    password at a space. (A complete `password=x` at the end of a word does not: the next word is
    more likely a schema than the rest of a password.)"""
    pairs: list[tuple[str, str]] = []
    follows = False
    for word in words:
        masked = "***" if follows and not word.startswith("-") else _masked_password(word)
        follows = masked != word and (re.search(r"://[^:/@]*:\*\*\*$", masked) is not None
                                      or re.search(r"password\s*=\s*('(?:[^'\\]|\\.)*)?$", word, re.I) is not None)
        if masked == word:
            continue
        for form, hidden in ((word, masked), (repr(word)[1:-1], repr(masked)[1:-1]),
                             (json.dumps(word)[1:-1], json.dumps(masked)[1:-1]),
                             (word.replace('"', '""'), masked.replace('"', '""')),
                             (printable(word), printable(masked))):
            if form and (form, hidden) not in pairs:
                pairs.append((form, hidden))
    return sorted(pairs, key=lambda pair: -len(pair[0]))      # the longest spelling first


# (form, masked form) for each argument of this run that carries a password: a connection string given
# where a schema, a command or an option's value was expected is never echoed (DBA re-walk, twenty-fifth
# session: `attach URL` said "schema URL does not exist").
_secret_words: list[tuple[str, str]] = []
# True once a command's function has started (not for --help, --version or a usage error).
_command_started = False


def _mask(text: str) -> str:
    for form, masked in _secret_words:
        text = text.replace(form, masked)
    return text


@contextlib.contextmanager
def _output_errors() -> Iterator[None]:
    """A failed write to stdout as OutputError; a reader gone stays BrokenPipeError (exit 141)."""
    try:
        yield
    except BrokenPipeError:
        raise
    except (OSError, ValueError) as exc:
        raise OutputError(getattr(exc, "strerror", None) or str(exc)) from exc


class _GuardedOutput:
    """sys.stdout (never None: main() refuses a closed one), whose failed writes raise OutputError (told
    apart from any other OSError), and which masks passwords given on the command line and writes no
    control character but line feeds and tabs (terminal_safe())."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        with _output_errors():
            return int(self._stream.write(terminal_safe(_mask(text))))

    def flush(self) -> None:
        with _output_errors():
            self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class _QuietErrors:
    """sys.stderr, masking passwords given on the command line, writing no control character but line
    feeds and tabs; a write that fails (stderr closed or on a full disk) is dropped: the exit code still
    says what happened, not 1 for a traceback no one sees."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            self._stream.write(terminal_safe(_mask(text)))
        return len(text)

    def flush(self) -> None:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            self._stream.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _to_devnull(stream: Any) -> None:
    """Points the file descriptor of `stream` at /dev/null, so that the interpreter's last flush of what
    is left in it fails quietly."""
    with contextlib.suppress(AttributeError, OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())


def main(argv: Sequence[str] | None = None) -> int:
    stdout, stderr = sys.stdout, sys.stderr
    words = list(sys.argv[1:] if argv is None else argv)
    global _command_started
    _secret_words[:] = _secrets(words)
    _command_started = False
    if stdout is None:
        # (started with stdout closed: `catalog-sync ... >&-`) refused before anything is done, not after
        # a first step committed (attach --tenant-role prints between its two)
        print("catalog-sync: error: standard output is closed; nothing was done (redirect it to a file or "
              "/dev/null)", file=stderr or sys.__stderr__)
        return EXIT_ERROR
    sys.stdout = _GuardedOutput(stdout)
    sys.stderr = _QuietErrors(stderr)
    try:
        try:
            return _run(words)
        finally:
            sys.stdout.flush()      # here, not at exit: a pipe is block-buffered (also after --help)
    except BrokenPipeError:
        # No traceback, nor a second failure at the interpreter's last flush.
        _to_devnull(stdout)
        return EXIT_BROKEN_PIPE
    except OutputError as exc:
        # The output could not be written (a full disk under a redirect): an error, not a verify
        # that found drift; one line.
        _to_devnull(stdout)
        done = ("what the command had done by then stays done (see verify or status)" if _command_started
                else "nothing was done")       # (--help, --version, a usage error)
        print(f"catalog-sync: error: cannot write the output: {exc}; {done}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        sys.stdout, sys.stderr = stdout, stderr


def _run(words: list[str]) -> int:
    """main() without the broken-pipe handling."""
    global _command_started
    parser = build_parser()
    _Parser.words = words
    try:
        args = parser.parse_args(words)
    except SystemExit as exc:
        if exc.code == 2 and "--json" in words and _Parser.last_error:
            _dump_json({"error": _Parser.last_error})
        raise
    started = time.monotonic()
    code = EXIT_ERROR
    _command_started = True
    name_sessions(args.command)
    try:
        return int(args.func(args))
    except (ToolError, ClusterError) as exc:
        message = str(exc)
        if _during_an_interrupt(exc):     # (what it says stays said; the Ctrl-C is what ended the command)
            print(f"catalog-sync: {printable(message)}", file=sys.stderr)
            message, code = _interrupted(started)
    except psycopg.Error as exc:
        message = describe(exc)
        if _during_an_interrupt(exc):     # (the cleanup after a Ctrl-C failed: the Ctrl-C is what happened)
            message, code = _interrupted(started)
    except KeyboardInterrupt:
        message, code = _interrupted(started)
    except (BrokenPipeError, OutputError):
        raise                               # (main() says those)
    except Exception as exc:
        # A bug. Python's own exit status for it, 1, is verify's "drift found": the status of an error.
        if _during_an_interrupt(exc):
            message, code = _interrupted(started)
        else:
            traceback.print_exc()
            message = (f"internal error ({type(exc).__name__}: {exc}): a bug in catalog-sync, the traceback "
                       "above says where; what the command had done by then stays done (see verify or status)")
    # One line, whatever it quotes (a schema name with a newline or an escape sequence in it).
    message = printable(message)
    print(f"catalog-sync: error: {message}", file=sys.stderr)
    if getattr(args, "json", False):        # a --json reader gets JSON either way
        _dump_json({"error": message})
    return code


def _interrupted(started: float) -> tuple[str, int]:
    """The error line and exit status of a command interrupted by Ctrl-C or SIGTERM."""
    if terminated():
        return f"terminated (SIGTERM) after {time.monotonic() - started:.1f}s", EXIT_TERMINATED
    return f"interrupted after {time.monotonic() - started:.1f}s", EXIT_INTERRUPTED


def _during_an_interrupt(exc: BaseException) -> bool:
    """Whether `exc` was raised while a KeyboardInterrupt was being handled (its context chain): a cleanup
    that failed after a Ctrl-C, on a session still busy with the cancelled statement (DBA trial,
    forty-fifth session: exit 2 and "another command is already in progress", not the interrupt)."""
    seen: BaseException | None = exc.__context__
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__context__
    return False


def entry() -> int:
    """The `catalog-sync` command: main(), and after a Ctrl-C, death by SIGINT; SIGTERM is taken as a
    Ctrl-C (one error line, the running statements cancelled), then death by SIGTERM."""
    handle_sigterm()
    code = main()
    if code == EXIT_INTERRUPTED:
        die_of_signal()
    if code == EXIT_TERMINATED:
        die_of_signal(signal.SIGTERM)
    return code


if __name__ == "__main__":
    raise SystemExit(entry())
