"""Alembic environment for tenant-catalog-sync.

The connection comes from (in order): a connection passed by `catalog-sync
migrate` in config.attributes, `-x dsn=...`, CATALOG_SYNC_DSN, DATABASE_URL,
or libpq's PG* variables (the tool's order: plain alembic and `catalog-sync
migrate` must not reach two databases; DBA trial, twenty-second session).
Each migration runs in one transaction. Plain alembic bounds each lock wait
as `catalog-sync migrate` does: `-x lock_timeout=...`, else
CATALOG_SYNC_DDL_LOCK_TIMEOUT, else 5s (0: no limit).
"""

from __future__ import annotations

import os

import psycopg
import sqlalchemy as sa
from alembic import context

from pyinstaller_tools.connection import (
    ALEMBIC_VERSION_PROBLEM,
    FORGED_SCHEMAS,
    ToolError,
    alembic_version_problem,
    connect_kwargs,
    forged_schemas_problem,
    lock_timeout_value,
    machinery_changed,
    print_own_notice,
    resolve_dsn,
)
from pyinstaller_tools.operations import DDL_LOCK_ENV, DDL_LOCK_TIMEOUT

config = context.config


def _dsn() -> str:
    dsn = context.get_x_argument(as_dictionary=True).get("dsn")
    if dsn is None and os.environ.get("CATALOG_SYNC_DSN") is not None:
        dsn = os.environ["CATALOG_SYNC_DSN"]
        if not dsn.strip():     # (refused as the tool refuses it: an unset variable, as under cron)
            raise ToolError("CATALOG_SYNC_DSN is set but empty; give a connection string, or unset it")
    return resolve_dsn(dsn)     # (then DATABASE_URL, refused when set but empty, as the tool refuses it)


def _lock_timeout() -> str:
    """Read as the tool reads its --lock-timeout (a bare 5 is refused as likely meant in seconds)."""
    given = context.get_x_argument(as_dictionary=True).get("lock_timeout")
    text = given or os.environ.get(DDL_LOCK_ENV) or DDL_LOCK_TIMEOUT
    value, problem = lock_timeout_value(text)
    if problem:
        raise ToolError(f"{'-x lock_timeout' if given else DDL_LOCK_ENV}: {problem}")
    return value


def run_migrations_offline() -> None:
    context.configure(
        url="postgresql+psycopg://",
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        transaction_per_migration=True,
        version_table_schema="public",
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    dsn = _dsn()
    kwargs = connect_kwargs(dsn, _lock_timeout())

    def connect() -> psycopg.Connection:
        # What the migrations tell the DBA (uninstall.sql's roles, memberships and advisory locks), on stderr as
        # catalog-sync migrate shows it (review, forty-fifth session: plain alembic said none of it)
        conn = psycopg.connect(dsn, **kwargs)
        conn.add_notice_handler(print_own_notice)
        return conn

    engine = sa.create_engine("postgresql+psycopg://", creator=connect, poolclass=sa.NullPool)
    with engine.connect() as conn:
        _run(conn)


def _run(connection: sa.Connection) -> None:
    # (ToolError: catalog-sync migrate prints it as its one error line, exit 2; plain alembic shows it)
    # Never run the migrations' SQL (uninstall.sql calls catalog_sync's functions) over a schema of
    # the machinery's names that another role created.
    found = connection.exec_driver_sql(FORGED_SCHEMAS).scalar()
    if found:
        raise ToolError(forged_schemas_problem(found))
    # nor over a machinery changed since its installer pinned it (its code would run as you)
    found = machinery_changed(lambda query: connection.exec_driver_sql(query).scalar())
    if found:
        raise ToolError(found)
    # nor over a version table that is not alembic's own (alembic reads and writes it as the operator)
    found = connection.exec_driver_sql(ALEMBIC_VERSION_PROBLEM).scalar()
    if found:
        raise ToolError(alembic_version_problem(found))
    # The sessions pin search_path to pg_catalog: the version table is named in full.
    context.configure(connection=connection, transaction_per_migration=True, version_table_schema="public")
    with context.begin_transaction():
        context.run_migrations()
    if connection.in_transaction():
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
