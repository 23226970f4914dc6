"""Build the application side as Django + django-tenants would: the app role, the
public registry, tenant schemas from the contract DDL, and realistic rows.

Used by the demo, the tests and the benchmarks. Every object is created as the
application role, so ownership is what a real deployment has.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from pyinstaller_tools import sqlfiles
from pyinstaller_tools.connection import scalar

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
    conn.execute(sqlfiles.contract_sql("public"))
    conn.execute("RESET ROLE")


def _grant_create(conn: psycopg.Connection) -> None:
    """The app role creates tenant schemas (django-tenants: CREATE SCHEMA)."""
    dbname = scalar(conn, "SELECT current_database()")
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
    conn.execute(sqlfiles.contract_sql("tenant", schema))
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


SERVICE_CATEGORIES, SKILLS = 12, 20
SERVICE_HTML = DESCRIPTION_HTML.format(title="Logo design", team="Design", city="Berlin", n=1)
BIO_HTML = ("<p>Experienced <strong>designer</strong> and <em>developer</em>, 10 years of "
            "<a href=\"https://example.com/portfolio\">client work</a>.</p><ul><li>Branding</li>"
            "<li>Web</li></ul>")


def seed_marketplace(conn: psycopg.Connection, schema: str, providers: int, flip_services: int,
                     other_services: int, total_services: int | None = None) -> None:
    """Service categories, skills, providers (3 categories, 5 skills each) and services, set based;
    every provider and service eligible.

    Without total_services: the first provider gets flip_services services, every other
    provider other_services. With it: total_services services spread evenly over the providers.
    """
    s = sql.Identifier(schema)

    def run(query: str, params: tuple[object, ...] = ()) -> None:
        conn.execute(sql.SQL(query).format(s=s), params)

    run("INSERT INTO {s}.services_servicecategory (uuid, name, slug, created_at) "
        "SELECT gen_random_uuid(), 'Category ' || g, 'svc-cat-' || lpad(g::text, 3, '0'), now() "
        "FROM generate_series(1, %s) g", (SERVICE_CATEGORIES,))
    run("INSERT INTO {s}.services_skill (uuid, name, slug) "
        "SELECT gen_random_uuid(), 'Skill ' || g, 'skill-' || lpad(g::text, 3, '0') "
        "FROM generate_series(1, %s) g", (SKILLS,))
    run("""
        INSERT INTO {s}.services_serviceprovider (
            uuid, display_name, provider_type, bio, tagline, avatar_url, cover_image_url, city, state, country,
            location_lat, location_lng, hourly_rate, minimum_budget, currency, rating_avg, total_reviews,
            completed_jobs_count, response_rate, avg_response_time_hours, availability_status, is_verified,
            is_featured, is_accepting_projects, can_work_remotely, can_work_onsite, marketplace_enabled,
            is_active, published_at, user_email, phone, address_line1, postal_code, stripe_account_id,
            bank_account_number, bank_routing_number, tax_id, emergency_contact_name, emergency_contact_phone,
            kyc_document_url, private_notes, created_at, updated_at)
        SELECT gen_random_uuid(), 'Provider ' || g, 'individual', %s, 'We build things',
               'https://cdn.example/avatar/' || g || '.png', 'https://cdn.example/cover/' || g || '.png',
               'Berlin', 'BE', 'DE', 52.52, 13.4, 80.00, 500.00, 'EUR', 4.50, 12, 30, 95.50, 3.25,
               'available', g %% 2 = 0, g %% 10 = 0, true, true, false, true, true, now(),
               'user' || g || '@corp.example', '+1-555-0100', '1 Main St', '10115', 'acct_' || g,
               'DE0000' || g, '0000', 'TAX' || g, 'Emergency', '+1-555-0199',
               'https://kyc.example/' || g || '.pdf', 'private notes ' || g, now(), now()
        FROM generate_series(1, %s) g""", (BIO_HTML, providers))
    run("INSERT INTO {s}.services_serviceprovider_categories (serviceprovider_id, servicecategory_id) "
        "SELECT p.id, c.id FROM {s}.services_serviceprovider p CROSS JOIN LATERAL "
        "(SELECT id FROM {s}.services_servicecategory ORDER BY id OFFSET p.id %% 9 LIMIT 3) c")
    run("INSERT INTO {s}.services_providerskill (level, years_experience, provider_id, skill_id) "
        "SELECT (ARRAY['beginner', 'intermediate', 'advanced', 'expert'])[1 + (p.id + sk.id) %% 4], "
        "1 + (p.id + sk.id) %% 10, p.id, sk.id FROM {s}.services_serviceprovider p CROSS JOIN LATERAL "
        "(SELECT id FROM {s}.services_skill ORDER BY id OFFSET p.id %% 15 LIMIT 5) sk")
    if total_services is None:
        owners = ("SELECT p.id AS provider_id, g FROM {s}.services_serviceprovider p CROSS JOIN LATERAL "
                  "generate_series(1, CASE WHEN p.id = (SELECT min(id) FROM {s}.services_serviceprovider) "
                  "THEN %s ELSE %s END) g")
        params: tuple[object, ...] = (flip_services, other_services)
    else:
        owners = ("SELECT p.id AS provider_id, g FROM generate_series(1, %s) g "
                  "JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM {s}.services_serviceprovider) p "
                  "ON p.k = g %% %s")
        params = (total_services, providers)
    run(f"""
        INSERT INTO {{s}}.services_service (
            uuid, title, slug, short_description, description, pricing_type, price_min, price_max, currency,
            delivery_time_days, revisions_included, tags, thumbnail_url, is_active, is_public, is_featured,
            published_at, internal_cost, private_notes, created_at, updated_at, category_id, provider_id)
        SELECT gen_random_uuid(), 'Service ' || o.provider_id || '-' || o.g,
               'service-' || o.provider_id || '-' || o.g, 'A short pitch', %s, 'fixed', 100.00, 250.00, 'EUR',
               7, 2, '["design", "web"]'::jsonb, 'https://cdn.example/thumb/' || o.g || '.png', true, true,
               o.g %% 20 = 0, now(), 42.00, 'private notes', now(), now(),
               (SELECT min(id) FROM {{s}}.services_servicecategory) + o.g %% %s, o.provider_id
        FROM ({owners}) o""", (SERVICE_HTML, SERVICE_CATEGORIES, *params))
