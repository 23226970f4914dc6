"""The definer never reads a table that left the contract, never runs code of
the application role, and fails closed under row-level security."""

from __future__ import annotations

import re
from decimal import Decimal

import psycopg
import pytest

from tests.conftest import ROOT, Db
from tests.jobs import add_copied_sync_trigger, catalog_count, insert_job, verify_findings
from tests.market import insert_provider, insert_service, provider_row, service_row, update_service

ACME = "tenant_acme"


def evil_ran(conn: psycopg.Connection) -> bool:
    """Whether the attacker's code ever ran: its nextval() survives any rollback."""
    return bool(conn.execute("SELECT is_called FROM public.evil_seq").fetchone()[0])


@pytest.fixture
def evil_cast(app: psycopg.Connection) -> None:
    """An implicit cast to text owned by the app role, counting its calls."""
    app.execute("CREATE SEQUENCE public.evil_seq")
    app.execute("CREATE TYPE public.evil_enum AS ENUM ('Acme Robotics', 'Globex Corporation', 'evil')")
    app.execute("""CREATE FUNCTION public.evil_to_text(public.evil_enum) RETURNS text LANGUAGE plpgsql AS $$
                   BEGIN PERFORM nextval('public.evil_seq'); RETURN format('%s', $1); END $$""")
    app.execute("CREATE CAST (public.evil_enum AS text) WITH FUNCTION public.evil_to_text(public.evil_enum) "
                "AS IMPLICIT")


def test_registry_column_type_hijack_is_refused(app: psycopg.Connection, conn: psycopg.Connection,
                                                 evil_cast: None) -> None:
    insert_job(app, "tenant_globex")
    app.execute("ALTER TABLE public.tenants_tenant ALTER COLUMN name TYPE public.evil_enum "
                "USING name::text::public.evil_enum")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="contract"):
        insert_job(app, ACME)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="contract"):
        conn.execute("SELECT * FROM catalog_sync.verify_global()")
    assert not evil_ran(conn), "the application's cast ran inside the machinery"


def test_tenant_column_type_hijack_is_refused(app: psycopg.Connection, conn: psycopg.Connection) -> None:
    insert_job(app, ACME)
    app.execute(f"ALTER TABLE {ACME}.ats_jobposting ALTER COLUMN title TYPE bpchar")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="contract") as refused:
        app.execute(f"UPDATE {ACME}.ats_jobposting SET title = 'x'")
    assert "The columns the sync reads" in (refused.value.diag.message_hint or "")   # where the list is
    tenant_id = conn.execute("SELECT id FROM public.tenants_tenant WHERE schema_name = %s", (ACME,)).fetchone()[0]
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="contract"):
        conn.execute("SELECT * FROM catalog_sync.backfill_tenant(%s)", (tenant_id,))
    detail = f"{ACME}.ats_jobposting: column title is bpchar, the contract says character varying or text (any length)"
    assert ("contract", detail) in verify_findings(conn)


def test_category_table_hijack_is_refused_on_job_writes(app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """The job trigger also reads the category table: it is checked too."""
    app.execute(f"ALTER TABLE {ACME}.ats_jobcategory ALTER COLUMN name TYPE bpchar")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="ats_jobcategory"):
        insert_job(app, ACME)


def test_a_changed_precision_is_refused_by_the_trigger(app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """(mutation audit) a typmod change was refused by attach's pre-flight only: no test of the trigger.
    The sync reads salary_min as numeric(12,2): another precision would be rounded or overflow."""
    app.execute(f"ALTER TABLE {ACME}.ats_jobposting ALTER COLUMN salary_min TYPE numeric(14,3)")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="contract"):
        insert_job(app, ACME)
    assert ("contract", f"{ACME}.ats_jobposting: column salary_min is numeric(14,3), the contract says "
            "numeric(12,2) (or a larger precision, the same scale)") in verify_findings(conn)


@pytest.mark.parametrize("column", ["salary_min", "salary_max"])
def test_a_numeric_of_a_larger_precision_and_the_same_scale_syncs(db: Db, app: psycopg.Connection,
                                                                  conn: psycopg.Connection, column: str) -> None:
    """(DBA trials, forty-ninth and fiftieth sessions) A Django max_digits raised (numeric(12,2) to
    numeric(14,2)) failed every write of the tenant on the contract; then, read cast to numeric(12,2), a
    value the wider column holds failed the write of a job the catalog never shows (a draft, a hidden
    salary), and every statement, backfill and re-sync over such rows. The sync reads numeric without a
    typmod: those pass. The catalog keeps the contract's numeric(12,2), the bound its readers rely on (a
    review, fiftieth session: unbounded, one tenant's value broke a listing every tenant shares): a public
    value beyond it fails its own write."""
    big = Decimal("123456789012.34")               # too large for numeric(12,2)
    job = insert_job(app, ACME, show_salary=True)
    app.execute(f"ALTER TABLE {ACME}.ats_jobposting ALTER COLUMN {column} TYPE numeric(14,2)")
    app.execute(f"UPDATE {ACME}.ats_jobposting SET {column} = 1234567.89 WHERE id = %s", (job["id"],))
    assert conn.execute(f"SELECT {column} FROM public.job_catalog WHERE job_uuid = %s",
                        (job["uuid"],)).fetchone() == (Decimal("1234567.89"),)
    draft = insert_job(app, ACME, status="draft", show_salary=False, **{column: big})
    hidden = insert_job(app, ACME, show_salary=False, **{column: big})
    assert conn.execute(f"SELECT job_uuid, {column} FROM public.job_catalog WHERE job_uuid IN (%s, %s)",
                        (draft["uuid"], hidden["uuid"])).fetchall() == [(hidden["uuid"], None)]
    app.execute(f"UPDATE {ACME}.ats_jobposting SET title = title || '!'")   # a bulk statement, every row read
    with pytest.raises(psycopg.errors.NumericValueOutOfRange):
        app.execute(f"UPDATE {ACME}.ats_jobposting SET {column} = %s WHERE id = %s", (big, job["id"]))
    app.execute(f"UPDATE {ACME}.ats_jobposting SET {column} = -9999999999.99 WHERE id = %s", (job["id"],))
    assert conn.execute(f"SELECT {column} FROM public.job_catalog WHERE job_uuid = %s",
                        (job["uuid"],)).fetchone() == (Decimal("-9999999999.99"),)     # the bound's edge
    app.execute(f"UPDATE {ACME}.ats_jobposting SET {column} = 1234567.89 WHERE id = %s", (job["id"],))
    # the backfill and verify read every row of the tenant as well
    tenant_id = db.tenant_id(ACME)
    conn.execute("DELETE FROM public.job_catalog WHERE tenant_id = %s", (tenant_id,))
    conn.execute("SELECT * FROM catalog_sync.backfill_tenant(%s)", (tenant_id,))
    assert conn.execute(f"SELECT {column} FROM public.job_catalog WHERE job_uuid = %s",
                        (job["uuid"],)).fetchone() == (Decimal("1234567.89"),)
    assert verify_findings(conn) == []
    app.execute(f"ALTER TABLE {ACME}.ats_jobposting ALTER COLUMN {column} TYPE numeric(18,3)")    # another scale
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="contract"):
        insert_job(app, ACME)


def test_a_provider_rating_of_a_larger_precision_syncs_within_the_catalogs_bound(app: psycopg.Connection,
                                                                                 conn: psycopg.Connection) -> None:
    """(DBA trial, fiftieth session) rating_avg numeric(3,2) made numeric(4,2) for a 0 to 10 scale: a
    rating of 10.00 on a provider the marketplace never shows failed its write. It passes; a public
    provider's rating syncs to both catalogs; one of 10.00, beyond the catalogs' numeric(3,2) (one tenant
    would otherwise sort first under every ORDER BY rating_avg DESC), fails its own write."""
    app.execute(f"ALTER TABLE {ACME}.services_serviceprovider ALTER COLUMN rating_avg TYPE numeric(4,2)")
    hidden = insert_provider(app, ACME, marketplace_enabled=False, rating_avg=Decimal("10.00"))
    provider = insert_provider(app, ACME, rating_avg=Decimal("9.50"))
    service = insert_service(app, ACME, provider["id"])
    assert provider_row(conn, hidden["uuid"]) is None
    assert provider_row(conn, provider["uuid"])["rating_avg"] == Decimal("9.50")    # type: ignore[index]
    assert service_row(conn, service["uuid"])["provider_rating_avg"] == Decimal("9.50")    # type: ignore[index]
    with pytest.raises(psycopg.errors.NumericValueOutOfRange):
        insert_provider(app, ACME, rating_avg=Decimal("10.00"))
    assert verify_findings(conn) == []
    # a service's price of a larger precision: the same (fifty-second session)
    app.execute(f"ALTER TABLE {ACME}.services_service ALTER COLUMN price_max TYPE numeric(12,2)")
    update_service(app, ACME, service["id"], price_max=Decimal("99999999.99"))      # the bound's edge
    assert service_row(conn, service["uuid"])["price_max"] == Decimal("99999999.99")    # type: ignore[index]
    with pytest.raises(psycopg.errors.NumericValueOutOfRange):
        update_service(app, ACME, service["id"], price_max=Decimal("100000000.00"))


def test_a_timestamp_with_time_zone_of_any_precision_syncs(app: psycopg.Connection,
                                                          conn: psycopg.Connection) -> None:
    """The sync reads published_at as timestamptz: timestamptz(0) holds the same values. A timestamp
    without time zone is another type, refused by name."""
    job = insert_job(app, ACME)
    app.execute(f"ALTER TABLE {ACME}.ats_jobposting ALTER COLUMN published_at TYPE timestamptz(0)")
    app.execute(f"UPDATE {ACME}.ats_jobposting SET published_at = '2026-01-02 03:04:05.678+00' WHERE id = %s",
                (job["id"],))
    assert str(conn.execute("SELECT published_at FROM public.job_catalog WHERE job_uuid = %s",
                            (job["uuid"],)).fetchone()[0]) == "2026-01-02 03:04:06+00:00"   # type: ignore[index]
    app.execute(f"ALTER TABLE {ACME}.ats_jobposting ALTER COLUMN published_at TYPE timestamp")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="contract"):
        insert_job(app, ACME)
    assert ("contract", f"{ACME}.ats_jobposting: column published_at is timestamp without time zone, the "
            "contract says timestamp with time zone (any precision)") in verify_findings(conn)


@pytest.mark.parametrize("length", ["(300)", "(20)", ""], ids=["longer", "shorter", "unlimited"])
def test_a_character_varying_column_of_any_length_syncs(length: str, app: psycopg.Connection,
                                                        conn: psycopg.Connection) -> None:
    """A Django max_length change of a field the catalogs show (character varying(200) to (300)): the sync
    reads the column as text and the catalogs hold text, so the contract accepts any length."""
    job = insert_job(app, ACME)
    app.execute(f"ALTER TABLE {ACME}.ats_jobposting ALTER COLUMN title TYPE varchar{length}, "
                f"ALTER COLUMN status TYPE varchar{length}")
    title = "T" * (20 if length == "(20)" else 250)
    app.execute(f"UPDATE {ACME}.ats_jobposting SET title = %s WHERE id = %s", (title, job["id"]))
    fresh = insert_job(app, ACME, title=title[:20])
    assert conn.execute("SELECT title FROM public.job_catalog WHERE job_uuid = %s",
                        (job["uuid"],)).fetchone() == (title,)
    assert conn.execute("SELECT title FROM public.job_catalog WHERE job_uuid = %s",
                        (fresh["uuid"],)).fetchone() == (title[:20],)
    app.execute(f"UPDATE {ACME}.ats_jobposting SET status = 'closed' WHERE id = %s", (fresh["id"],))
    assert catalog_count(conn, ACME) == 1 and verify_findings(conn) == []


def test_an_index_with_the_tenants_own_collation_is_refused(app: psycopg.Connection) -> None:
    """(mutation audit) the index check of collations and operator classes had no test: the planner
    would compare with the tenant's collation while planning the definer's read."""
    app.execute(f'CREATE COLLATION {ACME}.mine FROM "C"')
    app.execute(f"CREATE INDEX ON {ACME}.ats_jobposting (title COLLATE {ACME}.mine)")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="contract"):
        insert_job(app, ACME)


def test_an_index_with_an_operator_class_not_built_in_is_refused(app: psycopg.Connection,
                                                                 conn: psycopg.Connection) -> None:
    """(review of the tests, forty-ninth session) The operator class half of that check had no test: an index of
    a plain column (no expression to look up) whose operator class is an extension's, in the tenant's schema,
    whose support functions the planner would call while planning the definer's read."""
    conn.execute(f"CREATE EXTENSION pg_trgm SCHEMA {ACME}")       # (a trusted extension: a tenant may create it)
    app.execute(f"CREATE INDEX ON {ACME}.ats_jobposting USING gin (title {ACME}.gin_trgm_ops)")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="contract"):
        insert_job(app, ACME)


@pytest.mark.parametrize("binding", [
    "AFTER INSERT ON {t} REFERENCING NEW TABLE AS new_rows FOR EACH ROW EXECUTE FUNCTION catalog_sync.on_job_change"
    "('{id}', 'x')",
    "AFTER INSERT ON {t} REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "
    "catalog_sync.on_job_change('{id}')",
    "BEFORE INSERT ON {t} FOR EACH STATEMENT EXECUTE FUNCTION catalog_sync.on_job_change('{id}', 'x')",
], ids=["row_level", "one_argument", "before"])
def test_a_sync_function_bound_in_another_shape_fails_closed(app: psycopg.Connection, conn: psycopg.Connection,
                                                             db: Db, binding: str) -> None:
    """(review of the tests, forty-ninth session) guard()'s check of the firing trigger's shape (an AFTER
    statement trigger with two arguments) had no test: a superuser's (or a restored dump's) binding of a sync
    function as anything else fails every write of the table, it is not run on rows it was not written for."""
    conn.execute("CREATE TRIGGER odd_binding " + binding.format(t=f"{ACME}.ats_jobposting", id=db.tenant_id(ACME)))
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="unexpected trigger"):
        insert_job(app, ACME)


@pytest.mark.parametrize("binding", [
    "AFTER DELETE ON {s}.ats_jobposting REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT",
    "AFTER DELETE ON public.tenants_tenant REFERENCING OLD TABLE AS old_rows FOR EACH ROW",
], ids=["another_table", "row_level"])
def test_the_registry_function_bound_elsewhere_fails_closed(app: psycopg.Connection, conn: psycopg.Connection,
                                                            binding: str) -> None:
    """(review of the tests, forty-ninth session) on_tenant_change()'s check of its trigger had no test: bound
    to a job table, it would take the deleted jobs' ids for tenant ids and delete those tenants' rows."""
    job = insert_job(app, ACME)
    conn.execute("CREATE TRIGGER odd_binding " + binding.format(s=ACME)
                 + " EXECUTE FUNCTION catalog_sync.on_tenant_change()")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="on_tenant_change called by an unexpected"):
        if "tenants_tenant" in binding:
            conn.execute("DELETE FROM public.tenants_tenant WHERE schema_name = %s", (ACME,))
        else:
            app.execute(f"DELETE FROM {ACME}.ats_jobposting WHERE id = %s", (job["id"],))


def test_a_binding_to_a_deleted_tenant_on_another_tenants_table_fails_closed(
        app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """(review of the tests, forty-ninth session) A trigger bound to a tenant no longer in the registry is
    skipped only on a table registered to no tenant (a deleted tenant's kept schema); on a table attached for
    another tenant (a schema cloned, then the source tenant deleted) every write fails: that table's own
    triggers sync it, and this binding must not pass for one of them."""
    add_copied_sync_trigger(conn, ACME, "ats_jobposting", "on_job_change", 987654321, "bound_to_nobody")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="is not attached for this tenant"):
        insert_job(app, ACME)


def test_row_level_security_fails_closed(app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """A policy that hides rows from the definer must not make the sync drop them silently."""
    job = insert_job(app, ACME)
    app.execute(f"ALTER TABLE {ACME}.ats_jobposting ENABLE ROW LEVEL SECURITY")
    app.execute(f"CREATE POLICY hide ON {ACME}.ats_jobposting USING (false)")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        app.execute(f"UPDATE {ACME}.ats_jobposting SET title = 'hidden' WHERE id = %s", (job["id"],))


def test_deleted_tenant_with_kept_schema_publishes_nothing_and_writes_work(
        db: Db, app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """django-tenants keeps the schema of a deleted tenant by default."""
    insert_job(app, ACME)
    with app.transaction():
        app.execute("DELETE FROM public.tenants_domain WHERE tenant_id = "
                    "(SELECT id FROM public.tenants_tenant WHERE schema_name = %s)", (ACME,))
        app.execute("DELETE FROM public.tenants_tenant WHERE schema_name = %s", (ACME,))
    assert catalog_count(conn, ACME) == 0
    insert_job(app, ACME)                       # no error
    assert catalog_count(conn, ACME) == 0
    assert verify_findings(conn) == []
    # Whatever its tables become then: nothing of them is read (review: the job trigger's own
    # check once ran before the tenant was looked up, and refused these writes).
    app.execute(f"ALTER TABLE {ACME}.ats_jobposting ALTER COLUMN title TYPE bpchar")
    insert_job(app, ACME)
    app.execute(f"UPDATE {ACME}.ats_jobposting SET title = 'Still writable'")
    app.execute(f"DELETE FROM {ACME}.ats_jobposting")
    assert catalog_count(conn, ACME) == 0


def test_an_installer_cannot_unregister_a_tenant_it_does_not_own(db: Db, conn: psycopg.Connection) -> None:
    db.login_role("ops_dba", "catalog_sync_installer")
    with db.connect(role="ops_dba") as ops, pytest.raises(psycopg.errors.ObjectInUse):
        ops.execute("SELECT * FROM catalog_sync.unregister_schema('tenant_acme', true)")
    with db.connect(role="ops_dba") as ops, pytest.raises(psycopg.errors.InsufficientPrivilege):
        ops.execute("SELECT * FROM catalog_sync.detach_schema('tenant_acme', true)")
    assert conn.execute("SELECT attached FROM catalog_sync.tenant_schemas() WHERE schema_name = 'tenant_acme'"
                        ).fetchone() == (True,)


def test_the_documented_helpers_without_a_search_path_are_exactly_those_of_the_database(
        conn: psycopg.Connection) -> None:
    """docs/security.md lists the functions that set no search_path (they may only run inside a definer
    that pinned it); the list had fallen three behind the database (docs review, twelfth session)."""
    doc = (ROOT / "docs" / "security.md").read_text()
    section = doc.split("### Hot-path helpers without their own search_path", 1)[1].split("They run on every", 1)[0]
    documented = set(re.findall(r"`([a-z_]+)`", section.split("\n- ", 1)[1]))     # the bullet list
    unpinned = {r[0] for r in conn.execute(
        "SELECT p.proname FROM pg_proc p WHERE p.pronamespace = 'catalog_sync'::regnamespace "
        "AND NOT coalesce(p.proconfig::text[] @> ARRAY['search_path=pg_catalog, pg_temp'], false)").fetchall()}
    assert documented == unpinned
    assert f"These {len(unpinned)} functions set no `search_path`" in section, "the count in the sentence"


def test_the_documented_definers_are_exactly_those_of_the_database(conn: psycopg.Connection) -> None:
    """docs/security.md lists every SECURITY DEFINER function and counts them; the count had fallen one
    behind the database (review, forty-fifth session)."""
    doc = (ROOT / "docs" / "security.md").read_text()
    count, section = re.search(r"\*\*The (\d+) definers\.\*\*(.*?)\n\n", doc, re.S).groups()
    documented = set(re.findall(r"`(?:catalog_sync_protect\.)?([a-z_]+)`", section))
    definers = {r[0] for r in conn.execute(
        "SELECT p.proname FROM pg_proc p WHERE p.prosecdef "
        "AND p.pronamespace IN ('catalog_sync'::regnamespace, 'catalog_sync_protect'::regnamespace)").fetchall()}
    assert documented == definers
    assert int(count) == len(definers) and f"the {count} definers (below)" in doc


@pytest.mark.parametrize("name", [None, "ats_jobpostings", "auth_user"])
def test_a_source_table_the_contract_does_not_name_matches_nothing(conn: psycopg.Connection, name: str | None) -> None:
    """(eighteenth session's gap) contract_matches() compared the table with no contract columns at all for
    a name the contract lacks, or a NULL, and accepted it; contract_problems() then reported nothing."""
    relid = conn.execute(f"SELECT '{ACME}.ats_jobposting'::regclass::oid").fetchone()[0]   # type: ignore[index]
    matches = "SELECT catalog_sync.contract_matches(ARRAY[%s::oid], ARRAY[%s::name])"
    assert conn.execute(matches, (relid, "ats_jobposting")).fetchone() == (True,)   # the same table, its name
    assert conn.execute(matches, (relid, name)).fetchone() == (False,)
    problems = [r[0] for r in conn.execute("SELECT catalog_sync.contract_problems(%s, %s)", (relid, name))]
    assert problems == [f"the contract has no table {'NULL' if name is None else repr(name)}"]


def test_a_nan_never_reaches_the_catalogs(app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """(review, fiftieth session) A numeric column holds NaN, which sorts above every number: a provider
    rated NaN came first under every ORDER BY rating_avg DESC, a job paid NaN first by salary. NaN is
    published as no value, a NaN rating as 0 (Django's default for an unrated provider)."""
    nan = Decimal("NaN")
    job = insert_job(app, ACME, show_salary=True, salary_min=nan, salary_max=nan)
    provider = insert_provider(app, ACME, rating_avg=nan, hourly_rate=nan, minimum_budget=nan,
                               response_rate=nan, avg_response_time_hours=nan)
    service = insert_service(app, ACME, provider["id"], price_min=nan, price_max=nan)
    assert conn.execute("SELECT salary_min, salary_max FROM public.job_catalog WHERE job_uuid = %s",
                        (job["uuid"],)).fetchone() == (None, None)
    row = provider_row(conn, provider["uuid"])
    assert row is not None and [row[c] for c in ("rating_avg", "hourly_rate", "minimum_budget", "response_rate",
                                                 "avg_response_time_hours")] == [Decimal("0.00"), *[None] * 4], row
    row = service_row(conn, service["uuid"])
    assert row is not None and [row[c] for c in ("price_min", "price_max", "provider_rating_avg")] == [
        None, None, Decimal("0.00")], row
    assert verify_findings(conn) == []
