"""The contract memo: with protect's event triggers in place, a relation checked
against the contract is not checked again until DDL touches it. Every test
here breaks the contract after a check has been memoized and expects the next
sync statement to refuse, so a memo that outlived the DDL fails the test."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from pyinstaller_tools import cli, seed
from tests.conftest import Db
from tests.jobs import insert_job, verify_findings

ACME = "tenant_acme"
MEMO_TRIGGER = "catalog_sync_contract_memo"


@pytest.fixture
def protected(db: Db) -> None:
    assert cli.main(["protect", "--dsn", db.dsn()]) == 0


@pytest.fixture
def tracked(db: Db) -> Iterator[Tracked]:
    with db.connect() as connection:
        connection.execute("SET track_functions = 'all'")
        check_oid = connection.execute(
            "SELECT 'catalog_sync.contract_matches(oid[], name[])'::regprocedure::oid").fetchone()
        assert check_oid is not None
        connection.execute(psycopg.sql.SQL("SET ROLE {}").format(psycopg.sql.Identifier(seed.APP_ROLE)))
        yield Tracked(connection, int(check_oid[0]))


class Tracked:
    """The application role's connection, counting the full contract checks it runs."""

    def __init__(self, conn: psycopg.Connection, check_oid: int) -> None:
        self.conn = conn
        self.check_oid = check_oid      # the application role may not look the function up by name

    def checks_of_one_insert(self) -> int:
        """contract_matches() calls of one job INSERT."""
        with self.conn.transaction():
            # Before and after: the backend's pending counts span earlier transactions too.
            before = self.calls()
            insert_job(self.conn, ACME)
            return self.calls() - before

    def calls(self) -> int:
        row = self.conn.execute("SELECT coalesce(pg_stat_get_xact_function_calls(%s), 0)",
                                (self.check_oid,)).fetchone()
        assert row is not None
        return int(row[0])


def memo_rows(conn: psycopg.Connection) -> dict[str, tuple[int, int | None, str | None]]:
    """source_table -> (ddl_epoch, checked_epoch, checked_token) of acme's job tables and the registry."""
    rows = conn.execute(
        "SELECT m.source_table, m.ddl_epoch, m.checked_epoch, m.checked_token FROM catalog_sync.contract_memo m "
        "WHERE m.relid IN (%s::regclass, %s::regclass, 'public.tenants_tenant'::regclass)",
        (f"{ACME}.ats_jobposting", f"{ACME}.ats_jobcategory")).fetchall()
    return {str(r[0]): (int(r[1]), r[2], r[3]) for r in rows}


def token(conn: psycopg.Connection) -> str | None:
    row = conn.execute("SELECT catalog_sync.contract_memo_token()").fetchone()
    assert row is not None
    return row[0]


def test_a_check_is_memoized_and_then_skipped(protected: None, tracked: Tracked,
                                             conn: psycopg.Connection) -> None:
    assert tracked.checks_of_one_insert() > 0                  # first statement: checked, memo recorded
    current = token(conn)
    assert current is not None
    memo = memo_rows(conn)
    assert set(memo) == {"ats_jobposting", "ats_jobcategory", "tenants_tenant"}
    assert all(checked == epoch and tok == current for epoch, checked, tok in memo.values())
    assert tracked.checks_of_one_insert() == 0                 # memo current: no full check


def test_without_protection_every_statement_is_checked(db: Db, protected: None, tracked: Tracked,
                                                       conn: psycopg.Connection) -> None:
    tracked.checks_of_one_insert()
    assert cli.main(["protect", "--off", "--dsn", db.dsn()]) == 0
    assert token(conn) is None
    assert tracked.checks_of_one_insert() > 0
    assert tracked.checks_of_one_insert() > 0


# DDL that breaks the contract of a table the sync reads. Run by a superuser,
# whom protection lets through: only the memo's invalidation stands between
# the DDL and the next sync statement.
BREAKING_DDL = {
    "column type of the job table": [f"ALTER TABLE {ACME}.ats_jobposting ALTER COLUMN title TYPE text"],
    "column type of the category table": [f"ALTER TABLE {ACME}.ats_jobcategory ALTER COLUMN name TYPE text"],
    "column type of the registry": ["ALTER TABLE public.tenants_tenant ALTER COLUMN name TYPE text"],
    "index over tenant code": [
        f"CREATE FUNCTION {ACME}.f(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT $1 $$",
        f"CREATE INDEX evil ON {ACME}.ats_jobcategory ({ACME}.f(name))"],
    "statistics over tenant code": [
        f"CREATE FUNCTION {ACME}.f(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT $1 $$",
        f"CREATE STATISTICS evil ON ({ACME}.f(name)) FROM {ACME}.ats_jobcategory"],
    "CHECK constraint over tenant code": [
        f"CREATE FUNCTION {ACME}.ok(text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$ SELECT true $$",
        f"ALTER TABLE {ACME}.ats_jobcategory ADD CONSTRAINT evil CHECK ({ACME}.ok(name))"],
    "inheritance child": [f"CREATE TABLE {ACME}.child () INHERITS ({ACME}.ats_jobcategory)"],
}


@pytest.mark.parametrize("statements", BREAKING_DDL.values(), ids=BREAKING_DDL.keys())
def test_ddl_after_a_memoized_check_is_caught(statements: list[str], protected: None, app: psycopg.Connection,
                                              conn: psycopg.Connection) -> None:
    insert_job(app, ACME)
    insert_job(app, ACME)                                     # the memo is current
    before = memo_rows(conn)
    for statement in statements:
        conn.execute(statement)
    assert memo_rows(conn) != before                          # an epoch moved
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="does not match the"):
        insert_job(app, ACME)


def test_a_tenant_inheritance_child_is_caught(protected: None, app: psycopg.Connection) -> None:
    """Protection does not refuse CREATE TABLE ... INHERITS; the memo still sees it."""
    insert_job(app, ACME)
    app.execute(f"CREATE TABLE {ACME}.child () INHERITS ({ACME}.ats_jobcategory)")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="does not match the"):
        insert_job(app, ACME)


def test_ddl_while_the_event_trigger_was_disabled_is_caught(protected: None, app: psycopg.Connection,
                                                            conn: psycopg.Connection) -> None:
    insert_job(app, ACME)
    insert_job(app, ACME)
    conn.execute(f"ALTER EVENT TRIGGER {MEMO_TRIGGER} DISABLE")
    assert token(conn) is None
    conn.execute(f"ALTER TABLE {ACME}.ats_jobcategory ALTER COLUMN name TYPE text")   # no epoch moves
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="does not match the"):
        insert_job(app, ACME)
    conn.execute(f"ALTER EVENT TRIGGER {MEMO_TRIGGER} ENABLE ALWAYS")    # back, with a new token
    assert token(conn) is not None
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="does not match the"):
        insert_job(app, ACME)


def test_an_event_trigger_that_misses_ddl_is_not_trusted(protected: None, conn: psycopg.Connection) -> None:
    """Only the event trigger exactly as protect creates it makes a token."""
    assert token(conn) is not None
    conn.execute(f"ALTER EVENT TRIGGER {MEMO_TRIGGER} ENABLE")          # origin only: replica sessions skip it
    assert token(conn) is None
    conn.execute(f"DROP EVENT TRIGGER {MEMO_TRIGGER}")
    conn.execute(f"CREATE EVENT TRIGGER {MEMO_TRIGGER} ON ddl_command_end WHEN TAG IN ('ALTER TABLE') "
                 "EXECUTE FUNCTION catalog_sync.on_contract_ddl()")
    conn.execute(f"ALTER EVENT TRIGGER {MEMO_TRIGGER} ENABLE ALWAYS")
    assert token(conn) is None                                          # fewer tags


def test_verify_reads_without_recording(db: Db, protected: None, app: psycopg.Connection,
                                        conn: psycopg.Connection) -> None:
    """verify runs REPEATABLE READ, READ ONLY: it checks in full and writes no memo."""
    insert_job(app, ACME)
    conn.execute(f"ALTER TABLE {ACME}.ats_jobcategory ALTER COLUMN name SET STATISTICS 200")   # benign DDL
    stale = memo_rows(conn)
    assert stale["ats_jobcategory"][0] != stale["ats_jobcategory"][1]
    assert cli.main(["verify", "--dsn", db.dsn()]) == 0
    assert memo_rows(conn) == stale
    insert_job(app, ACME)                                     # the next write re-checks and records
    assert memo_rows(conn)["ats_jobcategory"][1] == memo_rows(conn)["ats_jobcategory"][0]
    assert verify_findings(conn) == []


def test_reattach_resets_the_memo(db: Db, protected: None, app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """A registered OID may name another table after a re-attach: its memo starts over."""
    insert_job(app, ACME)
    epoch, checked, _ = memo_rows(conn)["ats_jobposting"]
    assert checked == epoch
    assert cli.main(["detach", ACME, "--dsn", db.dsn()]) == 0
    assert "ats_jobposting" not in memo_rows(conn)
    assert cli.main(["attach", ACME, "--dsn", db.dsn()]) == 0
    epoch, checked, _ = memo_rows(conn)["ats_jobposting"]
    assert checked is None


def test_the_tenant_cannot_forge_the_memo(protected: None, app: psycopg.Connection) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        app.execute("UPDATE catalog_sync.contract_memo SET checked_epoch = ddl_epoch")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        app.execute("SELECT catalog_sync.contracts_current(ARRAY[1::oid], ARRAY['ats_jobposting'::name])")


def test_a_relation_without_a_memo_row_is_always_checked(protected: None, app: psycopg.Connection,
                                                         conn: psycopg.Connection) -> None:
    insert_job(app, ACME)
    conn.execute("DELETE FROM catalog_sync.contract_memo WHERE relid = %s::regclass", (f"{ACME}.ats_jobcategory",))
    conn.execute(f"ALTER TABLE {ACME}.ats_jobcategory ALTER COLUMN name TYPE text")   # no row to bump
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="does not match the"):
        insert_job(app, ACME)
