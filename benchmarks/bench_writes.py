"""Write overhead of the sync triggers, against what an application would do instead.

Scenarios, every variant measured in the same run, in alternating rounds
(order rotated each round), median of the rounds reported:

  (a) single-row INSERT of an eligible job, one transaction each;
  (b) single-row UPDATE of an eligible job's title, one transaction each;
  (c) one UPDATE statement over --rows eligible jobs (title = title || '!').

Variants, each on its own tenant schema of the same size:

  sync          the attached schema: the statement-level SECURITY DEFINER triggers do the sync;
  double write  triggers detached (catalog_sync.detach_schema); the client writes the job and the
                catalog row itself in the same transaction (same values, HTML through
                catalog_sync.sanitize_html, company from tenants_tenant, category from the
                category table); for (b) only the catalog's title (the least a client can
                write); for (c) the set-based UPDATE ... FROM equivalent;
  double write (whole row)
                (b) only: the same, but the client upserts the whole catalog row from the
                job's values it holds, as the original application's update_or_create did
                (HTML sanitized again, INSERT ... ON CONFLICT DO UPDATE, every column);
  app sync      triggers detached; seed-style application-side sync: write the job, commit, then a
                second transaction reads the job row and upserts the catalog row
                (INSERT ... ON CONFLICT DO UPDATE, every column);
  no sync       never attached: the bare write, for reference;
  sync, 2 tenants in turn
                (b) only: the sync's UPDATE on a connection that moves between two attached
                tenants at every write, as a pooled django-tenants connection does between
                requests (each write plans the sync's static reads again: their search_path
                names the tenant's schema), against the double write and the one-tenant sync.

For (b), two more variants measure the floor of the design the issue
prescribes (a statement-level AFTER UPDATE trigger with transition tables,
calling a SECURITY DEFINER PL/pgSQL function with the sync's pinned settings,
owned by catalog_sync_owner), without any of the sync's rules:

  empty trigger    the function returns at once;
  minimal trigger  the function runs the double write's catalog UPDATE from the
                   new transition table (no contract check, no eligibility, no
                   re-read, no locks: unsafe, a lower bound only).

Tenant writes run as the application role (zumodra_app); for the baselines the
role is granted what writing the catalog by hand needs.

    python benchmarks/bench_writes.py [--dsn DSN] [--ops 2000] [--rounds 20] [--rows 100000]
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import common
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from pyinstaller_tools import seed

TITLES = ("Backend Engineer", "Data Analyst", "Product Designer", "Site Reliability Engineer")
HTML_COLUMNS = ("description", "responsibilities", "requirements", "benefits")
SYNC, DOUBLE, APP, BARE = "sync (triggers)", "double write", "app sync (2nd txn)", "no sync"
EMPTY, MINIMAL = "empty trigger", "minimal trigger"
DOUBLE_ROW = "double write (whole row)"
# (b) only: the sync's UPDATE on a connection that moves between two tenants at every write, as a pooled
# django-tenants connection does between requests: the second tenant's schema, and the variant.
SYNC2, SWITCH = "sync (second tenant)", "sync, 2 tenants in turn"
SINGLE_ROW_SCHEMAS = {SYNC: "tenant_w_sync", DOUBLE: "tenant_w_double", APP: "tenant_w_app",
                      BARE: "tenant_w_bare", EMPTY: "tenant_w_empty", MINIMAL: "tenant_w_minimal",
                      DOUBLE_ROW: "tenant_w_double_row", SYNC2: "tenant_w_sync2"}
# The floor's trigger functions: the header of catalog_sync.on_job_change()
# (same owner, SECURITY DEFINER, same pinned settings), and a body that does
# nothing, or only the double write's catalog UPDATE.
FLOOR_BODIES = {
    EMPTY: "BEGIN RETURN NULL; END",
    MINIMAL: "BEGIN UPDATE public.job_catalog c SET title = n.title, synced_at = now() FROM new_rows n "
             "WHERE c.tenant_id = TG_ARGV[0]::bigint AND c.job_uuid = n.uuid; RETURN NULL; END",
}
BULK_SCHEMAS = {SYNC: "tenant_b_sync", DOUBLE: "tenant_b_double", BARE: "tenant_b_bare"}

Op = Callable[[int], None]


def job_params(n: int, category_id: int, now: dt.datetime) -> dict[str, Any]:
    """One eligible job as the application inserts it (rich HTML as in seed.py)."""
    title = TITLES[n % 4]
    return {
        "uuid": uuid.uuid4(), "title": title, "slug": f"{title.lower().replace(' ', '-')}-w{n}",
        "reference_code": f"BENCH-{n}", "status": "open",
        "job_type": ("full_time", "part_time", "contract", "internship")[n % 4],
        "experience_level": ("junior", "mid", "senior", "lead")[n % 4],
        "remote_policy": ("on_site", "remote", "hybrid")[n % 3],
        "location_city": "Berlin", "location_state": "", "location_country": "DE",
        "location_lat": 52.52, "location_lng": 13.40,
        "description": seed.DESCRIPTION_HTML.format(title=title, team="Platform", city="Berlin", n=n),
        "responsibilities": seed.RESPONSIBILITIES_HTML,
        "requirements": seed.REQUIREMENTS_HTML.format(years=1 + n % 8),
        "benefits": seed.BENEFITS_HTML,
        "salary_min": Decimal("60000.00"), "salary_max": Decimal("90000.00"), "salary_currency": "EUR",
        "salary_period": "year", "show_salary": n % 2 == 0,
        "required_skills": Jsonb(["python", "sql"]), "preferred_skills": Jsonb(["django"]),
        "positions_count": 1, "team": "Platform", "is_featured": n % 9 == 0,
        "published_on_career_page": True, "is_internal_only": False, "application_deadline": None,
        "published_at": now, "meta_title": title, "meta_description": "Join us",
        "hiring_manager_name": f"Hiring Manager {n}", "hiring_manager_email": f"hm{n}@corp.example",
        "application_email": "jobs@corp.example", "custom_questions": Jsonb([{"q": "Salary expectations?"}]),
        "internal_notes": f"internal note {n}", "rejection_feedback_template": "Sorry.",
        "created_at": now, "updated_at": now, "category_id": category_id,
    }


class Tenant:
    """One tenant schema with the statements every variant needs, prepared once."""

    def __init__(self, admin: common.Conn, schema: str, tenant_id: int) -> None:
        self.schema = schema
        self.tenant_id = tenant_id
        ident = sql.Identifier(schema)
        self.category_id = int(admin.execute(
            sql.SQL("SELECT min(id) FROM {}.ats_jobcategory").format(ident)).fetchone()[0])  # type: ignore[index]
        types = common.column_types(admin, f"{schema}.ats_jobposting")
        cols = common.JOB_COLUMNS
        self.insert_job = sql.SQL("INSERT INTO {}.ats_jobposting ({}) VALUES ({}) RETURNING id").format(
            ident, sql.SQL(", ").join(map(sql.Identifier, cols)),
            sql.SQL(", ").join(sql.Placeholder(c) for c in cols))
        # The catalog row from the very values the client just wrote (a row of parameters as j).
        params_row = sql.SQL("(SELECT {})").format(sql.SQL(", ").join(
            sql.SQL("{}::{} AS {}").format(sql.Placeholder(c), sql.SQL(types[c]), sql.Identifier(c))
            for c in cols))
        self.insert_catalog = common.catalog_insert_sql(common.catalog_select_sql(schema, "TRUE", params_row))
        self.upsert_catalog_row = common.catalog_insert_sql(common.catalog_select_sql(schema, "TRUE", params_row),
                                                            upsert=True)
        self.read_columns = sql.SQL("SELECT id, {} FROM {}.ats_jobposting").format(
            sql.SQL(", ").join(map(sql.Identifier, cols)), ident)
        self.rows: dict[int, dict[str, Any]] = {}
        self.update_job = sql.SQL("UPDATE {}.ats_jobposting SET title = %(title)s, updated_at = %(now)s "
                                  "WHERE id = %(id)s").format(ident)
        self.update_catalog = sql.SQL("UPDATE public.job_catalog SET title = %(title)s, synced_at = now() "
                                      "WHERE tenant_id = %(tenant_id)s AND job_uuid = %(uuid)s")
        # Seed-style sync task: read the job (select_related tenant and category), then upsert.
        self.read_job = sql.SQL(
            "SELECT j.*, t.schema_name, t.name AS company_name, t.logo_url, t.status AS tenant_status, "
            "c.name AS category_name, c.slug AS category_slug "
            "FROM {0}.ats_jobposting j JOIN public.tenants_tenant t ON t.id = %(tenant_id)s "
            "LEFT JOIN {0}.ats_jobcategory c ON c.id = j.category_id WHERE j.id = %(id)s").format(ident)
        values: list[sql.Composable] = []
        for col in common.CATALOG_COLUMNS:
            if col in HTML_COLUMNS:
                values.append(sql.SQL("catalog_sync.sanitize_html({})").format(sql.Placeholder(col)))
            elif col == "company_logo_url":
                values.append(sql.SQL("catalog_sync.safe_url({})").format(sql.Placeholder(col)))
            else:
                values.append(sql.Placeholder(col))
        self.upsert_catalog = common.catalog_insert_sql(
            sql.SQL(", ").join(values), upsert=True, values=True)
        self.delete_catalog = sql.SQL("DELETE FROM public.job_catalog WHERE tenant_id = %(tenant_id)s "
                                      "AND job_uuid = %(uuid)s")
        rows = admin.execute(sql.SQL(
            "SELECT id, uuid, title FROM {}.ats_jobposting j WHERE status = 'open' "
            "AND published_on_career_page AND NOT is_internal_only ORDER BY id").format(ident)).fetchall()
        self.eligible = [(int(r[0]), r[1], str(r[2])) for r in rows]


def app_sync(conn: common.Conn, tenant: Tenant, job_id: int) -> None:
    """The second transaction of the seed-style sync: read the job row, upsert (or delete) its catalog row."""
    cur = conn.cursor(row_factory=dict_row)
    row = cur.execute(tenant.read_job, {"tenant_id": tenant.tenant_id, "id": job_id}).fetchone()
    assert row is not None
    eligible = (row["tenant_status"] in ("active", "trial") and row["published_on_career_page"]
                and not row["is_internal_only"] and row["status"] == "open"
                and (row["application_deadline"] is None
                     or row["application_deadline"] > dt.datetime.now(dt.UTC)))
    if not eligible:
        conn.execute(tenant.delete_catalog, {"tenant_id": tenant.tenant_id, "uuid": row["uuid"]})
        conn.commit()
        return
    salary = row["show_salary"]

    def skills(value: Any) -> Jsonb:
        return Jsonb(value if isinstance(value, list) else [])

    params = {
        **{c: row[c] for c in common.CATALOG_COLUMNS if c in row},
        "tenant_id": tenant.tenant_id, "tenant_schema": row["schema_name"], "job_uuid": row["uuid"],
        "category_name": row["category_name"], "category_slug": row["category_slug"],
        "salary_min": row["salary_min"] if salary else None,
        "salary_max": row["salary_max"] if salary else None,
        "salary_currency": row["salary_currency"] if salary else None,
        "salary_period": row["salary_period"] if salary else None,
        "required_skills": skills(row["required_skills"]),
        "preferred_skills": skills(row["preferred_skills"]),
        "company_name": row["company_name"], "company_logo_url": row["logo_url"],
        "published_at": row["published_at"] or row["created_at"],
    }
    conn.execute(tenant.upsert_catalog, params)
    conn.commit()


def insert_ops(conn: common.Conn, tenants: dict[str, Tenant]) -> dict[str, Op]:
    now = dt.datetime.now(dt.UTC)

    def sync(n: int) -> None:
        t = tenants[SYNC]
        conn.execute(t.insert_job, job_params(n, t.category_id, now))
        conn.commit()

    def double(n: int) -> None:
        t = tenants[DOUBLE]
        params = job_params(n, t.category_id, now)
        conn.execute(t.insert_job, params)
        conn.execute(t.insert_catalog, {**params, "tenant_id": t.tenant_id})
        conn.commit()

    def app(n: int) -> None:
        t = tenants[APP]
        row = conn.execute(t.insert_job, job_params(n, t.category_id, now)).fetchone()
        conn.commit()
        assert row is not None
        app_sync(conn, t, int(row[0]))

    def bare(n: int) -> None:
        t = tenants[BARE]
        conn.execute(t.insert_job, job_params(n, t.category_id, now))
        conn.commit()

    return {SYNC: sync, DOUBLE: double, APP: app, BARE: bare}


def update_ops(conn: common.Conn, tenants: dict[str, Tenant]) -> dict[str, Op]:
    def target(t: Tenant, n: int) -> dict[str, Any]:
        job_id, job_uuid, title = t.eligible[n % len(t.eligible)]
        return {"id": job_id, "uuid": job_uuid, "title": f"{title} (v{n})", "tenant_id": t.tenant_id,
                "now": dt.datetime.now(dt.UTC)}

    def sync(n: int) -> None:
        conn.execute(tenants[SYNC].update_job, target(tenants[SYNC], n))
        conn.commit()

    def double(n: int) -> None:
        t = tenants[DOUBLE]
        params = target(t, n)
        conn.execute(t.update_job, params)
        conn.execute(t.update_catalog, params)
        conn.commit()

    def app(n: int) -> None:
        t = tenants[APP]
        params = target(t, n)
        conn.execute(t.update_job, params)
        conn.commit()
        app_sync(conn, t, params["id"])

    def double_row(n: int) -> None:
        t = tenants[DOUBLE_ROW]
        params = target(t, n)
        row = t.rows[params["id"]]          # the model instance the application holds
        row["title"] = params["title"]
        conn.execute(t.update_job, params)
        conn.execute(t.upsert_catalog_row, {**row, "tenant_id": t.tenant_id})
        conn.commit()

    def bare(n: int) -> None:
        conn.execute(tenants[BARE].update_job, target(tenants[BARE], n))
        conn.commit()

    def switch(n: int) -> None:
        t = tenants[SYNC2] if n % 2 else tenants[SYNC]
        conn.execute(t.update_job, target(t, n // 2 + 1_000_000))     # (titles the sync variant never writes)
        conn.commit()

    def floor(name: str) -> Op:
        def op(n: int) -> None:
            conn.execute(tenants[name].update_job, target(tenants[name], n))
            conn.commit()
        return op

    tenant = tenants[DOUBLE_ROW]
    cur = conn.cursor(row_factory=dict_row)
    tenant.rows = {int(r["id"]): {k: (Jsonb(v) if isinstance(v, (list, dict)) else v) for k, v in r.items()}
                   for r in cur.execute(tenant.read_columns).fetchall()}
    conn.commit()
    return {SYNC: sync, DOUBLE: double, APP: app, BARE: bare, EMPTY: floor(EMPTY), MINIMAL: floor(MINIMAL),
            DOUBLE_ROW: double_row, SWITCH: switch}


def per_op_rounds(ops: dict[str, Op], total: int, rounds: int, warmup: int = 50) -> dict[str, list[float]]:
    """Seconds per operation of each variant, total operations spread over the rounds."""
    return common.per_op_rounds(ops, max(1, total // rounds), rounds, warmup)


def single_row_results(label: str, samples: dict[str, list[float]]) -> list[common.Result]:
    results = [
        common.paired_result(label, samples, SYNC, DOUBLE, common.Target("max_ratio", 1.2)),
        *([common.paired_result(label, samples, SYNC, DOUBLE_ROW, common.Target("max_ratio", 1.2))]
          if DOUBLE_ROW in samples else []),
        common.paired_result(label, samples, SYNC, APP),
        common.paired_result(label, samples, SYNC, BARE),
    ]
    if MINIMAL in samples:
        # The design's floor against the same limit, and what the sync's rules add to it.
        results += [
            common.paired_result(f"{label}, {MINIMAL}", samples, MINIMAL, DOUBLE,
                                 common.Target("max_ratio", 1.2)),
            common.paired_result(f"{label}, {EMPTY}", samples, EMPTY, DOUBLE),
            common.paired_result(f"{label}, {EMPTY}", samples, EMPTY, BARE),
            common.paired_result(label, samples, SYNC, MINIMAL),
        ]
    if SWITCH in samples:
        # Each write plans the sync's reads again (their search_path names the tenant's schema); the
        # hand-written statements are prepared per schema by the client and plan nothing.
        results += [
            common.paired_result(f"{label}, {SWITCH}", samples, SWITCH, DOUBLE),
            common.paired_result(f"{label}, {SWITCH}", samples, SWITCH, SYNC),
        ]
    return results


def main() -> None:
    parser = common.base_parser(__doc__ or "")
    parser.add_argument("--ops", type=int, default=2000, help="single-row operations per variant")
    parser.add_argument("--rounds", type=int, default=20, help="alternating rounds, single-row scenarios")
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the bulk UPDATE (default 100000)")
    parser.add_argument("--bulk-rounds", type=int, default=3, help="alternating rounds of the bulk UPDATE")
    parser.add_argument("--bulk-session", choices=("fresh", "warm", "both"), default="both",
                        help="(c) on a new connection, on the connection that ran (a) and (b), or both")
    parser.add_argument("--bulk-timeout", type=float, default=300,
                        help="statement_timeout in seconds of the bulk UPDATE (default 300)")
    parser.add_argument("--existing", type=int, default=5000,
                        help="jobs already in each single-row tenant before the run (default 5000)")
    parser.add_argument("--scenarios", default="abc", help="which of a, b, c to run (default abc)")
    common.add_profile_option(parser)
    common.add_durable_option(parser)
    args = parser.parse_args()

    # No checkpoint inside a timed bulk statement: they run between variants
    # instead (see cleanup()).
    with common.bench_database(args.dsn, "catalog_bench_writes", args.keep,
                               common.cluster_settings(args, max_wal_size="16GB", checkpoint_timeout="1h")) as dsn:
        with common.connect(dsn, autocommit=True) as admin:
            common.progress(common.server_info(admin))
            ids = build(admin, dsn, args.existing, args.rows)
            if args.profile:
                common.enable_profile(admin)
            tenants = {name: Tenant(admin, schema, ids[schema])
                       for name, schema in SINGLE_ROW_SCHEMAS.items()}
            single = list(SINGLE_ROW_SCHEMAS.values())
            results: list[common.Result] = []
            with common.connect(dsn, role=common.APP_ROLE) as app:
                if "a" in args.scenarios:
                    common.progress(f"(a) single-row INSERT: {args.ops} per variant in {args.rounds} rounds")
                    results += single_row_results("(a) INSERT 1 row/txn", per_op_rounds(
                        insert_ops(app, tenants), args.ops, args.rounds))
                    if args.profile:
                        common.print_profile(admin, "(a) single-row INSERT", [app])
                    common.vacuum(admin, ["public.job_catalog"] + [f"{s}.ats_jobposting" for s in single])
                if "b" in args.scenarios:
                    common.progress(f"(b) single-row UPDATE: {args.ops} per variant in {args.rounds} rounds")
                    results += single_row_results("(b) UPDATE title 1 row/txn", per_op_rounds(
                        update_ops(app, tenants), args.ops, args.rounds))
                    if args.profile:
                        common.print_profile(admin, "(b) single-row UPDATE", [app])

                bulk_ids = {name: ids[schema] for name, schema in BULK_SCHEMAS.items()}
                sessions = ("fresh", "warm") if args.bulk_session == "both" else (args.bulk_session,)
                for session in sessions if "c" in args.scenarios else ():
                    common.progress(f"(c) one UPDATE of {args.rows} rows, {session} session, "
                                    f"{args.bulk_rounds} rounds")
                    results += bulk_update(dsn, app, admin, bulk_ids, args.rows, args.bulk_rounds, session,
                                           args.bulk_timeout)
                    if args.profile:
                        common.print_profile(admin, f"(c) bulk UPDATE, {session} session", [app])

            check(admin, ids)
            common.progress(common.server_info(admin))
        parts = []
        if "a" in args.scenarios or "b" in args.scenarios:
            parts.append(f"(a), (b): time per operation, {args.ops} per variant in {args.rounds} rounds")
        if "c" in args.scenarios:
            parts.append(f"(c): time per statement, {args.bulk_rounds} rounds")
        common.print_table(f"Writes. {'; '.join(parts)}; medians; ratio = median of the per-round ratios",
                           results)


def build(admin: common.Conn, dsn: str, existing: int, rows: int) -> dict[str, int]:
    """Tenants, jobs, migration; attach + backfill every schema with catalog rows, detach the baselines'."""
    seed.setup_app(admin)
    single = list(SINGLE_ROW_SCHEMAS.values())
    bulk = list(BULK_SCHEMAS.values())
    common.create_tenants(admin, single + bulk)
    for schema in single + bulk:
        seed.seed_categories(admin, schema, 5)
    common.progress(f"seeding {existing} jobs per single-row tenant, {rows} per bulk one")
    for schema in single:
        seed.seed_jobs(admin, schema, existing)
    for schema in bulk:
        seed.seed_jobs(admin, schema, rows)
        common.make_all_eligible(admin, schema)   # the UPDATE touches `rows` catalog rows
    # Analyze before attach: an autoanalyze of a freshly loaded table can deadlock with attach.
    common.vacuum(admin, [f"{s}.ats_jobposting" for s in single + bulk])
    common.progress("migrate, attach, backfill, detach the baseline schemas")
    common.install(dsn)
    common.grant_hand_written_sync(admin)
    synced = [SINGLE_ROW_SCHEMAS[SYNC], SINGLE_ROW_SCHEMAS[SYNC2], SINGLE_ROW_SCHEMAS[DOUBLE], SINGLE_ROW_SCHEMAS[APP],
              SINGLE_ROW_SCHEMAS[DOUBLE_ROW], SINGLE_ROW_SCHEMAS[EMPTY], SINGLE_ROW_SCHEMAS[MINIMAL],
              BULK_SCHEMAS[SYNC], BULK_SCHEMAS[DOUBLE]]
    common.attach(admin, synced)
    ids = common.tenant_ids(admin, single + bulk)
    for schema in synced:
        admin.execute("SELECT * FROM catalog_sync.backfill_tenant(%s)", (ids[schema],))
    floors = [SINGLE_ROW_SCHEMAS[EMPTY], SINGLE_ROW_SCHEMAS[MINIMAL]]
    common.detach(admin, [SINGLE_ROW_SCHEMAS[DOUBLE], SINGLE_ROW_SCHEMAS[APP], SINGLE_ROW_SCHEMAS[DOUBLE_ROW],
                          BULK_SCHEMAS[DOUBLE]] + floors)
    create_floor_triggers(admin, ids)
    common.vacuum(admin, ["public.job_catalog"] + [f"{s}.ats_jobposting" for s in single + bulk])
    return ids


def create_floor_triggers(admin: common.Conn, ids: dict[str, int]) -> None:
    """The (b) floor variants' triggers, shaped like the sync's UPDATE trigger (see FLOOR_BODIES)."""
    admin.execute("CREATE SCHEMA IF NOT EXISTS bench_floor")
    for name, body in FLOOR_BODIES.items():
        function = sql.Identifier("bench_floor", name.replace(" ", "_"))
        schema = SINGLE_ROW_SCHEMAS[name]
        admin.execute(sql.SQL(
            "CREATE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER "
            "SET search_path = pg_catalog, pg_temp SET jit = off SET constraint_exclusion = partition "
            "SET row_security = off AS {}").format(function, sql.Literal(body)))
        admin.execute(sql.SQL("ALTER FUNCTION {}() OWNER TO catalog_sync_owner").format(function))
        admin.execute(sql.SQL("REVOKE ALL ON FUNCTION {}() FROM PUBLIC").format(function))
        table = sql.Identifier(schema, "ats_jobposting")
        admin.execute(sql.SQL(
            "CREATE TRIGGER bench_floor AFTER UPDATE ON {} REFERENCING OLD TABLE AS old_rows "
            "NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {}({})").format(
                table, function, sql.Literal(str(ids[schema]))))
        admin.execute(sql.SQL("ALTER TABLE {} ENABLE ALWAYS TRIGGER bench_floor").format(table))


def bulk_update_sql(schema: str) -> sql.Composed:
    """(c)'s statement: every job of a bulk tenant gets a new title."""
    return sql.SQL("UPDATE {}.ats_jobposting SET title = title || '!'").format(sql.Identifier(schema))


def bulk_hand_written_sql(tenant_id: int) -> sql.Composed:
    """The set-based double write's catalog statement, after bulk_update_sql() on the double-write tenant."""
    return sql.SQL("UPDATE public.job_catalog c SET title = j.title, synced_at = now() "
                   "FROM {}.ats_jobposting j WHERE c.tenant_id = {} AND c.job_uuid = j.uuid"
                   ).format(sql.Identifier(BULK_SCHEMAS[DOUBLE]), sql.Literal(tenant_id))


def bulk_update(dsn: str, app: common.Conn, admin: common.Conn, ids: dict[str, int], rows: int, rounds: int,
                session: str, timeout: float) -> list[common.Result]:
    """(c): one UPDATE of every row of a bulk tenant, per variant.

    session 'warm': on the application connection that has just run (a) and (b)
    (a long-lived app connection: PL/pgSQL plans of the sync functions are
    cached, possibly as generic plans); 'fresh': a new connection per
    variant and round. Each statement runs with statement_timeout = `timeout`;
    a variant that hits it counts as `timeout` seconds (the ratio is then a
    lower bound).
    """
    timed_out: set[str] = set()

    def measure(name: str, statements: Callable[[common.Conn], None]) -> float:
        conn = app if session == "warm" else common.connect(dsn, role=common.APP_ROLE)
        try:
            seconds = common.timed_statement(conn, statements, timeout)
        finally:
            if conn is not app:
                conn.close()
        if seconds is None:
            timed_out.add(name)
            return timeout
        return seconds

    def sync(conn: common.Conn) -> None:
        conn.execute(bulk_update_sql(BULK_SCHEMAS[SYNC]))

    def double(conn: common.Conn) -> None:
        conn.execute(bulk_update_sql(BULK_SCHEMAS[DOUBLE]))
        cur = conn.execute(bulk_hand_written_sql(ids[DOUBLE]))
        assert cur.rowcount == rows, cur.rowcount

    def bare(conn: common.Conn) -> None:
        conn.execute(bulk_update_sql(BULK_SCHEMAS[BARE]))

    def cleanup() -> None:
        common.vacuum(admin, ["public.job_catalog"] + [f"{s}.ats_jobposting" for s in BULK_SCHEMAS.values()])
        admin.execute("CHECKPOINT")   # every variant starts with no dirty buffers to write back

    if session == "warm":
        # What a long-lived application connection has done before: single-row writes (untimed).
        for _ in range(20):
            app.execute(sql.SQL("UPDATE {0}.ats_jobposting SET title = title || '.' WHERE id = "
                                "(SELECT min(id) FROM {0}.ats_jobposting)").format(
                                    sql.Identifier(BULK_SCHEMAS[SYNC])))
            app.commit()

    def variant(name: str, statements: Callable[[common.Conn], None]) -> Callable[[int], float]:
        return lambda _round: measure(name, statements)

    samples = common.alternate({SYNC: variant(SYNC, sync), DOUBLE: variant(DOUBLE, double),
                                BARE: variant(BARE, bare)}, rounds, between=cleanup)
    label = f"(c) UPDATE {rows} rows, 1 stmt, {session} session"
    note = (f"{', '.join(sorted(timed_out))} hit the {timeout:g}s statement timeout (counted as "
            f"{timeout:g}s: the ratio is a lower bound)") if timed_out else ""
    return [
        common.paired_result(label, samples, SYNC, DOUBLE, common.Target("max_ratio", 1.3),
                             label="set-based double write", note=note),
        common.paired_result(label, samples, SYNC, BARE),
    ]


def check(admin: common.Conn, ids: dict[str, int]) -> None:
    """The synced tenants' catalog rows match their jobs (titles and counts): the run measured real syncs."""
    for schema in (SINGLE_ROW_SCHEMAS[SYNC], SINGLE_ROW_SCHEMAS[SYNC2], SINGLE_ROW_SCHEMAS[DOUBLE],
                   SINGLE_ROW_SCHEMAS[APP],
                   SINGLE_ROW_SCHEMAS[DOUBLE_ROW], SINGLE_ROW_SCHEMAS[MINIMAL], BULK_SCHEMAS[SYNC],
                   BULK_SCHEMAS[DOUBLE]):
        row = admin.execute(sql.SQL(
            "SELECT count(*) FILTER (WHERE c.job_uuid IS NULL), "
            "count(*) FILTER (WHERE c.title <> j.title::text) FROM {}.ats_jobposting j "
            "LEFT JOIN public.job_catalog c ON c.tenant_id = %s AND c.job_uuid = j.uuid "
            "WHERE j.status = 'open' AND j.published_on_career_page AND NOT j.is_internal_only"
        ).format(sql.Identifier(schema)), (ids[schema],)).fetchone()
        assert row is not None
        state = "ok" if row == (0, 0) else f"MISMATCH: {row[0]} missing, {row[1]} stale titles"
        common.progress(f"check {schema}: {state}")


if __name__ == "__main__":
    main()
