"""What is published does not depend on the settings of the session that writes,
backfills or verifies.

A writer (the application role, or a tenant) may SET any user-settable parameter
before its first write of a session, and the sync's functions are compiled and
planned in that session; ALTER DATABASE / ALTER ROLE defaults reach the tool's
sessions. Each test here failed before its fix (docs/security.md, "Session
settings"): `standard_conforming_strings = off` (plain '...' literals with a
backslash read differently: the sanitizer's link filter lost its backslash rule,
safe_url() refused every URL), a lowered `extra_float_digits` (rounded provider
coordinates), `constraint_exclusion = on` over a setting-dependent CHECK, and a
database default DateStyle the tool could not read.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from pyinstaller_tools import cli, seed
from tests.conftest import ROOT, Db
from tests.jobs import catalog_row, category_id, insert_job, verify_findings
from tests.market import insert_provider, insert_service, provider_row

ACME = "tenant_acme"
DB_DIR = ROOT / "db"

# A session setting a writer or an installer may choose, and the value that hurt (or could).
SESSION_SETTINGS = [
    ("standard_conforming_strings", "off"),
    ("extra_float_digits", "-15"),
]

LINK_WITH_BACKSLASH = '<p>See <a href="https://jobs.example/a\\b">here</a></p>'
LOGO = "https://cdn.example/logo-\u00e9.png"
LAT, LNG = 52.520008123456789, 13.404954987654321


def session(db: Db, setting: tuple[str, str], role: str | None = None) -> psycopg.Connection:
    """A new session (nothing compiled or planned yet) with `setting` in force from its start."""
    conn = db.connect(role=role)
    conn.execute(sql.SQL("SET {} = {}").format(sql.Identifier(setting[0]), sql.Literal(setting[1])))
    return conn


@pytest.fixture(params=SESSION_SETTINGS, ids=[f"{n}={v}" for n, v in SESSION_SETTINGS])
def setting(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    yield request.param


def write_everything(writer: psycopg.Connection) -> tuple[dict, dict]:
    """A new logo in the registry, a job with a link, a provider with a location and a service."""
    writer.execute("UPDATE public.tenants_tenant SET logo_url = %s WHERE schema_name = %s", (LOGO, ACME))
    job = insert_job(writer, ACME, description=LINK_WITH_BACKSLASH)
    provider = insert_provider(writer, ACME, location_lat=LAT, location_lng=LNG, bio=LINK_WITH_BACKSLASH)
    insert_service(writer, ACME, provider["id"])
    return job, provider


def test_the_writers_session_settings_change_nothing(db: Db, conn: psycopg.Connection,
                                                     setting: tuple[str, str]) -> None:
    with session(db, setting, role=seed.APP_ROLE) as writer:
        job, provider = write_everything(writer)
    expected_html = conn.execute("SELECT catalog_sync.sanitize_html(%s)", (LINK_WITH_BACKSLASH,)).fetchone()[0]
    assert "&lt;a href=" in expected_html            # a backslash is no link
    row = catalog_row(conn, job["uuid"])
    assert row is not None
    assert (row["description"], row["company_logo_url"]) == (expected_html, LOGO)
    prow = provider_row(conn, provider["uuid"])
    assert prow is not None
    assert (prow["location"], prow["bio"]) == ({"lat": LAT, "lng": LNG}, expected_html)
    assert verify_findings(conn) == []


def test_an_installers_session_settings_change_nothing(db: Db, conn: psycopg.Connection, app: psycopg.Connection,
                                                       setting: tuple[str, str]) -> None:
    job, _ = write_everything(app)
    tenant_id = db.tenant_id(ACME)
    with session(db, setting) as installer:
        assert installer.execute("SELECT problem, detail FROM catalog_sync.verify_tenant(%s)",
                                 (tenant_id,)).fetchall() == []
        conn.execute("DELETE FROM public.job_catalog WHERE job_uuid = %s", (job["uuid"],))
        conn.execute("DELETE FROM public.provider_catalog WHERE tenant_id = %s", (tenant_id,))
        installer.execute("SELECT * FROM catalog_sync.backfill_tenant(%s)", (tenant_id,))
    assert verify_findings(conn) == []


def test_a_check_constraint_folded_under_the_writers_settings_hides_no_job(db: Db, conn: psycopg.Connection,
                                                                           app: psycopg.Connection) -> None:
    """HOLE (review, ninth session): with constraint_exclusion = on, the planner folds a table's CHECK
    constraints under the writer's settings. A CHECK over an IMMUTABLE built-in that follows a setting
    (quote_ident() and quote_all_identifiers) then read as "category_id IS NULL", and the category
    rename's read of its jobs skipped the table: their catalog rows kept the old name."""
    job = insert_job(app, ACME, category_id=category_id(app, ACME))
    app.execute(f"ALTER TABLE {ACME}.ats_jobposting ADD CONSTRAINT folds "
                "CHECK (category_id IS NULL OR quote_ident('a') = 'a')")
    with session(db, ("constraint_exclusion", "on"), role=seed.APP_ROLE) as writer:
        writer.execute("SET quote_all_identifiers = on")
        writer.execute(f"UPDATE {ACME}.ats_jobcategory SET name = 'Renamed' WHERE id = %s", (job["category_id"],))
    row = catalog_row(conn, job["uuid"])
    assert row is not None and row["category_name"] == "Renamed"
    assert verify_findings(conn) == []


def test_every_sync_entry_point_pins_the_settings_its_results_depend_on(conn: psycopg.Connection) -> None:
    """The definers that read tenant tables (those that pin jit) pin constraint_exclusion too."""
    rows = conn.execute(
        "SELECT p.proname, p.proconfig FROM pg_proc p WHERE p.pronamespace = 'catalog_sync'::regnamespace "
        "AND p.prosecdef AND p.proconfig @> ARRAY['jit=off'] ORDER BY 1").fetchall()
    assert len(rows) >= 12
    assert [name for name, config in rows if "constraint_exclusion=partition" not in config] == []
    assert conn.execute("SELECT proconfig FROM pg_proc WHERE oid = 'catalog_sync.project_providers'::regproc"
                        ).fetchone()[0] == ["extra_float_digits=1"]


def plain_literals_with_a_backslash(text: str) -> list[str]:
    """Standard ('...', not E'...') string literals that contain a backslash; comments skipped."""
    found: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("--", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        if text[i] != "'":
            i += 1
            continue
        escaped = i > 0 and text[i - 1] in "Ee" and not (i > 1 and (text[i - 2].isalnum() or text[i - 2] == "_"))
        j = i + 1
        while j < len(text):
            if (escaped and text[j] == "\\") or text[j:j + 2] == "''":     # an escape, or a quote in the literal
                j += 2
            elif text[j] == "'":
                break
            else:
                j += 1
        if not escaped and "\\" in text[i:j]:
            found.append(text[i:j + 1])
        i = j + 1
    return found


def test_no_sql_literal_depends_on_standard_conforming_strings() -> None:
    files = sorted(DB_DIR.rglob("*.sql"))
    assert len(files) > 50
    offenders = {str(f.relative_to(DB_DIR)): lits for f in files if (lits := plain_literals_with_a_backslash(
        f.read_text()))}
    assert offenders == {}, "write these as E'' strings with doubled backslashes"
    assert plain_literals_with_a_backslash("x LIKE 'a\\_b' -- 'c\\d'\n AND y = E'a\\\\b'") == ["'a\\_b'"]


def test_the_tool_works_whatever_the_databases_defaults(db: Db, conn: psycopg.Connection,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """Defaults set with ALTER DATABASE (its owner may be the application) reach the tool's sessions:
    status crashed reading timestamps under a DateStyle other than ISO."""
    conn.execute(sql.SQL("ALTER DATABASE {} SET DateStyle = 'SQL, DMY'").format(sql.Identifier(db.dbname)))
    conn.execute(sql.SQL("ALTER DATABASE {} SET IntervalStyle = 'sql_standard'").format(sql.Identifier(db.dbname)))
    conn.execute(sql.SQL("ALTER DATABASE {} SET extra_float_digits = -15").format(sql.Identifier(db.dbname)))
    for command in (["backfill"], ["status"], ["status", "--json"], ["verify"], ["backfill", "--dry-run"]):
        assert cli.main([*command, "--dsn", db.dsn()]) == 0, command
    out = capsys.readouterr().out
    assert ACME in out


def test_a_repin_and_the_install_script_do_not_depend_on_quote_all_identifiers(
        db: Db, conn: psycopg.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    """Settings trial, forty-sixth session: under a database's (or a role's) quote_all_identifiers = on, a DBA's
    `SELECT catalog_sync_pin.pin()` in psql pinned other text, and every command refused the machinery as
    changed; the install script (migrate --sql | psql, install-sql | psql) failed on its contract types."""
    fingerprint = conn.execute("SELECT catalog_sync_pin.fingerprint()").fetchone()
    conn.execute(sql.SQL("ALTER DATABASE {} SET quote_all_identifiers = on").format(sql.Identifier(db.dbname)))
    with db.connect() as psql_like:            # a new session: the database's default
        assert psql_like.execute("SHOW quote_all_identifiers").fetchone() == ("on",)
        assert psql_like.execute("SELECT catalog_sync_pin.pin()").fetchone() == fingerprint
        # the contract types, resolved again as the install resolves them (its DO block raised)
        contract = (DB_DIR / "tables" / "catalog_sync.contract_column.sql").read_text()
        with psql_like.transaction():
            psql_like.execute(contract[contract.index("DO $$"):contract.index("$$;\n", contract.index("DO $$")) + 3])
            psql_like.execute("SELECT catalog_sync.assert_registry()")   # (its check reads them)
    assert cli.main(["status", "--dsn", db.dsn()]) == 0, capsys.readouterr().err


def test_the_tools_output_does_not_depend_on_the_clients_environment(
        db: Db, conn: psycopg.Connection, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings trial, forty-sixth session: PGDATESTYLE (libpq sends it after the options' DateStyle=ISO) and
    PGCLIENTENCODING=SQL_ASCII (psycopg then returns bytes) crashed status with a traceback (exit 1, read as
    drift), and printed b'tenant_x'; PGOPTIONS' client_min_messages = warning (or the role's) hid what
    uninstall revokes."""
    monkeypatch.setenv("PGDATESTYLE", "SQL, DMY")
    monkeypatch.setenv("PGCLIENTENCODING", "SQL_ASCII")
    monkeypatch.setenv("PGOPTIONS", "-c client_min_messages=warning")
    for command in (["status"], ["status", "--json"], ["verify"], ["backfill"]):
        assert cli.main([*command, "--dsn", db.dsn()]) == 0, command
        out = capsys.readouterr().out
        assert (ACME in out or command == ["verify"]) and "b'" not in out, (command, out)
    conn.execute(f"GRANT SELECT ON {ACME}.ats_jobcategory TO catalog_reader")
    assert cli.main(["uninstall", "--yes", "--dsn", db.dsn()]) == 0
    err = capsys.readouterr().err
    assert "role catalog_reader loses its privileges in this database on objects the machinery did not make" in err


def test_a_server_speaking_another_language_is_noted_once(capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings trial, forty-sixth session: under lc_messages = 'de_DE.UTF-8' a pg_cancel_backend() did not stop
    a backfill (the tool tells a cancel by the server's English text), without a word. (The clusters here have
    no other locale to set: the note's decision alone, fed what require_installer() reads.)"""
    from pyinstaller_tools import operations

    monkeypatch.setattr(operations, "_language_noted", False)
    for english in ("", "C", "POSIX", "C.UTF-8", "en_US.UTF-8", "en_GB.utf8"):
        operations.note_messages_language(english, "catalog_ops")
    assert capsys.readouterr().err == ""
    operations.note_messages_language("de_DE.UTF-8", "catalog_ops")
    operations.note_messages_language("fr_FR.UTF-8", "catalog_ops")
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(
        "catalog-sync: note: the server's messages are in lc_messages = 'de_DE.UTF-8': the tool recognizes a "
        "cancelled statement"), err
    assert "ALTER ROLE catalog_ops SET lc_messages = 'C'" in err, err
