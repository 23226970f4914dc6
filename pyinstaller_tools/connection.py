"""Connections and the errors the tool reports in one line."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import psycopg
from psycopg.conninfo import conninfo_to_dict


class ToolError(Exception):
    """A problem the user can fix; printed as one line, exit code 2."""


def resolve_dsn(dsn: str | None) -> str:
    """--dsn, else DATABASE_URL, else "" (libpq then reads PGHOST, PGPORT, ...)."""
    if dsn:
        return refuse_unencoded_at(dsn)
    url = os.environ.get("DATABASE_URL")
    if url is not None and not url.strip():
        # As an empty CATALOG_SYNC_DSN: not a silent fall-through to libpq's defaults (DBA walkthrough,
        # twenty-fifth session).
        raise ToolError("DATABASE_URL is set but empty (from an unset variable?); give it a connection "
                        "string, or unset it to use the PG* variables")
    return refuse_unencoded_at(url or "")


def refuse_unencoded_at(dsn: str) -> str:
    """A URL whose user info holds an '@' of its own: libpq takes the text after the first '@' for the host
    and quotes it in its error, which would show the rest of the password (review, twenty-fifth session).
    Refused without quoting anything of it."""
    authority = re.match(r"[A-Za-z][A-Za-z0-9.-]*(\+\w+)?://([^/?#]*)", dsn)
    if authority and authority.group(2).count("@") > 1:
        driver = (" (and a SQLAlchemy URL: drop the driver, as in postgresql://user@host/db)"
                  if authority.group(1) else "")
        raise ToolError("the connection URL has more than one '@' before its host: percent-encode an '@' in "
                        f"the user name or password as %40{driver}")
    return dsn


# Every session of the tool resolves names in pg_catalog only: it often runs as
# a superuser, and an application role able to create functions in public must
# not get one of them called instead of a built-in.
# READ COMMITTED whatever the role or database defaults to: the sync's entry points refuse other
# isolation levels (see catalog_sync.assert_read_committed()).
# Output formats psycopg can read, whatever ALTER DATABASE / ALTER ROLE set as defaults
# (it parses timestamps in the ISO DateStyle only).
SAFE_OPTIONS = ("-c search_path=pg_catalog,pg_temp -c default_transaction_isolation=read\\ committed"
                " -c DateStyle=ISO -c IntervalStyle=postgres"
                # names in findings quoted only where they need it: "x" is not x (review, twenty-second session)
                " -c quote_all_identifiers=off"
                # the machinery's notices (what uninstall revokes, the memberships it drops) reach the DBA
                # whatever the role's or the database's client_min_messages (settings trial, forty-sixth session)
                " -c client_min_messages=notice"
                # a session of the tool idles on purpose while its others work: attach --jobs' main session,
                # the lock session of migrate and uninstall (DBA trials, forty-first and forty-second
                # sessions: a short one of the role ended them, a migrate that had succeeded exited 2)
                " -c idle_session_timeout=0"
                # over TCP the server finds a client gone with its network (a vanished laptop, a cut link) in
                # about two minutes: keepalives while it waits for the client, tcp_user_timeout while what it
                # sent stays unacknowledged (DBA trial, forty-fourth session: a backfill's result sent to a
                # dead network held its 165 locks, the tenant's and the run's, for 16 minutes without it)
                " -c tcp_keepalives_idle=60 -c tcp_keepalives_interval=10 -c tcp_keepalives_count=6"
                " -c tcp_user_timeout=120000")

# A statement whose client died (kill -9, a lost laptop) ends within seconds and lets go of its locks,
# not when it would have finished. A server that cannot check (one on Windows) refuses the setting at
# connect: from then on the tool's sessions go without it (_check_client).
CLIENT_CHECK = " -c client_connection_check_interval=5s"
_check_client = True

# The client's side of a dead TCP peer: a statement that waits on a server that vanished (a failover, a
# cut network) fails in about two minutes, not after the kernel's two hours. The DSN's own values win
# (not a service file's: a keyword given here replaces those). tcp_user_timeout: libpq 12 and later.
CLIENT_KEEPALIVES = {"keepalives": 1, "keepalives_idle": 60, "keepalives_interval": 10, "keepalives_count": 6,
                     **({"tcp_user_timeout": 120_000} if psycopg.pq.version() >= 120000 else {})}


# Where a command that gave up on a lock sends the DBA.
LONG_TRANSACTION = "a long transaction? see pg_stat_activity"


def session_options(lock_timeout: str | None = None) -> str:
    """libpq options of a tool session: SAFE_OPTIONS, CLIENT_CHECK where the server takes it, and with
    lock_timeout every lock wait bounded."""
    return (SAFE_OPTIONS + (CLIENT_CHECK if _check_client else "")
            + (f" -c lock_timeout={lock_timeout}" if lock_timeout else ""))


# What pg_stat_activity, the server's log (%a) and pg_terminate_backend()'s caller see of the tool's
# sessions, unless the DSN or PGAPPNAME names one (libpq's fallback_application_name): "catalog-sync
# backfill" once the command is known (DBA trial, forty-first session: the tool's sessions had no name).
_application_name = "catalog-sync"


def name_sessions(command: str) -> None:
    """The application_name of every session the tool opens from now on (one command per process)."""
    global _application_name
    _application_name = f"catalog-sync {command}"


def connect_kwargs(dsn: str, lock_timeout: str | None = None) -> dict[str, Any]:
    """The keyword arguments of a tool session's psycopg.connect(dsn, ...).

    A keyword replaces the DSN's own parameter (and PGOPTIONS), so the user's
    options (the DSN's, else PGOPTIONS: a role, a statement_timeout) come
    first and the session's after them: both apply, and the pinned settings
    win. connect_timeout is 10 s unless the DSN or PGCONNECT_TIMEOUT sets one;
    the TCP keepalives are CLIENT_KEEPALIVES unless the DSN sets them.
    Raises psycopg.ProgrammingError for a malformed DSN.
    """
    params = conninfo_to_dict(dsn) if dsn else {}
    user_options = str(params.get("options") or os.environ.get("PGOPTIONS", ""))
    kwargs: dict[str, Any] = {"options": f"{user_options} {session_options(lock_timeout)}".strip(),
                              "fallback_application_name": _application_name,
                              # (text, whatever PGCLIENTENCODING or the role say: under SQL_ASCII psycopg returns
                              # bytes, and status crashed; settings trial, forty-sixth session)
                              "client_encoding": "UTF8"}
    # libpq sends PGDATESTYLE as a parameter of its own, applied after the options' DateStyle=ISO, which is
    # the only style psycopg reads timestamps in (status crashed under 'SQL, DMY'; same trial).
    os.environ.pop("PGDATESTYLE", None)
    if "connect_timeout" not in params and not os.environ.get("PGCONNECT_TIMEOUT"):
        kwargs["connect_timeout"] = 10
    kwargs.update({key: value for key, value in CLIENT_KEEPALIVES.items() if key not in params})
    return kwargs


def connect(dsn: str | None, autocommit: bool = False, lock_timeout: str | None = None) -> psycopg.Connection:
    """A session of the tool; with lock_timeout, every lock wait of the session is bounded."""
    global _check_client
    dsn = resolve_dsn(dsn)
    try:
        try:
            conn = psycopg.connect(dsn, autocommit=autocommit, **connect_kwargs(dsn, lock_timeout))
        except psycopg.OperationalError as exc:
            if not (_check_client and "client_connection_check_interval" in str(exc)):
                raise
            _check_client = False
            print("catalog-sync: note: the server refuses client_connection_check_interval (a server on "
                  "Windows?): the tool's sessions go without it, and a statement of a tool killed there runs to "
                  "its end, holding its locks", file=sys.stderr)
            conn = psycopg.connect(dsn, autocommit=autocommit, **connect_kwargs(dsn, lock_timeout))
    except psycopg.OperationalError as exc:
        text = redact(one_line(exc), dsn)
        if any(words in text for words in ("too many connections", "too many clients", "remaining connection slots")):
            hint = ("the server (max_connections), the database or the role (CONNECTION LIMIT) allows no more "
                    "connections: close idle sessions, or run with a smaller --jobs where the command has one")
        elif any(words in text for words in ("the database system is shutting down", "is starting up",
                                             "is in recovery mode", "not yet accepting connections")):
            # (DBA trial, forty-first session: "check --dsn", of a DSN that was right)
            hint = "the server is shutting down, starting up or recovering: run the command again once it is up"
        else:
            hint = f"the connection came from {dsn_source(dsn)}"
        raise ToolError(f"cannot connect to PostgreSQL: {text} ({hint})") from exc
    except psycopg.ProgrammingError as exc:
        hint = f"the connection string came from {dsn_source(dsn)}"
        if re.match(r"postgres(ql)?\+\w+://", dsn):
            hint = "a SQLAlchemy URL: drop the driver, as in postgresql://user@host/db"
        raise ToolError(f"invalid connection string: {redact(one_line(exc), dsn)} ({hint})") from exc
    return conn


# The libpq variables that say where to connect (and as whom).
LIBPQ_CONNECTION_VARIABLES = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE", "PGSERVICEFILE")


def dsn_source(dsn: str) -> str:
    """Where a connection's settings came from, for an error that asks to check them: the tool takes
    --dsn, else CATALOG_SYNC_DSN, else DATABASE_URL, else libpq's variables, and a CATALOG_SYNC_DSN
    left set silently wins over a DATABASE_URL (DBA trial, thirty-ninth session)."""
    if dsn and dsn == os.environ.get("CATALOG_SYNC_DSN"):
        other = ", which wins over DATABASE_URL" if os.environ.get("DATABASE_URL") else ""
        return f"CATALOG_SYNC_DSN{other}: check it, or unset it"
    if dsn and dsn == os.environ.get("DATABASE_URL"):
        return "DATABASE_URL (no --dsn or CATALOG_SYNC_DSN given): check it"
    if dsn:
        return "--dsn: check it"
    found = [name for name in LIBPQ_CONNECTION_VARIABLES if os.environ.get(name)]
    if found:
        return (f"libpq's variables ({', '.join(found)}; no --dsn, CATALOG_SYNC_DSN or DATABASE_URL given): "
                "check them")
    return ("libpq's defaults: no --dsn, CATALOG_SYNC_DSN, DATABASE_URL or PG* variable is set, so the local "
            "socket as your OS user; give --dsn")


def redact(text: str, dsn: str = "") -> str:
    """Passwords out of a message that quotes a connection string, or a token of `dsn`'s password.

    libpq quotes the token it could not parse ("pa%ss"; "def" of an unquoted
    password=abc def): a quoted token found in the DSN's password (URL user
    info, or the text after password= up to the next key=) is masked too.
    """
    text = re.sub(r"(://[^:/@\s\"]*:)[^\s\"]*@", r"\1***@", text)          # up to the last '@'
    # (a value already masked stays as it is, with what follows it: the quote that closes a quoted word)
    text = re.sub(r"(password\s*=\s*)(?!\*\*\*(?:[\s'\"]|$))('(?:[^'\\]|\\.)*'|\S+)", r"\1***", text)
    secrets = [m.group(1) for m in (re.search(r"://[^:/@\s]*:(.*)@", dsn),
                                    re.search(r"password\s*=\s*(.*?)(?=\s+\w+\s*=|$)", dsn, re.S)) if m and m.group(1)]
    secrets += [unquote(secret) for secret in secrets]
    if not secrets:
        return text
    return re.sub(r'"([^"]*)"',
                  lambda m: '"***"' if m.group(1) and any(m.group(1) in secret for secret in secrets) else m.group(0),
                  text)


# Control characters, C1's included (U+0080 to U+009F, which some terminals act on): never printed as they are.
# Text from the database can hold them (a schema's name; an item of the machinery's pin, which code run as
# catalog_sync_owner chooses: red team, forty-fifth session, escape sequences that hid the line naming a
# replaced function).
# The Unicode controls that change the order a line reads in (marks, embeddings, overrides, isolates) as
# well: a table name holding U+202E reversed how an audit line read (red team, fiftieth session).
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
CONTROL_CHARACTERS = re.compile(f"[\\x00-\\x1f\\x7f-\\x9f{BIDI_CONTROLS}]")
# What no output of the tool's writes as it is, whoever forgot printable(): all the above but line feeds
# and tabs (the red team's finding: verify --repair printed a tenant's table name raw). --json's output is
# ASCII (json.dumps escapes the rest), so nothing of it changes.
TERMINAL_CONTROLS = re.compile(f"[\\x00-\\x08\\x0b-\\x1f\\x7f-\\x9f{BIDI_CONTROLS}]")


def printable(text: str) -> str:
    """`text` with every control character replaced by "?": one line, which drives no terminal."""
    return CONTROL_CHARACTERS.sub("?", text)


def terminal_safe(text: str) -> str:
    """`text` with every control character but line feeds and tabs replaced by "?"."""
    return TERMINAL_CONTROLS.sub("?", text)


def one_line(exc: BaseException) -> str:
    """An exception's text folded onto one line."""
    return " ".join(str(exc).split()) or exc.__class__.__name__


def server_message(exc: psycopg.Error) -> str:
    """The server's primary message, without the machinery's "catalog_sync: " prefix, which tells an
    application's log where an error comes from: the tool's own lines already say (catalog-sync: error:)."""
    return (exc.diag.message_primary or one_line(exc)).removeprefix("catalog_sync: ")


# A statement ended by the server's statement_timeout (DBA trial, thirty-ninth session: the bare
# "canceling statement due to statement timeout" said neither where the limit came from nor what to do).
STATEMENT_TIMEOUT_HINT = ("hint: the server's statement_timeout ended it, and its transaction rolled back; it comes "
                          "from the connection string's options, else PGOPTIONS, else the role's or the database's "
                          "setting: give the tool -c statement_timeout=0 there (options= in the connection "
                          "string when it has options, else PGOPTIONS='-c statement_timeout=0')")


# What a session ended by the server (a restart, a failover, pg_terminate_backend(), an idle timeout) or
# by the network leaves to do. Every command commits its work in steps (a tenant, a chunk of schemas, a
# migration) or not at all, and does again only what is not done.
CONNECTION_LOST = "the connection to the server was lost: a restart, a failover, pg_terminate_backend() or the network"


def connection_lost(exc: psycopg.Error) -> bool:
    """The server ended the session (57P01 to 57P03, 57P05 idle_session_timeout), or the connection broke
    under it (no SQLSTATE: "server closed the connection unexpectedly", "the connection is lost")."""
    if exc.sqlstate in ("57P01", "57P02", "57P03", "57P05"):
        return True
    return isinstance(exc, psycopg.OperationalError) and exc.sqlstate is None and any(
        words in str(exc) for words in ("server closed the connection", "connection is lost",
                                        "connection is closed", "terminating connection", "SSL SYSCALL error",
                                        "could not receive data from server"))


def error_text(exc: Exception) -> str:
    """One line for a server's error (describe()) or the tool's own (ToolError)."""
    return describe(exc) if isinstance(exc, psycopg.Error) else str(exc)


def describe(exc: psycopg.Error) -> str:
    """One line: the server's message (server_message()), with its hint when it has one."""
    diag = exc.diag
    message = server_message(exc)
    if diag.message_hint:
        message += f" (hint: {diag.message_hint})"
    elif connection_lost(exc):
        message += f" ({CONNECTION_LOST}; what the command committed before stays committed; run it again)"
    elif isinstance(exc, psycopg.errors.QueryCanceled) and "statement timeout" in message:
        message += f" ({STATEMENT_TIMEOUT_HINT})"
    elif isinstance(exc, psycopg.errors.InsufficientPrivilege) and "function pg_advisory" in message:
        message += (" (hint: the advisory-lock functions are restricted in this database; as a superuser, "
                    "catalog-sync protect --restrict-advisory-locks grants them to the sync's roles and the "
                    "application role again)")
    elif isinstance(exc, psycopg.errors.InsufficientPrivilege) and message == "permission denied for schema public":
        # (DBA walk-through, fortieth session: schema public closed to PUBLIC, the roles lacking it)
        message += (" (hint: public is closed to PUBLIC and a role the sync runs as lacks USAGE on it; as its "
                    "owner: GRANT USAGE ON SCHEMA public TO catalog_sync_owner, catalog_sync_installer, "
                    "catalog_reader and the application role; docs/operations.md, \"Per-tenant roles: attach "
                    "--tenant-role\")")
    elif isinstance(exc, psycopg.errors.InsufficientPrivilege) and message.startswith("permission denied"):
        message += (" (hint: migrate, uninstall, protect and attach --tenant-role need a superuser; attach, "
                    "detach and verify --repair a role granted catalog_sync_installer that owns the tenant tables; "
                    "backfill, verify, status, audit and expire a role granted catalog_sync_installer; "
                    "docs/operations.md, \"Who runs what\")")
    return message


# (no % in it: also run through SQLAlchemy's driver SQL, where % starts a placeholder)
# (a missing catalog_sync_owner is named: a restore without the roles; DBA trial, forty-fifth session)
FORGED_ROLE_MISSING = ", and role catalog_sync_owner does not exist"
FORGED_SCHEMAS = (
    "SELECT pg_catalog.string_agg('schema ' || pg_catalog.quote_ident(n.nspname) || ' is owned by ' "
    "|| pg_catalog.quote_ident(o.rolname), '; ' ORDER BY n.nspname) "
    "|| CASE WHEN pg_catalog.to_regrole('catalog_sync_owner') IS NULL "
    f"THEN '{FORGED_ROLE_MISSING}' ELSE '' END "
    "FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_roles o ON o.oid = n.nspowner "
    "WHERE (n.nspname IN ('catalog_sync', 'catalog_sync_protect') AND o.rolname <> 'catalog_sync_owner') "
    "OR (n.nspname = 'catalog_sync_pin' AND NOT o.rolsuper)")


def forged_schemas_advice(role_missing: bool) -> str:
    """What follows FORGED_SCHEMAS's finding: a restore's way out where the role is missing (review, forty-fifth
    session: said also where the role exists, the case of a schema made by another role, an attack)."""
    head = (": not catalog-sync's (its schemas are owned by catalog_sync_owner, catalog_sync_pin by a superuser); "
            "nothing was run. ")
    if role_missing:    # (also before a first migrate: hedged, the drop of a database is no default; review)
        return head + ("If this database was restored from a dump without the machinery's roles (pg_restore's "
                       "errors ignored): drop it, create the roles (pg_dumpall --globals-only of the old cluster), "
                       "restore again (docs/operations.md, \"Restore from a dump\"). Otherwise (before a first "
                       "migrate, say) look at the schema before anything else (it may be an attack), then drop it "
                       "as a superuser")
    return head + "Created by another role? Look at it before anything else (it may be an attack), then drop it as a " \
        "superuser"


def forged_schemas_problem(found: str) -> str:
    return found + forged_schemas_advice(found.endswith(FORGED_ROLE_MISSING))


def require_own_schemas(conn: psycopg.Connection) -> None:
    """Raises if a schema of the machinery's names is not catalog-sync's: the tool (and alembic), often
    run as a superuser, must never call functions that somebody else put there."""
    row = conn.execute(FORGED_SCHEMAS).fetchone()
    if row and row[0]:
        raise ToolError(forged_schemas_problem(row[0]))


# What makes public.alembic_version not alembic's own plain table: the tool reads it and alembic writes
# it as the operator (often a superuser), so a view, a trigger, a rule, a default, a domain or a
# constraint of another role's would run that role's code as the operator (review, seventeenth
# session). NULL when it is alembic's, or absent. (No % in it, as FORGED_SCHEMAS.)
ALEMBIC_VERSION_PROBLEM = (
    "SELECT CASE "
    "WHEN c.relkind <> 'r' THEN 'is not a plain table (relkind ' || c.relkind::text || ')' "
    "WHEN NOT (o.rolsuper OR o.rolname = 'catalog_sync_owner') "
    "THEN 'is owned by ' || pg_catalog.quote_ident(o.rolname) || ', not by a superuser' "
    "WHEN EXISTS (SELECT FROM pg_catalog.pg_trigger t WHERE t.tgrelid = c.oid) THEN 'has triggers' "
    "WHEN EXISTS (SELECT FROM pg_catalog.pg_rewrite w WHERE w.ev_class = c.oid) THEN 'has rules' "
    "WHEN c.relrowsecurity OR EXISTS (SELECT FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid) "
    "THEN 'has row-level security' "
    "WHEN EXISTS (SELECT FROM pg_catalog.pg_attrdef d WHERE d.adrelid = c.oid) THEN 'has column defaults' "
    "WHEN EXISTS (SELECT FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 "
    "AND NOT a.attisdropped "
    "AND (a.attname <> 'version_num' OR a.atttypid <> 'pg_catalog.varchar'::pg_catalog.regtype)) "
    "THEN 'has columns other than version_num varchar' "
    "WHEN EXISTS (SELECT FROM pg_catalog.pg_constraint k WHERE k.conrelid = c.oid AND k.contype <> 'p') "
    "THEN 'has constraints other than its primary key' "
    "WHEN EXISTS (SELECT FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid "
    "AND (i.indexprs IS NOT NULL OR i.indpred IS NOT NULL)) THEN 'has an index over expressions' "
    # (review, fortieth session: the planner evaluates a statistics object's expressions as the reader)
    "WHEN EXISTS (SELECT FROM pg_catalog.pg_statistic_ext x WHERE x.stxrelid = c.oid) "
    "THEN 'has extended statistics' "
    "WHEN EXISTS (SELECT FROM pg_catalog.pg_inherits h WHERE h.inhparent = c.oid OR h.inhrelid = c.oid) "
    "THEN 'is part of an inheritance tree' "
    # (review, forty-fifth session: a table kept after its owner was changed back kept its grants too)
    "WHEN EXISTS (SELECT FROM pg_catalog.aclexplode(c.relacl) a "
    "LEFT JOIN pg_catalog.pg_roles g ON g.oid = a.grantee "
    "WHERE a.privilege_type IN ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER', 'REFERENCES') "
    "AND a.grantee <> c.relowner AND NOT coalesce(g.rolsuper, false)) "
    # (and a column's: version_num is the table's only one; review, forty-fifth session)
    "OR EXISTS (SELECT FROM pg_catalog.pg_attribute t "
    "CROSS JOIN LATERAL pg_catalog.aclexplode(t.attacl) a "
    "LEFT JOIN pg_catalog.pg_roles g ON g.oid = a.grantee "
    "WHERE t.attrelid = c.oid AND a.privilege_type IN ('INSERT', 'UPDATE', 'REFERENCES') "
    "AND a.grantee <> c.relowner AND NOT coalesce(g.rolsuper, false)) "
    "THEN 'grants a write privilege to a role that is not a superuser' END "
    "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_roles o ON o.oid = c.relowner "
    "WHERE c.oid = pg_catalog.to_regclass('public.alembic_version')")


def alembic_version_problem(found: str) -> str:
    # (DBA trial, forty-fifth session: dropping it, the one fix named, lost an installed database's record
    # of its revision, and migrate then asked for an uninstall; review: a view cannot be made a table)
    return (f"public.alembic_version {found}: not alembic's own table (another role made or changed it?); "
            "nothing was run. Look at it before anything else (it may be an attack). Then, as a superuser: where "
            "catalog-sync is installed, keep its record of the revision (SELECT version_num FROM "
            "public.alembic_version) in alembic's own table, a superuser's plain table of version_num varchar(32) "
            "and its primary key, with nothing else (trigger, rule, policy, default, other constraint or column, "
            "write privilege of another role) and SELECT granted to catalog_sync_installer: ALTER TABLE "
            "public.alembic_version OWNER TO postgres and drop what it should not have, or, a view or another kind "
            "of relation, drop it, CREATE TABLE public.alembic_version (version_num varchar(32) NOT NULL PRIMARY "
            "KEY) and insert that revision; else drop it; and run the command again")


def require_own_version_table(conn: psycopg.Connection) -> None:
    """Raises unless public.alembic_version is absent or alembic's own plain table."""
    row = conn.execute(ALEMBIC_VERSION_PROBLEM).fetchone()
    if row and row[0]:
        raise ToolError(alembic_version_problem(row[0]))


def machinery_changed(scalar: Callable[[str], Any]) -> str | None:
    """Why the installed machinery is not what its installer pinned (db/machinery_pin.sql), or None.
    `scalar` runs one query (psycopg here, SQLAlchemy in migrations/env.py; no % in them)."""
    if not scalar("SELECT pg_catalog.to_regnamespace('catalog_sync') IS NOT NULL"):
        return None                     # not installed: nothing to call
    if not scalar("SELECT pg_catalog.to_regnamespace('catalog_sync_pin') IS NOT NULL"):
        return MACHINERY_UNPINNED
    if scalar(f"SELECT {MACHINERY_AS_PINNED}"):
        return None
    if not scalar("SELECT EXISTS (SELECT FROM catalog_sync_pin.pinned)"):
        return MACHINERY_PIN_EMPTY
    return printable(MACHINERY_CHANGED + str(scalar(f"SELECT {MACHINERY_CHANGES}")))


# The names of what the install creates besides the roles that exist in this database: the schemas
# catalog_sync, catalog_sync_protect, catalog_sync_pin and the three catalogs (one text, ', ' between, or
# NULL). Names only: no privilege needed, nothing of them read. (No % in it, as FORGED_SCHEMAS.)
MACHINERY_OBJECTS = (
    "SELECT pg_catalog.string_agg(x.name, ', ' ORDER BY x.n) FROM ("
    "SELECT o.name, o.n FROM pg_catalog.unnest(ARRAY['catalog_sync', 'catalog_sync_protect', 'catalog_sync_pin']) "
    "WITH ORDINALITY AS o (name, n) WHERE pg_catalog.to_regnamespace(o.name) IS NOT NULL "
    "UNION ALL SELECT o.name, o.n + 3 FROM pg_catalog.unnest(ARRAY['public.job_catalog', 'public.provider_catalog', "
    "'public.service_catalog']) WITH ORDINALITY AS o (name, n) WHERE pg_catalog.to_regclass(o.name) IS NOT NULL"
    ") AS x")


# The subscriptions of this database (logical replication) that receive a catalog or a table of the machinery's,
# enabled or not: their names, or NULL. On such a subscriber the registry and the catalogs are the publisher's
# rows until the cut-over (Logical replication trial, forty-sixth session: a repair there mixed its
# registrations with the publisher's, and its catalog rows collide with the publisher's). No % in it: the
# offline scripts' check runs it too (migrate.offline_preflight()).
SUBSCRIBED = (
    "SELECT pg_catalog.string_agg(DISTINCT s.subname::text, ', ') FROM pg_catalog.pg_subscription s "
    "JOIN pg_catalog.pg_subscription_rel sr ON sr.srsubid = s.oid "
    "JOIN pg_catalog.pg_class c ON c.oid = sr.srrelid "
    "WHERE s.subdbid = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = pg_catalog.current_database()) "
    "AND (c.relnamespace IN (SELECT n.oid FROM pg_catalog.pg_namespace n "
    "WHERE n.nspname IN ('catalog_sync', 'catalog_sync_pin')) "
    "OR (c.relnamespace = 'public'::pg_catalog.regnamespace "
    "AND c.relname IN ('job_catalog', 'provider_catalog', 'service_catalog')))")
SUBSCRIBED_WRITES = "writes the catalogs or the registry"
SUBSCRIBED_REFUSAL = ("{what}, and this database receives them by logical replication "
                      "(subscription {names}): its rows are the publisher's until the cut-over; nothing was changed: "
                      "run it after the cut-over (DROP SUBSCRIPTION), or on the publisher; docs/operations.md, "
                      "\"Logical replication\"")


# machinery_changed()'s test and answers, also checked by the offline scripts (migrate.offline_preflight()).
MACHINERY_AS_PINNED = ("EXISTS (SELECT FROM catalog_sync_pin.pinned p "
                       "WHERE p.fingerprint = catalog_sync_pin.fingerprint())")
MACHINERY_UNPINNED = ("the machinery has no pin (schema catalog_sync_pin): installed by a development build, or the "
                      "pin was dropped; nothing was run; after checking the functions against catalog-sync "
                      "install-sql, apply db/machinery_pin.sql as a superuser")
# (Logical replication trial, forty-sixth session: after pg_dump --schema-only, "the machinery changed ... code
# that ran as catalog_sync_owner may have replaced functions", 437 items: an alarm for a dump option)
MACHINERY_PIN_EMPTY = ("the machinery's pin is empty (catalog_sync_pin.pinned has no row): a restore from pg_dump "
                       "--schema-only, or one that left out the machinery's table data, leaves it so, and the "
                       "contract (catalog_sync.contract_column) and the trigger spec empty with it; nothing was run: "
                       "restore from a dump with data (docs/operations.md, \"Restore from a dump\"), or, on a "
                       "logical replication subscriber, let its initial synchronization finish; a pin deleted by "
                       "hand: check the functions against catalog-sync install-sql, then SELECT "
                       "catalog_sync_pin.pin() as a superuser")
MACHINERY_CHANGED = ("the machinery changed after it was installed: its fingerprint differs from the one the "
                     "installing superuser pinned (catalog_sync_pin.pinned); code that ran as catalog_sync_owner may "
                     "have replaced functions that would run as you (docs/security.md, Limits); nothing was run. "
                     "Compare what differs (SELECT * FROM catalog_sync_pin.differences()) with catalog-sync "
                     "install-sql; after a change you made and checked (an index on a catalog, say): SELECT "
                     "catalog_sync_pin.pin() as a superuser")
# (SQL: MACHINERY_CHANGED's tail, the differences named; DBA trial, forty-fifth session. None while the md5
# differs: the items hashed otherwise, a pin another version made.)
MACHINERY_CHANGES = ("coalesce('. What differs: ' || catalog_sync_pin.changes(), '. No item differs from the pinned "
                     "ones, only their md5 (a pin made by another version of catalog-sync?)')")


def print_own_notice(diag: psycopg.errors.Diagnostic) -> None:
    """What the migrations tell the DBA (e.g. uninstall's "role ... kept"), on stderr; not the
    server's own chatter ("drop cascades to 77 other objects")."""
    message = diag.message_primary or ""
    if message.startswith("catalog_sync: "):
        print(f"notice: {printable(message.removeprefix('catalog_sync: '))}", file=sys.stderr)


def scalar(conn: psycopg.Connection, query: str, params: Any = None) -> Any:
    """The first column of the query's first row; None without a row."""
    row = conn.execute(query, params).fetchone()
    return row[0] if row else None


def pinned_machinery_problem(conn: psycopg.Connection) -> str | None:
    """machinery_changed() on a psycopg connection."""
    return machinery_changed(lambda query: scalar(conn, query))


def is_installed(conn: psycopg.Connection) -> bool:
    """Whether the machinery is installed; raises if a schema of its names is not catalog-sync's (not
    owned by catalog_sync_owner): the tool, often run as a superuser, must never call functions
    that somebody else put there (review, seventeenth session: `uninstall` ran a forged
    catalog_sync.drop_triggers() as the superuser running it)."""
    require_own_schemas(conn)
    row = conn.execute("SELECT to_regnamespace('catalog_sync') IS NOT NULL").fetchone()
    return bool(row and row[0])


# lock_timeout as PostgreSQL reads it: a bare number is milliseconds
_DURATION = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(us|ms|s|min|h|d)?\s*", re.ASCII)
_MS_PER_UNIT = {"us": 0.001, "ms": 1, "": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}


def lock_timeout_value(text: str) -> tuple[str, str | None]:
    """(the lock_timeout setting for `text`, why it is refused or None): the tool's options and plain
    alembic's (-x lock_timeout, CATALOG_SYNC_DDL_LOCK_TIMEOUT) read a duration alike."""
    match = _DURATION.fullmatch(text)
    ms = float(match.group(1)) * _MS_PER_UNIT[match.group(2) or ""] if match else -1
    # PostgreSQL rounds to whole milliseconds: under 1 ms would be 0, which means no limit
    if not match or ms > 2**31 - 1 or 0 < ms < 1:
        return "", (f"expected a duration from 1ms up to 24 days, such as 500ms, 5s or 2min (a bare number is "
                    f"milliseconds; 0 waits without limit), got {text!r}")
    if match.group(2) is None and 0 < ms < 100:
        # (DBA trial, forty-ninth session: --lock-timeout 5 waited 5 ms)
        return "", (f"a bare number is milliseconds: {text.strip()!r} would wait {text.strip()} ms; write "
                    f"{text.strip()}s for seconds, or {text.strip()}ms if that is meant")
    return match.group(1) + (match.group(2) or ""), None     # "5 s" -> "5s": also a libpq options value
