"""Build the application side as Django + django-tenants would: the app role, the
public registry, tenant schemas from the contract DDL, and realistic rows.

Used by the demo, the tests and the benchmarks. Every object is created as the
application role, so ownership is what a real deployment has.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from pyinstaller_tools import sqlfiles

APP_ROLE = "zumodra_app"

# Rich text as a rich-text editor stores it, with what a careless or hostile user adds.
DESCRIPTION_HTML = (
    "<h2>About the role</h2><p>We are looking for a <strong>{title}</strong> to join our "
    "<em>{team}</em> team in {city}. You will work on products used by millions &amp; ship weekly.</p>"
    "<ul><li>Own features end to end</li><li>Review code &mdash; kindly</li><li>Mentor others</li></ul>"
    '<p>Read more on <a href="https://example.com/careers/{n}">our careers blog</a>.</p>'
    "<p onclick=\"alert(1)\">Apply today!<script>steal({n})</script></p>"
)
RESPONSIBILITIES_HTML = "<ol><li>Design systems</li><li>Write tests</li><li>Run on-call <b>fairly</b></li></ol>"
REQUIREMENTS_HTML = (
    "<p>{years}+ years of experience.</p><ul><li>PostgreSQL</li><li>Python</li></ul>"
    '<p><a href="javascript:alert(1)">click</a> <img src=x onerror=alert(1)></p>'
)
BENEFITS_HTML = "<p>Remote budget, 30 days off, <i>learning</i> stipend.</p><br/>"


def setup_app(conn: psycopg.Connection) -> None:
    """The application role and the public registry (contract public_schema.sql)."""
    conn.execute(
        """
        DO $$ BEGIN
            IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'zumodra_app') THEN
                CREATE ROLE zumodra_app LOGIN;
            END IF;
        END $$
        """
    )
    _grant_create(conn)
    conn.execute("GRANT CREATE ON SCHEMA public TO zumodra_app")
    conn.execute("SET ROLE zumodra_app")
    conn.execute(sqlfiles.contract_sql("public"))  # type: ignore[arg-type]
    conn.execute("RESET ROLE")


def _grant_create(conn: psycopg.Connection) -> None:
    """The app role creates tenant schemas (django-tenants: CREATE SCHEMA)."""
    dbname = conn.execute("SELECT current_database()").fetchone()[0]  # type: ignore[index]
    conn.execute(sql.SQL("GRANT CREATE ON DATABASE {} TO zumodra_app").format(sql.Identifier(dbname)))


def create_tenant(
    conn: psycopg.Connection,
    slug: str,
    name: str,
    status: str = "active",
    logo_url: str = "",
) -> tuple[int, str]:
    """A registry row and its schema, as django-tenants' Tenant.save() makes them."""
    schema = "tenant_" + slug.replace("-", "_")
    _grant_create(conn)  # database privileges do not survive CREATE DATABASE ... TEMPLATE
    conn.execute("SET ROLE zumodra_app")
    row = conn.execute(
        """
        INSERT INTO public.tenants_tenant
            (schema_name, uuid, name, slug, logo_url, website, status, created_on, updated_at)
        VALUES (%s, gen_random_uuid(), %s, %s, %s, %s, %s, now(), now())
        RETURNING id
        """,
        (schema, name, slug, logo_url or f"https://cdn.example.com/{slug}.png", f"https://{slug}.example.com", status),
    ).fetchone()
    conn.execute(sqlfiles.contract_sql("tenant", schema))  # type: ignore[arg-type]
    conn.execute("RESET ROLE")
    assert row is not None
    return int(row[0]), schema


def seed_categories(conn: psycopg.Connection, schema: str, count: int = 5) -> None:
    conn.execute(
        sql.SQL(
            """
            INSERT INTO {}.ats_jobcategory (uuid, name, slug, description, created_at, updated_at, parent_id)
            SELECT gen_random_uuid(), 'Category ' || g, 'category-' || g, '', now(), now(), NULL
            FROM generate_series(1, %s) AS g
            """
        ).format(sql.Identifier(schema)),
        (count,),
    )


def seed_jobs(conn: psycopg.Connection, schema: str, count: int, public_share: float = 0.7) -> None:
    """`count` jobs, set-based; about `public_share` of them eligible for the catalog."""
    conn.execute(
        sql.SQL(
            """
            INSERT INTO {schema}.ats_jobposting (
                uuid, title, slug, reference_code, status, job_type, experience_level, remote_policy,
                location_city, location_state, location_country, location_lat, location_lng,
                description, responsibilities, requirements, benefits,
                salary_min, salary_max, salary_currency, salary_period, show_salary,
                required_skills, preferred_skills, positions_count, team, is_featured,
                published_on_career_page, is_internal_only, application_deadline, published_at,
                meta_title, meta_description, hiring_manager_name, hiring_manager_email,
                application_email, custom_questions, internal_notes, rejection_feedback_template,
                created_at, updated_at, category_id)
            SELECT gen_random_uuid(), t.title, lower(replace(t.title, ' ', '-')) || '-' || g,
                   {ref} || '-' || g,
                   CASE WHEN g %% 10 < %(open_pct)s THEN 'open'
                        ELSE (ARRAY['draft','closed','on_hold'])[1 + g %% 3] END,
                   (ARRAY['full_time','part_time','contract','internship'])[1 + g %% 4],
                   (ARRAY['junior','mid','senior','lead'])[1 + g %% 4],
                   (ARRAY['on_site','remote','hybrid'])[1 + g %% 3],
                   (ARRAY['Berlin','Lisbon','Austin','Toronto'])[1 + g %% 4], '',
                   (ARRAY['DE','PT','US','CA'])[1 + g %% 4], 52.5 + g %% 7, 13.4 - g %% 5,
                   replace(replace(replace(replace(%(description)s, '{{title}}', t.title), '{{team}}', 'Platform'),
                           '{{city}}', 'Berlin'), '{{n}}', g::text),
                   %(responsibilities)s,
                   replace(%(requirements)s, '{{years}}', (1 + g %% 8)::text),
                   %(benefits)s,
                   50000 + g %% 50 * 1000, 90000 + g %% 50 * 1000, 'EUR', 'year', g %% 2 = 0,
                   '["python", "sql"]'::jsonb, '["django"]'::jsonb, 1 + g %% 3, 'Platform', g %% 9 = 0,
                   g %% 10 <> 9, g %% 17 = 0, NULL, now() - (g %% 30) * interval '1 day',
                   t.title, 'Join us', 'Hiring Manager ' || g, 'hm' || g || '@corp.example',
                   'jobs@corp.example', '[{{"q": "Salary expectations?"}}]'::jsonb, 'internal note ' || g,
                   'Sorry.', now(), now(),
                   (SELECT min(id) FROM {schema}.ats_jobcategory) + g %% 5
            FROM generate_series(1, %(count)s) AS g
            CROSS JOIN LATERAL (SELECT (ARRAY['Backend Engineer','Data Analyst','Product Designer',
                                              'Site Reliability Engineer'])[1 + g %% 4] AS title) AS t
            """
        ).format(schema=sql.Identifier(schema), ref=sql.Literal(schema[:20])),
        {
            "count": count,
            "open_pct": max(0, min(10, round(public_share * 10))),
            "description": DESCRIPTION_HTML,
            "responsibilities": RESPONSIBILITIES_HTML,
            "requirements": REQUIREMENTS_HTML,
            "benefits": BENEFITS_HTML,
        },
    )
