"""An upgrade rehearsal: the policy of db/install.txt says a release lists a
changed function or trigger file again in its new section. So every such file
must apply again, online, over an installed database with attached tenants
and live writers: no error, no wait on the writers' locks, the same database
afterwards, and the writers' sessions (with plans cached from the old
functions) keep syncing."""

from __future__ import annotations

import psycopg
import pytest
from pyinstaller_tools.migrations.helpers import pinned_check

from pyinstaller_tools import cli, sqlfiles
from tests import jobs
from tests.conftest import Db
from tests.test_migrations import schema_dump

REPLAYED = [name for name in sqlfiles.install_order() if name.startswith(("functions/", "triggers/"))]


def replay(conn: psycopg.Connection) -> None:
    """What a release that lists every function and trigger file again runs: one transaction."""
    with conn.transaction():
        # Online: the replay must not queue behind the application's locks.
        conn.execute("SET LOCAL lock_timeout = '2s'")
        for name in REPLAYED:
            conn.execute(f"-- db/{name}\n{sqlfiles.read(name)}".encode())


def trigger_states(conn: psycopg.Connection) -> set[str]:
    rows = conn.execute(
        "SELECT DISTINCT st.state FROM catalog_sync.attached_table a, "
        "LATERAL catalog_sync.trigger_state(a.relid, a.source_table, a.tenant_id) st").fetchall()
    return {r[0] for r in rows}


def test_the_replayed_files_are_every_function_and_trigger() -> None:
    assert len(REPLAYED) > 60 and "triggers/public.tenants_tenant.sql" in REPLAYED
    # (advisory_lock_grants.sql: a one-time step of the install, after the roles are created;
    # registry_check.sql: the install's check of the registry, which creates nothing;
    # machinery_pin.sql: the last, once everything it pins exists)
    assert {n.split("/")[0] for n in sqlfiles.install_order()} - {"functions", "triggers"} <= {
        "roles.sql", "schema.sql", "tables", "types", "advisory_lock_grants.sql", "registry_check.sql",
        "machinery_pin.sql"}
    assert sqlfiles.install_order()[-1] == "machinery_pin.sql"


@pytest.mark.parametrize("writer_in_flight", [False, True], ids=["between-writes", "writer-in-flight"])
def test_replaying_every_function_and_trigger_file_is_an_online_noop(
        db: Db, conn: psycopg.Connection, writer_in_flight: bool) -> None:
    with db.connect(role="zumodra_app") as app:
        # The writer's session has run the sync before: its plans are cached.
        first = jobs.insert_job(app, "tenant_acme", title="Before the upgrade")
        jobs.update_job(app, "tenant_acme", first["id"], title="Cached plans")
        before = schema_dump(db)
        assert trigger_states(conn) == {"INSTALLED"}

        if writer_in_flight:
            # A writer's transaction holds its locks across the upgrade.
            app.autocommit = False
            in_flight = jobs.insert_job(app, "tenant_globex", title="Written during the upgrade")
            replay(conn)
            app.commit()
            app.autocommit = True
            assert jobs.catalog_row(conn, in_flight["uuid"])["title"] == "Written during the upgrade"
        else:
            replay(conn)

        assert schema_dump(db) == before
        assert trigger_states(conn) == {"INSTALLED"}
        # (the same files again leave the machinery as its installer pinned it: no re-pin needed)
        assert conn.execute("SELECT p.fingerprint = catalog_sync_pin.fingerprint() FROM catalog_sync_pin.pinned p"
                            ).fetchone() == (True,)
        # The same session, after the functions were replaced under its cached plans.
        jobs.update_job(app, "tenant_acme", first["id"], title="After the upgrade")
        second = jobs.insert_job(app, "tenant_acme", title="Inserted after the upgrade")
        jobs.update_job(app, "tenant_acme", second["id"], status="closed")
        assert jobs.catalog_row(conn, first["uuid"])["title"] == "After the upgrade"
        assert jobs.catalog_row(conn, second["uuid"]) is None
        jobs.set_tenant(conn, "tenant_acme", name="Acme Renamed")
        assert jobs.catalog_row(conn, first["uuid"])["company_name"] == "Acme Renamed"
    assert jobs.verify_findings(conn) == []


@pytest.mark.parametrize("name", ["detach_schema", "unregister_schema"])
def test_a_function_file_replaces_its_form_with_an_older_result_type(conn: psycopg.Connection, name: str) -> None:
    """(review, fortieth session) detach_schema() and unregister_schema() gained result columns (the purged
    counts), which CREATE OR REPLACE cannot add: their files drop the older form first, as the upgrade
    policy requires, or a replay over a database of the older form failed."""
    with conn.transaction():
        conn.execute(f"DROP FUNCTION catalog_sync.{name}(text, boolean, text)")
        conn.execute(f"CREATE FUNCTION catalog_sync.{name}(p_schema text, p_purge boolean, p_because text) "
                     "RETURNS TABLE (tenant_id bigint) LANGUAGE sql AS 'SELECT NULL::bigint'")
        conn.execute(f"-- db/functions/catalog_sync.{name}.sql\n"
                     f"{sqlfiles.read(f'functions/catalog_sync.{name}.sql')}".encode())
        result = conn.execute(f"SELECT pg_get_function_result('catalog_sync.{name}(text, boolean, text)'"
                              "::regprocedure)").fetchone()[0]
        assert "jobs_purged bigint" in result, result
        raise psycopg.Rollback()


def test_a_revision_that_changes_the_machinery_without_pinning_it_again_is_refused(
        conn: psycopg.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    """(DBA trial, forty-ninth session) A release whose section changed a function and forgot its repin file
    migrated ("migrated: 0001 -> 0002"), then every command refused the machinery as changed by an attack.
    Each revision now ends with a check of the pin, in its own transaction: such a revision fails, and
    nothing of it stays. Here: a function changed in the transaction, then the check a revision 0002 runs."""
    conn.execute(pinned_check("0001"))                     # as installed: the pin holds
    with pytest.raises(psycopg.errors.RaiseException, match="revision 0002 changes the machinery without "
                                                            "pinning it again") as refused, conn.transaction():
        conn.execute("CREATE OR REPLACE FUNCTION catalog_sync.expire_jobs() RETURNS bigint LANGUAGE sql "
                     "AS 'SELECT 0::bigint'")
        conn.execute(pinned_check("0002"))
    assert "function catalog_sync.expire_jobs()" in str(refused.value), refused.value
    assert conn.execute(pinned_check("0001")) is not None      # rolled back: the pin holds again
    # every revision runs it, online and in the offline script, after its section's files
    assert cli.main(["migrate", "--sql"]) == 0
    script = capsys.readouterr().out
    assert script.index("SELECT catalog_sync_pin.pin()") < script.index("DO $pin_check$"), script[-2000:]
