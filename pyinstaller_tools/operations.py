"""What the commands do, on an open connection; SQL lives in the database
(catalog_sync.* functions), this module sequences it, chunks it and reports."""

from __future__ import annotations

import shlex
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import dataclass, field
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from pyinstaller_tools import sqlfiles
from pyinstaller_tools.connection import (
    CONNECTION_LOST,
    LONG_TRANSACTION,
    SUBSCRIBED,
    SUBSCRIBED_REFUSAL,
    SUBSCRIBED_WRITES,
    ToolError,
    connection_lost,
    describe,
    error_text,
    is_installed,
    pinned_machinery_problem,
    print_own_notice,
    require_own_schemas,
    require_own_version_table,
    scalar,
    server_message,
)
from pyinstaller_tools.interrupts import ctrl_c_deferred

Progress = Callable[[str], None]
T = TypeVar("T")

# Session-level advisory lock held for the whole of a backfill or repair run.
BACKFILL_LOCK_SQL = "hashtextextended('catalog_sync/backfill-run', 0)"
MIGRATION_LOCK_SQL = "hashtextextended('catalog_sync/migration-run', 0)"

# How long the commands that change triggers (attach, detach, migrate,
# uninstall, the re-attach of verify --repair) wait for a lock. While they
# wait, the tenant's own statements queue behind them (DROP TRIGGER's lock
# even blocks reads), so they give up early; a busy schema is attached by the
# next run. Backfill waits longer (BACKFILL_LOCK_TIMEOUT): it has to.
DDL_LOCK_TIMEOUT = "5s"
DEFAULT_CHUNK_SIZE = 200       # schemas per attach transaction
BACKFILL_LOCK_TIMEOUT = "60s"
# The environment variables that override them (the command line's --lock-timeout, plain alembic's default).
DDL_LOCK_ENV, BACKFILL_LOCK_ENV = "CATALOG_SYNC_DDL_LOCK_TIMEOUT", "CATALOG_SYNC_LOCK_TIMEOUT"


@dataclass(frozen=True)
class Tenant:
    tenant_id: int
    schema: str


@dataclass
class AttachResult:
    schemas: int = 0
    changed: int = 0
    schemas_unchanged: int = 0
    busy: list[str] = field(default_factory=list)   # not attached: a lock wait timed out
    changed_schemas: list[str] = field(default_factory=list)   # whose triggers were created, replaced or dropped
    opted_out: list[str] = field(default_factory=list)   # left alone: detached on purpose while attach ran
    # not attached, each named with its error: renamed, dropped or off the contract since the pre-flight, a
    # table name that came to mean another relation, or a chunk that deadlocked three times (schema, the error)
    changed_meanwhile: list[tuple[str, str]] = field(default_factory=list)


def require_installed(conn: psycopg.Connection, command: str = "catalog-sync", lock_timeout: str | None = None,
                      pinned: bool = True, writes: bool = False, writes_how: str = SUBSCRIBED_WRITES,
                      reads_registry: bool = True) -> None:
    """Installed, and (unless pinned=False: audit reports it instead) what its installer pinned. The
    pin's check reads the machinery's tables and the catalogs' definitions: DDL on them makes it wait,
    within lock_timeout, as the command's next statement would. `writes`: and the session may write
    (`writes_how`: what the command writes, for the refusal on a logical replication subscriber).
    `reads_registry`: then waits for the registry (wait_for_registry())."""
    if not is_installed(conn):
        raise ToolError("catalog_sync is not installed in this database; run `catalog-sync migrate` first")
    require_installer(conn, command)
    if writes:
        require_writable(conn, command)
        require_not_subscribed(conn, command, writes_how)
    if pinned:
        require_this_build(conn, command, lock_timeout)
        require_pinned(conn, command, lock_timeout)
        if reads_registry:
            wait_for_registry(conn, command, lock_timeout)


def wait_for_registry(conn: psycopg.Connection, command: str, lock_timeout: str | None) -> None:
    """Waits, within lock_timeout, for DDL in progress on the registry, in a statement of its own before the
    command's first read of it. A reader that waited inside its statement for DDL that rewrote the registry
    (an application's ALTER TABLE) read it on a snapshot older than the DDL's commit, where it looks empty,
    and fails with 40001 (assert_not_rewritten()): attach, backfill, detach and audit failed so behind a
    Django migration (fifty-second session). The lock goes with the statement (or the transaction)."""
    try:
        conn.execute("SELECT catalog_sync.lock_tenant_tables(NULL)")
    except psycopg.errors.LockNotAvailable as exc:
        raise ToolError(registry_busy(lock_timeout, command, before_anything=True)) from exc


def missing_functions(conn: psycopg.Connection) -> list[str]:
    """The machinery's functions this build's db/ creates that the database lacks."""
    rows = conn.execute("SELECT n.nspname || '.' || p.proname FROM pg_catalog.pg_proc p "
                        "JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
                        "WHERE n.nspname IN ('catalog_sync', 'catalog_sync_protect', 'catalog_sync_pin')").fetchall()
    return sorted(sqlfiles.machinery_functions() - {str(r[0]) for r in rows})


def this_build_problem(command: str, missing: Sequence[str], at_head: bool = False) -> str | None:
    """Why the machinery is not this build's: the functions of this build it lacks (missing_functions()),
    said; None where it lacks none. `at_head`: alembic records this build's last revision."""
    if not missing:
        return None
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    why = ("" if at_head else "its migrations are not all applied (run catalog-sync migrate), or ")
    return (f"{command}: the machinery installed in this database lacks {len(missing)} function(s) of this build "
            f"of catalog-sync ({shown}); nothing was changed: {why}it was installed by an earlier development "
            "build of revision 0001, which changed in place before the first release and which migrate does not "
            "update: rebuild it (docs/operations.md, \"Upgrades\")")


def require_this_build(conn: psycopg.Connection, command: str, lock_timeout: str | None, at_head: bool = False,
                       only: Iterable[str] | None = None) -> None:
    """Refuses a machinery that lacks functions of this build (crash trial, forty-seventh session: a database
    installed by an earlier development build passed every check, then attach and uninstall failed on
    "function ... does not exist"). A machinery changed since its pin is said as that first (an earlier
    build's install matches its own pin; a function dropped since does not: review of the check)."""
    missing = missing_functions(conn)
    needed = None if only is None else set(only)
    problem = this_build_problem(command, [m for m in missing if needed is None or m in needed], at_head)
    if problem is None:
        return
    # (an earlier build's pin schema may lack functions the pin's check calls; no pin schema at all is
    # the pin's own message: apply db/machinery_pin.sql; review of the check)
    pin_changed = any(name.startswith("catalog_sync_pin.") for name in missing)
    if not pin_changed or not scalar(conn, "SELECT to_regnamespace('catalog_sync_pin') IS NOT NULL"):
        require_pinned(conn, command, lock_timeout)
    raise ToolError(problem)


def require_installer(conn: psycopg.Connection, command: str) -> None:
    """The commands but migrate, uninstall and protect run as a role granted catalog_sync_installer (or a
    superuser). (DBA trial, forty-fifth session: after an uninstall, which drops the role with its
    memberships, and a re-install, every command failed on "permission denied for schema catalog_sync_pin",
    the membership unnamed.)"""
    row = conn.execute("SELECT current_user, pg_catalog.quote_ident(current_user), "
                       "pg_catalog.pg_has_role('catalog_sync_installer', 'USAGE'), "
                       "pg_catalog.current_setting('lc_messages')").fetchone()
    if row:
        note_messages_language(str(row[3]), str(row[1]))
    if row and not row[2]:
        raise ToolError(f"role {row[0]} does not have the privileges of catalog_sync_installer, which {command} "
                        f"needs; nothing was changed: as a superuser, GRANT catalog_sync_installer TO {row[1]} (an "
                        "uninstall drops the role with its memberships: grant them again after a re-install; a "
                        "NOINHERIT member does not use them), or run it as an operations login that has it (protect "
                        "does not check an installer's DDL: not the application's role where protect is on); "
                        "docs/operations.md, \"Who runs what\"")


_language_noted = False


def note_messages_language(lc_messages: str, role: str) -> None:
    """Once a run: the tool tells a cancelled statement from a statement timeout, and both from other errors,
    by the server's English text; under another language a pg_cancel_backend() does not stop a run (settings
    trial, forty-sixth session: a German server's backfill went on through every later tenant)."""
    global _language_noted
    if _language_noted or lc_messages in ("", "C", "POSIX") or lc_messages.lower().startswith(("en", "c.")):
        return
    _language_noted = True
    print(f"catalog-sync: note: the server's messages are in lc_messages = {lc_messages!r}: the tool recognizes a "
          "cancelled statement (pg_cancel_backend() stops a run) and a statement timeout by their English text; as "
          f"a superuser: ALTER ROLE {role} SET lc_messages = 'C' (docs/operations.md, \"Connections and server "
          "settings\")", file=sys.stderr)


def require_writable(conn: psycopg.Connection, command: str) -> None:
    """Refuses `command`, which writes, on a hot standby or in a read-only session, before it starts. (DBA
    trial, forty-first session: a backfill there failed for every tenant in turn, then said "the others
    committed"; attach and uninstall gave the server's "cannot execute ... in a read-only transaction".)"""
    row = conn.execute("SELECT pg_catalog.pg_is_in_recovery(), "
                       "pg_catalog.current_setting('transaction_read_only') = 'on'").fetchone()
    if row and row[0]:
        raise ToolError(f"{command} writes, and this server is a hot standby (in recovery: read-only); nothing "
                        "was changed: connect to the primary")
    if row and row[1]:
        raise ToolError(f"{command} writes, and this session is read-only (default_transaction_read_only is on "
                        "for the database, the role or the connection); nothing was changed: run it where writes "
                        "are allowed, or with -c default_transaction_read_only=off in the DSN's options or "
                        "PGOPTIONS if this database is to be written")


def require_not_subscribed(conn: psycopg.Connection, command: str, what: str = SUBSCRIBED_WRITES) -> None:
    """Refuses `command`, which writes the catalogs or the registry (`what` says how), where a logical
    replication subscription brings them. On the subscriber of a blue/green upgrade they are the publisher's
    rows: a repair there mixed its registrations with the publisher's (a detach on the publisher then
    deleted another tenant's), and its catalog rows collided with the publisher's (the apply stopped on a
    duplicate key)."""
    names = scalar(conn, SUBSCRIBED)
    if names:
        raise ToolError(f"{command} {SUBSCRIBED_REFUSAL.format(what=what, names=names)}")


def subscription_note(conn: psycopg.Connection) -> str | None:
    """What verify, status and audit say on such a subscriber, before what they found there."""
    names = scalar(conn, SUBSCRIBED)
    if not names:
        return None
    return (f"note: this database receives the catalogs or the machinery's tables by logical replication "
            f"(subscription {names}): until the cut-over the registry's tables are the publisher's "
            "(table_replaced, trigger findings) and the sync does nothing in the subscription's workers; after "
            "the cut-over, run verify --repair as a superuser (docs/operations.md, \"Logical replication\")")


def machinery_problem(conn: psycopg.Connection, command: str, lock_timeout: str | None) -> str | None:
    """Why the machinery is not what its installer pinned, or None; a lock held on its tables or a
    catalog longer than lock_timeout is reported as every command reports it."""
    try:
        return pinned_machinery_problem(conn)
    except psycopg.errors.LockNotAvailable as exc:
        raise ToolError(registry_busy(lock_timeout, command)) from exc


def require_pinned(conn: psycopg.Connection, command: str, lock_timeout: str | None) -> None:
    """Raises unless the machinery is what its installer pinned."""
    problem = machinery_problem(conn, command, lock_timeout)
    if problem:
        raise ToolError(problem)


# A tenant still running says so after notice_after seconds, then again every so many seconds.
NOTICE_EVERY_S = 30.0

# Tenants that uninstall uninstalls per transaction before it removes the rest. DROP TRIGGER locks each
# table until the transaction ends, and all of them at once overflowed the server's shared lock table at its
# defaults somewhere between 250 and 400 tenants (max_locks_per_transaction 64), failing other sessions' locks
# too (DBA trial, forty-first session). At most 64: lock_for_tenant_change() of more takes the lock of all
# tenants, which waits for a write in progress in any tenant (DBA trial, forty-second session: a chunk of
# 100 waited for a tenant of the next one).
UNINSTALL_CHUNK = 50

# The tries at the locks of what drops sync triggers (in_lock_tries()): each try's lock taking ends within
# its budget, 200 ms, then 400, then 800, all under deadlock_timeout's default (1 s). An application write
# that waits for a lock the command holds, while the command waits for one the write holds, began waiting
# after the try began: the try lets everything go before the write's deadlock check (DBA trial,
# forty-second session: under live writes, uninstall and application writes got 40P01).
LOCK_TRIES_MS = (200, 400, 800)

# Why a chunk of uninstall detached its tenants (catalog_sync.tenant.detached_because): verify reports
# them with it, and repair leaves them alone (crash trial, forty-seventh session: after a kill -9 of
# uninstall they read as never attached, and verify --repair attached them again).
UNINSTALL_STOPPED = ("an uninstall stopped part-way (catalog-sync uninstall --yes finishes it; catalog-sync "
                     "attach --all, then catalog-sync backfill, undoes it)")


def stopped_by_uninstall(finding: dict[str, Any]) -> bool:
    """Whether a verify finding is of a tenant an uninstall stopped part-way detached (UNINSTALL_STOPPED)."""
    return (finding["problem"] in ("tenant_not_attached", "tenant_tables_gone")
            and UNINSTALL_STOPPED in (finding["detail"] or ""))


# What a chunk leaves of its tenants, said when a later step fails.
CHUNKS_DONE = ("uninstalled (committed: their sync triggers dropped, their catalog rows removed, the tenants "
               "recorded as detached by the sync until the uninstall is finished or undone)")


def removal_dependents_problem(conn: psycopg.Connection) -> str | None:
    """What catalog_sync.removal_problem() finds, said, or None (db/uninstall.sql raises it too). uninstall
    asks before its first step (its last one would fail on an object of the application that uses a
    catalog, after the chunks had uninstalled every tenant, or drop one that uses the machinery;
    forty-third session), and again in its last transaction, under its locks, before the removal (review:
    one created meanwhile)."""
    return scalar(conn, "SELECT catalog_sync.removal_problem()")


def uninstall(conn: psycopg.Connection, lock_timeout: str, progress: Progress, revisions: Sequence[str] | None) -> None:
    """uninstall --yes on an autocommit `conn`: the attached tenants UNINSTALL_CHUNK at a time, each chunk but the
    last a committed transaction that leaves its tenants detached by the sync (UNINSTALL_STOPPED), then the
    last chunk with the machinery's removal (db/uninstall.sql, the downgrade's SQL, and alembic's record of
    `revisions`) in one transaction; each transaction's locks are taken first, in tries (in_lock_tries()).

    Chunks: DROP TRIGGER locks each table until the transaction ends, and one transaction over every
    tenant ran out of the server's shared lock table (UNINSTALL_CHUNK). A chunk takes its tenants' catalog
    rows and registration with their triggers: a catalog left readable over tenants no trigger syncs any
    more would keep a job made private public, if a later step fails (red team, forty-second session); and
    a tenant's rename or reactivation would publish them again from the registry's trigger. The last chunk
    goes with the removal, so that up to UNINSTALL_CHUNK tenants an uninstall is all or nothing (review,
    forty-third session: a reader of a catalog timed the removal out after the chunks), and the removal's
    locks too are taken in tries: waiting for them as any DDL does, it deadlocked with a live writer."""
    # (by tenant id, with their schemas' names for the messages: DBA trial, forty-third session)
    rows = conn.execute("SELECT a.tenant_id, min(t.schema_name) FROM catalog_sync.attached_table a "
                        "LEFT JOIN public.tenants_tenant t ON t.id = a.tenant_id GROUP BY 1 ORDER BY 1").fetchall()
    tenants = [int(r[0]) for r in rows]
    names = [str(r[1]) if r[1] is not None else f"tenant id {r[0]}" for r in rows]
    parts = [tenants[start:start + UNINSTALL_CHUNK] for start in range(0, len(tenants), UNINSTALL_CHUNK)] or [[]]
    committed = 0

    def span(first: int, last: int) -> str:     # (0-based, inclusive)
        return names[first] if first == last else f"{names[first]} to {names[last]}"

    def done() -> str:
        if not committed:
            return "nothing was removed"
        rest = (f"; the other {len(tenants) - committed} ({span(committed, len(tenants) - 1)}) are still attached "
                "and synced" if committed < len(tenants) else "")
        return (f"the first {committed} of the {len(tenants)} tenant(s) attached when it began, by tenant id "
                f"({span(0, committed - 1)}), were {CHUNKS_DONE}{rest}, nothing else was removed; run uninstall "
                "--yes again to finish, or catalog-sync attach --all and backfill to sync them again")

    try:
        for n, part in enumerate(parts, 1):
            last = n == len(parts)
            try:
                if last:
                    _remove_machinery(conn, part, lock_timeout, revisions, progress)
                else:
                    _uninstall_chunk(conn, part, lock_timeout, progress)
            except (psycopg.Error, LocksNotTaken, ToolError) as exc:
                what = ("the registry, the catalogs, the tenants' tables or their writes in progress" if last
                        else "the registry, the tenants' tables or their writes in progress")
                if isinstance(exc, LocksNotTaken):
                    reason = locks_not_taken(what, lock_timeout)
                elif isinstance(exc, ToolError):    # (the checks of migrations/env.py, under the locks)
                    reason = str(exc)
                else:       # (with the server's detail: which objects depend on which, say)
                    detail = " ".join((exc.diag.message_detail or "").split())
                    reason = describe(exc) + (f" ({detail})" if detail else "")
                where = (f" at tenants {committed + 1} to {committed + len(part)} of {len(tenants)} "
                         f"({span(committed, committed + len(part) - 1)})" if part else "")
                raise ToolError(f"uninstall stopped{where}: {reason}; {done()}") from exc
            committed += len(part)
            if not last:
                progress(f"uninstall: {committed}/{len(tenants)} tenants uninstalled")
    except KeyboardInterrupt:           # (Ctrl-C or SIGTERM: DBA trial, forty-second session)
        progress(f"uninstall: interrupted; {done()}")
        raise


def _remove_machinery(conn: psycopg.Connection, part: list[int], lock_timeout: str,
                      revisions: Sequence[str] | None, progress: Progress) -> None:
    """uninstall()'s last transaction: the tenants of `part` and the machinery. Its locks first, in tries:
    the registry (its sync triggers are dropped; no tenant change in progress), the tenants' tables, their
    locks, then the catalogs (dropped; their readers let go)."""
    def lock(run: Run) -> None:
        _lock_tenants(run, part, "ACCESS EXCLUSIVE")
        run("LOCK TABLE ONLY public.job_catalog, public.provider_catalog, public.service_catalog "
            "IN ACCESS EXCLUSIVE MODE")

    def work() -> None:
        # What migrations/env.py checks before the downgrade runs, and what the removal would fail on or
        # drop, under the locks.
        require_own_schemas(conn)
        problem = pinned_machinery_problem(conn) or removal_dependents_problem(conn)
        if problem:
            raise ToolError(problem)
        if revisions is not None:
            require_own_version_table(conn)
        conn.add_notice_handler(print_own_notice)
        try:
            conn.execute(sqlfiles.uninstall_sql())
        finally:
            conn.remove_notice_handler(print_own_notice)
        if revisions is not None:
            conn.execute("DELETE FROM public.alembic_version WHERE version_num = ANY (%s)", (list(revisions),))

    in_lock_tries(conn, lock_timeout, lock, work, progress, "uninstall")


def _lock_tenants(run: Run, part: list[int], registry_mode: str) -> None:
    """An uninstall transaction's locks of the tenants of `part` (`run`: its in_lock_tries() lock step's):
    the registry in `registry_mode`, their registered tables in one LOCK TABLE, then their tenant locks
    (the order detach takes after the tenant's attach key: the tables, then the tenants, as their writers
    do)."""
    # (No pin check here: uninstall checked it before its first transaction, the last one checks it again in
    # its work, and the fingerprint's time grows with the tenants' tables: 0.8 s at 2,500 tenants, more than
    # a try's budget, so every try failed; review, forty-third session.)
    run(f"LOCK TABLE ONLY public.tenants_tenant IN {registry_mode} MODE")
    lock_exclusively(run, [(r[0], r[1], int(r[2])) for r in run(
        "SELECT n.nspname, c.relname, a.relid FROM catalog_sync.attached_table a "
        "JOIN pg_catalog.pg_class c ON c.oid = a.relid "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE a.tenant_id = ANY (%s) ORDER BY a.relid", (part,)).fetchall()])
    run("SELECT catalog_sync.lock_for_tenant_change(%s::bigint[])", (part,))


def _uninstall_chunk(conn: psycopg.Connection, part: list[int], lock_timeout: str, progress: Progress) -> None:
    """One chunk of uninstall() but its last, in one transaction (in_lock_tries()), its locks taken
    first: the registry (SHARE: no tenant change in progress, none started, so none that holds a tenant's
    lock and then waits for its tables or catalog rows; review, forty-second session: a tenant deleted
    from the registry deadlocked with a chunk), the tables in one LOCK TABLE, then the tenants'."""
    def lock(run: Run) -> None:
        _lock_tenants(run, part, "SHARE")

    def work() -> None:
        # Only the tenants still attached, under the locks: one detached meanwhile keeps its opt-out and
        # the rows detach kept (review, forty-second session).
        attached = [int(r[0]) for r in conn.execute(
            "SELECT DISTINCT a.tenant_id FROM catalog_sync.attached_table a WHERE a.tenant_id = ANY (%s)",
            (part,)).fetchall()]
        conn.execute("SELECT catalog_sync.drop_triggers(a.relid) FROM catalog_sync.attached_table a "
                     "WHERE a.tenant_id = ANY (%s) "
                     "AND EXISTS (SELECT FROM pg_catalog.pg_class c WHERE c.oid = a.relid)", (attached,))
        for catalog in ("job_catalog", "provider_catalog", "service_catalog"):
            conn.execute(f"DELETE FROM public.{catalog} c WHERE c.tenant_id = ANY (%s)", (attached,))
        # Detached by the sync, with the reason: verify says an uninstall stopped part-way, even after a
        # kill -9 of this command.
        conn.execute("DELETE FROM catalog_sync.attached_table a WHERE a.tenant_id = ANY (%s)", (attached,))
        conn.execute("UPDATE catalog_sync.tenant t SET detached_at = clock_timestamp(), detached_because = %s "
                     "WHERE t.tenant_id = ANY (%s)", (UNINSTALL_STOPPED, attached))

    in_lock_tries(conn, lock_timeout, lock, work, progress, "uninstall")


Query = str | sql.SQL | sql.Composed
# An in_lock_tries() lock step's way to run a statement: within the try's time left.
Run = Callable[..., "psycopg.Cursor[Any]"]


class TryAgain(Exception):
    """Raised by an in_lock_tries() lock step whose locks are not the ones it meant to take."""


class LocksNotTaken(Exception):
    """in_lock_tries() gave up: its tries did not get their locks within lock_timeout (locks_not_taken() says
    it). Nothing of the work was done."""


def lock_exclusively(run: Run, tables: Sequence[tuple[str, str, int]]) -> None:
    """ACCESS EXCLUSIVE on the (schema, name, relid) tables (`run`: an in_lock_tries() lock step's), through
    catalog_sync.lock_tables_by_name(): a LOCK by a name the tenant moved during the wait locked the view it
    put there and, as this role, what the view reads (pg_class, a catalog; security red team, fifty-second
    session). TryAgain if a name read before meant another table by the time it was locked (a rename in
    between)."""
    if not tables:
        return
    try:
        run("SELECT catalog_sync.lock_tables_by_name(%s::oid[], 'ACCESS EXCLUSIVE')", ([t[2] for t in tables],))
    except psycopg.errors.SerializationFailure:
        raise TryAgain from None
    same = run("SELECT count(*) FROM ROWS FROM (pg_catalog.unnest(%s::oid[]), pg_catalog.unnest(%s::text[]), "
               "pg_catalog.unnest(%s::text[])) AS x (relid, nspname, relname) "
               "JOIN pg_catalog.pg_class c ON c.oid = x.relid "
               "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
               "AND n.nspname = x.nspname AND c.relname = x.relname",
               ([t[2] for t in tables], [t[0] for t in tables], [t[1] for t in tables])).fetchone()
    if not same or same[0] != len(tables):
        raise TryAgain


# With --lock-timeout 0, a progress line this often (seconds) while the tries go on.
LOCK_TRIES_PROGRESS_S = 10


def in_lock_tries(conn: psycopg.Connection, lock_timeout: str, lock: Callable[[Run], None], work: Callable[[], T],
                  progress: Progress | None = None, command: str = "") -> T:
    """`lock`, then `work`, in one transaction of their own (for what drops a tenant's sync triggers:
    uninstall, detach). `lock(run)` takes what `work` needs, each statement through `run`, in tries whose
    lock waits all end within LOCK_TRIES_MS: `run` sets statement_timeout and lock_timeout to the try's
    time left before each statement (DBA trial, forty-third session: set once a try, each of the four
    statements of uninstall's last transaction had the whole budget, a try lasted 3.2 s, and a write
    waiting behind it reached its deadlock check first). A try that does not get them all, or a deadlock,
    lets all of them go and the next one begins, until lock_timeout has passed (0: no limit: a progress
    line every 10 s). Then raises LocksNotTaken. `work` runs under lock_timeout's time left, as any
    statement would: a lock wait that ends it, or a deadlock, begins another try too; any other error is
    raised as it is."""
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        # (inside a transaction it would be a savepoint: the locks taken before it not let go, and the
        # settings of the tries left to the rest of it)
        raise AssertionError("in_lock_tries() needs a connection with no transaction open")
    started = time.monotonic()
    limit_ms: int | None = None
    told = started
    attempt = 0
    while True:
        budget = LOCK_TRIES_MS[min(attempt, len(LOCK_TRIES_MS) - 1)]
        attempt += 1
        locking = True
        try:
            with conn.transaction():
                if limit_ms is None:        # (the server's reading of it: "2s", "1min", "500" for 500 ms)
                    set_lock_timeout(conn, lock_timeout)
                    row = conn.execute("SELECT setting FROM pg_catalog.pg_settings "
                                       "WHERE name = 'lock_timeout'").fetchone()
                    limit_ms = int(row[0]) if row else 0
                    statement_timeout = conn.execute("SELECT current_setting('statement_timeout')").fetchone()
                    restore = str(statement_timeout[0]) if statement_timeout else "0"
                try_started = time.monotonic()
                if limit_ms:
                    budget = min(budget, max(1, int(limit_ms - (try_started - started) * 1000)))
                deadline = try_started + budget / 1000

                def run(query: Query, params: Any = None, deadline: float = deadline) -> psycopg.Cursor[Any]:
                    left = int((deadline - time.monotonic()) * 1000)
                    if left < 1:
                        raise TryAgain
                    set_timeouts(conn, f"{left}ms", f"{left}ms")
                    return conn.execute(query, params)

                lock(run)
                # (still the try's: these run under its last statement_timeout, maybe 1 ms, and a cancel
                # here begins another try; review, forty-third session)
                left = int(limit_ms - (time.monotonic() - started) * 1000) if limit_ms else 0
                set_timeouts(conn, f"{max(1, left)}ms" if limit_ms else "0", restore)
                locking = False
                return work()
        except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected, psycopg.errors.QueryCanceled,
                psycopg.errors.UndefinedTable, TryAgain) as exc:
            canceled_by_us = locking and isinstance(exc, psycopg.errors.QueryCanceled) and (
                "statement timeout" in server_message(exc))
            retried = (isinstance(exc, (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected, TryAgain))
                       or canceled_by_us or (locking and isinstance(exc, psycopg.errors.UndefinedTable)))
            elapsed_ms = (time.monotonic() - started) * 1000
            if not retried or limit_ms is None:
                raise
            if limit_ms and elapsed_ms >= limit_ms:
                raise LocksNotTaken from exc
            now = time.monotonic()
            if progress and not limit_ms and now - told >= LOCK_TRIES_PROGRESS_S:
                told = now
                progress(f"{command}: {attempt} tries at its locks in {now - started:.0f}s; still trying "
                         "(--lock-timeout 0; see pg_stat_activity for what holds them)")
            pause = min(0.05 * attempt, 1.0)
            if limit_ms:
                pause = min(pause, max(0.0, (limit_ms - elapsed_ms) / 1000))
            time.sleep(pause)


def locks_not_taken(what: str, lock_timeout: str | None) -> str:
    """in_lock_tries()'s budget spent: no single lock was held that long, tries kept finding them held."""
    return (f"could not take the locks of {what} within {_limit(lock_timeout)} (tries of up to "
            f"{LOCK_TRIES_MS[-1]} ms each, letting them go in between, kept finding one held: {LONG_TRANSACTION})")


def is_superuser(conn: psycopg.Connection) -> bool:
    row = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()
    return bool(row and row[0])


def require_superuser(conn: psycopg.Connection, what: str) -> None:
    if not is_superuser(conn):
        raise ToolError(f"{what} needs a superuser; nothing was changed")


def attachable_schemas(conn: psycopg.Connection) -> list[str]:
    """Tenant schemas with the contract tables, except those detached (on purpose, or by the sync while a
    source table is still gone: catalog_sync.tenant_schemas())."""
    rows = conn.execute("SELECT schema_name FROM catalog_sync.tenant_schemas() WHERE NOT detached").fetchall()
    return [r[0] for r in rows]


def tenant_counts(conn: psycopg.Connection) -> tuple[int, int]:
    """(tenant schemas of the registry with the tenant tables, those of them attached)."""
    row = conn.execute("SELECT count(*), count(*) FILTER (WHERE attached) FROM catalog_sync.tenant_schemas()"
                       ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


# For a command over every tenant that found none (DBA trial, thirty-ninth session: against an empty
# registry, attach --all, backfill and verify reported success and nothing more, as they would against
# the wrong database).
NO_TENANT_SCHEMA = ("note: public.tenants_tenant of this database names no schema with the tenant tables (an empty "
                    "registry, or the tables are gone): there was nothing to do (the right database?)")


def no_tenant_note(conn: psycopg.Connection) -> str | None:
    """For a command over every attached tenant: a note when there is none to work on, else None."""
    tenants, attached = tenant_counts(conn)
    if tenants == 0:
        return NO_TENANT_SCHEMA
    if attached == 0:
        return (f"note: none of the registry's {tenants} tenant schema(s) is attached: there was nothing to do "
                "(catalog-sync status lists them; attach --all attaches those not detached on purpose)")
    return None


def preflight(conn: psycopg.Connection, schemas: Sequence[str], jobs: int = 1,
              connect: Callable[[], psycopg.Connection] | None = None) -> list[tuple[str, str]]:
    """Every reason any of the schemas cannot be attached, as (schema, problem); checked before
    anything changes.

    With jobs > 1 (and `connect`), the schemas are split into that many slices checked from as
    many connections at once; the problems come back in the order of `schemas` either way."""
    def check(own: psycopg.Connection, part: Sequence[str]) -> list[tuple[str, str]]:
        rows = own.execute(
            "SELECT p.schema_name, p.problem FROM catalog_sync.schema_problems(%s::text[]) WITH ORDINALITY "
            "AS p (schema_name, problem, n) ORDER BY p.n",
            (list(part),),
        ).fetchall()
        missing = [r[0] for r in rows if r[1].endswith(" does not exist")]
        known = tenant_schema_names(own) if missing else []     # (one read for all of them)
        problems = [(r[0], r[1] + (near_name(r[0], known) if r[0] in missing else ""))
                    for r in rows] + not_owned(own, part)
        order = {schema: n for n, schema in enumerate(part)}
        return sorted(problems, key=lambda p: order.get(p[0], len(order)))     # (stable: per schema as found)

    if jobs <= 1 or connect is None or len(schemas) < 2 * jobs:
        return check(conn, schemas)
    size = -(-len(schemas) // jobs)
    parts = [schemas[i:i + size] for i in range(0, len(schemas), size)]
    results: list[list[tuple[str, str]]] = [[] for _ in parts]

    def check_part(own: psycopg.Connection, n: int) -> None:
        results[n] = check(own, parts[n])

    on_connections(range(len(parts)), jobs, connect, check_part)
    return [problem for part in results for problem in part]


def near_name(name: str, tenant_schemas: Iterable[str]) -> str:
    """For a name that names no tenant schema: " (did you mean X? ...)" when a tenant schema's name differs
    from it only in case, or in quotes or blanks around it, or contains it; else "" (DBA trial, thirty-ninth session:
    `attach TENANT_ACME` and `attach '"tenant_acme"'` said "does not exist" and no more)."""
    bare = name.strip().strip('"').strip().lower()
    known = sorted(tenant_schemas)
    near = [s for s in known if s.lower() == bare and s != name]
    if near:
        return (f" (did you mean {shlex.quote(near[0])}? schema names are case-sensitive, and given as they are, "
                "without SQL quotes)")
    # (forty-second session: `detach acme` for the schema tenant_acme said no more than "neither attached nor
    # a tenant schema")
    within = [s for s in known if len(bare) >= 3 and bare in s.lower()]
    if len(within) == 1:
        return f" (did you mean {shlex.quote(within[0])}? the tenant schema whose name contains it)"
    if 1 < len(within) <= 5:
        return f" (tenant schemas whose names contain it: {', '.join(shlex.quote(s) for s in within)})"
    return ""


def tenant_schema_names(conn: psycopg.Connection) -> list[str]:
    """The registry's tenant schemas (catalog_sync.tenant_schemas()), for near_name()."""
    return [r[0] for r in conn.execute("SELECT schema_name FROM catalog_sync.tenant_schemas()")]


# The contract's tables of a tenant schema, by name: catalog_sync.tenant_source_tables()'s list, written
# out because installers may not execute that function (it inherits its callers' search_path).
CONTRACT_TABLE_NAMES = ("(SELECT DISTINCT s.source_table FROM catalog_sync.trigger_spec s "
                        "WHERE s.source_table <> 'tenants_tenant')")


def not_owned(conn: psycopg.Connection, schemas: Sequence[str]) -> list[tuple[str, str]]:
    """(schema, problem) for each schema whose contract tables, or whose grant of USAGE to the machinery,
    need a role other than the session's: attach_schemas() would refuse it, and with it the whole call (a
    schema handed to its own role, say, in `attach --all`). catalog_sync.ownership_problem() is attach's
    own check; it asks about current_user, so it runs here, as the caller."""
    rows = conn.execute(
        "SELECT x.name, catalog_sync.ownership_problem("
        "    ARRAY(SELECT c.oid FROM pg_catalog.pg_class c"
        "          WHERE c.relnamespace = n.oid"
        "            AND c.relname IN " + CONTRACT_TABLE_NAMES +
        "          ORDER BY c.relname),"
        "    n.oid) AS problem "
        # (a join with the names, not nspname = ANY (...): linear for the 10,000 schemas of an attach --all)
        "FROM pg_catalog.unnest(%s::text[]) AS x (name) "
        "JOIN pg_catalog.pg_namespace n ON n.nspname = x.name::name AND n.nspname::text = x.name",
        (list(schemas),),
    ).fetchall()
    return [(r[0], f"{r[1]}{NEEDS_OWNER}") for r in rows if r[1]]


# The end of not_owned()'s problems: the schema needs its owner (or a superuser) to be attached.
NEEDS_OWNER = ": attach needs its owner (or a superuser)"


def trigger_states_by_schema(conn: psycopg.Connection, schemas: Sequence[str]) -> dict[str, dict[str, int]]:
    """For each schema of a tenant that has every contract table (by name, as attach finds them): how many
    of the spec's triggers on them are MISSING, OUTDATED, DISABLED or INSTALLED, and how many other sync
    triggers (EXTRA) they carry: what attach would create, replace, drop or leave (install_triggers())."""
    if not schemas:
        return {}
    rows = conn.execute(
        "SELECT t.schema_name, st.state, pg_catalog.count(*) FROM catalog_sync.tenant_schemas() AS t "
        "JOIN pg_catalog.pg_namespace n ON n.nspname = t.schema_name::name AND n.nspname::text = t.schema_name "
        "CROSS JOIN LATERAL (SELECT pg_catalog.array_agg(c.oid ORDER BY s.source_table) AS relids, "
        "                           pg_catalog.array_agg(s.source_table ORDER BY s.source_table) AS tables, "
        "                           pg_catalog.count(c.oid) = pg_catalog.count(*) AS complete "
        "                    FROM " + CONTRACT_TABLE_NAMES + " AS s "
        "                    LEFT JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = s.source_table"
        "                   ) AS r "
        "CROSS JOIN LATERAL catalog_sync.trigger_states(r.relids, r.tables, t.tenant_id) AS st "
        "WHERE t.schema_name = ANY (%s::text[]) AND r.complete "
        "GROUP BY t.schema_name, st.state",
        (list(schemas),),
    ).fetchall()
    states: dict[str, dict[str, int]] = {}
    for schema, state, count in rows:
        states.setdefault(schema, {})[state] = int(count)
    return states


def up_to_date(conn: psycopg.Connection, schemas: Sequence[str]) -> set[str]:
    """The schemas where attach_schemas() would change nothing, so that a role that does not own them need
    not be refused (DBA walk-through, fortieth session: a schema handed to a per-tenant role made every
    later attach --all of the application role exit 2): attached, with the tables the contract names there
    registered (not restored or swapped in since), the machinery's USAGE on the schema and SELECT on each
    table, and every sync trigger of the spec INSTALLED on them (enabled always, current definition), and
    no other (review, fortieth session: the triggers alone let a restored table or a revoked grant pass).
    Not compared: the machinery's copy of a schema name the registry changed, which attach brings up to
    date and which is read only where the registry has no row for the tenant (an installer cannot read it)."""
    attached = sorted(s for s, state in attach_states(conn, schemas).items() if state == "attached")
    if not attached:
        return set()
    rows = conn.execute(
        "SELECT x.name FROM pg_catalog.unnest(%s::text[]) AS x (name) "
        "JOIN pg_catalog.pg_namespace n ON n.nspname = x.name::name AND n.nspname::text = x.name "
        "CROSS JOIN LATERAL (SELECT pg_catalog.array_agg(c.oid ORDER BY c.oid) AS relids, "
        "                           pg_catalog.bool_and(pg_catalog.has_table_privilege('catalog_sync_owner', c.oid, "
        "                                                                              'SELECT')) AS readable "
        "                    FROM pg_catalog.pg_class c WHERE c.relnamespace = n.oid AND c.relname IN "
        + CONTRACT_TABLE_NAMES + ") AS t "
        "WHERE pg_catalog.has_schema_privilege('catalog_sync_owner', n.oid, 'USAGE') AND t.readable "
        "  AND t.relids = ARRAY(SELECT r.relid FROM catalog_sync.attached_relids(x.name) AS r ORDER BY r.relid)",
        (attached,),
    ).fetchall()
    registered = [r[0] for r in rows]
    return {schema for schema, counts in trigger_states_by_schema(conn, registered).items()
            if set(counts) == {"INSTALLED"}}


def on_connections(items: Iterable[T], jobs: int, connect: Callable[[], psycopg.Connection],
                   handle: Callable[[psycopg.Connection, T], None]) -> None:
    """handle(connection, item) for every item, from `jobs` connections at once (each opened with
    `connect`, items taken in turn). After an error no connection starts another item (the running
    ones finish) and the first error is raised. Ctrl-C also cancels the running statements (their
    transactions roll back): a worker's session must not stay queued for a lock after the tool has
    given up."""
    pending = iter(items)
    taking = threading.Lock()
    errors: list[BaseException] = []
    sessions: list[psycopg.Connection] = []
    # Set by each worker as it ends. Thread.join()/is_alive() cannot tell: on CPython 3.11 a Ctrl-C
    # that interrupts join() marks the running thread as ended (python/cpython#90882), and the tool
    # returned before the cancelled worker had finished (found in a loaded CI run).
    workers: list[tuple[threading.Thread, threading.Event]] = []

    def worker(done: threading.Event) -> None:
        try:
            with connect() as own:
                with taking:
                    sessions.append(own)
                while True:
                    # Under the lock that Ctrl-C takes below: once it has cancelled the running
                    # statements, no worker starts another item.
                    with taking:
                        if errors:
                            return
                        try:
                            item = next(pending)
                        except StopIteration:
                            return
                    handle(own, item)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            with taking:
                errors.append(exc)
        finally:
            done.set()

    def wait_for_started_workers() -> None:
        # In short waits: the OS may hand SIGINT to a worker thread, and a main thread blocked in a
        # plain wait would only see the KeyboardInterrupt once that wait returned.
        for thread, done in workers:
            if thread.ident is None:    # not started yet, or never (Ctrl-C in start()): it takes no
                continue                # item, the Ctrl-C being in `errors` already
            while not done.wait(0.2):
                pass

    try:
        # Started inside the try: a Ctrl-C that arrives while the later workers start still cancels
        # what the first ones run (found in a loaded CI run).
        for n in range(jobs):
            done = threading.Event()
            # (daemons: after a second Ctrl-C the process ends without them; their sessions, cancelled
            # by then, end with it)
            workers.append((threading.Thread(target=worker, args=(done,), name=f"catalog-sync-{n}",
                                             daemon=True), done))
            workers[-1][0].start()
        wait_for_started_workers()
    except BaseException as exc:   # Ctrl-C: no worker starts another item; the running ones are cancelled
        with ctrl_c_deferred(), taking:   # (every one of them, also if Ctrl-C comes again meanwhile)
            errors.append(exc)
            for session in sessions:
                with suppress(psycopg.Error):
                    session.cancel_safe(timeout=5)
        wait_for_started_workers()  # a second Ctrl-C gives up waiting: the process ends
        raise
    if errors:
        raise errors[0]


def _limit(lock_timeout: str | None) -> str:
    if not lock_timeout or not any(c in "123456789" for c in lock_timeout):
        return "no --lock-timeout: the sync's own 1 ms limit while it plans a read"
    return f"--lock-timeout {lock_timeout}"


def waiting_for_writers(lock_timeout: str) -> str:
    """What a slow tenant may be waiting for, said with the limit: none for 0 (DBA trial, forty-first
    session: --lock-timeout 0 read "waiting up to 0 for its writers")."""
    if any(c in "123456789" for c in lock_timeout):
        return f"waiting up to {lock_timeout} for its writers"
    return "waiting for its writers, without a limit (--lock-timeout 0)"


def lock_held(what: str, lock_timeout: str | None) -> str:
    """The one wording of a lock wait that timed out, and where to look."""
    return f"a lock on {what} was held longer than {_limit(lock_timeout)} ({LONG_TRANSACTION})"


def busy(server_message: str, lock_timeout: str | None, command: str) -> str:
    """What a read-only command reports for a tenant it could not read: a lock wait timed out (the
    session's lock_timeout, or the 1 ms the sync allows while it plans a read, for an index lock)."""
    return (f"busy: its tables or their indexes stayed locked ({server_message}; {_limit(lock_timeout)}; "
            f"{LONG_TRANSACTION}); run {command} again later, or with a larger --lock-timeout")


def registry_busy(lock_timeout: str | None, command: str, before_anything: bool = False) -> str:
    """The same for what every tenant needs: the registry, the catalogs, the machinery's tables
    (`before_anything`: the command had done nothing yet)."""
    return (f"{command}: the tenant registry, a catalog or the machinery's tables stayed locked "
            f"({_limit(lock_timeout)}; {LONG_TRANSACTION}); {'nothing was done; ' if before_anything else ''}"
            f"run {command} again later, or with a larger --lock-timeout")


def set_lock_timeout(conn: psycopg.Connection, lock_timeout: str) -> None:
    """lock_timeout for the rest of the current transaction."""
    conn.execute("SELECT pg_catalog.set_config('lock_timeout', %s, true)", (lock_timeout,))


def set_timeouts(conn: psycopg.Connection, lock_timeout: str, statement_timeout: str) -> None:
    """lock_timeout and statement_timeout for the rest of the current transaction, in one statement."""
    conn.execute("SELECT pg_catalog.set_config('lock_timeout', %s, true), "
                 "pg_catalog.set_config('statement_timeout', %s, true)", (lock_timeout, statement_timeout))


def attach_chunk(conn: psycopg.Connection, chunk: Sequence[str], progress: Progress,
                 lock_timeout: str = DDL_LOCK_TIMEOUT, keep_opt_outs: bool = False
                 ) -> tuple[list[tuple[str, int]], list[str]]:
    """attach_schemas() of the chunk (the contract check and registry rows of all its schemas in one
    call, their schema grants in one statement), in one transaction; (schema, triggers changed) each,
    and, with keep_opt_outs (a list read before: attach --all, repair), the schemas left alone because
    their tenant was detached on purpose meanwhile (opted_out_schemas()). A deadlock (with autovacuum,
    or another attaching connection) retries the chunk; a lock wait longer than lock_timeout raises
    LockNotAvailable (nothing of the chunk is attached)."""
    for attempt in range(1, 4):
        try:
            with conn.transaction():
                set_lock_timeout(conn, lock_timeout)
                opted_out: list[str] = []
                if keep_opt_outs:
                    opted_out = [str(r[0]) for r in conn.execute(
                        "SELECT catalog_sync.opted_out_schemas(%s::text[])", (list(chunk),)).fetchall()]
                rest = [s for s in chunk if s not in opted_out]
                rows = conn.execute("SELECT schema_name, triggers_changed FROM catalog_sync.attach_schemas(%s::text[])",
                                    (rest,)).fetchall() if rest else []
            return [(str(r[0]), int(r[1])) for r in rows], opted_out
        except (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure) as exc:
            # (40001: the registry or a tenant's table rewritten while the chunk waited for it, the retry
            # reading it on a snapshot taken after that commit; or a table renamed meanwhile,
            # lock_tables_by_name())
            if attempt == 3:
                raise
            why = ("deadlock" if isinstance(exc, psycopg.errors.DeadlockDetected)
                   else "a table renamed or rewritten meanwhile")
            progress(f"attach: {why} in a chunk (attempt {attempt}), retrying it")
    raise AssertionError("unreachable")


def registry_readable(conn: psycopg.Connection, lock_timeout: str) -> bool:
    """Whether the registry can be read (as attach reads it) within lock_timeout."""
    try:
        with conn.transaction():
            set_lock_timeout(conn, lock_timeout)
            conn.execute("SELECT count(*) FROM catalog_sync.tenant_schemas()")
    except psycopg.errors.LockNotAvailable:
        return False
    return True


class RegistryBusy(ToolError):
    """attach() stopped: the registry, which every schema's attach reads, stayed locked (the message says
    how many schemas were attached before that)."""


def attach(conn: psycopg.Connection, schemas: Sequence[str], chunk_size: int, progress: Progress,
           jobs: int = 1, connect: Callable[[], psycopg.Connection] | None = None,
           lock_timeout: str = DDL_LOCK_TIMEOUT, result: AttachResult | None = None,
           keep_opt_outs: bool = False) -> AttachResult:
    """attach_chunk() (catalog_sync.attach_schemas) for every chunk of chunk_size schemas; keep_opt_outs:
    `schemas` is a list read before (attach --all, repair), and a tenant detached on purpose since is
    left alone (in `opted_out`).

    With jobs > 1, chunks are attached by that many connections at once (opened
    with `connect`; conn itself attaches nothing then). Chunks are independent
    transactions: on an error the chunks already committed stay attached (attach
    is idempotent: run it again), the others are not started, and the first
    error is raised. A chunk whose lock wait times out (a long transaction on
    one of its tables) is attached again one schema at a time, so that only
    the busy schemas are left out: they are listed in `busy`. `result`, when given, is filled in
    as chunks commit: after an error the caller can tell what was attached before it."""
    result = AttachResult() if result is None else result
    started = time.monotonic()
    chunks = [schemas[i:i + chunk_size] for i in range(0, len(schemas), chunk_size)]
    done = threading.Lock()
    printing = threading.Lock()

    def locked_progress(message: str) -> None:
        with printing:
            progress(message)

    def record(chunk: Sequence[str], attached: tuple[list[tuple[str, int]], list[str]], report: bool = True) -> None:
        per_schema, opted_out = attached
        with done:
            result.changed += sum(c for _, c in per_schema)
            result.schemas_unchanged += sum(1 for _, c in per_schema if c == 0)
            result.changed_schemas += [s for s, c in per_schema if c]
            result.opted_out += opted_out
            result.schemas += len(chunk) - len(opted_out)
            if report and len(schemas) > chunk_size:
                seen = result.schemas + len(result.busy) + len(result.opted_out)
                locked_progress(f"attach: {seen}/{len(schemas)} schemas ({time.monotonic() - started:.1f}s)")

    def attach_or_split(own: psycopg.Connection, chunk: Sequence[str], split: bool = False) -> None:
        try:
            record(chunk, attach_chunk(own, chunk, locked_progress, lock_timeout, keep_opt_outs), report=not split)
        except (psycopg.errors.InvalidSchemaName, psycopg.errors.UndefinedTable, psycopg.errors.SerializationFailure,
                psycopg.errors.DeadlockDetected, psycopg.errors.InsufficientPrivilege) as exc:
            # A schema of the chunk renamed, dropped or broken since the pre-flight (a tenant's schema renamed
            # as docs/operations.md says, during attach --all), one whose tables kept moving (40001, 40P01
            # after attach_chunk()'s tries), or one whose table's name came to mean a view of relations its
            # owner may not lock so (42501, lock_tables_by_name()): the others are attached, it is named
            # (concurrency trial and review, fifty-second session: the run stopped there, exit 2, the rest not
            # attached).
            if len(chunk) > 1:
                for schema in chunk:
                    attach_or_split(own, [schema], split=True)
                record([], ([], []))
                return
            with done:
                result.changed_meanwhile.append((chunk[0], describe(exc)))
            locked_progress(f"attach: {chunk[0]} skipped: {describe(exc)}")
            record([], ([], []), report=not split)
        except psycopg.errors.LockNotAvailable:
            # A lock every schema needs (the registry's) would make each of them time out in turn.
            if not registry_readable(own, lock_timeout):
                raise RegistryBusy(f"the tenant registry public.tenants_tenant stayed locked longer than "
                                f"--lock-timeout {lock_timeout} (DDL or REINDEX on it? see pg_stat_activity); "
                                f"{result.schemas} schema(s) attached before that; run attach again later") from None
            if len(chunk) > 1:
                locked_progress(f"attach: a lock wait of over {lock_timeout} in a chunk of {len(chunk)} schemas; "
                                "attaching them one at a time")
                for schema in chunk:
                    attach_or_split(own, [schema], split=True)
                record([], ([], []))      # (one progress line for the chunk: DBA trial, forty-fourth session, 200)
                return
            with done:
                result.busy.append(chunk[0])
            locked_progress(f"attach: {chunk[0]} skipped: {lock_held('its tables', lock_timeout)}")
            record([], ([], []), report=not split)

    if jobs <= 1 or len(chunks) <= 1 or connect is None:
        for chunk in chunks:
            attach_or_split(conn, chunk)
        return result

    on_connections(chunks, min(jobs, len(chunks)), connect, attach_or_split)
    return result


def protection_on(conn: psycopg.Connection) -> bool:
    """Whether protect's three event triggers are installed and fire (catalog_sync.protection_on())."""
    row = conn.execute("SELECT catalog_sync.protection_on()").fetchone()
    return bool(row and row[0])


def secure_tenant_schema(conn: psycopg.Connection, schema: str, role: str,
                         lock_timeout: str = DDL_LOCK_TIMEOUT) -> str | None:
    """Hand a schema to a per-tenant role (catalog_sync.secure_tenant_schema); returns its remark."""
    with conn.transaction():
        set_lock_timeout(conn, lock_timeout)     # ALTER ... OWNER locks each table
        row = conn.execute("SELECT catalog_sync.secure_tenant_schema(%s, %s)", (schema, role)).fetchone()
    return row[0] if row else None


def check_tenant_role(conn: psycopg.Connection, schema: str, role: str) -> None:
    """secure_tenant_schema()'s checks of the role and the schema, without changing or locking anything."""
    conn.execute("SELECT catalog_sync.secure_tenant_schema(%s, %s, true)", (schema, role))


def tables_to_register(conn: psycopg.Connection, schemas: Sequence[str]) -> dict[str, int]:
    """Per schema of an attached tenant, the tables attach registers anew (catalog_sync.tables_to_register():
    restored from a dump, or swapped in); schemas with none left out."""
    rows = conn.execute("SELECT schema_name, tables FROM catalog_sync.tables_to_register(%s::text[])",
                        (list(schemas),)).fetchall()
    return {str(schema): int(count) for schema, count in rows}


def attach_states(conn: psycopg.Connection, schemas: Sequence[str]) -> dict[str, str]:
    """'attached', 'detached' (on purpose, after or instead of an attach) or 'not attached', per schema,
    as catalog_sync.tenant_schemas() (status, attach --all) tells them."""
    rows = conn.execute("SELECT schema_name, attached, detached FROM catalog_sync.tenant_schemas() "
                        "WHERE schema_name = ANY (%s::text[])", (list(schemas),)).fetchall()
    states = {s: "attached" if attached else "detached" if detached else "not attached"
              for s, attached, detached in rows}
    return {s: states.get(s, "not attached") for s in schemas}


def never_backfilled(conn: psycopg.Connection, schemas: Sequence[str]) -> list[str]:
    """Of `schemas`, the attached tenants never backfilled (an attach that stopped before its backfill)."""
    return [str(r[0]) for r in conn.execute(
        "SELECT schema_name FROM catalog_sync.tenant_schemas() "
        "WHERE attached AND NOT backfilled AND schema_name = ANY (%s::text[])", (list(schemas),))]


def detach_state(conn: psycopg.Connection, schema: str) -> str:
    """'attached', 'detached' (on purpose), 'detached by the sync' (after a source table was gone), 'not
    attached' (a registry tenant never attached) or 'unknown', as detach_schema() sees the schema."""
    row = conn.execute("SELECT state FROM catalog_sync.schema_registration(%s)", (schema,)).fetchone()
    return str(row[0]) if row else "unknown"


def detach_preview(conn: psycopg.Connection, schema: str) -> tuple[int, str | None]:
    """The sync triggers detach would drop, without a lock on the tenant's tables, and why detach as this
    role would be refused (None: it would not). A name of nothing is refused here, naming a near one."""
    row = conn.execute("SELECT coalesce(sum(r.triggers), 0), catalog_sync.ownership_problem("
                       "    coalesce(array_agg(r.relid ORDER BY r.relid) FILTER (WHERE r.triggers > 0), '{}')) "
                       "FROM catalog_sync.schema_sync_triggers(%s) AS r", (schema,)).fetchone()
    count, problem = (int(row[0]), row[1]) if row else (0, None)
    if count == 0 and detach_state(conn, schema) == "unknown":
        raise ToolError(f"schema {schema} is neither attached nor a tenant schema"
                        f"{near_name(schema, tenant_schema_names(conn))}")
    if problem:          # (detach_schema()'s own check and words)
        return count, (f"{problem} (hint: Detach as the role that owns the tenant tables (or a member of it) "
                       "that is also a member of catalog_sync_installer, or as a superuser.)")
    return count, None


def catalog_rows(conn: psycopg.Connection, schema: str) -> tuple[int, int, int] | None:
    """The rows of the schema's tenant (as detach sees it) in the job, provider and service catalogs, or
    None for a schema of no tenant. Reads no table of the tenant."""
    row = conn.execute("SELECT n.jobs, n.providers, n.services FROM catalog_sync.schema_registration(%s) AS g, "
                       "catalog_sync.catalog_row_counts(g.tenant_id) AS n", (schema,)).fetchone()
    return (int(row[0]), int(row[1]), int(row[2])) if row else None      # (catalog_row_counts() is STRICT)


# Why repair detaches a tenant itself (catalog_sync.tenant.detached_because): not an opt-out.
TABLE_GONE = "a source table was gone (verify --repair)"
# What to do about a tenant so detached whose schema still lacks a contract table (tenant_tables_gone).
TABLES_STILL_GONE = ("a contract table is still gone from its schema: restore it, and verify --repair attaches the "
                     "tenant again; or catalog-sync detach SCHEMA opts it out")


def detach(conn: psycopg.Connection, schema: str, purge: bool, lock_timeout: str = DDL_LOCK_TIMEOUT,
           because: str | None = None, progress: Progress | None = None) -> tuple[int, tuple[int, int, int], str]:
    """detach_schema() in a transaction of its own, its locks taken in tries (in_lock_tries()): the
    triggers it dropped, the job, provider and service catalog rows it purged, and the schema's state
    before it (detach_state()), read under its locks: an attach it waited for is then seen (review,
    forty-seventh session). `because`: detached by the tool itself, not on purpose (verify then reports
    the tenant again once its tables are back)."""

    def lock(run: Run) -> None:
        # An attach of the tenant in flight first (it takes this lock before the tables'): the triggers
        # read next are then the ones it committed (chaos trial, forty-seventh session).
        run("SELECT catalog_sync.lock_attaches(ARRAY[%s])", (schema,))
        # The tables with sync triggers, where the session may lock them all (their owner, or a member of
        # it); else none here, and detach_schema() refuses in its own words (its ownership check first).
        rows = run(
            "SELECT n.nspname, c.relname, c.oid, pg_catalog.pg_has_role(c.relowner, 'USAGE') "
            "FROM catalog_sync.schema_sync_triggers(%s) AS r JOIN pg_catalog.pg_class c ON c.oid = r.relid "
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE r.triggers > 0 ORDER BY c.oid",
            (schema,)).fetchall()
        if all(r[3] for r in rows):
            lock_exclusively(run, [(r[0], r[1], int(r[2])) for r in rows])
            # then its tenant's lock, which detach_schema() takes, within the try too (DBA trial, forty-third
            # session: taken there, it waited for a tenant rename that waited for the tables held here)
            run("SELECT catalog_sync.lock_schema_tenant(%s)", (schema,))

    def work() -> tuple[int, tuple[int, int, int], str]:
        state = detach_state(conn, schema)
        row = conn.execute("SELECT triggers_dropped, jobs_purged, providers_purged, services_purged "
                           "FROM catalog_sync.detach_schema(%s, %s, %s)", (schema, purge, because)).fetchone()
        return (int(row[0]), (int(row[1]), int(row[2]), int(row[3])), state) if row else (0, (0, 0, 0), state)

    return in_lock_tries(conn, lock_timeout, lock, work, progress, "detach")


def resolve_tenants(conn: psycopg.Connection, schemas: Sequence[str] | None,
                    command: str = "this command", lock_timeout: str | None = None) -> list[Tenant]:
    """The attached tenants, or those named; an unknown or unattached name is an error. A registry
    locked longer than the session's lock_timeout is one error naming `command` and `lock_timeout`."""
    try:
        rows = conn.execute("SELECT tenant_id, schema_name, attached, detached "
                            "FROM catalog_sync.tenant_schemas()").fetchall()
    except psycopg.errors.LockNotAvailable as exc:
        raise ToolError(registry_busy(lock_timeout, command)) from exc
    known = {r[1]: (int(r[0]), bool(r[2]), bool(r[3])) for r in rows}
    if not schemas:
        return [Tenant(tid, name) for name, (tid, attached, _) in known.items() if attached]
    tenants = []
    for name in dict.fromkeys(schemas):
        if name not in known:
            raise ToolError(f"unknown tenant schema {name!r}: no tenant of public.tenants_tenant has it "
                            f"(with the contract tables){near_name(name, known)}")
        tid, attached, detached = known[name]
        if detached:    # (DBA trial, forty-fifth session: told to attach an opt-out, as if it were a slip)
            raise ToolError(f"tenant schema {name!r} is detached (an opt-out, or by the sync while a table of it "
                            f"was gone; catalog-sync status says which): nothing of it is synced; "
                            f"`catalog-sync attach {name}` syncs it again, where that is meant (once its tables are "
                            "all there)")
        if not attached:
            raise ToolError(f"tenant schema {name!r} is not attached; run `catalog-sync attach {name}` first")
        tenants.append(Tenant(tid, name))
    return tenants


class RunBusy(ToolError):
    """session_lock() or no_migration() refused: another run holds the lock (the message names it; `holder`:
    lock_holder()'s; `what`: the runs that take that lock)."""

    def __init__(self, message: str, holder: str, what: str) -> None:
        super().__init__(message)
        self.holder = holder
        self.what = what


@contextmanager
def session_lock(conn: psycopg.Connection, key_sql: str, busy: str, wait: bool = False,
                 what: str = "a backfill, repair or uninstall") -> Iterator[None]:
    """A session-level advisory lock held for the block: one run at a time per database. Taken at once or
    refused (`busy`, with the holder's pid); with `wait`, waited for up to the session's lock_timeout."""
    try:
        take = f"true FROM pg_advisory_lock({key_sql})" if wait else f"pg_try_advisory_lock({key_sql})"
        got = conn.execute(f"SELECT {take}").fetchone()
    except psycopg.errors.LockNotAvailable:
        got = None
    if not got or not got[0]:
        # (DBA trial, forty-fourth session: the session of a run killed a moment ago, or cut off by its network,
        # holds it until the server notices: seconds, about two minutes)
        holder = lock_holder(conn, key_sql)
        raise RunBusy(f"{busy}{holder}; wait for it to finish (a run just killed, or cut off by its network, holds "
                      "it until the server notices, within about two minutes; or end that backend with "
                      "pg_terminate_backend(pid))", holder, what)
    try:
        yield
    finally:
        # A lost session released it: the error that ended it is the one to report, and where the work had
        # ended first, none (DBA trial, forty-second session: migrate's lock session, ended while alembic
        # worked on its own, made a migrate that had succeeded exit 2).
        lost = _unlock(conn, f"SELECT pg_advisory_unlock({key_sql})")
        if lost:    # (review, forty-second session: from when it was lost, another run was not shut out)
            print(f"catalog-sync: notice: the session that held this run's lock was lost before the end ({lost}); "
                  "from then on another run of the same kind was not shut out", file=sys.stderr)


def _unlock(conn: psycopg.Connection, unlock_sql: str) -> str | None:
    """Lets a session-level advisory lock go, at the end of the block that held it; the server's message
    where the session turns out lost (its lock went with it), else None. A session known lost, or in a
    failed transaction, is left alone: it lets the lock go as it ends, and the error is the one to report."""
    if conn.closed or conn.info.transaction_status == psycopg.pq.TransactionStatus.INERROR:
        return None     # (closed: also by an inner lock's _unlock below, which let both locks go)
    if conn.info.transaction_status == psycopg.pq.TransactionStatus.ACTIVE:
        # A statement interrupted mid-flight (a Ctrl-C): the session cannot run another, and ending it lets
        # the lock go (DBA trial, forty-fifth session: "another command is already in progress" replaced the
        # interrupt's report, exit 2).
        conn.close()
        return None
    try:
        conn.execute(unlock_sql)
    except psycopg.OperationalError as exc:
        if not connection_lost(exc):
            raise
        return server_message(exc)
    return None


def lock_holder(conn: psycopg.Connection, key_sql: str) -> str:
    """Who holds the advisory lock, as " (backend pid N, role R, application_name 'A')", or "".
    Only a holder in this database (advisory locks are per database: red team, forty-second session, a
    tenant's session in another database, holding the same key there, was named), with its role and
    application_name: the client sets the latter, so it is a hint, not proof of a run of the tool."""
    holder = conn.execute(
        "SELECT l.pid, a.usename, a.application_name FROM pg_locks l "
        "CROSS JOIN (SELECT " + key_sql + " AS k) AS x "
        "LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
        "AND l.database = (SELECT d.oid FROM pg_database d WHERE d.datname = current_database()) "
        "AND l.classid::bigint = (x.k >> 32) & 4294967295 AND l.objid::bigint = x.k & 4294967295 LIMIT 1"
    ).fetchone()
    if not holder:
        return ""
    about = [f"backend pid {holder[0]}"] + ([f"role {holder[1]}"] if holder[1] else []) + (
        [f"application_name {holder[2]!r}"] if holder[2] else [])
    return f" ({', '.join(about)})"


@contextmanager
def no_migration(conn: psycopg.Connection, command: str) -> Iterator[None]:
    """Refused while a migrate or uninstall runs, and none starts meanwhile (their lock, shared, held for the
    block: they wait for it up to their --lock-timeout). DBA trial, forty-second session: an attach during a
    chunked uninstall attached again a tenant that a chunk had just uninstalled, which the uninstall's
    message then counted as uninstalled; review: a detach then lost its opt-out to a later chunk."""
    row = conn.execute(f"SELECT pg_try_advisory_lock_shared({MIGRATION_LOCK_SQL})").fetchone()
    if not row or not row[0]:
        holder = lock_holder(conn, MIGRATION_LOCK_SQL)
        raise RunBusy(f"{command}: a migrate or uninstall is running on this database{holder}; nothing was changed: "
                      "wait for it to finish", holder, "a migrate or uninstall")
    try:
        yield
    finally:
        _unlock(conn, f"SELECT pg_advisory_unlock_shared({MIGRATION_LOCK_SQL})")


def backfill_lock(conn: psycopg.Connection, command: str | None = None) -> AbstractContextManager[None]:
    """One backfill or repair at a time per database: a second one (or `command`) fails at once."""
    # (an uninstall holds it too, to keep backfills out: DBA trial, forty-second session)
    busy = (f"{command}: a backfill or repair is running" if command
            else "another backfill, repair or uninstall is running")
    return session_lock(conn, BACKFILL_LOCK_SQL, f"{busy} on this database")


@contextmanager
def migration_lock(conn: psycopg.Connection, command: str, no_backfill: bool = False) -> Iterator[None]:
    """One migrate or uninstall at a time per database (autocommit `conn`): a second one waits up to the
    session's lock_timeout, then finds the work done (DBA trial, forty-first session: of two migrates at once,
    one failed on pg_type's unique index, "alembic_version already exists"). `no_backfill`: and refused while
    a backfill or repair runs (uninstall dropped the machinery under one). Only a superuser's session takes
    them: another role changes nothing there (migrate at its revision; uninstall refuses it), and may lack the
    advisory-lock functions (protect --restrict-advisory-locks)."""
    if not is_superuser(conn):
        yield
        return
    with session_lock(conn, MIGRATION_LOCK_SQL, f"{command}: another migrate or uninstall, or an attach, "
                      "detach or repair, is running on this database, longer than --lock-timeout", wait=True,
                      what="a migrate or uninstall, or an attach, detach or repair"), \
            (backfill_lock(conn, command) if no_backfill else nullcontext()):
        yield


def stop_if_ended(conn: psycopg.Connection, exc: psycopg.Error, where: str, then: str) -> None:
    """Ends a run over tenants whose session is gone (each later tenant would only fail in turn, "the
    connection is lost" a line each: a server restart in the middle of a run over 10,000 tenants), or
    whose statement an operator cancelled (DBA trial, forty-first session: pg_cancel_backend() failed one
    tenant, and the run went on). A statement_timeout fails that tenant only."""
    message = server_message(exc)
    if conn.broken:
        why = CONNECTION_LOST
    elif isinstance(exc, psycopg.errors.QueryCanceled) and "user request" in message:
        why = "cancelled by pg_cancel_backend() or another client's cancel request"
    else:
        return
    raise ToolError(f"{where}: {message} ({why}); {then}") from exc


CATALOGS = ("jobs", "providers", "services")
COUNTS = ("source_rows", "eligible", "inserted", "updated", "removed")


@contextmanager
def noticed_if_slow(progress: Progress | None, after: float,
                    message: Callable[[float], str]) -> Iterator[threading.Event]:
    """Prints `message(seconds)` if the block still runs after `after` seconds, and again every
    NOTICE_EVERY_S seconds while it runs, so that a long tenant (or a wait for its writers) is not silent
    (DBA trial, forty-fifth session: one line at 5 s, then nothing for minutes); the event tells whether
    it did."""
    noticed = threading.Event()
    done = threading.Event()
    started = time.monotonic()
    interval = NOTICE_EVERY_S

    def watch() -> None:
        wait = after
        while not done.wait(wait):
            first = not noticed.is_set()
            noticed.set()   # (before the line: a block that ends while it is written has still been noticed)
            if progress:    # (the first line says `after` itself; the next ones the whole seconds run so far)
                progress(message(after if first else round(time.monotonic() - started)))
            wait = interval

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield noticed
    finally:
        done.set()
        watcher.join()      # (no line after the block's own: review, forty-fifth session)


def backfill(
    conn: psycopg.Connection | Sessions,
    tenants: Sequence[Tenant],
    dry_run: bool,
    lock_timeout: str,
    progress: Progress,
    catalog: str | None = None,
    notice_after: float = 5.0,
    quiet: bool = False,
    command: str = "backfill",
) -> dict[str, Any]:
    """backfill_tenant() per tenant, one transaction each; errors are reported, not fatal. With Sessions
    (holds_lock: the run's lock stays with its first session), a new session takes over every
    SESSION_TENANTS tenants.

    A tenant's entry sums its catalogs; entry["catalogs"] has the rows per catalog. A tenant
    still running after `notice_after` seconds gets a progress line of its own, so a wait for
    its writers is not silent. `quiet`: a tenant's closing line only when it failed or had that
    notice (so a slow tenant is seen to finish).
    """
    sessions = conn if isinstance(conn, Sessions) else Sessions(conn)
    report: list[dict[str, Any]] = []
    started = time.monotonic()
    n = 0
    try:
        for n, tenant in enumerate(tenants, 1):
            _backfill_tenant(sessions.for_tenant(n, of=len(tenants)), tenant, n, len(tenants), dry_run,
                             lock_timeout, progress, catalog, notice_after, quiet, command, report)
    except KeyboardInterrupt:       # (Ctrl-C or SIGTERM: which tenants stay done; DBA trial, forty-fourth session)
        if n and not dry_run:
            progress(f"{command}: interrupted at {tenants[n - 1].schema} ({n}/{len(tenants)}): nothing of it "
                     f"written, the {n - 1} tenant(s) before it committed; run {command} again: it writes nothing "
                     "more for the tenants done")
        raise

    def total(key: str) -> int:
        return sum(int(e.get(key) or 0) for e in report)

    return {
        "dry_run": dry_run,
        "tenants": report,
        "total": {
            "tenants": len(report),
            "source_rows": total("source_rows"),
            "eligible": total("eligible"),
            "inserted": total("inserted"),
            "updated": total("updated"),
            "removed": total("removed"),
            # (review, forty-seventh session: "skipped" was a count here, a tenant's reason in its entry)
            "ineligible": total("source_rows") - total("eligible"),
            "tenants_skipped": sum(1 for e in report if "skipped" in e),
            "errors": sum(1 for e in report if e["error"]),
            "seconds": round(time.monotonic() - started, 3),
        },
    }


def detached_meanwhile(exc: psycopg.Error) -> bool:
    """backfill_tenant()'s or verify_tenant()'s error for a tenant detached since the run read its list (its
    undefined_object "tenant N is not attached"; any other 42704 is an error)."""
    return isinstance(exc, psycopg.errors.UndefinedObject) and "is not attached" in server_message(exc)


def still_registered(conn: psycopg.Connection, tenant_id: int) -> bool:
    """Whether the registry has the tenant (as tenant_schemas() lists tenants); True where that cannot be read."""
    try:
        row = conn.execute("SELECT count(*) FROM catalog_sync.tenant_schemas() WHERE tenant_id = %s",
                           (tenant_id,)).fetchone()
    except psycopg.Error:
        return True
    return bool(row and row[0])


def _backfill_tenant(session: psycopg.Connection, tenant: Tenant, n: int, of: int, dry_run: bool, lock_timeout: str,
                     progress: Progress, catalog: str | None, notice_after: float, quiet: bool, command: str,
                     report: list[dict[str, Any]]) -> None:
    """backfill()'s n-th tenant (of `of`), its entry added to `report`."""
    t0 = time.monotonic()
    entry: dict[str, Any] = {"schema": tenant.schema, "tenant_id": tenant.tenant_id, "error": None}
    with noticed_if_slow(progress, notice_after,
                         lambda seconds: f"backfill [{n}/{of}] {tenant.schema}: still running after {seconds:g}s "
                         f"(a large tenant, or {waiting_for_writers(lock_timeout)})") as noticed:
        try:
            for attempt in (1, 2):
                try:
                    with session.transaction() as tx:
                        set_lock_timeout(session, lock_timeout)
                        cur = session.cursor(row_factory=dict_row)
                        rows = cur.execute("SELECT * FROM catalog_sync.backfill_tenant(%s, %s, %s)",
                                           (tenant.tenant_id, dry_run, catalog)).fetchall()
                        entry["catalogs"] = {r.pop("catalog"): r for r in rows}
                        entry.update({k: sum(int(r[k] or 0) for r in rows) for k in COUNTS})
                        if dry_run:
                            raise psycopg.Rollback(tx)
                    break
                except psycopg.errors.DeadlockDetected:
                    # (once more: a DELETE of the tenant from the registry between its lock and its claim
                    # deadlocks with it, and the next try names the tenant deleted; review, fifty-second session)
                    if attempt == 2:
                        raise
        except psycopg.Error as exc:
            stop_if_ended(session, exc, f"{command} stopped at {tenant.schema} ({n}/{of}), " + (
                "a dry run" if dry_run else f"nothing of it written, the {n - 1} tenant(s) before it committed"),
                f"run {command} again: it writes nothing more for the tenants done")
            if detached_meanwhile(exc):
                # (DBA trial, forty-first session: a tenant detached while the run went on was a failure,
                # "run it again for them", which would have attached a tenant that opted out; concurrency
                # trial, fifty-second session: one deleted from the registry was "detached" too)
                entry["skipped"] = ("deleted from the registry since the run began"
                                    if not still_registered(session, tenant.tenant_id)
                                    else "detached since the run began")
            else:
                entry["error"] = describe(exc)
            if isinstance(exc, psycopg.errors.LockNotAvailable):
                held_by = "its tables, a catalog or the registry (its writers, DDL, or a backfill --dry-run)"
                entry["error"] += f": {lock_held(held_by, lock_timeout)}; backfill it again later"
    entry["seconds"] = round(time.monotonic() - t0, 3)
    report.append(entry)
    if entry["error"]:
        state = f"error: {entry['error']}"
    elif "skipped" in entry:
        state = f"skipped: {entry['skipped']}"
    elif dry_run:
        state = (f"would insert {entry.get('inserted', 0)}, update {entry.get('updated', 0)}, "
                 f"remove {entry.get('removed', 0)} (dry run)")
    else:
        state = (f"{entry.get('inserted', 0)} inserted, {entry.get('updated', 0)} updated, "
                 f"{entry.get('removed', 0)} removed")
    if not quiet or entry["error"] or noticed.is_set():
        progress(f"backfill [{n}/{of}] {tenant.schema}: {state} ({entry['seconds']:.3f}s)")


# Tenants a session of a run over tenants (verify, status) reads before a new one takes over (Sessions).
# A session's relation and catalog caches never shrink: one verify backend grew about 243 kB a tenant,
# 2.4 GB at 10,000 tenants; a new session every 1,000 kept it at 254 MB at no cost in speed (a helper's
# measurement, forty-second session).
SESSION_TENANTS = 1000


class NoNewSession(ToolError):
    """A reconnect of Sessions that could not open its session (no free connection slot, the server gone)."""


class Sessions:
    """The sessions of a run over tenants (verify, status, backfill). `conn`, the current one, begins as
    `first`; with `reconnect`, for_tenant() hands over to a new session every SESSION_TENANTS tenants,
    opened before the one it replaces is closed, `first` included: its caches and its connection slot go
    with it (red team, forty-third session: the first stayed open and idle for the whole run, twice the
    memory, one more connection, and a run that needed it at its end failed where it had been dropped
    meanwhile). What follows the run (a repair, the closing note) goes on in `conn`. A new session that
    cannot be opened leaves the run in the current one, saying so (the hand-over only saves memory); one
    that fails the pin ends it. Closing Sessions closes `conn` (the caller's `with` closes `first` again: a
    no-op).

    `holds_lock`: `first` holds the run's lock (backfill's), so it is kept open, idle after the first
    hand-over, and each hand-over first checks that it is still there: a run that went on after losing it
    would no longer be the only one (review, forty-second session). A run of more than SESSION_TENANTS
    tenants (`of`) hands over at its first tenant: the lock's session, kept to the end, then holds no
    tenant's caches (at 3,000 tenants it held 266 MB, the run 556 MB at once)."""

    def __init__(self, first: psycopg.Connection, reconnect: Callable[[], psycopg.Connection] | None = None,
                 progress: Progress | None = None, command: str = "", holds_lock: bool = False) -> None:
        self.conn = first
        self._first = first
        self._reconnect = reconnect
        self._progress = progress
        self._command = command
        self._holds_lock = holds_lock
        self._read = 0              # tenants read in `conn`

    def __enter__(self) -> Sessions:
        return self

    def __exit__(self, *_: object) -> None:
        self.conn.close()

    def for_tenant(self, n: int, hand_over: bool = True, of: int = 0) -> psycopg.Connection:
        """The session for the run's n-th tenant (from 1) of `of` (0: not known); `hand_over` False: no new
        session for it (one the run may not read)."""
        lock_only = self._holds_lock and n == 1 and of > SESSION_TENANTS
        if self._reconnect and hand_over and (self._read >= SESSION_TENANTS or lock_only):
            self._read = 0
            if self._holds_lock:
                try:
                    self._first.execute("SELECT 1")
                except psycopg.Error as exc:
                    raise ToolError(f"stopped at tenant {n}: the session that holds the run's lock was lost "
                                    f"({server_message(exc)}); the tenants before it are done: run it again") from exc
            try:
                new = self._reconnect()
            except NoNewSession as exc:
                if self._progress:
                    self._progress(f"{self._command}: tenant {n}: no new session could be opened ({exc}); going "
                                   f"on in this one, another try after {SESSION_TENANTS} more tenants")
            except (psycopg.Error, ToolError) as exc:
                why = error_text(exc)
                raise ToolError(f"stopped at tenant {n}: the new session (one every {SESSION_TENANTS} tenants, see "
                                f"docs/operations.md, Verify) failed: {why}") from exc
            else:
                old, self.conn = self.conn, new
                if old is not self._first or not self._holds_lock:
                    old.close()
        self._read += 1
        return self.conn


def verify(conn: psycopg.Connection | Sessions, tenants: Sequence[Tenant] | None,
           progress: Progress | None = None, lock_timeout: str | None = None,
           notice_after: float = 5.0) -> list[dict[str, Any]]:
    """All drift. Each tenant is compared in one statement, so in one snapshot, in a READ COMMITTED,
    READ ONLY transaction of its own: verify_tenant() locks the tenant's tables and checks their
    contract on a snapshot taken after those locks, which REPEATABLE READ would not give it (it
    refuses to run there), and its locks are released tenant by tenant. A tenant whose tables stay
    locked longer than the session's lock_timeout is an "error" finding (busy); the others are verified.
    With Sessions, a new session takes over every SESSION_TENANTS tenants."""
    sessions = conn if isinstance(conn, Sessions) else Sessions(conn)
    conn = sessions.conn
    findings: list[dict[str, Any]] = []
    cur = conn.cursor(row_factory=dict_row)

    if tenants is None:     # every attached tenant, and what concerns no single tenant
        try:
            with conn.transaction():
                conn.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED, READ ONLY")
                # (the registry locked before the statement that reads it: one rewritten while that statement
                # waited read as empty, no tenant to verify, verify clean; review, fifty-first session)
                conn.execute("SELECT catalog_sync.lock_tenant_tables(NULL)")
                schemas = cur.execute("SELECT tenant_id, schema_name, attached "
                                      "FROM catalog_sync.tenant_schemas()").fetchall()
                names = {int(r["tenant_id"]): r["schema_name"] for r in schemas}
                for r in cur.execute("SELECT * FROM catalog_sync.verify_global()").fetchall():
                    findings.append({"problem": r["problem"], "tenant_id": r["tenant_id"],
                                     "schema": names.get(r["tenant_id"]), "catalog": None, "key": None,
                                     "detail": r["detail"]})
                tenants = [Tenant(int(r["tenant_id"]), r["schema_name"]) for r in schemas if r["attached"]]
        except psycopg.errors.LockNotAvailable as exc:
            raise ToolError(registry_busy(lock_timeout, "verify")) from exc
    for n, tenant in enumerate(tenants, 1):
        _verify_tenant(sessions.for_tenant(n), tenant, n, len(tenants), findings, progress, lock_timeout,
                       notice_after)
    return findings


def _verify_tenant(session: psycopg.Connection, tenant: Tenant, n: int, of: int, findings: list[dict[str, Any]],
                   progress: Progress | None, lock_timeout: str | None, notice_after: float) -> None:
    """verify()'s comparison of its n-th tenant (of `of`), its findings added to `findings`. One tenant that
    cannot be verified must not hide the others' drift. A long one says so (DBA review, nineteenth
    session: a 13,000-job tenant was verified for 5 s without a line)."""
    cur = session.cursor(row_factory=dict_row)
    try:
        with noticed_if_slow(progress, notice_after,
                             lambda seconds: f"verify [{n}/{of}] {tenant.schema}: still running after "
                             f"{seconds:g}s (a large tenant, or waiting for its tables' locks)"), \
                session.transaction():
            session.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED, READ ONLY")
            # (its tables locked in a statement of their own, so that verify_tenant()'s snapshot comes after
            # any wait for them: one that waited inside it for a table rewritten or truncated meanwhile read
            # it as empty, every row missing or orphan; concurrency red team, fifty-first session)
            session.execute("SELECT catalog_sync.lock_tenant_tables(%s)", (tenant.tenant_id,))
            rows = cur.execute("SELECT * FROM catalog_sync.verify_tenant(%s)", (tenant.tenant_id,)).fetchall()
    except psycopg.Error as exc:
        stop_if_ended(session, exc, f"verify stopped at {tenant.schema} ({n}/{of}), no verdict", "run verify again")
        detail = describe(exc)
        if isinstance(exc, psycopg.errors.LockNotAvailable) and not (
                exc.diag.message_primary or "").startswith("catalog_sync:"):
            detail = busy(detail, lock_timeout, "verify")   # (a catalog_sync message says why: a rename, say)
        # detached since the list was read: nothing of it to verify (any other 42704 is an error, not clean)
        rows = [] if detached_meanwhile(exc) else [{"problem": "error", "catalog": None, "key": None, "detail": detail}]
    for r in rows:
        findings.append({"problem": r["problem"], "tenant_id": tenant.tenant_id, "schema": tenant.schema,
                         "catalog": r["catalog"], "key": str(r["key"]) if r["key"] else None,
                         "detail": r["detail"]})
    if progress and n % 100 == 0:
        progress(f"verify: {n}/{of} tenants")


def registered_relids(conn: psycopg.Connection, schema: str) -> set[int]:
    """The OIDs registered for a schema's tenant (catalog_sync.attached_relids())."""
    return {int(r[1]) for r in conn.execute("SELECT * FROM catalog_sync.attached_relids(%s)", (schema,)).fetchall()}


def drop_replaced_triggers(conn: psycopg.Connection, schema: str, before: set[int],
                           lock_timeout: str) -> tuple[list[str], list[str]]:
    """After a table_replaced tenant was attached again: the sync triggers left on the tables it no longer
    registers (renamed away, still there) are dropped, else every write to them fails (not attached).
    Only in its own schema: after a restore into another cluster an old OID may name another tenant's
    table, whose triggers are that tenant's (review, seventeenth session: repair dropped them)."""
    done: list[str] = []
    not_done: list[str] = []
    for relid in sorted(before - registered_relids(conn, schema)):
        try:
            with conn.transaction():
                set_lock_timeout(conn, lock_timeout)
                row = conn.execute("SELECT c.oid::regclass::text, catalog_sync.drop_triggers(c.oid) "
                                   "FROM pg_catalog.pg_class c "
                                   "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                                   "WHERE c.oid = %s AND n.nspname = %s", (relid, schema)).fetchone()
        except (psycopg.errors.LockNotAvailable, psycopg.errors.InsufficientPrivilege) as exc:
            not_done.append(f"not repaired ({describe(exc)}): the sync triggers on {schema}'s replaced table "
                            f"(oid {relid}); drop them with catalog_sync.drop_triggers({relid})")
            continue
        if row is not None and row[1]:
            done.append(f"{schema}: dropped {row[1]} sync trigger(s) left on the replaced table {row[0]}")
    return done, not_done


# How repair() reports a tenant whose re-sync failed (verify --repair then exits 2).
REPAIR_FAILED = "not repaired (its re-sync failed, rolled back):"
# What migrate ran to install the registry's triggers (db/triggers/public.tenants_tenant.sql).
REGISTRY_TRIGGERS_SQL = ("SELECT catalog_sync.install_triggers(ARRAY['public.tenants_tenant'::regclass::oid], "
                         "'{tenants_tenant}', NULL)")


def registry_triggers_refused(exc: psycopg.Error) -> str:
    """What repair() reports when the session may not re-install the registry's triggers: why, and what a
    superuser runs instead. (The server's message only: describe()'s generic hint for a permission denied
    tells an installer it may repair, which is true of everything but this.)"""
    return (f"not repaired ({server_message(exc)}): the sync triggers on "
            "public.tenants_tenant; re-installing them needs a superuser (install_triggers() creates them and "
            "sets them ENABLE ALWAYS, which needs the ownership of public.tenants_tenant, and EXECUTE on "
            "catalog_sync.on_tenant_change, which only the machinery's owner catalog_sync_owner has): as a "
            f"superuser, run `{REGISTRY_TRIGGERS_SQL}` (what migrate ran, db/triggers/public.tenants_tenant.sql), "
            "or catalog-sync verify --repair; the tenants' repair does not need it")


@contextmanager
def reported_if_stopped(done: Sequence[str], progress: Progress) -> Iterator[None]:
    """An error that stops repair() after it committed something names what it did: its report, printed at
    the end, would be lost with the error (a tenant purged and detached, say). So does a Ctrl-C or SIGTERM
    (crash trial, forty-eighth session), on `progress`."""
    def shown() -> str:         # (one line)
        return "; ".join(done[:10]) + (f"; and {len(done) - 10} more" if len(done) > 10 else "")

    try:
        yield
    except KeyboardInterrupt:
        if done:
            progress(f"verify --repair: interrupted; repaired before that (committed, it stays): {shown()}; run "
                     "verify --repair again")
        raise
    except (psycopg.Error, ToolError) as exc:
        if not done:
            raise
        message = error_text(exc)
        # (crash trial, forty-seventh session: "verify --repair stopped: verify --repair stopped at ...")
        stopped = message if message.startswith("verify --repair stopped") else f"verify --repair stopped: {message}"
        raise ToolError(f"{stopped}; repaired before that (committed, it stays): {shown()}; run verify --repair "
                        "again") from exc


def repair(conn: psycopg.Connection, findings: Sequence[dict[str, Any]], progress: Progress,
           lock_timeout: str = DDL_LOCK_TIMEOUT) -> tuple[list[str], list[str], list[str]]:
    """Fix what verify found: triggers first (re-attach), then rows (backfill), then strays (purge).
    Returns what it repaired, what it left ("not repaired (why): ...") and the schemas whose re-sync
    failed. Trigger changes wait up to lock_timeout for a lock; a tenant still busy then is reported,
    not repaired (the next run repairs it). The registry's triggers need a superuser: another role gets
    them reported, with the fix, and the tenants repaired. An error that stops it midway names what it
    had committed (reported_if_stopped())."""
    done: list[str] = []
    failed: list[str] = []        # re-sync failed (rolled back)
    not_done: list[str] = []      # what it did not repair, and why
    by_problem: dict[str, set[tuple[int | None, str | None]]] = {}
    for f in findings:
        by_problem.setdefault(f["problem"], set()).add((f["tenant_id"], f["schema"]))
    by_problem_all = {k: set(v) for k, v in by_problem.items()}
    trigger_problems = {k for k in by_problem if k.startswith("trigger_")}
    # A tenant whose tables cannot be read is left as it is (and reported);
    # every other tenant is still repaired.
    unreadable = {t for k in ("contract", "unreadable", "error") for t, _ in by_problem.get(k, ())}
    for key in list(by_problem):
        by_problem[key] = {(t, s) for t, s in by_problem[key] if t not in unreadable or key == "table_missing"}
    # Tenants an uninstall stopped part-way detached: whether to finish it or undo it is the operator's
    # choice, not repair's (UNINSTALL_STOPPED says both).
    uninstalling = sorted({f["schema"] for f in findings if stopped_by_uninstall(f)})
    by_problem["tenant_not_attached"] = {(t, s) for t, s in by_problem.get("tenant_not_attached", ())
                                         if s not in uninstalling}
    if uninstalling:
        not_done.append(f"not repaired ({UNINSTALL_STOPPED}): {', '.join(uninstalling)}")
    tables_gone = sorted({f["schema"] for f in findings
                          if f["problem"] == "tenant_tables_gone" and not stopped_by_uninstall(f)})
    if tables_gone:     # (DBA trial, forty-ninth session: such a tenant went unreported)
        not_done.append(f"not repaired ({TABLES_STILL_GONE}): {', '.join(tables_gone)}")
    busy_schemas: list[str] = []
    with backfill_lock(conn), reported_if_stopped(done, progress):
        gone: set[int | None] = set()
        detach_refused: list[str] = []
        for tenant_id, schema in sorted(by_problem.get("table_missing", ()), key=lambda x: x[0] or 0):
            # Its rows can never be verified again: take them out, record the detach.
            try:
                detach(conn, schema or "", True, lock_timeout, because=TABLE_GONE)
            except LocksNotTaken:
                busy_schemas.append(schema or "")
            except (psycopg.errors.InsufficientPrivilege,      # not the tables' owner: the others go on
                    psycopg.errors.ObjectInUse) as exc:         # (its sync triggers could not all be dropped)
                detach_refused.append(describe(exc))
            else:
                done.append(f"{schema}: a source table is gone; catalog rows removed, tenant detached until its "
                            "tables are back (verify reports it, tenant_tables_gone, until then)")
            # detached, or left as it is: nothing else of it can be repaired (its tables cannot be read)
            gone.add(tenant_id)
        for key in list(by_problem):
            if key != "table_missing":
                by_problem[key] = {(t, s) for t, s in by_problem[key] if t not in gone}
        if any(t is None for k in trigger_problems for t, _ in by_problem[k]):
            try:
                with conn.transaction():
                    set_lock_timeout(conn, lock_timeout)
                    conn.execute(REGISTRY_TRIGGERS_SQL)
                done.append("triggers on public.tenants_tenant re-installed")
            except psycopg.errors.LockNotAvailable:
                busy_schemas.append("public.tenants_tenant")
            except psycopg.errors.InsufficientPrivilege as exc:
                # Not for an installer: CREATE TRIGGER needs EXECUTE on on_tenant_change, which only the
                # machinery's owner has (and ENABLE ALWAYS the registry's ownership, which an installer that
                # does not own it lacks: that is then the error). The tenants do not need it: they are still
                # repaired below.
                not_done.append(registry_triggers_refused(exc))
        # table_replaced: attach registers the tables the contract names mean now (restored from a dump,
        # or rebuilt and swapped in), and the re-sync below makes the rows theirs.
        reattach = {s for k in trigger_problems | {"tenant_not_attached", "table_replaced"}
                    for t, s in by_problem.get(k, ()) if s}
        # attach checks each schema first (a tenant never attached has not been checked yet; an
        # attached one may have lost a table's name): one that fails is not attached, it is reported,
        # and it does not stop the others' repair. An attached one is still re-synced below
        # (backfill reads its registered tables by OID): its rows match their sources again.
        refused: dict[str, str] = {}
        for schema, problem in preflight(conn, sorted(reattach)):     # (contract and ownership)
            refused.setdefault(schema, problem)
        reattach -= refused.keys()
        registry_locked: list[str] = []
        opted_out: list[str] = []       # detached on purpose since verify read it: left alone
        gone_meanwhile: list[str] = []  # detached (on purpose or by the sync) or deleted before its re-sync
        replaced = {s for _, s in by_problem.get("table_replaced", ()) if s and s in reattach}
        registered = {schema: registered_relids(conn, schema) for schema in sorted(replaced)}
        if reattach:
            try:
                attached = attach(conn, sorted(reattach), DEFAULT_CHUNK_SIZE, progress, lock_timeout=lock_timeout,
                                  keep_opt_outs=True)
                busy_schemas += attached.busy
                opted_out += attached.opted_out
                done += [f"{schema}: triggers attached"
                         for schema in sorted(reattach - set(attached.busy) - set(attached.opted_out))]
                for schema in sorted(replaced - set(attached.busy) - set(attached.opted_out)):
                    done_, not_done_ = drop_replaced_triggers(conn, schema, registered[schema], lock_timeout)
                    done += done_
                    not_done += not_done_
            except RegistryBusy:    # attach stopped; the next run re-syncs
                registry_locked = sorted(reattach)
                not_done.append(f"not repaired (the tenant registry stayed locked longer than --lock-timeout "
                            f"{lock_timeout}: see pg_stat_activity; run verify --repair again): "
                            f"{', '.join(registry_locked)}")
        # A busy tenant is left for the next run; a refused one that is attached is still re-synced.
        left = set(busy_schemas) | set(registry_locked) | set(opted_out)
        resync = {(t, s) for k in ("missing", "stale", "orphan", "expired", "tenant_not_attached", "table_replaced")
                  for t, s in by_problem.get(k, ()) if t is not None and s and s not in refused and s not in left}
        resync |= {(t, s) for k in trigger_problems for t, s in by_problem[k] if t is not None and s
                   and s not in left}
        report = backfill(conn, [Tenant(t, s) for t, s in sorted(resync)], False, BACKFILL_LOCK_TIMEOUT, progress,
                          command="verify --repair")
        for e in report["tenants"]:
            if e.get("skipped"):    # (detached since verify read it: review, forty-seventh session)
                gone_meanwhile.append(e["schema"])
                continue
            if e["error"]:          # rolled back; the others' repairs stand and are reported
                not_done.append(f"{REPAIR_FAILED} {e['schema']}: {e['error']}")
                failed.append(e["schema"])
                continue
            rows = f"{e['inserted']} inserted, {e['updated']} updated, {e['removed']} removed"
            # (DBA walkthrough, twenty-fifth session: a tenant whose attach was refused read as repaired)
            done.append(f"{e['schema']}: its rows only, {rows} (its triggers: not repaired, see below)"
                        if e["schema"] in refused else f"{e['schema']}: {rows}")
        # Rows of a tenant that is not attached; a tenant attached above was re-synced instead.
        resynced = {t for t, _ in resync}
        for tenant_id, schema in sorted(by_problem.get("unattached_rows", ()), key=lambda x: x[0] or 0):
            if tenant_id in resynced:
                continue
            name = f"{schema} (tenant {tenant_id}, not attached)" if schema else f"tenant {tenant_id} (not attached)"
            try:
                with conn.transaction():
                    row = conn.execute("SELECT catalog_sync.purge_tenant(%s)", (tenant_id,)).fetchone()
            except psycopg.errors.ObjectNotInPrerequisiteState:    # attached while this waited for its lock
                not_done.append(f"not repaired (attached meanwhile; run verify again): {name}")
                continue
            except psycopg.errors.LockNotAvailable:     # (as a busy tenant above: the others are still purged)
                busy_schemas.append(name)
                continue
            done.append(f"{name}: {row[0] if row else 0} catalog rows removed")
    if unreadable:
        # (DBA trial, forty-ninth session: a table changed off the contract read "unreadable or busy")
        off_contract = sorted({s for _, s in by_problem_all.get("contract", ()) if s})
        if off_contract:
            not_done.append("not repaired (a table no longer matches the contract: see verify's contract findings; "
                            "change it back, or detach the tenant with --purge): " + ", ".join(off_contract))
        names = sorted({s for k in ("unreadable", "error") for _, s in by_problem_all.get(k, ())
                        if s and s not in off_contract})
        if names:
            # (DBA trial, fiftieth session: a row whose read failed read as "unreadable or busy", and
            # "run it again" looped)
            not_done.append("not repaired (tables unreadable or busy, or a row their read fails on: see verify's "
                            "unreadable and error findings for them): " + ", ".join(names))
    not_done += [f"not repaired (attach refused): {problem}" for _schema, problem in sorted(refused.items())]
    not_done += [f"not repaired (detach refused): {problem}" for problem in detach_refused]
    if opted_out:       # (chaos trial, forty-seventh session: repair re-attached them)
        not_done.append("not repaired (detached on purpose while this ran: left alone): "
                        + ", ".join(sorted(opted_out)))
    if gone_meanwhile:
        not_done.append("not repaired (detached or deleted while this ran: left alone): "
                        + ", ".join(sorted(gone_meanwhile)))
    if busy_schemas:
        not_done.append(f"not repaired ({lock_held('its tables', lock_timeout)}; run verify --repair again): "
                    f"{', '.join(sorted(busy_schemas))}")
    return done, not_done, failed


def expire(conn: psycopg.Connection, dry_run: bool, lock_timeout: str | None = None) -> int:
    """Delete (or count) the catalog rows of jobs whose application_deadline has passed. One statement:
    a lock wait that times out (DDL on the catalog) removes nothing."""
    try:
        row = conn.execute("SELECT catalog_sync.expire_jobs(%s)", (dry_run,)).fetchone()
    except psycopg.errors.LockNotAvailable as exc:
        raise ToolError(f"expire: {lock_held('the job catalog', lock_timeout)}; nothing was removed; run expire "
                        "again later, or with a larger --lock-timeout") from exc
    return int(row[0]) if row else 0


def analyze_catalogs(conn: psycopg.Connection, progress: Progress | None) -> None:
    """ANALYZE of the catalogs after a bulk write (catalog_sync.analyze_catalogs(): why there). Not an
    error when it cannot wait for its lock (a VACUUM or ANALYZE running): autovacuum analyzes later. On
    an autocommit connection: a transaction of its own."""
    try:
        conn.execute("SELECT catalog_sync.analyze_catalogs()")
    except (psycopg.errors.LockNotAvailable, psycopg.errors.QueryCanceled) as exc:
        if progress:
            progress(f"notice: the catalogs' statistics were not refreshed ({server_message(exc)}); autovacuum "
                     "will, or run SELECT catalog_sync.analyze_catalogs()")


def status(conn: psycopg.Connection | Sessions, lock_timeout: str | None = None, progress: Progress | None = None,
           notice_after: float = 5.0, schemas: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """catalog_sync.status() one tenant at a time, in the order of the registry's ids: on an autocommit
    connection each tenant is a transaction of its own, so the locks on its tables are released before
    the next tenant (an application's DDL never waits for the rest of the run). A tenant that could not be
    read has its error in "error" (busy: a lock wait timed out); the others are read. Sorted by schema.
    A tenant still being read after `notice_after` seconds gets a progress line: counting a large tenant's
    eligible rows projects them all (DBA walkthrough, twenty-seventh session: a silent quarter of an hour,
    on statistics that a backfill left stale; analyze_catalogs()). With Sessions, a new session takes over
    every SESSION_TENANTS tenants: not for a tenant past the count of tenant_schemas() at the start, which
    may not be there (red team, forty-third session: a session opened for nothing at 1,000 tenants). The
    run's last tenants past that count (as many as the registry's rows without a schema: few) stay in the
    session they are in. `schemas`: only those tenant schemas (status --tenant), each read as the tenant
    whose id follows its id less one."""
    sessions = conn if isinstance(conn, Sessions) else Sessions(conn)
    rows: list[dict[str, Any]] = []
    after: int | None = None
    try:
        # (the registry locked before the statement that reads it: one rewritten while that statement
        # waited fails it with 40001 (assert_not_rewritten()); review, fifty-first session)
        with sessions.conn.transaction():
            sessions.conn.execute("SELECT catalog_sync.lock_tenant_tables(NULL)")
            listed = sessions.conn.execute("SELECT tenant_id, schema_name FROM catalog_sync.tenant_schemas()"
                                           ).fetchall()
    except psycopg.errors.LockNotAvailable as exc:
        raise ToolError(registry_busy(lock_timeout, "status")) from exc
    known = len(listed)
    if schemas:     # (DBA trial, forty-ninth session: status --tenant did not exist)
        ids = {str(name): int(tid) for tid, name in listed}
        for name in dict.fromkeys(schemas):
            if name not in ids:
                raise ToolError(f"unknown tenant schema {name!r}: no tenant of public.tenants_tenant has it "
                                f"(with the contract tables){near_name(name, ids)}")
        for n, tid in enumerate(sorted(ids[name] for name in dict.fromkeys(schemas)), 1):
            row = _status_of_next(sessions.for_tenant(n, hand_over=True), rows, tid - 1, lock_timeout, progress,
                                  notice_after)
            if row is not None and row["tenant_id"] == tid:     # (else deleted since: nothing to say of it)
                rows.append(row)
    while not schemas:
        n = len(rows) + 1
        row = _status_of_next(sessions.for_tenant(n, hand_over=n <= known), rows, after, lock_timeout, progress,
                              notice_after)
        if row is None:
            break
        after = row["tenant_id"]
        rows.append(row)
    rows.sort(key=lambda r: (r["schema_name"] or "", r["tenant_id"]))
    return [{"schema": r.pop("schema_name"), **r, "trigger_counts": trigger_counts(r["triggers"])} for r in rows]


def _status_of_next(session: psycopg.Connection, rows: list[dict[str, Any]], after: int | None,
                    lock_timeout: str | None, progress: Progress | None,
                    notice_after: float) -> dict[str, Any] | None:
    """status()'s row of the tenant after `after` in the registry's order (`rows`: those read so far), or
    None after the last."""
    cur = session.cursor(row_factory=dict_row)
    which = (f"the next after {rows[-1]['schema_name'] or 'tenant id ' + str(rows[-1]['tenant_id'])}" if rows
             else "the first")
    n = len(rows) + 1
    try:
        with noticed_if_slow(progress, notice_after,
                             lambda seconds: f"status [{n}]: a tenant ({which} in the registry's "
                             f"order) still being read after {seconds:g}s (a large tenant: its eligible rows are "
                             "counted through the projection; or waiting for its tables' locks)"):
            try:
                row = cur.execute("SELECT * FROM catalog_sync.status(%s, 1)", (after,)).fetchone()
            except psycopg.errors.SerializationFailure:
                # (the registry rewritten while status() waited for it: its read fails the statement, not a
                # tenant's row; once more, in a transaction of its own)
                if not session.autocommit:
                    raise
                row = cur.execute("SELECT * FROM catalog_sync.status(%s, 1)", (after,)).fetchone()
            if row and (row.get("error") or "").startswith("40001:"):
                # A table of the tenant rewritten (or clustered) while status() waited for it, inside its
                # statement, whose older snapshot would read it as empty (assert_not_rewritten()): read
                # again, once, in a new statement (review, fifty-first session)
                row = cur.execute("SELECT * FROM catalog_sync.status(%s, 1)", (after,)).fetchone()
    except psycopg.errors.LockNotAvailable as exc:
        # what every tenant needs (status() reports a tenant's own tables in its row)
        raise ToolError(registry_busy(lock_timeout, "status")) from exc
    if row is None:
        return None
    if after is not None and row["tenant_id"] <= after:     # the keyset must move forward
        raise ToolError(f"status: tenant id {row['tenant_id']} after {after}: the registry's ids are not unique")
    if progress and len(rows) % 100 == 99:
        progress(f"status: {len(rows) + 1} tenants read")
    row.setdefault("error", None)       # (a development database with the older status())
    if row["error"] and row["error"].startswith("55P03:") and "catalog_sync:" not in row["error"]:
        row["error"] = busy(row["error"].removeprefix("55P03: "), lock_timeout, "status")
    return row


def trigger_counts(triggers: str | None) -> dict[str, int]:
    """status()'s "MISSING 1, INSTALLED 31" as {"MISSING": 1, "INSTALLED": 31}, for dashboards."""
    counts: dict[str, int] = {}
    for part in (triggers or "").split(", "):
        state, _, count = part.rpartition(" ")
        if state and count.isdigit():
            counts[state] = int(count)
    return counts


def audit(conn: psycopg.Connection, lock_timeout: str | None = None) -> list[dict[str, Any]]:
    """Findings of catalog_sync.audit(), high severity first."""
    cur = conn.cursor(row_factory=dict_row)
    try:
        rows = cur.execute("SELECT * FROM catalog_sync.audit()").fetchall()
    except psycopg.errors.LockNotAvailable as exc:
        raise ToolError(registry_busy(lock_timeout, "audit")) from exc
    order = {"high": 0, "medium": 1, "low": 2}
    return sorted(rows, key=lambda r: (order.get(r["severity"], 3), r["check_name"], r["object"] or ""))
