"""Writing marketplace rows the way Django does (every NOT NULL column supplied, no
database defaults), and reading the provider and service catalogs back.

Sensitive columns are filled with recognizable secrets (see PROVIDER_SECRETS and
SERVICE_SECRETS) so that a test can search a serialized catalog row for them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

# Sensitive column of services_serviceprovider -> the secret value the helpers store in it.
PROVIDER_SECRETS: dict[str, str] = {
    "user_email": "secret-user@leak.example",
    "phone": "+1-555-SECRET-PH",
    "address_line1": "SECRET-ADDRESS 1 Hidden Lane",
    "postal_code": "SECRET-ZIP-99",
    "stripe_account_id": "acct_SECRET_STRIPE",
    "bank_account_number": "SECRET-BANK-123",
    "bank_routing_number": "SECRET-ROUTING-456",
    "tax_id": "SECRET-TAX-789",
    "emergency_contact_name": "SECRET-EMERGENCY-NAME",
    "emergency_contact_phone": "+1-555-SECRET-EM",
    "kyc_document_url": "https://kyc.example/SECRET-KYC-DOC.pdf",
    "private_notes": "SECRET-PROVIDER-NOTES",
}
# internal_cost is numeric: an unusual value that no other column holds.
SERVICE_INTERNAL_COST = Decimal("98765.43")
SERVICE_SECRETS: dict[str, Any] = {
    "internal_cost": SERVICE_INTERNAL_COST,
    "private_notes": "SECRET-SERVICE-NOTES",
}
SECRET_STRINGS: tuple[str, ...] = (*PROVIDER_SECRETS.values(), SERVICE_SECRETS["private_notes"], "98765.43",
                                   "98765")

# What makes a provider / service eligible (with an active or trial tenant).
ELIGIBLE_PROVIDER: dict[str, Any] = {"marketplace_enabled": True, "is_active": True}
ELIGIBLE_SERVICE: dict[str, Any] = {"is_active": True, "is_public": True}


def _short() -> str:
    return uuid.uuid4().hex[:10]


def _insert(conn: psycopg.Connection, schema: str, table: str, values: dict[str, Any],
            timestamps: Sequence[str] = ()) -> int:
    columns = list(values)
    query = sql.SQL("INSERT INTO {}.{} ({}) VALUES ({}) RETURNING id").format(
        sql.Identifier(schema),
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, [*columns, *timestamps])),
        sql.SQL(", ").join([*(sql.Placeholder(c) for c in columns), *(sql.SQL("now()") for _ in timestamps)]),
    )
    row = conn.execute(query, values).fetchone()
    assert row is not None
    return int(row[0])


def _update(conn: psycopg.Connection, schema: str, table: str, row_id: int, changes: dict[str, Any],
            touch: bool) -> None:
    assignments = [sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder(k)) for k in changes]
    if touch:
        assignments.append(sql.SQL("updated_at = now()"))
    conn.execute(
        sql.SQL("UPDATE {}.{} SET {} WHERE id = {}").format(
            sql.Identifier(schema), sql.Identifier(table), sql.SQL(", ").join(assignments), sql.Literal(row_id)),
        changes,
    )


# ------------------------------------------------------------------ providers


def provider_values(**overrides: Any) -> dict[str, Any]:
    n = _short()
    values: dict[str, Any] = {
        "uuid": uuid.uuid4(),
        "display_name": f"Provider {n}",
        "provider_type": "individual",
        "bio": "<p>Experienced <strong>builder</strong></p>",
        "tagline": "We build things",
        "avatar_url": "https://cdn.example/avatar.png",
        "cover_image_url": "https://cdn.example/cover.png",
        "city": "Berlin",
        "state": "BE",
        "country": "DE",
        "location_lat": 52.52,
        "location_lng": 13.4,
        "hourly_rate": Decimal("80.00"),
        "minimum_budget": Decimal("500.00"),
        "currency": "EUR",
        "rating_avg": Decimal("4.50"),
        "total_reviews": 12,
        "completed_jobs_count": 30,
        "response_rate": Decimal("95.50"),
        "avg_response_time_hours": Decimal("3.25"),
        "availability_status": "available",
        "is_verified": True,
        "is_featured": False,
        "is_accepting_projects": True,
        "can_work_remotely": True,
        "can_work_onsite": False,
        "marketplace_enabled": True,
        "is_active": True,
        "published_at": None,
        **PROVIDER_SECRETS,
    }
    values.update(overrides)
    return values


def insert_provider(conn: psycopg.Connection, schema: str, **overrides: Any) -> dict[str, Any]:
    """One services_serviceprovider row (eligible unless overridden); returns its values with `id`."""
    values = provider_values(**overrides)
    values["id"] = _insert(conn, schema, "services_serviceprovider", values, ("created_at", "updated_at"))
    return values


def update_provider(conn: psycopg.Connection, schema: str, provider_id: int, touch: bool = True,
                    **changes: Any) -> None:
    """Django's save(update_fields=...): the changes plus updated_at (auto_now) unless touch=False."""
    _update(conn, schema, "services_serviceprovider", provider_id, changes, touch)


# ----------------------------------------------------- categories and skills


def insert_service_category(conn: psycopg.Connection, schema: str, name: str | None = None,
                            slug: str | None = None) -> dict[str, Any]:
    n = _short()
    values: dict[str, Any] = {"uuid": uuid.uuid4(), "name": name or f"Category {n}", "slug": slug or f"svc-cat-{n}"}
    values["id"] = _insert(conn, schema, "services_servicecategory", values, ("created_at",))
    return values


def insert_skill(conn: psycopg.Connection, schema: str, name: str | None = None,
                 slug: str | None = None) -> dict[str, Any]:
    n = _short()
    values: dict[str, Any] = {"uuid": uuid.uuid4(), "name": name or f"Skill {n}", "slug": slug or f"skill-{n}"}
    values["id"] = _insert(conn, schema, "services_skill", values)
    return values


def link_category(conn: psycopg.Connection, schema: str, provider_id: int, *category_ids: int) -> None:
    """provider.categories.add(*categories): ONE multi-row INSERT into the M2M table."""
    if not category_ids:
        return
    conn.execute(
        sql.SQL("INSERT INTO {}.services_serviceprovider_categories (serviceprovider_id, servicecategory_id) "
                "VALUES {}").format(
            sql.Identifier(schema),
            sql.SQL(", ").join(sql.SQL("(%s, %s)") for _ in category_ids)),
        [v for c in category_ids for v in (provider_id, c)],
    )


def unlink_categories(conn: psycopg.Connection, schema: str, provider_id: int,
                      category_ids: Iterable[int] | None = None) -> None:
    """remove(*categories) (with ids) or clear() (without): Django's M2M DELETE."""
    if category_ids is None:
        conn.execute(sql.SQL("DELETE FROM {}.services_serviceprovider_categories WHERE serviceprovider_id = %s")
                     .format(sql.Identifier(schema)), (provider_id,))
        return
    ids = list(category_ids)
    conn.execute(
        sql.SQL("DELETE FROM {}.services_serviceprovider_categories "
                "WHERE serviceprovider_id = %s AND servicecategory_id IN ({})").format(
            sql.Identifier(schema), sql.SQL(", ").join(sql.Placeholder() for _ in ids)),
        [provider_id, *ids],
    )


def link_skill(conn: psycopg.Connection, schema: str, provider_id: int, skill_id: int, level: str = "advanced",
               years_experience: int | None = 5) -> int:
    """A services_providerskill row (ProviderSkill.objects.create)."""
    return _insert(conn, schema, "services_providerskill", {
        "level": level, "years_experience": years_experience, "provider_id": provider_id, "skill_id": skill_id})


# ------------------------------------------------------------------- services


def service_values(provider_id: int, **overrides: Any) -> dict[str, Any]:
    n = _short()
    values: dict[str, Any] = {
        "uuid": uuid.uuid4(),
        "title": f"Service {n}",
        "slug": f"service-{n}",
        "short_description": "A short pitch",
        "description": "<p>What you <em>get</em></p>",
        "pricing_type": "fixed",
        "price_min": Decimal("100.00"),
        "price_max": Decimal("250.00"),
        "currency": "EUR",
        "delivery_time_days": 7,
        "revisions_included": 2,
        "tags": Jsonb(["design", "web"]),
        "thumbnail_url": "https://cdn.example/thumb.png",
        "is_active": True,
        "is_public": True,
        "is_featured": False,
        "published_at": None,
        **SERVICE_SECRETS,
        "category_id": None,
        "provider_id": provider_id,
    }
    values.update(overrides)
    return values


def insert_service(conn: psycopg.Connection, schema: str, provider_id: int, **overrides: Any) -> dict[str, Any]:
    """One services_service row (public and active unless overridden); returns its values with `id`."""
    values = service_values(provider_id, **overrides)
    values["id"] = _insert(conn, schema, "services_service", values, ("created_at", "updated_at"))
    return values


def insert_services(conn: psycopg.Connection, schema: str, provider_id: int, count: int,
                    **overrides: Any) -> list[dict[str, Any]]:
    """`count` services in ONE multi-row INSERT (bulk_create)."""
    rows = [service_values(provider_id, **overrides) for _ in range(count)]
    if not rows:
        return []
    columns = list(rows[0])
    query = sql.SQL("INSERT INTO {}.services_service ({}, created_at, updated_at) VALUES {} RETURNING id, uuid").format(
        sql.Identifier(schema),
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(
            sql.SQL("({}, now(), now())").format(sql.SQL(", ").join(sql.Placeholder() for _ in columns))
            for _ in rows),
    )
    ids = {u: i for i, u in conn.execute(query, [r[c] for r in rows for c in columns]).fetchall()}
    for r in rows:
        r["id"] = ids[r["uuid"]]
    return rows


def update_service(conn: psycopg.Connection, schema: str, service_id: int, touch: bool = True,
                   **changes: Any) -> None:
    _update(conn, schema, "services_service", service_id, changes, touch)


# ------------------------------------------------------------------- catalogs


def provider_row(conn: psycopg.Connection, provider_uuid: uuid.UUID) -> dict[str, Any] | None:
    cur = conn.cursor(row_factory=dict_row)
    return cur.execute("SELECT * FROM public.provider_catalog WHERE provider_uuid = %s",
                       (provider_uuid,)).fetchone()


def service_row(conn: psycopg.Connection, service_uuid: uuid.UUID) -> dict[str, Any] | None:
    cur = conn.cursor(row_factory=dict_row)
    return cur.execute("SELECT * FROM public.service_catalog WHERE service_uuid = %s", (service_uuid,)).fetchone()


def provider_uuids(conn: psycopg.Connection, schema: str | None = None) -> set[uuid.UUID]:
    rows = conn.execute("SELECT provider_uuid FROM public.provider_catalog WHERE %s::text IS NULL "
                        "OR tenant_schema = %s", (schema, schema)).fetchall()
    return {r[0] for r in rows}


def service_uuids(conn: psycopg.Connection, schema: str | None = None) -> set[uuid.UUID]:
    rows = conn.execute("SELECT service_uuid FROM public.service_catalog WHERE %s::text IS NULL "
                        "OR tenant_schema = %s", (schema, schema)).fetchall()
    return {r[0] for r in rows}


def row_text(conn: psycopg.Connection, table: str, key_column: str, key: uuid.UUID) -> str:
    """The whole catalog row serialized (row_to_json, every column incl. search)."""
    row = conn.execute(
        sql.SQL("SELECT row_to_json(c)::text || ' ' || c::text FROM {} AS c WHERE {} = %s").format(
            sql.SQL(table), sql.Identifier(key_column)), (key,)).fetchone()
    assert row is not None, f"no {table} row for {key}"
    return str(row[0])


def versions(conn: psycopg.Connection, provider_uuid: uuid.UUID) -> list[tuple[Any, ...]]:
    """(catalog, key, xmin, ctid, synced_at) of a provider's row and of its services' rows:
    unchanged exactly when none of them was rewritten."""
    return conn.execute(
        "SELECT 'p', provider_uuid, xmin::text, ctid::text, synced_at FROM public.provider_catalog "
        "WHERE provider_uuid = %(p)s "
        "UNION ALL SELECT 's', service_uuid, xmin::text, ctid::text, synced_at FROM public.service_catalog "
        "WHERE provider_uuid = %(p)s ORDER BY 1, 2", {"p": provider_uuid}).fetchall()


def snapshot(conn: psycopg.Connection) -> list[tuple[Any, ...]]:
    """Every provider and service catalog row with its physical version."""
    return conn.execute(
        "SELECT 'p', tenant_id, provider_uuid, xmin::text, ctid::text, to_jsonb(c)::text "
        "FROM public.provider_catalog c "
        "UNION ALL SELECT 's', tenant_id, service_uuid, xmin::text, ctid::text, to_jsonb(c)::text "
        "FROM public.service_catalog c ORDER BY 1, 2, 3").fetchall()
