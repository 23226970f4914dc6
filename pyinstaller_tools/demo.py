"""catalog-sync demo: the whole product on a throwaway cluster (or --dsn) in a minute."""

from __future__ import annotations

import sys

import psycopg
from psycopg import sql

from pyinstaller_tools import migrate, operations, seed
from pyinstaller_tools.cli import print_status, print_table, progress
from pyinstaller_tools.cluster import LocalCluster
from pyinstaller_tools.connection import ToolError, connect, is_installed, scalar
from pyinstaller_tools.interrupts import ctrl_c_deferred

TENANTS = [("acme", "Acme Robotics", "active"), ("globex", "Globex Corporation", "trial"),
           ("initech", "Initech", "active"), ("umbrella", "Umbrella Health", "active"),
           ("hooli", "Hooli", "suspended")]
PROVIDERS, SERVICES = 4, 2          # per tenant: marketplace providers, services per provider


def step(message: str) -> None:
    print(f"\n== {message}", flush=True)


def run(dsn: str | None, keep: bool, tenants: int, jobs: int) -> int:
    cluster: LocalCluster | None = None
    try:
        if dsn is None:                 # only an explicit --dsn: DATABASE_URL may name a real database
            step("starting a throwaway PostgreSQL cluster")
            with ctrl_c_deferred():     # (LocalCluster() makes its folder: `cluster` must name it first)
                cluster = LocalCluster()
            cluster.start()             # (inside the try: a failure or Ctrl-C from here on stops it)
            with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
                conn.execute("CREATE DATABASE catalog_demo")
            dsn = cluster.dsn("catalog_demo")
            print(f"cluster on 127.0.0.1:{cluster.port} (data in {cluster.base_dir})")
        _demo(dsn, tenants, jobs)      # (1 to len(TENANTS): cmd_demo refuses others)
    finally:
        if cluster is not None:
            if keep:
                as_postgres = "runuser -u postgres -- " if cluster._as_postgres else ""
                # (DBA trial, twenty-second session: as the application role, every command failed on
                # a privilege, and nothing said which; docs/operations.md, Who runs what)
                print(f"\ncluster kept running. Connect with:\n  psql '{dsn}'\n"
                      f"To run catalog-sync as the application role {seed.APP_ROLE} "
                      "(docs/operations.md, Who runs what):\n"
                      f"  psql '{dsn}' -c 'GRANT catalog_sync_installer TO {seed.APP_ROLE}'\n"
                      f"Stop it and remove its files with:\n"
                      f"  {as_postgres}{cluster.bindir}/pg_ctl -D {cluster.data_dir} stop && rm -rf {cluster.base_dir}")
            else:
                cluster.stop()
    return 0


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _demo(dsn: str, tenant_count: int, jobs: int) -> None:
    with connect(dsn, autocommit=True) as conn:
        if is_installed(conn) or scalar(conn, "SELECT to_regclass('public.tenants_tenant')"):
            raise ToolError("the demo needs an empty database (it creates tenants_tenant and tenant schemas)")
        step(f"creating the application side: role {seed.APP_ROLE}, the tenant registry, "
             f"{plural(tenant_count, 'tenant')}")
        seed.setup_app(conn)
        schemas = []
        for slug, name, status in TENANTS[:tenant_count]:
            _, schema = seed.create_tenant(conn, slug, name, status)
            seed.seed_categories(conn, schema)
            seed.seed_jobs(conn, schema, jobs)
            seed.seed_marketplace(conn, schema, PROVIDERS, SERVICES, SERVICES)
            schemas.append(schema)
            print(f"  {schema}: {name} ({status}), {jobs} jobs, {PROVIDERS} providers with {SERVICES} services each")

    step("migrate (alembic upgrade head)")
    migrate.upgrade(dsn)
    with connect(dsn, autocommit=True) as conn:
        step("attach every tenant schema")
        result = operations.attach(conn, schemas, operations.DEFAULT_CHUNK_SIZE, progress)
        print(f"  {plural(result.schemas, 'schema')}, {plural(result.changed, 'trigger')} installed")
        step("backfill")
        with operations.backfill_lock(conn):
            report = operations.backfill(conn, operations.resolve_tenants(conn, None), False, "60s", progress)
        print_table(report["tenants"], ["schema", "source_rows", "eligible", "inserted", "updated", "removed"])
        print("  (rows of the three catalogs together: jobs, providers, services)")

        first = schemas[0]
        step(f"live changes as the application role, in {first} and the registry")
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(seed.APP_ROLE)))

        def change(statement: str, said: str) -> None:
            """One statement on the first tenant's schema ({s}), as the application runs it."""
            conn.execute(sql.SQL(statement).format(s=sql.Identifier(first)))
            print(f"  {said}")

        with conn.transaction():
            change("UPDATE {s}.ats_jobposting SET title = title || ' (urgent)', updated_at = now() "
                   "WHERE id = (SELECT min(id) FROM {s}.ats_jobposting "
                   "WHERE status = 'open' AND published_on_career_page AND NOT is_internal_only)", "a job retitled")
        change("UPDATE {s}.ats_jobposting SET is_internal_only = true WHERE id % 5 = 0",
               "every fifth job made internal-only (leaves the catalog)")
        change("UPDATE {s}.ats_jobcategory SET name = name || ' & Co' "
               "WHERE id = (SELECT min(id) FROM {s}.ats_jobcategory)", "a category renamed (its jobs follow)")
        change("UPDATE {s}.ats_jobposting SET internal_notes = 'salary band: secret'",
               "internal notes edited on every job (a sensitive column: no catalog write)")
        conn.execute("UPDATE public.tenants_tenant SET name = name || ' GmbH' WHERE schema_name = %s", (first,))
        print("  the tenant renamed (company_name follows)")
        change("UPDATE {s}.services_serviceprovider SET marketplace_enabled = false, updated_at = now() "
               "WHERE id = (SELECT min(id) FROM {s}.services_serviceprovider)",
               "a provider left the marketplace (it and its services leave the catalogs)")
        change("UPDATE {s}.services_service SET title = title || ' (express)', updated_at = now() "
               "WHERE id = (SELECT max(id) FROM {s}.services_service WHERE provider_id <> "
               "(SELECT min(id) FROM {s}.services_serviceprovider))", "a service of another provider retitled")
        with conn.transaction() as tx:
            conn.execute(sql.SQL("DELETE FROM {}.ats_jobposting").format(sql.Identifier(first)))
            raise psycopg.Rollback(tx)
        print("  every job deleted, then rolled back (the catalog is untouched)")
        conn.execute("RESET ROLE")

        step("verify (one snapshot per tenant)")
        findings = operations.verify(conn, None)
        print("  clean" if not findings else f"  DRIFT: {findings[:5]}")
        step("status")
        print_status(operations.status(conn))
        step("the catalog (first 10 rows by published_at)")
        _print_query(conn, "SELECT company_name, title, category_name, job_type, location_city, "
                           "coalesce(salary_min::text, '-') AS salary_min, left(description, 60) AS description "
                           "FROM public.job_catalog ORDER BY published_at DESC, title LIMIT 10")
        step("the marketplace (first 6 services by company and provider)")
        _print_query(conn, "SELECT company_name, provider_display_name AS provider, title, category_name, "
                           "price_min || '-' || price_max || ' ' || currency AS price, "
                           "left(description, 50) AS description "
                           "FROM public.service_catalog ORDER BY company_name, provider_display_name, title LIMIT 6")
        if findings:
            raise ToolError("the demo ended with drift")
    sys.stdout.flush()


def _print_query(conn: psycopg.Connection, query: str) -> None:
    cur = conn.execute(query)
    cols = [d.name for d in cur.description or []]
    print_table([dict(zip(cols, r, strict=True)) for r in cur.fetchall()], cols)
