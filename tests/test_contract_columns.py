"""The contract the machinery checks is the columns the sync reads, and no other.

catalog_sync.contract_column lists, per source table, the columns a sync function reads; a
tenant's other columns (the contract's sensitive ones, updated_at, any column the application
adds) are the application's: their types may change and they may be dropped, and no write fails
for it. That is safe only if the list is complete, which the first test proves: on a tenant whose
source tables, and a registry, hold the listed columns and nothing else, every sync path works
(a reference to any other column would fail on the spot).
"""

from __future__ import annotations

import json
import re
from typing import Any

import psycopg
import pytest
from psycopg import sql

from pyinstaller_tools import cli, seed
from tests.conftest import ROOT, Db
from tests.jobs import (
    ELIGIBLE,
    catalog_count,
    catalog_uuids,
    category_id,
    create_tenant,
    insert_job,
    job_values,
    verify_findings,
)
from tests.market import (
    insert_provider,
    insert_service,
    insert_service_category,
    insert_skill,
    link_category,
    link_skill,
    provider_uuids,
    provider_values,
    service_uuids,
    service_values,
)
from tests.test_job_projection import SENSITIVE_COLUMNS

ACME = "tenant_acme"
GLOBEX = "tenant_globex"


def contract(conn: psycopg.Connection) -> dict[str, set[str]]:
    columns: dict[str, set[str]] = {}
    for table, column in conn.execute("SELECT source_table, column_name FROM catalog_sync.contract_column"):
        columns.setdefault(table, set()).add(column)
    return columns


def run(capsys: pytest.CaptureFixture[str], db: Db, *argv: str) -> tuple[int, str, str]:
    code = cli.main([*argv, "--dsn", db.dsn()])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_contract_names_no_sensitive_column(conn: psycopg.Connection) -> None:
    """No sync function reads a sensitive column: the contract, which lists what they read, names none."""
    listed = {c for columns in contract(conn).values() for c in columns}
    assert listed and not listed & SENSITIVE_COLUMNS
    assert "updated_at" not in listed


def test_every_sync_path_works_on_tables_holding_only_the_contracts_columns(
        conn: psycopg.Connection, app: psycopg.Connection, db: Db, capsys: pytest.CaptureFixture[str]) -> None:
    # A tenant with rows in every source table, written as Django writes them (every column) ...
    _, lean = create_tenant(conn, "lean", "Lean Corp")
    app.execute(sql.SQL("INSERT INTO {}.ats_jobcategory (uuid, name, slug, description, created_at, updated_at, "
                        "parent_id) VALUES (gen_random_uuid(), 'Data', 'data', '', now(), now(), NULL)")
                .format(sql.Identifier(lean)))
    data = conn.execute(sql.SQL("SELECT id FROM {}.ats_jobcategory").format(sql.Identifier(lean))).fetchone()[0]
    old_jobs = [insert_job(app, lean, category_id=data), insert_job(app, lean, status="draft")]
    provider = insert_provider(app, lean)
    category = insert_service_category(app, lean)
    skill = insert_skill(app, lean)
    link_category(app, lean, provider["id"], category["id"])
    link_skill(app, lean, provider["id"], skill["id"])
    old_service = insert_service(app, lean, provider["id"], category_id=category["id"])

    # ... then every column the contract does not list dropped, of the tenant's tables and of the registry.
    listed = contract(conn)
    for schema, table in [(lean, t) for t in listed if t != "tenants_tenant"] + [("public", "tenants_tenant")]:
        present = {r[0] for r in conn.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            (f"{schema}.{table}",))}
        extra = sorted(present - listed[table])
        assert extra, table     # every table has a column the sync does not read: dropped here
        for column in extra:
            conn.execute(sql.SQL("ALTER TABLE {}.{} DROP COLUMN {} CASCADE").format(
                sql.Identifier(schema), sql.Identifier(table), sql.Identifier(column)))
        assert present & listed[table] == listed[table], table

    def write(table: str, values: dict[str, Any]) -> int:
        """An INSERT of the listed columns only, and created_at where the contract lists it; the new id."""
        kept = {k: v for k, v in values.items() if k in listed[table]}
        stamps = ["created_at"] if "created_at" in listed[table] else []
        query = sql.SQL("INSERT INTO {}.{} ({}) VALUES ({}) RETURNING {}").format(
            sql.Identifier(lean), sql.Identifier(table),
            sql.SQL(", ").join(map(sql.Identifier, [*kept, *stamps])),
            sql.SQL(", ").join([*(sql.Placeholder(k) for k in kept), *(sql.SQL("now()") for _ in stamps)]),
            sql.SQL("id" if "id" in listed[table] else "0"))
        return int(app.execute(query, kept).fetchone()[0])   # type: ignore[index]

    def change(statement: str, *params: Any) -> None:
        app.execute(sql.SQL(statement).format(s=sql.Identifier(lean)), params)

    # attach, backfill, verify, status, audit: the tool's paths
    assert run(capsys, db, "attach", lean)[0] == 0
    code, out, err = run(capsys, db, "backfill", "--tenant", lean, "--json")
    assert code == 0, err
    assert catalog_uuids(conn, lean) == {old_jobs[0]["uuid"]}
    assert provider_uuids(conn, lean) == {provider["uuid"]} and service_uuids(conn, lean) == {old_service["uuid"]}
    assert run(capsys, db, "verify", "--tenant", lean)[0] == 0

    # the triggers: jobs and their categories
    job = job_values(category_id=data)
    job["id"] = write("ats_jobposting", job)
    private = job_values(status="draft")
    private["id"] = write("ats_jobposting", private)
    change("UPDATE {s}.ats_jobposting SET title = 'Renamed', show_salary = false WHERE id = %s", job["id"])
    change("UPDATE {s}.ats_jobposting SET status = 'open' WHERE id = %s", private["id"])
    change("UPDATE {s}.ats_jobcategory SET name = 'Data & AI', slug = 'data-ai' WHERE id = %s", data)
    assert conn.execute("SELECT title, salary_min, category_name FROM public.job_catalog WHERE job_uuid = %s",
                        (job["uuid"],)).fetchone() == ("Renamed", None, "Data & AI")
    change("UPDATE {s}.ats_jobposting SET category_id = NULL WHERE category_id = %s", data)
    change("DELETE FROM {s}.ats_jobcategory WHERE id = %s", data)
    ops = write("ats_jobcategory", {"name": "Ops", "slug": "ops"})
    change("UPDATE {s}.ats_jobposting SET category_id = %s WHERE id = %s", ops, job["id"])
    change("UPDATE {s}.ats_jobposting SET is_internal_only = true WHERE id = %s", old_jobs[0]["id"])
    assert catalog_uuids(conn, lean) == {job["uuid"], private["uuid"]}
    change("DELETE FROM {s}.ats_jobposting WHERE id = %s", private["id"])

    # providers, their links, skills, categories, services
    other = provider_values()
    other["id"] = write("services_serviceprovider", other)
    new_category = write("services_servicecategory", {"name": "Design", "slug": "design"})
    new_skill = write("services_skill", {"name": "Figma", "slug": "figma"})
    write("services_serviceprovider_categories", {"serviceprovider_id": other["id"],
                                                  "servicecategory_id": new_category})
    write("services_providerskill", {"level": "expert", "years_experience": 3, "provider_id": other["id"],
                                     "skill_id": new_skill})
    service = service_values(other["id"], category_id=new_category)
    service["id"] = write("services_service", service)
    change("UPDATE {s}.services_skill SET name = 'Figma Pro' WHERE id = %s", new_skill)
    change("UPDATE {s}.services_servicecategory SET name = 'UX' WHERE id = %s", new_category)
    change("UPDATE {s}.services_serviceprovider SET bio = '<p>new</p>', rating_avg = 4.9 WHERE id = %s",
           other["id"])
    change("UPDATE {s}.services_service SET title = 'Audit', is_public = false WHERE id = %s", old_service["id"])
    change("DELETE FROM {s}.services_providerskill WHERE provider_id = %s", provider["id"])
    change("DELETE FROM {s}.services_serviceprovider_categories WHERE serviceprovider_id = %s", provider["id"])
    change("UPDATE {s}.services_serviceprovider SET marketplace_enabled = false WHERE id = %s", provider["id"])
    assert provider_uuids(conn, lean) == {other["uuid"]} and service_uuids(conn, lean) == {service["uuid"]}
    row = conn.execute("SELECT p.category_names, p.skills_data, s.provider_rating_avg, s.category_name "
                       "FROM public.provider_catalog p JOIN public.service_catalog s USING (provider_uuid) "
                       "WHERE provider_uuid = %s", (other["uuid"],)).fetchone()
    assert row is not None and row[0] == ["UX"] and row[1][0]["name"] == "Figma Pro", row
    assert float(row[2]) == 4.9 and row[3] == "UX", row
    brand = write("services_servicecategory", {"name": "Brand", "slug": "brand"})
    change("UPDATE {s}.services_serviceprovider_categories SET servicecategory_id = %s "
           "WHERE serviceprovider_id = %s", brand, other["id"])
    change("UPDATE {s}.services_providerskill SET level = 'intermediate' WHERE provider_id = %s", other["id"])
    sketch = write("services_skill", {"name": "Sketch", "slug": "sketch"})
    write("services_providerskill", {"level": "basic", "years_experience": 1, "provider_id": other["id"],
                                     "skill_id": sketch})
    change("DELETE FROM {s}.services_providerskill WHERE skill_id = %s", sketch)     # Django's cascade, then
    change("DELETE FROM {s}.services_skill WHERE id = %s", sketch)                   # the skill
    change("UPDATE {s}.services_service SET category_id = NULL WHERE category_id = %s", new_category)
    change("DELETE FROM {s}.services_servicecategory WHERE id = %s", new_category)
    row = conn.execute("SELECT category_names, skills_data FROM public.provider_catalog WHERE provider_uuid = %s",
                       (other["uuid"],)).fetchone()
    assert row is not None and row[0] == ["Brand"], row
    assert [(s["name"], s["level"]) for s in row[1]] == [("Figma Pro", "intermediate")], row

    # multi-row statements over more than 100 rows (the readers' dynamic forms)
    def copies(table: str, row_id: int, count: int, **expressions: str) -> None:
        """`count` copies of one row in ONE INSERT, the columns named in `expressions` computed (g: 1..count)."""
        columns = sorted(listed[table] - {"id", *expressions})
        change(sql.SQL("INSERT INTO {{s}}.{t} ({c}) SELECT {v} FROM {{s}}.{t}, generate_series(1, {n}) AS g "
                       "WHERE id = {i}").format(
            t=sql.Identifier(table), n=sql.Literal(count), i=sql.Literal(row_id),
            c=sql.SQL(", ").join(map(sql.Identifier, [*columns, *expressions])),
            v=sql.SQL(", ").join([*map(sql.Identifier, columns), *map(sql.SQL, expressions.values())]))
               .as_string(app))
    copies("ats_jobposting", job["id"], 101, uuid="gen_random_uuid()", reference_code="reference_code || g")
    copies("services_serviceprovider", other["id"], 101, uuid="gen_random_uuid()")
    copies("services_service", service["id"], 101, uuid="gen_random_uuid()")
    assert catalog_count(conn, lean) == 102 and len(provider_uuids(conn, lean)) == 102
    change("INSERT INTO {s}.services_serviceprovider_categories (serviceprovider_id, servicecategory_id) "
           "SELECT id, %s FROM {s}.services_serviceprovider WHERE id NOT IN (%s, %s)", brand, other["id"],
           provider["id"])
    change("DELETE FROM {s}.services_serviceprovider_categories WHERE serviceprovider_id NOT IN (%s, %s)",
           other["id"], provider["id"])
    change("DELETE FROM {s}.services_service WHERE id <> %s", service["id"])
    change("DELETE FROM {s}.services_serviceprovider WHERE id NOT IN (%s, %s)", other["id"], provider["id"])
    change("DELETE FROM {s}.ats_jobposting WHERE id <> %s AND uuid <> %s", job["id"], old_jobs[0]["uuid"])
    assert catalog_uuids(conn, lean) == {job["uuid"]} and provider_uuids(conn, lean) == {other["uuid"]}
    assert service_uuids(conn, lean) == {service["uuid"]} and verify_findings(conn) == []

    # the registry: rename, logo, suspend, reactivate
    conn.execute("UPDATE public.tenants_tenant SET name = 'Lean & Mean', logo_url = 'https://cdn.example/l.png' "
                 "WHERE schema_name = %s", (lean,))
    assert conn.execute("SELECT DISTINCT company_name, category_name FROM public.job_catalog "
                        "WHERE tenant_schema = %s", (lean,)).fetchall() == [("Lean & Mean", "Ops")]
    conn.execute("UPDATE public.tenants_tenant SET status = 'suspended' WHERE schema_name = %s", (lean,))
    assert catalog_count(conn, lean) == 0
    conn.execute("UPDATE public.tenants_tenant SET status = 'active' WHERE schema_name = %s", (lean,))
    assert catalog_uuids(conn, lean) == {job["uuid"]}
    assert verify_findings(conn) == []

    # drift, repaired; status and audit; truncate; detach with purge
    conn.execute("DELETE FROM public.service_catalog WHERE tenant_schema = %s", (lean,))
    conn.execute("UPDATE public.job_catalog SET title = 'stale' WHERE tenant_schema = %s", (lean,))
    assert run(capsys, db, "verify", "--tenant", lean)[0] == 1
    assert run(capsys, db, "verify", "--tenant", lean, "--repair")[0] == 0
    assert verify_findings(conn) == []
    code, out, err = run(capsys, db, "status", "--json")
    assert code == 0, err
    mine = [t for t in json.loads(out) if t["schema"] == lean]
    assert len(mine) == 1 and mine[0]["error"] is None, mine
    assert (mine[0]["eligible"], mine[0]["catalog_rows"], mine[0]["eligible_providers"],
            mine[0]["eligible_services"]) == (1, 1, 1, 1), mine
    code, out, err = run(capsys, db, "audit")
    assert code == 0, (out, err)

    # detach with purge, attach again; every TRUNCATE; the tenant deleted from the registry
    assert run(capsys, db, "detach", lean, "--purge")[0] == 0
    assert catalog_count(conn, lean) == 0 and provider_uuids(conn, lean) == set()
    assert run(capsys, db, "attach", lean)[0] == 0 and run(capsys, db, "backfill", "--tenant", lean)[0] == 0
    assert catalog_uuids(conn, lean) == {job["uuid"]} and service_uuids(conn, lean) == {service["uuid"]}
    change("TRUNCATE {s}.services_serviceprovider_categories")
    change("TRUNCATE {s}.services_providerskill")
    row = conn.execute("SELECT category_names, skills_data FROM public.provider_catalog WHERE provider_uuid = %s",
                       (other["uuid"],)).fetchone()
    assert row == ([], []), row
    change("TRUNCATE {s}.services_skill CASCADE")
    change("TRUNCATE {s}.services_servicecategory CASCADE")
    change("TRUNCATE {s}.ats_jobcategory CASCADE")
    assert catalog_count(conn, lean) == 0 and service_uuids(conn, lean) == set()
    assert provider_uuids(conn, lean) == {other["uuid"]} and verify_findings(conn) == []
    assert write("ats_jobposting", job_values()) and catalog_count(conn, lean) == 1
    with conn.transaction():
        conn.execute("DELETE FROM public.tenants_domain WHERE tenant_id = %s", (db.tenant_id(lean),))
        conn.execute("DELETE FROM public.tenants_tenant WHERE schema_name = %s", (lean,))
    assert catalog_count(conn, lean) == 0 and provider_uuids(conn, lean) == set()
    assert verify_findings(conn) == []


# One write per source table that reaches the sync's reads, as (table, SET clause, the column it names); a
# table's second clause stands in when its first names the dropped column. The link table's write is a DELETE.
TOUCHES: list[tuple[str, list[tuple[str, str]]]] = [
    ("ats_jobposting", [("title", "title = title || '!'"), ("slug", "slug = slug || '-x'")]),
    ("ats_jobcategory", [("name", "name = name || '!'"), ("slug", "slug = slug || '-x'")]),
    ("tenants_tenant", [("name", "name = name || '!'"), ("logo_url", "logo_url = logo_url || '?v=2'")]),
    ("services_serviceprovider", [("display_name", "display_name = display_name || '!'"),
                                  ("tagline", "tagline = tagline || '!'")]),
    ("services_service", [("title", "title = title || '!'"), ("slug", "slug = slug || '-x'")]),
    ("services_servicecategory", [("name", "name = name || '!'"), ("slug", "slug = slug || '-x'")]),
    ("services_skill", [("name", "name = name || '!'"), ("slug", "slug = slug || '-x'")]),
    ("services_providerskill", [("level", "level = level || '!'"),
                                ("years_experience", "years_experience = years_experience + 1")]),
    ("services_serviceprovider_categories", []),
]


ALL_WRITES = {t for t, _ in TOUCHES}
# The writes whose sync reads the table (a subset: the table's own write, and those that read it as a parent).
MUST_FAIL: dict[str, set[str]] = {
    "tenants_tenant": ALL_WRITES,
    "ats_jobposting": {"ats_jobposting", "ats_jobcategory"},
    "ats_jobcategory": {"ats_jobposting", "ats_jobcategory"},
    "services_serviceprovider": {"services_serviceprovider", "services_service"},
    "services_service": {"services_service", "services_serviceprovider"},
    "services_servicecategory": {"services_servicecategory", "services_serviceprovider", "services_service"},
    "services_skill": {"services_skill", "services_serviceprovider"},
    "services_providerskill": {"services_providerskill", "services_serviceprovider"},
    "services_serviceprovider_categories": {"services_serviceprovider_categories", "services_serviceprovider"},
}


@pytest.mark.parametrize("table", sorted(ALL_WRITES))
def test_a_column_the_sync_reads_dropped_is_named_on_every_write_path(
        table: str, conn: psycopg.Connection, app: psycopg.Connection) -> None:
    """(known gap of the twenty-fourth session) A write whose sync read names a column its table had lost
    failed closed with PostgreSQL's bare 'column t.name does not exist' (the registry, a job's category, the
    marketplace's parents): the read's parse fails before the check folded into its plan runs. Every read
    now checks first, alone. For every column the contract lists, dropped: each write that reaches a read of
    that table fails with the contract's message naming the column (MUST_FAIL: at least those)."""
    job = insert_job(app, ACME, category_id=category_id(conn, ACME))
    provider = insert_provider(app, ACME)
    category = insert_service_category(app, ACME)
    skill = insert_skill(app, ACME)
    link_category(app, ACME, provider["id"], category["id"])
    link_skill(app, ACME, provider["id"], skill["id"])
    insert_service(app, ACME, provider["id"], category_id=category["id"])
    assert verify_findings(conn) == []
    rows = {t: conn.execute(sql.SQL("SELECT min(ctid)::text FROM {}").format(
        sql.Identifier(*(("public", t) if t == "tenants_tenant" else (ACME, t))))).fetchone()[0]   # type: ignore[index]
        for t, _ in TOUCHES}
    rows["ats_jobposting"] = conn.execute(sql.SQL("SELECT ctid::text FROM {}.ats_jobposting WHERE id = %s").format(
        sql.Identifier(ACME)), (job["id"],)).fetchone()[0]   # type: ignore[index]
    rows["tenants_tenant"] = conn.execute("SELECT ctid::text FROM public.tenants_tenant WHERE schema_name = %s",
                                          (ACME,)).fetchone()[0]   # type: ignore[index]
    schema = "public" if table == "tenants_tenant" else ACME
    for column in sorted(contract(conn)[table]):
        failures: list[str] = []
        failed: set[str] = set()
        with conn.transaction(force_rollback=True):
            conn.execute(sql.SQL("ALTER TABLE {}.{} DROP COLUMN {} CASCADE").format(
                sql.Identifier(schema), sql.Identifier(table), sql.Identifier(column)))
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(seed.APP_ROLE)))
            for written, clauses in TOUCHES:
                target = sql.Identifier(*(("public", written) if written == "tenants_tenant" else (ACME, written)))
                usable = [c for named, c in clauses if not (written == table and named == column)]
                statement = (sql.SQL("UPDATE {} SET {} WHERE ctid = %s::tid").format(target, sql.SQL(usable[0]))
                             if usable else sql.SQL("DELETE FROM {} WHERE ctid = %s::tid").format(target))
                try:
                    with conn.transaction():
                        assert conn.execute(statement, (rows[written],)).rowcount == 1
                except psycopg.Error as error:
                    failures.append(str(error))
                    failed.add(written)
                    assert re.match(rf"catalog_sync: \S+\.{table} does not match the {table} contract: "
                                    rf"column {column} is missing", str(error)), (column, written, str(error))
        assert failed >= MUST_FAIL[table], (table, column, sorted(MUST_FAIL[table] - failed))


def test_a_column_renamed_by_another_session_is_named_through_cached_plans(
        conn: psycopg.Connection, app: psycopg.Connection) -> None:
    """(review, twenty-fifth session) The session's plans are cached before the DDL, which another session
    commits; the writer also moves between two tenants (each move plans the static reads again)."""
    jobs = {schema: insert_job(app, schema, category_id=category_id(conn, schema)) for schema in (ACME, GLOBEX)}

    def touch(schema: str) -> None:
        app.execute(sql.SQL("UPDATE {}.ats_jobposting SET title = title || '!' WHERE id = %s").format(
            sql.Identifier(schema)), (jobs[schema]["id"],))

    for renamed, old, new in (("public.tenants_tenant", "logo_url", "logo"),
                              (f"{GLOBEX}.ats_jobcategory", "slug", "s")):
        for schema in (ACME, GLOBEX, ACME):               # cached, and planned again on each move
            touch(schema)
        conn.execute(f"ALTER TABLE {renamed} RENAME COLUMN {old} TO {new}")
        try:
            for schema in (GLOBEX, ACME):
                if not renamed.startswith(("public.", schema + ".")):
                    touch(schema)                         # another tenant's table: its writes go on
                    continue
                with pytest.raises(psycopg.Error, match=rf"contract: column {old} is missing"):
                    touch(schema)
        finally:
            conn.execute(f"ALTER TABLE {renamed} RENAME COLUMN {new} TO {old}")
        for schema in (ACME, GLOBEX):
            touch(schema)
    assert verify_findings(conn) == []


@pytest.mark.parametrize(("migration", "rewrites"), [
    ("ALTER COLUMN internal_notes TYPE varchar(500)", True),
    ("ALTER COLUMN hiring_manager_email TYPE varchar(320)", False),
    ("DROP COLUMN application_email", False),
    ("ADD COLUMN notes_v2 text", False),
], ids=["type_of_a_private_column", "length_of_a_private_column", "drop_a_private_column", "add_a_column"])
@pytest.mark.parametrize("protect", [False, True], ids=["unprotected", "protected"])
def test_an_application_migration_of_a_column_the_sync_does_not_read_keeps_the_sync(
        migration: str, rewrites: bool, protect: bool, conn: psycopg.Connection, app: psycopg.Connection,
        capsys: pytest.CaptureFixture[str], db: Db) -> None:
    """(found in the twenty-second session, docs/operations.md "The application's own migrations") A Django
    AlterField on a column the catalogs never show made every later write to the table fail closed (the
    contract listed every column), or was refused by protect. Now it is the application's own business; with
    protect, a migration that rewrites the table (whichever column it changes) re-syncs the tenant."""
    if protect:
        assert run(capsys, db, "protect")[0] == 0
    job = insert_job(app, ACME)
    backfilled = "SELECT last_backfill_at FROM catalog_sync.tenant WHERE tenant_id = %s"
    before = conn.execute(backfilled, (db.tenant_id(ACME),)).fetchone()
    app.execute(f"ALTER TABLE {ACME}.ats_jobposting {migration}")
    after = conn.execute(backfilled, (db.tenant_id(ACME),)).fetchone()
    assert (after != before) == (protect and rewrites), (before, after)   # backfilled inside the ALTER
    app.execute(f"UPDATE {ACME}.ats_jobposting SET title = 'After the migration' WHERE id = %s", (job["id"],))
    fresh = job_values(**ELIGIBLE)
    if "DROP" in migration:
        del fresh["application_email"]
    columns = list(fresh)
    app.execute(sql.SQL("INSERT INTO {}.ats_jobposting ({}, created_at, updated_at) VALUES ({}, now(), now())").format(
        sql.Identifier(ACME), sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder(c) for c in columns)), fresh)
    assert conn.execute("SELECT title FROM public.job_catalog WHERE job_uuid = %s",
                        (job["uuid"],)).fetchone() == ("After the migration",)
    assert {job["uuid"], fresh["uuid"]} <= catalog_uuids(conn, ACME)
    assert verify_findings(conn) == []
    code, out, err = run(capsys, db, "audit")
    assert code == 0, (out, err)


@pytest.mark.parametrize("protect", [False, True], ids=["unprotected", "protected"])
def test_a_charfield_made_a_textfield_and_back_keeps_the_sync(
        protect: bool, conn: psycopg.Connection, app: psycopg.Connection, capsys: pytest.CaptureFixture[str],
        db: Db) -> None:
    """(known gap of the twenty-third session) A Django CharField made a TextField (character varying to text)
    on a field the catalogs show made every write of the tenant fail closed, and on the registry every
    tenant's: the contract accepted one type per column. The sync reads both as text, so each now passes for
    the other. The SQL is Django's own (AlterField: `TYPE text USING "title"::text`); character varying to
    text rewrites nothing, so protect lets it pass. A TextField made a CharField with a max_length syncs
    too; that one rewrites the table (PostgreSQL checks the length), which protect follows with a re-sync."""
    if protect:
        assert run(capsys, db, "protect")[0] == 0
    job = insert_job(app, ACME, category_id=category_id(app, ACME))
    app.execute(f'ALTER TABLE {ACME}.ats_jobposting ALTER COLUMN "title" TYPE text USING "title"::text, '
                'ALTER COLUMN "location_city" TYPE text USING "location_city"::text')
    app.execute(f'ALTER TABLE {ACME}.ats_jobcategory ALTER COLUMN "name" TYPE text USING "name"::text')
    app.execute('ALTER TABLE public.tenants_tenant ALTER COLUMN "name" TYPE text USING "name"::text')
    to_charfield = f'ALTER TABLE {ACME}.ats_jobposting ALTER COLUMN "benefits" TYPE varchar(5000) ' \
                   'USING "benefits"::varchar(5000)'
    app.execute(to_charfield)
    assert app.execute(f"SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
                       f"'{ACME}.ats_jobposting'::regclass AND attname = 'benefits'").fetchone() == (
        "character varying(5000)",)
    long_title = "A title longer than the old max_length " * 8          # 312 characters
    app.execute(f"UPDATE {ACME}.ats_jobposting SET title = %s, location_city = 'Lyon', "
                "benefits = '<p>Lunch<script>x()</script></p>' WHERE id = %s", (long_title, job["id"]))
    fresh = insert_job(app, ACME, title="Written after the migration")
    app.execute(f"UPDATE {ACME}.ats_jobcategory SET name = 'Renamed, now a text column' WHERE id = %s",
                (job["category_id"],))
    app.execute("UPDATE public.tenants_tenant SET name = 'Acme, a text name' WHERE schema_name = %s", (ACME,))
    row = conn.execute("SELECT title, location_city, benefits, category_name, company_name FROM public.job_catalog "
                       "WHERE job_uuid = %s", (job["uuid"],)).fetchone()
    benefits = conn.execute("SELECT catalog_sync.sanitize_html('<p>Lunch<script>x()</script></p>')").fetchone()
    assert row == (long_title, "Lyon", *benefits, "Renamed, now a text column", "Acme, a text name"), row
    assert {job["uuid"], fresh["uuid"]} <= catalog_uuids(conn, ACME)
    assert verify_findings(conn) == []
    code, out, err = run(capsys, db, "audit")
    assert code == 0, (out, err)


def test_a_private_column_of_a_tenants_own_type_runs_nothing_as_the_definer(
        conn: psycopg.Connection, app: psycopg.Connection, db: Db) -> None:
    """A column the sync does not read may be of any type, even one whose casts are the tenant's code (casts
    are not found through search_path: a definer that cast such a value would run it). The sync never
    touches the column's values: the spy cast records who runs it, and only the application's role does."""
    app.execute(f"""
        CREATE TYPE {ACME}.wrapped AS (v text);
        CREATE TABLE {ACME}.seen (who name);
        GRANT INSERT ON {ACME}.seen TO PUBLIC;
        CREATE FUNCTION {ACME}.spy(w {ACME}.wrapped) RETURNS text LANGUAGE plpgsql AS $$
            BEGIN INSERT INTO {ACME}.seen VALUES (current_user); RETURN w.v; END $$;
        CREATE CAST ({ACME}.wrapped AS text) WITH FUNCTION {ACME}.spy({ACME}.wrapped) AS IMPLICIT;
        CREATE CAST ({ACME}.wrapped AS varchar) WITH FUNCTION {ACME}.spy({ACME}.wrapped) AS IMPLICIT;
    """)
    app.execute(f"ALTER TABLE {ACME}.ats_jobposting ALTER COLUMN internal_notes TYPE {ACME}.wrapped "
                "USING ROW(internal_notes)")
    job = insert_job(app, ACME, internal_notes="(SECRET)")
    assert app.execute(f"SELECT internal_notes::text FROM {ACME}.ats_jobposting").fetchall() == [("SECRET",)]
    app.execute(f"UPDATE {ACME}.ats_jobposting SET title = 'Spied on?' WHERE id = %s", (job["id"],))
    conn.execute("SELECT catalog_sync.backfill_tenant(%s)", (db.tenant_id(ACME),))
    assert verify_findings(conn) == []
    assert conn.execute(f"SELECT DISTINCT who FROM {ACME}.seen").fetchall() == [("zumodra_app",)]
    assert conn.execute("SELECT title FROM public.job_catalog WHERE job_uuid = %s",
                        (job["uuid"],)).fetchone() == ("Spied on?",)


def test_the_docs_list_the_contract(conn: psycopg.Connection) -> None:
    """docs/operations.md, "The columns the sync reads", is the contract as the database holds it."""
    text = (ROOT / "docs" / "operations.md").read_text()
    section = text.split("### The columns the sync reads", 1)[1].split("\n## ", 1)[0]
    documented = {(table, column, type_name.strip())
                  for table, columns in re.findall(r"^\| `(\w+)` \| (.+) \|$", section, re.MULTILINE)
                  for column, type_name in re.findall(r"`(\w+)` (.+?)(?=, `|$)", columns)}
    held = set(conn.execute("SELECT source_table, column_name, type_name FROM catalog_sync.contract_column"))
    assert documented == held


def test_the_required_columns_are_those_whose_null_fails_a_public_row(db: Db, app: psycopg.Connection,
                                                                      conn: psycopg.Connection) -> None:
    """(DBA trial, fiftieth session) contract_column.required lists the columns the contract says NOT NULL
    whose NULL fails a public row's write (the column they fill is NOT NULL: a catalog's, or the machinery's
    record of the tenant's schema): audit reports one made nullable. The list is proved here, column by column: with the
    column made nullable and NULL written into a public row (a job in a category, a provider with a category,
    a skill and a service), the write fails with a not-null violation exactly for the listed ones."""
    category = category_id(app, ACME)
    job = insert_job(app, ACME, category_id=category)
    provider = insert_provider(app, ACME)
    service_category = insert_service_category(app, ACME)["id"]
    skill = insert_skill(app, ACME)["id"]
    link_category(app, ACME, provider["id"], service_category)
    link_skill(app, ACME, provider["id"], skill)
    service = insert_service(app, ACME, provider["id"], category_id=service_category)
    rows = {"ats_jobposting": job["id"], "ats_jobcategory": category, "services_serviceprovider": provider["id"],
            "services_servicecategory": service_category, "services_skill": skill,
            "services_service": service["id"], "tenants_tenant": db.tenant_id(ACME)}
    candidates = conn.execute(
        "SELECT cc.source_table, cc.column_name, cc.required FROM catalog_sync.contract_column cc "
        "JOIN pg_attribute a ON a.attrelid = (CASE cc.source_table WHEN 'tenants_tenant' THEN 'public' "
        "ELSE %s END || '.' || cc.source_table)::regclass AND a.attname = cc.column_name "
        "WHERE a.attnotnull AND cc.column_name <> 'id' ORDER BY 1, 2",
        (ACME,)).fetchall()
    assert len(candidates) > 60 and sum(r[2] for r in candidates) == 52, candidates
    failing = {}
    for table, column, required in candidates:
        schema = "public" if table == "tenants_tenant" else ACME
        where = f"id = {rows[table]}" if table in rows else "true"     # (the link tables: their one row)
        try:
            with app.transaction():
                app.execute(f"ALTER TABLE {schema}.{table} ALTER COLUMN {column} DROP NOT NULL")
                app.execute(f"UPDATE {schema}.{table} SET {column} = NULL WHERE {where}")
                raise psycopg.Rollback
        except psycopg.errors.NotNullViolation as exc:
            failing[(table, column)] = exc.diag.table_name
        assert ((table, column) in failing) == required, (table, column, required)
    assert set(failing.values()) == {"job_catalog", "provider_catalog", "service_catalog", "tenant"}
    assert verify_findings(conn) == []
