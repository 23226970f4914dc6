"""The denormalization race for every marketplace parent: service categories
and skills renamed while links and services move, providers flipping while
their services are written; then a randomized workload over all three catalogs
that must end, and stay at every snapshot taken during it, without drift."""

from __future__ import annotations

import random
import uuid
from typing import Any

import psycopg
import pytest

from pyinstaller_tools import seed
from tests.conftest import Db
from tests.jobs import insert_job, verify_findings
from tests.test_concurrency import Workload, finish, run_blocked, run_workload, wait_until_blocked

SCHEMA = "tenant_acme"


def provider(conn: psycopg.Connection, schema: str = SCHEMA, **over: Any) -> dict[str, Any]:
    n = uuid.uuid4().hex[:8]
    values: dict[str, Any] = {
        "uuid": uuid.uuid4(), "display_name": f"Provider {n}", "provider_type": "individual", "bio": "<p>bio</p>",
        "tagline": "", "avatar_url": "", "cover_image_url": "", "city": "Lisbon", "state": "", "country": "PT",
        "location_lat": None, "location_lng": None, "hourly_rate": 50, "minimum_budget": None, "currency": "EUR",
        "rating_avg": 4.5, "total_reviews": 3, "completed_jobs_count": 1, "response_rate": None,
        "avg_response_time_hours": None, "availability_status": "available", "is_verified": False,
        "is_featured": False, "is_accepting_projects": True, "can_work_remotely": True, "can_work_onsite": False,
        "marketplace_enabled": True, "is_active": True, "published_at": None, "user_email": "secret@x",
        "phone": "", "address_line1": "", "postal_code": "", "stripe_account_id": "", "bank_account_number": "",
        "bank_routing_number": "", "tax_id": "", "emergency_contact_name": "", "emergency_contact_phone": "",
        "kyc_document_url": "", "private_notes": "",
    }
    values.update(over)
    cols = list(values)
    row = conn.execute(
        psycopg.sql.SQL("INSERT INTO {}.services_serviceprovider ({}, created_at, updated_at) "
                        "VALUES ({}, now(), now()) RETURNING id").format(
            psycopg.sql.Identifier(schema), psycopg.sql.SQL(", ").join(map(psycopg.sql.Identifier, cols)),
            psycopg.sql.SQL(", ").join(psycopg.sql.Placeholder(c) for c in cols)), values).fetchone()
    values["id"] = row[0]
    return values


def service(conn: psycopg.Connection, provider_id: int, category_id: int | None, schema: str = SCHEMA,
            **over: Any) -> dict[str, Any]:
    n = uuid.uuid4().hex[:8]
    values: dict[str, Any] = {
        "uuid": uuid.uuid4(), "title": f"Service {n}", "slug": f"service-{n}", "short_description": "",
        "description": "<p>d</p>", "pricing_type": "fixed", "price_min": 10, "price_max": 20, "currency": "EUR",
        "delivery_time_days": 3, "revisions_included": 1, "tags": psycopg.types.json.Jsonb([]),
        "thumbnail_url": "", "is_active": True, "is_public": True, "is_featured": False, "published_at": None,
        "internal_cost": 1, "private_notes": "", "category_id": category_id, "provider_id": provider_id,
    }
    values.update(over)
    cols = list(values)
    row = conn.execute(
        psycopg.sql.SQL("INSERT INTO {}.services_service ({}, created_at, updated_at) "
                        "VALUES ({}, now(), now()) RETURNING id").format(
            psycopg.sql.Identifier(schema), psycopg.sql.SQL(", ").join(map(psycopg.sql.Identifier, cols)),
            psycopg.sql.SQL(", ").join(psycopg.sql.Placeholder(c) for c in cols)), values).fetchone()
    values["id"] = row[0]
    return values


def named(conn: psycopg.Connection, table: str, name: str, schema: str = SCHEMA) -> int:
    """A service category or skill (same shape but for created_at)."""
    extra = ", created_at" if table == "services_servicecategory" else ""
    now = ", now()" if extra else ""
    row = conn.execute(f"INSERT INTO {schema}.{table} (uuid, name, slug{extra}) "
                       f"VALUES (gen_random_uuid(), %s, %s{now}) RETURNING id",
                       (name, f"{name.lower()}-{uuid.uuid4().hex[:6]}")).fetchone()
    return int(row[0])


def row(conn: psycopg.Connection, table: str, key: str, value: uuid.UUID) -> dict[str, Any] | None:
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    return cur.execute(f"SELECT * FROM public.{table} WHERE {key} = %s", (value,)).fetchone()


def test_service_category_renamed_while_a_service_moves_into_it(db: Db, app: psycopg.Connection,
                                                                 conn: psycopg.Connection) -> None:
    cat1, cat2 = named(app, "services_servicecategory", "Design"), named(app, "services_servicecategory", "Code")
    p = provider(app)
    s = service(app, p["id"], cat1)
    with db.connect(role=seed.APP_ROLE, autocommit=False) as renamer:
        renamer.execute(f"UPDATE {SCHEMA}.services_servicecategory SET name = 'Renamed' WHERE id = %s", (cat2,))
        thread, pid, errors = run_blocked(db, lambda c: c.execute(
            f"UPDATE {SCHEMA}.services_service SET category_id = %s WHERE id = %s", (cat2, s["id"])))
        wait_until_blocked(conn, pid)
        renamer.commit()
    finish(thread, errors)
    assert row(conn, "service_catalog", "service_uuid", s["uuid"])["category_name"] == "Renamed"
    assert verify_findings(conn) == []


def test_service_category_renamed_while_a_provider_is_linked_to_it(db: Db, app: psycopg.Connection,
                                                                    conn: psycopg.Connection) -> None:
    cat = named(app, "services_servicecategory", "Design")
    p = provider(app)
    with db.connect(role=seed.APP_ROLE, autocommit=False) as linker:
        linker.execute(f"INSERT INTO {SCHEMA}.services_serviceprovider_categories "
                       "(serviceprovider_id, servicecategory_id) VALUES (%s, %s)", (p["id"], cat))
        thread, pid, errors = run_blocked(db, lambda c: c.execute(
            f"UPDATE {SCHEMA}.services_servicecategory SET name = 'Renamed' WHERE id = %s", (cat,)))
        wait_until_blocked(conn, pid)   # the rename waits for the link, then recomputes with it
        linker.commit()
    finish(thread, errors)
    assert row(conn, "provider_catalog", "provider_uuid", p["uuid"])["category_names"] == ["Renamed"]
    assert verify_findings(conn) == []


def test_link_removed_while_its_category_is_renamed(db: Db, app: psycopg.Connection,
                                                    conn: psycopg.Connection) -> None:
    """The old parent of a removed link is locked too: the rename must not bring it back."""
    cat = named(app, "services_servicecategory", "Design")
    p = provider(app)
    app.execute(f"INSERT INTO {SCHEMA}.services_serviceprovider_categories (serviceprovider_id, servicecategory_id) "
                "VALUES (%s, %s)", (p["id"], cat))
    with db.connect(role=seed.APP_ROLE, autocommit=False) as unlinker:
        unlinker.execute(f"DELETE FROM {SCHEMA}.services_serviceprovider_categories WHERE serviceprovider_id = %s",
                         (p["id"],))
        thread, pid, errors = run_blocked(db, lambda c: c.execute(
            f"UPDATE {SCHEMA}.services_servicecategory SET name = 'Renamed' WHERE id = %s", (cat,)))
        wait_until_blocked(conn, pid)   # the rename waits for the unlink (it holds the old parent's lock)
        unlinker.commit()
    finish(thread, errors)
    assert row(conn, "provider_catalog", "provider_uuid", p["uuid"])["category_names"] == []
    assert verify_findings(conn) == []


def test_two_categories_of_one_provider_renamed_at_once(db: Db, app: psycopg.Connection,
                                                        conn: psycopg.Connection) -> None:
    """A provider is the child of many categories: concurrent renames of two of them take turns, or the
    later recompute would write the other category's old name back."""
    cat_x, cat_y = named(app, "services_servicecategory", "Xa"), named(app, "services_servicecategory", "Ya")
    p = provider(app)
    for cat in (cat_x, cat_y):
        app.execute(f"INSERT INTO {SCHEMA}.services_serviceprovider_categories "
                    "(serviceprovider_id, servicecategory_id) VALUES (%s, %s)", (p["id"], cat))
    with db.connect(role=seed.APP_ROLE, autocommit=False) as first:
        first.execute(f"UPDATE {SCHEMA}.services_servicecategory SET name = 'Xb' WHERE id = %s", (cat_x,))
        thread, pid, errors = run_blocked(db, lambda c: c.execute(
            f"UPDATE {SCHEMA}.services_servicecategory SET name = 'Yb' WHERE id = %s", (cat_y,)))
        wait_until_blocked(conn, pid)
        first.commit()
    finish(thread, errors)
    assert sorted(row(conn, "provider_catalog", "provider_uuid", p["uuid"])["category_names"]) == ["Xb", "Yb"]
    assert verify_findings(conn) == []


def test_skill_renamed_while_a_provider_gains_it(db: Db, app: psycopg.Connection, conn: psycopg.Connection) -> None:
    skill = named(app, "services_skill", "Python")
    p = provider(app)
    with db.connect(role=seed.APP_ROLE, autocommit=False) as renamer:
        renamer.execute(f"UPDATE {SCHEMA}.services_skill SET name = 'Python 3' WHERE id = %s", (skill,))
        thread, pid, errors = run_blocked(db, lambda c: c.execute(
            f"INSERT INTO {SCHEMA}.services_providerskill (level, years_experience, provider_id, skill_id) "
            "VALUES ('expert', 5, %s, %s)", (p["id"], skill)))
        wait_until_blocked(conn, pid)
        renamer.commit()
    finish(thread, errors)
    skills = row(conn, "provider_catalog", "provider_uuid", p["uuid"])["skills_data"]
    assert [s["name"] for s in skills] == ["Python 3"]
    assert verify_findings(conn) == []


def test_provider_leaves_the_marketplace_while_a_service_is_published(db: Db, app: psycopg.Connection,
                                                                       conn: psycopg.Connection) -> None:
    p = provider(app)
    s = service(app, p["id"], None, is_public=False)
    with db.connect(role=seed.APP_ROLE, autocommit=False) as flipper:
        flipper.execute(f"UPDATE {SCHEMA}.services_serviceprovider SET marketplace_enabled = false WHERE id = %s",
                        (p["id"],))
        thread, pid, errors = run_blocked(db, lambda c: c.execute(
            f"UPDATE {SCHEMA}.services_service SET is_public = true WHERE id = %s", (s["id"],)))
        wait_until_blocked(conn, pid)
        flipper.commit()
    finish(thread, errors)
    assert row(conn, "service_catalog", "service_uuid", s["uuid"]) is None
    assert row(conn, "provider_catalog", "provider_uuid", p["uuid"]) is None
    assert verify_findings(conn) == []


def test_service_written_while_its_provider_is_renamed(db: Db, app: psycopg.Connection,
                                                       conn: psycopg.Connection) -> None:
    p = provider(app)
    with db.connect(role=seed.APP_ROLE, autocommit=False) as writer:
        s = service(writer, p["id"], None)
        thread, pid, errors = run_blocked(db, lambda c: c.execute(
            f"UPDATE {SCHEMA}.services_serviceprovider SET display_name = 'Renamed Pro' WHERE id = %s", (p["id"],)))
        wait_until_blocked(conn, pid)   # the provider change waits for the service writer
        writer.commit()
    finish(thread, errors)
    assert row(conn, "service_catalog", "service_uuid", s["uuid"])["provider_display_name"] == "Renamed Pro"
    assert verify_findings(conn) == []


# ------------------------------------------------------------------ workload


class MarketWorkload(Workload):
    """The job workload plus Django-like marketplace writes."""

    JOB_OPS = Workload.JOB_OPS + ["provider", "service", "link", "skill_link", "flip"]
    PARENT_OPS = Workload.PARENT_OPS + ["rename_svccat", "rename_skill", "delete_provider"]
    # rename_svccat and rename_skill are frequent on purpose: concurrent renames of
    # several parents of one provider were the race this workload found.
    JOB_WEIGHTS = [10, 12, 8, 5, 3, 2, 8, 12, 6, 6, 4]
    PARENT_WEIGHTS = [8, 2, 3, 4, 2, 5, 5, 2]

    def operation(self, rnd: random.Random, conn: psycopg.Connection, kind: str) -> None:
        if kind in Workload.JOB_OPS or kind in Workload.PARENT_OPS:
            super().operation(rnd, conn, kind)
            return
        schema = rnd.choice(self.schemas)
        providers = [r[0] for r in conn.execute(f"SELECT id FROM {schema}.services_serviceprovider")]
        cats = [r[0] for r in conn.execute(f"SELECT id FROM {schema}.services_servicecategory")]
        skills = [r[0] for r in conn.execute(f"SELECT id FROM {schema}.services_skill")]
        services = [r[0] for r in conn.execute(f"SELECT id FROM {schema}.services_service")]
        if kind == "provider" or not providers:
            provider(conn, schema, bio=f"<b>{rnd.randrange(10**6)}</b>")
        elif kind == "service":
            if services and rnd.random() < 0.6:
                conn.execute(f"UPDATE {schema}.services_service SET title = %s, is_public = %s, provider_id = %s, "
                             "category_id = %s WHERE id = %s",
                             (f"S{rnd.randrange(10**6)}", rnd.random() < 0.8, rnd.choice(providers),
                              rnd.choice(cats + [None]), rnd.choice(services)))
            else:
                service(conn, rnd.choice(providers), rnd.choice(cats + [None]), schema)
        elif kind == "link" and cats:
            p, c = rnd.choice(providers), rnd.choice(cats)
            if rnd.random() < 0.5:
                conn.execute(f"INSERT INTO {schema}.services_serviceprovider_categories "
                             "(serviceprovider_id, servicecategory_id) VALUES (%s, %s) ON CONFLICT DO NOTHING", (p, c))
            else:
                conn.execute(f"DELETE FROM {schema}.services_serviceprovider_categories "
                             "WHERE serviceprovider_id = %s AND servicecategory_id = %s", (p, c))
        elif kind == "skill_link" and skills:
            p, s = rnd.choice(providers), rnd.choice(skills)
            conn.execute(f"INSERT INTO {schema}.services_providerskill (level, years_experience, provider_id, "
                         "skill_id) VALUES (%s, %s, %s, %s) ON CONFLICT (provider_id, skill_id) "
                         "DO UPDATE SET level = EXCLUDED.level",
                         (rnd.choice(["beginner", "expert"]), rnd.randrange(10), p, s))
        elif kind == "flip":
            conn.execute(f"UPDATE {schema}.services_serviceprovider SET marketplace_enabled = %s, "
                         "display_name = %s WHERE id = %s",
                         (rnd.random() < 0.7, f"P{rnd.randrange(10**6)}", rnd.choice(providers)))
        elif kind == "rename_svccat" and cats:
            conn.execute(f"UPDATE {schema}.services_servicecategory SET name = %s WHERE id = %s",
                         (f"SC{rnd.randrange(10**6)}", rnd.choice(cats)))
        elif kind == "rename_skill" and skills:
            conn.execute(f"UPDATE {schema}.services_skill SET name = %s WHERE id = %s",
                         (f"SK{rnd.randrange(10**6)}", rnd.choice(skills)))
        elif kind == "delete_provider" and len(providers) > 3:
            victim = rnd.choice(providers)    # Django's cascade: children first, then the provider
            conn.execute(f"DELETE FROM {schema}.services_serviceprovider_categories WHERE serviceprovider_id = %s",
                         (victim,))
            conn.execute(f"DELETE FROM {schema}.services_providerskill WHERE provider_id = %s", (victim,))
            conn.execute(f"DELETE FROM {schema}.services_service WHERE provider_id = %s", (victim,))
            conn.execute(f"DELETE FROM {schema}.services_serviceprovider WHERE id = %s", (victim,))


@pytest.mark.slow
@pytest.mark.parametrize("seed_value", [3, 4])
def test_randomized_marketplace_workload_stays_without_drift(db: Db, conn: psycopg.Connection,
                                                             seed_value: int) -> None:
    with db.connect(role=seed.APP_ROLE) as app:
        for schema in ("tenant_acme", "tenant_globex"):
            for i in range(3):
                named(app, "services_servicecategory", f"Cat{i}", schema)
                named(app, "services_skill", f"Skill{i}", schema)
            for _ in range(6):
                p = provider(app, schema)
                service(app, p["id"], None, schema)
            for _ in range(10):
                insert_job(app, schema)
    run_workload(MarketWorkload(db, seconds=8.0, seed_value=seed_value), conn,
                 f"marketplace workload seed {seed_value}")


def test_a_service_leaves_a_category_while_it_is_renamed(db: Db, app: psycopg.Connection,
                                                         conn: psycopg.Connection) -> None:
    """A service moved to another category locks the old one too (its old parents): a rename of the old
    category waits for the move, so the catalog never shows the old name for the service (review,
    twenty-eighth session: no test had noticed the old category going unlocked)."""
    design, code = named(app, "services_servicecategory", "Design"), named(app, "services_servicecategory", "Code")
    moved = service(app, provider(app)["id"], design)
    with db.connect(role=seed.APP_ROLE, autocommit=False) as mover:
        mover.execute(f"UPDATE {SCHEMA}.services_service SET category_id = %s WHERE id = %s", (code, moved["id"]))
        thread, pid, errors = run_blocked(db, lambda c: c.execute(
            f"UPDATE {SCHEMA}.services_servicecategory SET name = 'Renamed' WHERE id = %s", (design,)))
        wait_until_blocked(conn, pid)
        mover.commit()
    finish(thread, errors)
    published = row(conn, "service_catalog", "service_uuid", moved["uuid"])
    assert published is not None and published["category_name"] == "Code"
    assert verify_findings(conn) == []
