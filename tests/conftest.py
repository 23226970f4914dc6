"""Test databases: one throwaway cluster per session (as the `postgres` OS user
when the tests run as root), one template database built once (application
side, tenant registry, migrations, two attached tenants) and a fresh clone of it
for every test (pytest-postgresql's janitor does CREATE DATABASE ... TEMPLATE).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pytest_postgresql import factories

from pyinstaller_tools import migrate, seed
from pyinstaller_tools.cluster import LocalCluster, free_port

ROOT = Path(__file__).resolve().parent.parent   # the repository
PORT = free_port()
TEMPLATE_DB = "catalog_tests"
# Appended to a pg_locks query: only this database's locks (the test databases, clones of one
# template, share relation OIDs; a session left waiting by an earlier failure must not count).
THIS_DATABASE = " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"


def memory_file_system(path: str) -> bool:
    """Whether `path` is the mount point of a tmpfs (/proc/mounts: device, mount point, type, ...)."""
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return False
    return any(len(f) > 2 and f[1] == path and f[2] == "tmpfs" for f in (line.split() for line in mounts))


def available_memory() -> int:
    """MemAvailable of /proc/meminfo, in bytes (0 when unknown)."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def cluster_base_dir() -> Path | None:
    """Where the test cluster lives: in memory (/dev/shm) when it is a tmpfs with 2 GB free and the
    machine has 4 GB of memory available, else the default temporary folder. Every test clones the
    template database and drops the clone; on this machine's ext4 disk (mounted with discard) a clone
    takes 200 to 600 ms, on tmpfs about 20 ms: most of the suite's time. CATALOG_SYNC_TEST_DIR names
    another folder (the postgres OS user must be able to enter it when the tests run as root)."""
    chosen = os.environ.get("CATALOG_SYNC_TEST_DIR")
    if chosen:
        return Path(tempfile.mkdtemp(prefix="catalog-sync-tests-", dir=chosen))
    shm = "/dev/shm"
    try:
        free = shutil.disk_usage(shm).free
    except OSError:
        return None
    if (free < 2 * 1024**3 or available_memory() < 4 * 1024**3 or not os.access(shm, os.W_OK)
            or not memory_file_system(shm)):
        return None
    return Path(tempfile.mkdtemp(prefix="catalog-sync-tests-", dir=shm))


@pytest.fixture(scope="session", autouse=True)
def local_cluster() -> Iterator[LocalCluster]:
    """Started before every other session fixture (autouse), stopped at the end. WAL is kept small:
    each clone writes the template's size into it, and in memory it should not grow to max_wal_size's 1 GB."""
    base_dir = cluster_base_dir()
    try:
        cluster = LocalCluster(base_dir=base_dir, port=PORT,
                               settings={"max_connections": "200", "max_wal_size": "128MB",
                                         "min_wal_size": "32MB"}).start()
    except BaseException:
        if base_dir is not None:            # (initdb failed: the folder is ours)
            shutil.rmtree(base_dir, ignore_errors=True)
        raise
    yield cluster
    cluster.stop()


def load_template(host: str, port: int, user: str, dbname: str, **_: object) -> None:
    dsn = f"host={host} port={port} user={user} dbname={dbname}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        seed.setup_app(conn)
        for slug, name in (("acme", "Acme Robotics"), ("globex", "Globex Corporation")):
            _, schema = seed.create_tenant(conn, slug, name)
            seed.seed_categories(conn, schema, 3)
        conn.execute("CREATE EXTENSION IF NOT EXISTS pgtap")
    migrate.upgrade(dsn)
    with psycopg.connect(dsn, autocommit=True) as conn:
        for schema in ("tenant_acme", "tenant_globex"):
            conn.execute("SELECT catalog_sync.attach_schema(%s)", (schema,))


catalog_template = factories.postgresql_noproc(
    host="127.0.0.1", port=PORT, user="postgres", dbname=TEMPLATE_DB, load=[load_template]
)
postgresql = factories.postgresql("catalog_template")


@dataclass
class Db:
    """A fresh database for one test: DSN and helpers."""

    host: str
    port: int
    dbname: str

    def dsn(self, user: str = "postgres") -> str:
        return f"host={self.host} port={self.port} user={user} dbname={self.dbname}"

    def connect(self, role: str | None = None, autocommit: bool = True) -> psycopg.Connection:
        """A new connection as the superuser, switched to `role` if given."""
        conn = psycopg.connect(self.dsn(), autocommit=autocommit)
        if role:
            conn.execute(psycopg.sql.SQL("SET ROLE {}").format(psycopg.sql.Identifier(role)))
        return conn

    def scalar(self, query: str, params: Any = None) -> Any:
        with self.connect() as conn:
            row = conn.execute(query, params).fetchone()
            return row[0] if row else None

    def login_role(self, name: str, member_of: str) -> None:
        """A LOGIN role in `member_of`; roles are cluster-wide, so created once per session."""
        with self.connect() as conn:
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
            if not exists:
                conn.execute(psycopg.sql.SQL("CREATE ROLE {} LOGIN").format(psycopg.sql.Identifier(name)))
            conn.execute(psycopg.sql.SQL("GRANT {} TO {}").format(
                psycopg.sql.Identifier(member_of), psycopg.sql.Identifier(name)))

    def tenant_id(self, schema: str) -> int:
        return int(self.scalar("SELECT id FROM public.tenants_tenant WHERE schema_name = %s", (schema,)))


@pytest.fixture
def db(postgresql: psycopg.Connection) -> Db:
    info = postgresql.info
    handle = Db(host=info.host, port=info.port, dbname=info.dbname)
    postgresql.close()
    return handle


@pytest.fixture
def conn(db: Db) -> Iterator[psycopg.Connection]:
    """An autocommit superuser connection to a fresh database."""
    with db.connect() as connection:
        yield connection


@pytest.fixture
def app(db: Db) -> Iterator[psycopg.Connection]:
    """An autocommit connection as the application role (owner of the tenant tables)."""
    with db.connect(role=seed.APP_ROLE) as connection:
        yield connection


@pytest.fixture(scope="session")
def pgtap_connection(catalog_template: Any) -> Iterator[psycopg.Connection]:
    """pytest-pgtap runs the tests/sql/test_*.sql files here: a clone of the template.

    Overridden so that a missing connection fails instead of skipping the files.
    """
    dsn = f"host=127.0.0.1 port={PORT} user=postgres"
    with psycopg.connect(dsn + " dbname=postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE catalog_pgtap TEMPLATE {TEMPLATE_DB}_tmpl")
    with psycopg.connect(dsn + " dbname=catalog_pgtap") as connection:
        yield connection

