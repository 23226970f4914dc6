"""The provider and service catalogs (issue 3): who is eligible, and what a row holds."""

from __future__ import annotations

import itertools
import re
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from tests.conftest import Db
from tests.jobs import set_tenant, verify_findings
from tests.market import (
    PROVIDER_SECRETS,
    SECRET_STRINGS,
    insert_provider,
    insert_service,
    insert_service_category,
    insert_skill,
    link_category,
    link_skill,
    provider_row,
    provider_uuids,
    row_text,
    service_row,
    service_uuids,
)

ACME = "tenant_acme"
GLOBEX = "tenant_globex"
STATUSES = ("trial", "active", "suspended", "cancelled", "active")
BOOLS = (True, False)


def source_created_at(conn: psycopg.Connection, schema: str, table: str, row_id: int) -> Any:
    row = conn.execute(f"SELECT created_at FROM {schema}.{table} WHERE id = %s", (row_id,)).fetchone()
    assert row is not None
    return row[0]


# ----------------------------------------------------------------- eligibility


def test_provider_eligibility_matrix(app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """Present exactly when marketplace_enabled AND is_active AND tenant active/trial: rows inserted
    under a trial tenant (insert path), then every tenant status (refresh path)."""
    set_tenant(app, ACME, status="trial")
    providers = {(me, ia): insert_provider(app, ACME, marketplace_enabled=me, is_active=ia)
                 for me, ia in itertools.product(BOOLS, BOOLS)}
    eligible = {p["uuid"] for (me, ia), p in providers.items() if me and ia}
    assert len(eligible) == 1
    for status in STATUSES:
        set_tenant(app, ACME, status=status)
        expected = eligible if status in ("active", "trial") else set()
        assert provider_uuids(conn, ACME) == expected, status
        assert verify_findings(conn) == [], status


def test_service_eligibility_matrix(app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """Present exactly when is_active AND is_public AND provider eligible AND tenant active/trial."""
    services: dict[tuple[bool, bool, bool, bool], dict[str, Any]] = {}
    for me, ia in itertools.product(BOOLS, BOOLS):
        provider = insert_provider(app, ACME, marketplace_enabled=me, is_active=ia)
        for active, public in itertools.product(BOOLS, BOOLS):
            services[(me, ia, active, public)] = insert_service(app, ACME, provider["id"], is_active=active,
                                                                is_public=public)
    eligible = {s["uuid"] for flags, s in services.items() if all(flags)}
    assert len(eligible) == 1
    for status in STATUSES:
        set_tenant(app, ACME, status=status)
        expected = eligible if status in ("active", "trial") else set()
        assert service_uuids(conn, ACME) == expected, status
        assert verify_findings(conn) == [], status


def test_inserts_under_an_ineligible_tenant_publish_nothing(app: psycopg.Connection,
                                                           conn: psycopg.Connection) -> None:
    set_tenant(app, ACME, status="suspended")
    provider = insert_provider(app, ACME)
    service = insert_service(app, ACME, provider["id"])
    assert provider_row(conn, provider["uuid"]) is None
    assert service_row(conn, service["uuid"]) is None
    set_tenant(app, ACME, status="active")
    assert provider_row(conn, provider["uuid"]) is not None
    assert service_row(conn, service["uuid"]) is not None
    assert verify_findings(conn) == []


def test_catalogs_hold_rows_of_their_own_tenant_only(app: psycopg.Connection, conn: psycopg.Connection) -> None:
    acme = insert_provider(app, ACME)
    globex = insert_provider(app, GLOBEX)
    insert_service(app, ACME, acme["id"])
    insert_service(app, GLOBEX, globex["id"])
    rows = conn.execute("SELECT tenant_schema, company_name, provider_uuid FROM public.provider_catalog "
                        "ORDER BY tenant_schema").fetchall()
    assert rows == [(ACME, "Acme Robotics", acme["uuid"]), (GLOBEX, "Globex Corporation", globex["uuid"])]
    rows = conn.execute("SELECT tenant_schema, company_name, provider_uuid FROM public.service_catalog "
                        "ORDER BY tenant_schema").fetchall()
    assert rows == [(ACME, "Acme Robotics", acme["uuid"]), (GLOBEX, "Globex Corporation", globex["uuid"])]


# ------------------------------------------------------------------ providers


def test_provider_row_shows_the_whitelisted_columns(app: psycopg.Connection, conn: psycopg.Connection,
                                                    db: Db) -> None:
    p = insert_provider(app, ACME, provider_type="agency", tagline="Fast & good", state="", is_featured=True,
                        can_work_onsite=True, availability_status="busy", response_rate=None)
    row = provider_row(conn, p["uuid"])
    assert row is not None
    expected = {
        "tenant_id": db.tenant_id(ACME), "tenant_schema": ACME, "provider_uuid": p["uuid"],
        "display_name": p["display_name"], "provider_type": "agency",
        "bio": "<p>Experienced <strong>builder</strong></p>", "tagline": "Fast & good",
        "avatar_url": "https://cdn.example/avatar.png", "cover_image_url": "https://cdn.example/cover.png",
        "city": "Berlin", "state": "", "country": "DE", "location": {"lat": 52.52, "lng": 13.4},
        "category_names": [], "category_slugs": [], "skills_data": [],
        "hourly_rate": Decimal("80.00"), "minimum_budget": Decimal("500.00"), "currency": "EUR",
        "rating_avg": Decimal("4.50"), "total_reviews": 12, "completed_jobs_count": 30, "response_rate": None,
        "avg_response_time_hours": Decimal("3.25"), "availability_status": "busy", "is_verified": True,
        "is_featured": True, "is_accepting_projects": True, "can_work_remotely": True, "can_work_onsite": True,
        "company_name": "Acme Robotics",
    }
    assert {k: row[k] for k in expected} == expected
    assert row["synced_at"] is not None and row["search"]


def test_location_is_lat_lng_or_null(app: psycopg.Connection, conn: psycopg.Connection) -> None:
    both = insert_provider(app, ACME, location_lat=-33.5, location_lng=151.25)
    no_lat = insert_provider(app, ACME, location_lat=None, location_lng=151.25)
    no_lng = insert_provider(app, ACME, location_lat=-33.5, location_lng=None)
    neither = insert_provider(app, ACME, location_lat=None, location_lng=None)
    zero = insert_provider(app, ACME, location_lat=0.0, location_lng=0.0)
    rows = {p["uuid"]: provider_row(conn, p["uuid"]) for p in (both, no_lat, no_lng, neither, zero)}
    assert all(r is not None for r in rows.values())
    assert rows[both["uuid"]]["location"] == {"lat": -33.5, "lng": 151.25}  # type: ignore[index]
    assert rows[zero["uuid"]]["location"] == {"lat": 0, "lng": 0}  # type: ignore[index]
    for p in (no_lat, no_lng, neither):
        assert rows[p["uuid"]]["location"] is None  # type: ignore[index]
    jsonb_type = conn.execute("SELECT jsonb_typeof(location) FROM public.provider_catalog WHERE provider_uuid = %s",
                              (both["uuid"],)).fetchone()
    assert jsonb_type == ("object",)


def test_categories_sorted_by_slug(app: psycopg.Connection, conn: psycopg.Connection) -> None:
    # names sort the other way round than slugs: the order must come from the slug
    c_zeta = insert_service_category(app, ACME, name="Alpha design", slug="z-design")
    c_mid = insert_service_category(app, ACME, name="Middle", slug="m-middle")
    c_alpha = insert_service_category(app, ACME, name="Zeta writing", slug="a-writing")
    insert_service_category(app, ACME, name="Unlinked", slug="b-unlinked")
    p = insert_provider(app, ACME)
    link_category(app, ACME, p["id"], c_mid["id"], c_zeta["id"], c_alpha["id"])
    row = provider_row(conn, p["uuid"])
    assert row is not None
    assert row["category_slugs"] == ["a-writing", "m-middle", "z-design"]
    assert row["category_names"] == ["Zeta writing", "Middle", "Alpha design"]


def test_skills_data_sorted_by_skill_slug(app: psycopg.Connection, conn: psycopg.Connection) -> None:
    s_sql = insert_skill(app, ACME, name="SQL", slug="sql")
    s_aws = insert_skill(app, ACME, name="Zzz AWS", slug="aws")
    s_go = insert_skill(app, ACME, name="Go", slug="golang")
    p = insert_provider(app, ACME)
    link_skill(app, ACME, p["id"], s_sql["id"], level="expert", years_experience=10)
    link_skill(app, ACME, p["id"], s_go["id"], level="beginner", years_experience=None)
    link_skill(app, ACME, p["id"], s_aws["id"], level="intermediate", years_experience=0)
    row = provider_row(conn, p["uuid"])
    assert row is not None
    assert row["skills_data"] == [
        {"name": "Zzz AWS", "slug": "aws", "level": "intermediate", "years_experience": 0},
        {"name": "Go", "slug": "golang", "level": "beginner", "years_experience": None},
        {"name": "SQL", "slug": "sql", "level": "expert", "years_experience": 10},
    ]
    # a skill of another provider does not show up
    other = insert_provider(app, ACME)
    link_skill(app, ACME, other["id"], insert_skill(app, ACME, slug="rust")["id"])
    row = provider_row(conn, p["uuid"])
    assert row is not None and [s["slug"] for s in row["skills_data"]] == ["aws", "golang", "sql"]


HOSTILE_HTML = ('<p onclick="steal()">Hi</p><script>alert(1)</script><img src=x onerror=alert(2)>'
                '<a href="javascript:alert(3)" onmouseover="x()">link</a><iframe src="https://evil.example"></iframe>'
                '<b>bold')


def assert_sanitized(conn: psycopg.Connection, shown: str, source: str) -> None:
    assert shown == conn.execute("SELECT catalog_sync.sanitize_html(%s)", (source,)).fetchone()[0]  # type: ignore[index]
    assert not re.search(r"<\s*script", shown, re.I)
    assert not re.search(r"<[^>]*\son\w+\s*=", shown, re.I)
    assert not re.search(r"<[^>]*javascript:", shown, re.I)
    assert not re.search(r"<\s*(iframe|img)", shown, re.I)


def test_bio_is_sanitized(app: psycopg.Connection, conn: psycopg.Connection) -> None:
    p = insert_provider(app, ACME, bio=HOSTILE_HTML)
    row = provider_row(conn, p["uuid"])
    assert row is not None
    assert_sanitized(conn, row["bio"], HOSTILE_HTML)
    assert "Hi" in row["bio"] and "<b>bold</b>" in row["bio"]


UNSAFE_URLS = ["javascript:alert(1)", "JaVaScRiPt:alert(1)", "data:image/png;base64,AAAA", "ftp://cdn.example/a.png",
               "//cdn.example/a.png", "/relative/a.png", "", 'https://cdn.example/a.png"onerror="x',
               "https://user@evil.example/a.png", "vbscript:msgbox(1)"]
SAFE_URLS = ["http://cdn.example/a.png", "https://cdn.example/a.png?x=1", "HTTPS://CDN.example/b.png"]


def test_provider_urls_only_http(app: psycopg.Connection, conn: psycopg.Connection) -> None:
    for url in UNSAFE_URLS:
        p = insert_provider(app, ACME, avatar_url=url, cover_image_url=url)
        s = insert_service(app, ACME, p["id"], thumbnail_url=url)
        prow, srow = provider_row(conn, p["uuid"]), service_row(conn, s["uuid"])
        assert prow is not None and srow is not None
        assert (prow["avatar_url"], prow["cover_image_url"]) == (None, None), url
        assert (srow["thumbnail_url"], srow["provider_avatar_url"]) == (None, None), url
    for url in SAFE_URLS:
        p = insert_provider(app, ACME, avatar_url=url, cover_image_url=url)
        s = insert_service(app, ACME, p["id"], thumbnail_url=url)
        prow, srow = provider_row(conn, p["uuid"]), service_row(conn, s["uuid"])
        assert prow is not None and srow is not None
        assert (prow["avatar_url"], prow["cover_image_url"]) == (url, url)
        assert (srow["thumbnail_url"], srow["provider_avatar_url"]) == (url, url)


def test_provider_published_at_falls_back_to_created_at(app: psycopg.Connection, conn: psycopg.Connection) -> None:
    published = conn.execute("SELECT timestamptz '2024-02-03 04:05:06+00'").fetchone()[0]  # type: ignore[index]
    with_date = insert_provider(app, ACME, published_at=published)
    without = insert_provider(app, ACME, published_at=None)
    row = provider_row(conn, with_date["uuid"])
    assert row is not None and row["published_at"] == published
    row = provider_row(conn, without["uuid"])
    assert row is not None
    assert row["published_at"] == source_created_at(conn, ACME, "services_serviceprovider", without["id"])


# ------------------------------------------------------------------- services


def test_service_row_shows_whitelisted_and_provider_columns(app: psycopg.Connection, conn: psycopg.Connection,
                                                            db: Db) -> None:
    cat = insert_service_category(app, ACME, name="Web design", slug="web-design")
    p = insert_provider(app, ACME, display_name="Pixel Studio", rating_avg=Decimal("3.75"), is_verified=False,
                        avatar_url="https://cdn.example/pixel.png")
    s = insert_service(app, ACME, p["id"], category_id=cat["id"], pricing_type="hourly", price_min=None,
                       delivery_time_days=None, is_featured=True)
    row = service_row(conn, s["uuid"])
    assert row is not None
    expected = {
        "tenant_id": db.tenant_id(ACME), "tenant_schema": ACME, "service_uuid": s["uuid"],
        "provider_uuid": p["uuid"], "title": s["title"], "slug": s["slug"],
        "short_description": "A short pitch", "description": "<p>What you <em>get</em></p>",
        "category_name": "Web design", "category_slug": "web-design", "pricing_type": "hourly",
        "price_min": None, "price_max": Decimal("250.00"), "currency": "EUR", "delivery_time_days": None,
        "revisions_included": 2, "tags": ["design", "web"], "thumbnail_url": "https://cdn.example/thumb.png",
        "is_featured": True, "provider_display_name": "Pixel Studio",
        "provider_avatar_url": "https://cdn.example/pixel.png", "provider_rating_avg": Decimal("3.75"),
        "provider_is_verified": False, "company_name": "Acme Robotics",
    }
    assert {k: row[k] for k in expected} == expected
    assert row["synced_at"] is not None and row["search"]
    # without a category
    s2 = insert_service(app, ACME, p["id"], category_id=None)
    row = service_row(conn, s2["uuid"])
    assert row is not None and (row["category_name"], row["category_slug"]) == (None, None)


def test_service_description_sanitized(app: psycopg.Connection, conn: psycopg.Connection) -> None:
    p = insert_provider(app, ACME)
    s = insert_service(app, ACME, p["id"], description=HOSTILE_HTML)
    row = service_row(conn, s["uuid"])
    assert row is not None
    assert_sanitized(conn, row["description"], HOSTILE_HTML)


def test_service_published_at_falls_back_to_created_at(app: psycopg.Connection, conn: psycopg.Connection) -> None:
    published = conn.execute("SELECT timestamptz '2023-12-31 23:59:00+00'").fetchone()[0]  # type: ignore[index]
    p = insert_provider(app, ACME)
    with_date = insert_service(app, ACME, p["id"], published_at=published)
    without = insert_service(app, ACME, p["id"], published_at=None)
    row = service_row(conn, with_date["uuid"])
    assert row is not None and row["published_at"] == published
    row = service_row(conn, without["uuid"])
    assert row is not None
    assert row["published_at"] == source_created_at(conn, ACME, "services_service", without["id"])


def test_tags_not_an_array_become_empty_array(app: psycopg.Connection, conn: psycopg.Connection) -> None:
    p = insert_provider(app, ACME)
    cases: list[tuple[Any, Any]] = [
        (Jsonb({"a": 1}), []), (Jsonb("design"), []), (Jsonb(None), []), (Jsonb(42), []), (Jsonb([]), []),
        (Jsonb(["x", "y"]), ["x", "y"]),
    ]
    for tags, expected in cases:
        s = insert_service(app, ACME, p["id"], tags=tags)
        row = service_row(conn, s["uuid"])
        assert row is not None and row["tags"] == expected, tags.obj
    assert verify_findings(conn) == []


# ------------------------------------------------------------------- secrets


def test_no_sensitive_value_anywhere(app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """Every secret stored in a sensitive column is absent from the serialized catalog rows (all columns,
    search included), also with categories, skills and a bio that mentions nothing secret."""
    cat = insert_service_category(app, ACME)
    skill = insert_skill(app, ACME)
    p = insert_provider(app, ACME)
    link_category(app, ACME, p["id"], cat["id"])
    link_skill(app, ACME, p["id"], skill["id"])
    s = insert_service(app, ACME, p["id"], category_id=cat["id"])
    texts = [row_text(conn, "public.provider_catalog", "provider_uuid", p["uuid"]),
             row_text(conn, "public.service_catalog", "service_uuid", s["uuid"])]
    # the secrets are really in the sources (the search is not vacuous)
    source = conn.execute("SELECT to_jsonb(p)::text FROM tenant_acme.services_serviceprovider p WHERE id = %s",
                          (p["id"],)).fetchone()[0]  # type: ignore[index]
    assert all(v in source for v in PROVIDER_SECRETS.values())
    source = conn.execute("SELECT to_jsonb(s)::text FROM tenant_acme.services_service s WHERE id = %s",
                          (s["id"],)).fetchone()[0]  # type: ignore[index]
    assert "SECRET-SERVICE-NOTES" in source and "98765.43" in source
    for text in texts:
        for secret in SECRET_STRINGS:
            assert secret.lower() not in text.lower(), secret
        # the tsvector lower-cases and splits: look for the distinctive fragments too
        for fragment in ("secret", "leak.example", "kyc", "acct_"):
            assert fragment not in text.lower(), fragment
    # nothing secret reaches the catalogs through any other row either
    everything = conn.execute("SELECT string_agg(c::text, ' ') FROM (SELECT row_to_json(x)::text FROM "
                              "public.provider_catalog x UNION ALL SELECT row_to_json(y)::text "
                              "FROM public.service_catalog y) AS c (c)").fetchone()[0]  # type: ignore[index]
    assert "secret" not in everything.lower()

