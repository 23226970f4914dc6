"""Writing tenant rows the way Django does (every column supplied, no defaults)."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from psycopg import sql

ELIGIBLE: dict[str, Any] = {
    "status": "open",
    "published_on_career_page": True,
    "is_internal_only": False,
    "application_deadline": None,
}


def job_values(**overrides: Any) -> dict[str, Any]:
    n = uuid.uuid4().hex[:10]
    values: dict[str, Any] = {
        "uuid": uuid.uuid4(),
        "title": f"Engineer {n}",
        "slug": f"engineer-{n}",
        "reference_code": f"REF-{n}",
        "status": "open",
        "job_type": "full_time",
        "experience_level": "senior",
        "remote_policy": "remote",
        "location_city": "Berlin",
        "location_state": "",
        "location_country": "DE",
        "location_lat": 52.52,
        "location_lng": 13.4,
        "description": "<p>Build <strong>things</strong></p>",
        "responsibilities": "<ul><li>Ship</li></ul>",
        "requirements": "<p>SQL</p>",
        "benefits": "<p>Cake</p>",
        "salary_min": 50000,
        "salary_max": 70000,
        "salary_currency": "EUR",
        "salary_period": "year",
        "show_salary": True,
        "required_skills": psycopg.types.json.Jsonb(["python"]),
        "preferred_skills": psycopg.types.json.Jsonb([]),
        "positions_count": 1,
        "team": "Platform",
        "is_featured": False,
        "published_on_career_page": True,
        "is_internal_only": False,
        "application_deadline": None,
        "published_at": None,
        "meta_title": "",
        "meta_description": "",
        "hiring_manager_name": "Hannah Manager",
        "hiring_manager_email": "hannah@corp.example",
        "application_email": "apply@corp.example",
        "custom_questions": psycopg.types.json.Jsonb([{"q": "secret question"}]),
        "internal_notes": "INTERNAL-NOTE-SECRET",
        "rejection_feedback_template": "REJECTION-SECRET",
        "category_id": None,
    }
    values.update(overrides)
    return values


def schema_ident(conn: psycopg.Connection, schema: str) -> sql.Composable:
    """A quoted schema name that survives psycopg's %-placeholder parsing (names may contain %)."""
    return sql.SQL(sql.Identifier(schema).as_string(conn).replace("%", "%%"))


def insert_job(conn: psycopg.Connection, schema: str, **overrides: Any) -> dict[str, Any]:
    values = job_values(**overrides)
    columns = list(values)
    query = sql.SQL(
        "INSERT INTO {}.ats_jobposting ({}, created_at, updated_at) VALUES ({}, now(), now()) RETURNING id"
    ).format(
        schema_ident(conn, schema),
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(sql.Placeholder(c) for c in columns),
    )
    row = conn.execute(query, values).fetchone()
    assert row is not None
    values["id"] = row[0]
    return values


def update_job(conn: psycopg.Connection, schema: str, job_id: int, **changes: Any) -> None:
    query = sql.SQL("UPDATE {}.ats_jobposting SET {}, updated_at = now() WHERE id = {}").format(
        schema_ident(conn, schema),
        sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder(k)) for k in changes),
        sql.Literal(job_id),
    )
    conn.execute(query, changes)


def category_id(conn: psycopg.Connection, schema: str, slug: str = "category-1") -> int:
    row = conn.execute(
        sql.SQL("SELECT id FROM {}.ats_jobcategory WHERE slug = %s").format(sql.Identifier(schema)), (slug,)
    ).fetchone()
    assert row is not None
    return int(row[0])


def add_copied_sync_trigger(conn: psycopg.Connection, schema: str, table: str, function: str, tenant_id: int,
                            name: str) -> None:
    """An AFTER INSERT sync trigger bound to `tenant_id` under a name the spec does not list (EXTRA), as a
    schema clone leaves one. As a superuser: binding a sync function needs EXECUTE on it."""
    conn.execute(sql.SQL("CREATE TRIGGER {} AFTER INSERT ON {}.{} REFERENCING NEW TABLE AS new_rows FOR EACH "
                         "STATEMENT EXECUTE FUNCTION catalog_sync.{}({}, 'catalog_sync:copied')").format(
        sql.Identifier(name), sql.Identifier(schema), sql.Identifier(table), sql.Identifier(function),
        sql.Literal(str(tenant_id))))


def catalog_row(conn: psycopg.Connection, job_uuid: uuid.UUID) -> dict[str, Any] | None:
    cur = conn.cursor(row_factory=psycopg.rows.dict_row)
    return cur.execute("SELECT * FROM public.job_catalog WHERE job_uuid = %s", (job_uuid,)).fetchone()


def catalog_count(conn: psycopg.Connection, schema: str | None = None) -> int:
    if schema is None:
        row = conn.execute("SELECT count(*) FROM public.job_catalog").fetchone()
    else:
        row = conn.execute("SELECT count(*) FROM public.job_catalog WHERE tenant_schema = %s", (schema,)).fetchone()
    assert row is not None
    return int(row[0])


def verify_findings(conn: psycopg.Connection) -> list[tuple[str, str | None]]:
    """(problem, detail) of every drift, as catalog-sync verify sees it."""
    rows = conn.execute(
        "SELECT v.problem, v.detail FROM catalog_sync.tenant_schemas() ts, "
        "LATERAL catalog_sync.verify_tenant(ts.tenant_id) v WHERE ts.attached "
        "UNION ALL SELECT problem, detail FROM catalog_sync.verify_global()"
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


# The attributes of each catalog_sync.*_source type that do not come from the source row itself: read
# from its parents or the registry, or derived by the trigger.
DERIVED_INPUTS = {
    "catalog_sync.job_source": ["category_name", "category_slug", "html_mask", "tenant_schema", "company_name",
                                "company_logo_url"],
    "catalog_sync.provider_source": ["category_names", "category_slugs", "skills_data", "html_mask"],
    "catalog_sync.service_source": ["category_name", "category_slug", "provider_uuid", "provider_display_name",
                                    "provider_avatar_url", "provider_rating_avg", "provider_is_verified",
                                    "provider_marketplace_enabled", "provider_is_active", "html_mask"],
}


def source_inputs(conn: psycopg.Connection, source_type: str) -> list[str]:
    """The attributes of a catalog_sync.*_source type that come straight from the source row (all
    but its DERIVED_INPUTS), in order: the projection's inputs, which a trigger's UPDATE comparison lists."""
    rows = conn.execute(
        "SELECT a.attname FROM pg_attribute a JOIN pg_type t ON t.typrelid = a.attrelid "
        "WHERE t.oid = %s::regtype AND a.attnum > 0 AND NOT a.attisdropped AND a.attname <> ALL (%s::text[]) "
        "ORDER BY a.attnum", (source_type, DERIVED_INPUTS[source_type])).fetchall()
    assert rows, f"no attributes: {source_type}"
    return [r[0] for r in rows]


# ---------------------------------------------------------------- added helpers


def insert_jobs(
    conn: psycopg.Connection, schema: str, overrides: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Several jobs in ONE multi-row INSERT statement (one trigger call); returns their values with ids."""
    rows = [job_values(**o) for o in overrides]
    columns = list(rows[0])
    query = sql.SQL(
        "INSERT INTO {}.ats_jobposting ({}, created_at, updated_at) VALUES {} RETURNING id, uuid"
    ).format(
        sql.Identifier(schema),
        sql.SQL(", ").join(map(sql.Identifier, columns)),
        sql.SQL(", ").join(
            sql.SQL("({}, now(), now())").format(sql.SQL(", ").join(sql.Placeholder() for _ in columns))
            for _ in rows
        ),
    )
    params = [row[c] for row in rows for c in columns]
    ids = {u: i for i, u in conn.execute(query, params).fetchall()}
    for row in rows:
        row["id"] = ids[row["uuid"]]
    return rows


def catalog_uuids(conn: psycopg.Connection, schema: str) -> set[uuid.UUID]:
    rows = conn.execute(
        "SELECT job_uuid FROM public.job_catalog WHERE tenant_schema = %s", (schema,)
    ).fetchall()
    return {r[0] for r in rows}


def row_version(conn: psycopg.Connection, job_uuid: uuid.UUID) -> tuple[str, str, Any] | None:
    """(xmin, ctid, synced_at) of a catalog row: unchanged exactly when the row was not rewritten."""
    row = conn.execute(
        "SELECT xmin::text, ctid::text, synced_at FROM public.job_catalog WHERE job_uuid = %s", (job_uuid,)
    ).fetchone()
    return (row[0], row[1], row[2]) if row else None


def set_tenant(conn: psycopg.Connection, schema: str, **changes: Any) -> None:
    """UPDATE public.tenants_tenant of one tenant, as Django's save() does (updated_at too)."""
    query = sql.SQL("UPDATE public.tenants_tenant SET {}, updated_at = now() WHERE schema_name = {}").format(
        sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder(k)) for k in changes),
        sql.Literal(schema),
    )
    conn.execute(query, changes)


def source_value(conn: psycopg.Connection, schema: str, job_id: int, column: str) -> Any:
    row = conn.execute(
        sql.SQL("SELECT {} FROM {}.ats_jobposting WHERE id = %s").format(
            sql.Identifier(column), sql.Identifier(schema)
        ),
        (job_id,),
    ).fetchone()
    assert row is not None
    return row[0]


def catalog_snapshot(conn: psycopg.Connection) -> list[tuple[Any, ...]]:
    """Every catalog row with its physical version, for 'nothing changed' checks."""
    return conn.execute(
        "SELECT tenant_id, job_uuid, xmin::text, ctid::text, to_jsonb(c)::text FROM public.job_catalog c "
        "ORDER BY tenant_id, job_uuid"
    ).fetchall()


def create_tenant(conn: psycopg.Connection, slug: str, name: str, **kwargs: Any) -> tuple[int, str]:
    """seed.create_tenant() in a per-test clone: CREATE DATABASE ... TEMPLATE does not copy the
    database ACL, so the app role's CREATE privilege (needed for CREATE SCHEMA) is granted again."""
    from pyinstaller_tools import seed

    dbname = conn.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
    conn.execute(sql.SQL("GRANT CREATE ON DATABASE {} TO {}").format(
        sql.Identifier(dbname), sql.Identifier(seed.APP_ROLE)))
    return seed.create_tenant(conn, slug, name, **kwargs)
