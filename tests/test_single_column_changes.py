"""One column at a time, both ways.

* An UPDATE of any one input of a projection, alone, reaches the catalog. The
  change detection of each trigger lists the inputs it compares; a column left
  out of a list (or an HTML column given another's mask bit) would leave the
  catalog row stale after exactly such an update, while updates of several
  columns at once still pass.
* verify compares every synced column: each one tampered alone in the catalog
  is reported as stale, naming that column and nothing else.

Found by a mutation audit: each of these mutants passed every other test.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

from tests.jobs import category_id, insert_job, source_inputs, update_job, verify_findings
from tests.market import (
    insert_provider,
    insert_service,
    insert_service_category,
    insert_skill,
    link_category,
    link_skill,
    update_provider,
    update_service,
)

ACME = "tenant_acme"
WHEN = datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC)
EARLIER = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)


def catalogs_now(conn: psycopg.Connection) -> list[Any]:
    """Every row of the three catalogs as it is, physical version included."""
    return conn.execute(
        "SELECT 'job', xmin::text, to_jsonb(c)::text FROM public.job_catalog c "
        "UNION ALL SELECT 'provider', xmin::text, to_jsonb(c)::text FROM public.provider_catalog c "
        "UNION ALL SELECT 'service', xmin::text, to_jsonb(c)::text FROM public.service_catalog c ORDER BY 3").fetchall()


def assert_follows(conn: psycopg.Connection, column: str, before: list[Any], changes_catalog: bool = True) -> None:
    assert verify_findings(conn) == [], f"an update of {column} alone left drift"
    if changes_catalog:
        assert catalogs_now(conn) != before, f"an update of {column} alone did not reach the catalog"


# ------------------------------------------------------------------------ jobs

def job_changes(app: psycopg.Connection) -> dict[str, Any]:
    """A new value for every input of the job projection, each one visible in the catalog row."""
    return {
        "id": 987654, "uuid": uuid.uuid4(), "title": "Renamed title", "slug": "renamed-slug",
        "reference_code": "REF-CHANGED", "category_id": category_id(app, ACME), "job_type": "part_time",
        "experience_level": "junior", "remote_policy": "onsite", "location_city": "Paris",
        "location_state": "IDF", "location_country": "FR", "location_lat": 48.85, "location_lng": 2.35,
        "description": "<p>Changed</p>", "responsibilities": "<ul><li>Changed</li></ul>",
        "requirements": "<p>Changed too</p>", "benefits": "<p>Changed, three</p>",
        "salary_min": 51000, "salary_max": 71000, "salary_currency": "USD", "salary_period": "month",
        "show_salary": False, "required_skills": Jsonb(["sql"]), "preferred_skills": Jsonb(["go"]),
        "positions_count": 2, "team": "Data", "is_featured": True,
        "application_deadline": datetime.now(UTC) + timedelta(days=30), "published_at": WHEN,
        "created_at": EARLIER,      # shown as published_at while that is NULL
        "meta_title": "Meta", "meta_description": "Meta description",
        # these make the job private: its row goes
        "status": "closed", "published_on_career_page": False, "is_internal_only": True,
    }


def test_an_update_of_any_one_job_input_reaches_the_catalog(app: psycopg.Connection,
                                                             conn: psycopg.Connection) -> None:
    changes = job_changes(app)
    assert sorted(changes) == sorted(source_inputs(conn, "catalog_sync.job_source"))
    for column, value in changes.items():
        job = insert_job(app, ACME)
        before = catalogs_now(conn)
        update_job(app, ACME, job["id"], **{column: value})
        assert_follows(conn, column, before, changes_catalog=column != "id")   # the id is not shown


# ------------------------------------------------------------------- providers

def provider_changes() -> dict[str, Any]:
    return {
        "id": 987654, "uuid": uuid.uuid4(), "display_name": "Renamed provider", "provider_type": "agency",
        "bio": "<p>Changed</p>", "tagline": "Changed tagline", "avatar_url": "https://cdn.example/a2.png",
        "cover_image_url": "https://cdn.example/c2.png", "city": "Paris", "state": "IDF", "country": "FR",
        "location_lat": 48.85, "location_lng": 2.35, "hourly_rate": Decimal("90.00"),
        "minimum_budget": Decimal("600.00"), "currency": "USD", "rating_avg": Decimal("4.75"),
        "total_reviews": 13, "completed_jobs_count": 31, "response_rate": Decimal("96.50"),
        "avg_response_time_hours": Decimal("2.50"), "availability_status": "busy", "is_verified": False,
        "is_featured": True, "is_accepting_projects": False, "can_work_remotely": False,
        "can_work_onsite": True, "published_at": WHEN, "created_at": EARLIER,
        # these take the provider, and its services, off the marketplace
        "marketplace_enabled": False, "is_active": False,
    }


def test_an_update_of_any_one_provider_input_reaches_the_catalogs(app: psycopg.Connection,
                                                                  conn: psycopg.Connection) -> None:
    changes = provider_changes()
    assert sorted(changes) == sorted(source_inputs(conn, "catalog_sync.provider_source"))
    for column, value in changes.items():
        provider = insert_provider(app, ACME)
        if column != "id":          # a service would hold the old id (foreign key)
            insert_service(app, ACME, provider["id"])
        before = catalogs_now(conn)
        update_provider(app, ACME, provider["id"], **{column: value})
        assert_follows(conn, column, before, changes_catalog=column != "id")


# -------------------------------------------------------------------- services

def test_an_update_of_any_one_service_input_reaches_the_catalog(app: psycopg.Connection,
                                                                conn: psycopg.Connection) -> None:
    other_provider = insert_provider(app, ACME)
    changes: dict[str, Any] = {
        "id": 987654, "uuid": uuid.uuid4(), "title": "Renamed service", "slug": "renamed-service",
        "short_description": "Changed pitch", "description": "<p>Changed</p>", "pricing_type": "hourly",
        "price_min": Decimal("110.00"), "price_max": Decimal("260.00"), "currency": "USD",
        "delivery_time_days": 8, "revisions_included": 3, "tags": Jsonb(["seo"]),
        "thumbnail_url": "https://cdn.example/t2.png", "is_featured": True, "published_at": WHEN,
        "created_at": EARLIER, "category_id": insert_service_category(app, ACME)["id"],
        "provider_id": other_provider["id"],
        # these make the service private
        "is_active": False, "is_public": False,
    }
    assert sorted(changes) == sorted(source_inputs(conn, "catalog_sync.service_source"))
    for column, value in changes.items():
        service = insert_service(app, ACME, insert_provider(app, ACME)["id"])
        before = catalogs_now(conn)
        update_service(app, ACME, service["id"], **{column: value})
        assert_follows(conn, column, before, changes_catalog=column != "id")


# ------------------------------------------------------- categories and skills

def parent_under_test(app: psycopg.Connection, table: str) -> int:
    """A row of `table` that an eligible job, or a provider and a service, show in the catalogs."""
    if table == "ats_jobcategory":
        row = app.execute(sql.SQL(
            "INSERT INTO {}.ats_jobcategory (uuid, name, slug, description, created_at, updated_at) "
            "VALUES (%s, 'Parent', %s, '', now(), now()) RETURNING id").format(sql.Identifier(ACME)),
            (uuid.uuid4(), f"parent-{uuid.uuid4().hex[:8]}")).fetchone()
        assert row is not None
        insert_job(app, ACME, category_id=row[0])
        return int(row[0])
    provider = insert_provider(app, ACME)
    if table == "services_skill":
        parent = insert_skill(app, ACME)["id"]
        link_skill(app, ACME, provider["id"], parent)
        return parent
    parent = insert_service_category(app, ACME)["id"]
    link_category(app, ACME, provider["id"], parent)
    insert_service(app, ACME, provider["id"], category_id=parent)
    return parent


@pytest.mark.parametrize("table", ["ats_jobcategory", "services_servicecategory", "services_skill"])
def test_an_update_of_any_one_parent_column(app: psycopg.Connection, conn: psycopg.Connection, table: str) -> None:
    """The catalogs show a category's or skill's name and slug: an update of either alone reaches
    them; an update of any other column alone (its id aside: the children's foreign keys) rewrites
    no catalog row. The trigger's written-out comparison must list exactly what the readers show."""
    columns = [r[0] for r in conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
        "AND column_name <> 'id' ORDER BY ordinal_position", (ACME, table)).fetchall()]
    new_values: dict[str, Any] = {"uuid": uuid.uuid4(), "name": "Renamed", "slug": f"renamed-{uuid.uuid4().hex[:8]}",
                                  "description": "Changed", "created_at": EARLIER, "updated_at": WHEN}
    assert set(columns) <= {*new_values, "parent_id"}, columns
    for column in columns:
        parent = parent_under_test(app, table)
        value = parent if column == "parent_id" else new_values[column]
        if column == "slug":
            value = f"renamed-{uuid.uuid4().hex[:8]}"
        before = catalogs_now(conn)
        app.execute(sql.SQL("UPDATE {}.{} SET {} = %s WHERE id = %s").format(
            sql.Identifier(ACME), sql.Identifier(table), sql.Identifier(column)), (value, parent))
        shown = column in ("name", "slug")
        assert_follows(conn, f"{table}.{column}", before, changes_catalog=shown)
        if not shown:
            assert catalogs_now(conn) == before, f"an update of {table}.{column} alone rewrote catalog rows"


# ----------------------------------------------------------- verify, column by column

# A different value of each catalog column type, from the column itself.
TAMPER: dict[str, Callable[[sql.Identifier], sql.Composable]] = {
    "text": lambda c: sql.SQL("coalesce({}, '') || 'x'").format(c),
    "uuid": lambda c: sql.SQL("gen_random_uuid()"),
    "boolean": lambda c: sql.SQL("NOT coalesce({}, false)").format(c),
    "jsonb": lambda c: sql.SQL("'[\"tampered\"]'::jsonb"),
    "timestamp with time zone": lambda c: sql.SQL("coalesce({}, now()) + interval '1 day'").format(c),
}


def tamper(column: sql.Identifier, type_name: str) -> sql.Composable:
    if type_name in TAMPER:
        return TAMPER[type_name](column)
    assert type_name.split("(")[0] in ("numeric", "integer", "smallint", "bigint", "double precision"), type_name
    return sql.SQL("coalesce({}, 0) + 1").format(column)


@pytest.mark.parametrize(("catalog", "key"), [("job_catalog", "job_uuid"), ("provider_catalog", "provider_uuid"),
                                              ("service_catalog", "service_uuid")])
def test_verify_finds_each_synced_column_tampered_alone(app: psycopg.Connection, conn: psycopg.Connection,
                                                        catalog: str, key: str) -> None:
    insert_job(app, ACME, category_id=category_id(app, ACME), published_at=WHEN)
    insert_service(app, ACME, insert_provider(app, ACME)["id"],
                   category_id=insert_service_category(app, ACME)["id"])
    table = sql.Identifier("public", catalog)
    columns = conn.execute(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM unnest(catalog_sync.synced_columns(%s)) AS s (c) "
        "JOIN pg_attribute a ON a.attrelid = %s::regclass AND a.attname = s.c",
        (f"public.{catalog}", f"public.{catalog}")).fetchall()
    compared = [(c, t) for c, t in columns if c not in ("tenant_id", key)]
    assert len(compared) > 15, compared
    target = conn.execute(sql.SQL("SELECT {} FROM {} LIMIT 1").format(sql.Identifier(key), table)).fetchone()
    assert target is not None
    for column, type_name in compared:
        with conn.transaction() as tx:
            ident = sql.Identifier(column)
            conn.execute(sql.SQL("UPDATE {} SET {} = {} WHERE {} = %s").format(
                table, ident, tamper(ident, type_name), sql.Identifier(key)), target)
            assert verify_findings(conn) == [("stale", column)], column
            raise psycopg.Rollback(tx)
    assert verify_findings(conn) == []



# The same value by its type's equality, spelled otherwise: (table, column, first, then).
RESPELLINGS = [
    ("ats_jobposting", "required_skills", '[{"name": "Go", "years": 1}]', '[{"name": "Go", "years": 1.000}]'),
    ("ats_jobposting", "preferred_skills", '[2.5]', '[2.50]'),
    ("ats_jobposting", "location_lat", "0", "-0"),
    ("ats_jobposting", "location_lng", "0", "-0"),
    ("services_service", "tags", '[1]', '[1.0]'),
]
# (the provider catalog shows no jsonb or float column of its source: its skills_data and category
# lists are built by the reader)
CATALOG_OF = {"ats_jobposting": ("job_catalog", "job_uuid"), "services_service": ("service_catalog", "service_uuid")}


@pytest.mark.parametrize(("table", "column", "first", "then"), RESPELLINGS,
                         ids=[f"{t}.{c}" for t, c, _, _ in RESPELLINGS])
def test_a_value_spelled_otherwise_reaches_the_catalog(app: psycopg.Connection, conn: psycopg.Connection,
                                                       table: str, column: str, first: str, then: str) -> None:
    """(red team, twentieth session) jsonb 1 rewritten as 1.000, float8 0 as -0: equal by the types'
    equality, so the change detection, the upsert's guard and verify all let the catalog keep the
    first spelling. Now each compares the text too: the update reaches the catalog, and verify names a
    catalog row tampered back to the first spelling."""
    job = insert_job(app, ACME)
    provider = insert_provider(app, ACME)
    service = insert_service(app, ACME, provider["id"])
    row_id = {"ats_jobposting": job, "services_service": service}[table]["id"]
    catalog, key = CATALOG_OF[table]
    update = sql.SQL("UPDATE {} SET {} = %s WHERE id = %s").format(sql.Identifier(ACME, table),
                                                                  sql.Identifier(column))
    shown = sql.SQL("SELECT {}::text FROM {} WHERE {} = (SELECT uuid FROM {} WHERE id = %s)").format(
        sql.Identifier(column), sql.Identifier("public", catalog), sql.Identifier(key), sql.Identifier(ACME, table))
    app.execute(update, (first, row_id))
    spelled_first = conn.execute(shown, (row_id,)).fetchone()
    app.execute(update, (then, row_id))
    spelled_then = conn.execute(shown, (row_id,)).fetchone()
    assert spelled_then is not None and spelled_then != spelled_first and spelled_then[0] in (then, then.replace(
        ",", ", ")), (spelled_first, spelled_then)
    assert verify_findings(conn) == []
    with conn.transaction() as tx:
        conn.execute(sql.SQL("UPDATE {} SET {} = %s WHERE {} = (SELECT uuid FROM {} WHERE id = %s)").format(
            sql.Identifier("public", catalog), sql.Identifier(column), sql.Identifier(key),
            sql.Identifier(ACME, table)), (first, row_id))
        assert verify_findings(conn) == [("stale", column)]
        raise psycopg.Rollback(tx)

# ----------------------------------------------------------------- truncate alone

def drop_foreign_key(app: psycopg.Connection, table: str, column: str) -> None:
    """What a DBA's hand (or a migration) can do: the parent can then be truncated without CASCADE."""
    name = app.execute("SELECT conname FROM pg_constraint WHERE contype = 'f' AND conrelid = %s::regclass "
                       "AND conkey = ARRAY[(SELECT attnum FROM pg_attribute WHERE attrelid = %s::regclass "
                       "AND attname = %s)]", (f"{ACME}.{table}", f"{ACME}.{table}", column)).fetchone()
    assert name is not None
    app.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(sql.Identifier(ACME, table),
                                                                  sql.Identifier(name[0])))


def test_truncate_of_the_categories_alone_clears_the_category_of_the_jobs(app: psycopg.Connection,
                                                                         conn: psycopg.Connection) -> None:
    drop_foreign_key(app, "ats_jobposting", "category_id")
    job = insert_job(app, ACME, category_id=category_id(app, ACME))
    app.execute(f"TRUNCATE {ACME}.ats_jobcategory")
    row = conn.execute("SELECT category_name, category_slug FROM public.job_catalog WHERE job_uuid = %s",
                       (job["uuid"],)).fetchone()
    assert row == (None, None)
    assert verify_findings(conn) == []


def test_truncate_of_the_providers_alone_takes_their_services_off(app: psycopg.Connection,
                                                                  conn: psycopg.Connection) -> None:
    drop_foreign_key(app, "services_service", "provider_id")
    insert_service(app, ACME, insert_provider(app, ACME)["id"])
    # (with the link tables, whose triggers lock the provider rows; the services stay)
    app.execute(f"TRUNCATE {ACME}.services_serviceprovider, {ACME}.services_providerskill, "
                f"{ACME}.services_serviceprovider_categories")
    assert conn.execute("SELECT (SELECT count(*) FROM public.service_catalog), "
                        "(SELECT count(*) FROM public.provider_catalog)").fetchone() == (0, 0)
    assert verify_findings(conn) == []


def test_truncate_of_the_provider_table_alone_takes_the_providers_off(app: psycopg.Connection,
                                                                      conn: psycopg.Connection) -> None:
    """(mutation review, forty-ninth session) The provider table's own TRUNCATE branch had no test: every
    TRUNCATE of it took the link tables along, whose triggers re-project the providers anyway. Alone (no
    foreign key to it left), its own trigger must take the providers' rows off."""
    for table, column in (("services_service", "provider_id"), ("services_providerskill", "provider_id"),
                          ("services_serviceprovider_categories", "serviceprovider_id")):
        drop_foreign_key(app, table, column)
    provider = insert_provider(app, ACME)
    link_category(app, ACME, provider["id"], insert_service_category(app, ACME)["id"])
    assert conn.execute("SELECT count(*) FROM public.provider_catalog").fetchone() == (1,)
    app.execute(f"TRUNCATE {ACME}.services_serviceprovider")
    assert conn.execute("SELECT count(*) FROM public.provider_catalog").fetchone() == (0,)


@pytest.mark.parametrize(("projection", "catalog"), [
    ("project_jobs", "public.job_catalog"),
    ("project_services", "public.service_catalog"),
    ("project_providers", "public.provider_catalog"),
])
def test_a_projection_returns_null_where_the_catalog_is_not_its_own(app: psycopg.Connection,
                                                                    conn: psycopg.Connection,
                                                                    projection: str, catalog: str) -> None:
    """The single-row apply of jobs and services compares the catalog row, its columns outside
    synced_columns() set NULL, with the projected row as it comes (define_apply(), thirty-seventh session):
    a projection returning anything there (a count, a synced_at) would rewrite every such row at every
    UPDATE, silently. (Providers keep to it too: their apply may take that form one day.)"""
    insert_job(app, ACME)
    insert_service(app, ACME, insert_provider(app, ACME)["id"])
    others = [r[0] for r in conn.execute(
        "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = %s::regclass AND a.attnum > 0 "
        "AND NOT a.attisdropped AND a.attname::text <> ALL (catalog_sync.synced_columns(%s::regclass)) "
        "ORDER BY a.attnum", (catalog, catalog)).fetchall()]
    assert others, catalog
    tenant = conn.execute("SELECT id FROM public.tenants_tenant WHERE schema_name = %s", (ACME,)).fetchone()
    assert tenant is not None
    for reuse in (False, True):
        rows = conn.execute(sql.SQL("SELECT count(*), count(*) FILTER (WHERE num_nonnulls({}) = 0) "
                                    "FROM catalog_sync.{}(%s, 'all', NULL, NULL, %s) AS p").format(
            sql.SQL(", ").join(sql.Identifier("p", c) for c in others), sql.Identifier(projection)),
            (tenant[0], reuse)).fetchone()
        assert rows is not None and rows[0] > 0 and rows[0] == rows[1], (projection, reuse, others, rows)


def test_a_service_input_change_that_shows_nothing_leaves_the_row_untouched(app: psycopg.Connection,
                                                                            conn: psycopg.Connection) -> None:
    """A service's unsafe thumbnail URL replaced by another unsafe one changes an input of the projection,
    not what it shows (NULL both times): the single-row apply must leave the catalog row as it was (the
    job's case: test_an_input_change_that_shows_nothing_leaves_the_row_unlocked). Found by review: a
    synced_at returned by project_services() passed every other test (thirty-seventh session)."""
    service = insert_service(app, ACME, insert_provider(app, ACME)["id"], thumbnail_url="javascript:a()")

    def version() -> tuple[Any, ...] | None:
        return conn.execute("SELECT xmin::text, ctid::text, xmax::text, synced_at FROM public.service_catalog "
                            "WHERE service_uuid = %s", (service["uuid"],)).fetchone()

    before = version()
    assert before is not None
    update_service(app, ACME, service["id"], thumbnail_url="javascript:b()")
    assert version() == before
    update_service(app, ACME, service["id"], title="Shown")       # (and a change that shows is written)
    assert version() != before
