"""Single-row job UPDATEs on a connection whose first job write was a bulk UPDATE.

The sync's change detection is planned once per session, and its plan is kept;
when that plan asked for JIT (a bulk statement's estimate), every later
single-row UPDATE on the connection compiled again (docs/architecture.md, "No
JIT in the sync"). This script measures that hazard against the installed
functions and, in the same run, against the same functions with JIT allowed
again (`ALTER FUNCTION catalog_sync.on_job_change() SET jit = on`, what the
code did before the fix), alternating the two:

  1. a new application connection runs --ops single-row UPDATEs (median);
  2. another new one runs one UPDATE of all --rows jobs of the tenant (its
     first job write: the plan it makes is the one the session keeps),
  3. then --ops single-row UPDATEs (median).

    python benchmarks/bench_after_bulk.py [--dsn DSN] [--rows 100000] [--ops 50] [--rounds 2]
"""

from __future__ import annotations

import statistics
import time

import common
from psycopg import sql

from pyinstaller_tools import seed

SCHEMA = "tenant_after_bulk"
VARIANTS = {"sync as installed (jit off)": "off", "sync with JIT allowed (before the fix)": "on"}


def build(admin: common.Conn, dsn: str, rows: int) -> None:
    """One attached, backfilled tenant whose `rows` jobs are all eligible."""
    seed.setup_app(admin)
    common.create_tenants(admin, [SCHEMA])
    seed.seed_categories(admin, SCHEMA, 5)
    common.progress(f"seeding {rows} jobs")
    seed.seed_jobs(admin, SCHEMA, rows)
    common.make_all_eligible(admin, SCHEMA)
    common.vacuum(admin, [f"{SCHEMA}.ats_jobposting"])
    common.progress("migrate, attach, backfill")
    common.install(dsn)
    common.attach(admin, [SCHEMA])
    admin.execute("SELECT * FROM catalog_sync.backfill_tenant(%s)", (common.tenant_ids(admin, [SCHEMA])[SCHEMA],))
    common.vacuum(admin, ["public.job_catalog", f"{SCHEMA}.ats_jobposting"])


def single_rows(app: common.Conn, ops: int) -> float:
    """Median seconds of `ops` single-row title UPDATEs, one transaction each."""
    ids = [r[0] for r in app.execute(sql.SQL("SELECT id FROM {}.ats_jobposting ORDER BY random() LIMIT %s")
                                     .format(sql.Identifier(SCHEMA)), (ops,))]
    app.commit()
    update = sql.SQL("UPDATE {}.ats_jobposting SET title = title || '.', updated_at = now() WHERE id = %s"
                     ).format(sql.Identifier(SCHEMA))
    samples = []
    for job_id in ids:
        start = time.perf_counter()
        app.execute(update, (job_id,))
        app.commit()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = common.base_parser(__doc__ or "")
    parser.add_argument("--rows", type=int, default=100_000, help="jobs of the tenant (default 100000)")
    parser.add_argument("--ops", type=int, default=50, help="single-row UPDATEs before and after (default 50)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds (default 2)")
    args = parser.parse_args()

    with (common.bench_database(args.dsn, "catalog_bench_after_bulk", args.keep) as dsn,
          common.connect(dsn, autocommit=True) as admin):
        common.progress(common.server_info(admin))
        build(admin, dsn, args.rows)
        bulk = sql.SQL("UPDATE {}.ats_jobposting SET title = title || '!'").format(sql.Identifier(SCHEMA))
        before: dict[str, list[float]] = {name: [] for name in VARIANTS}
        after: dict[str, list[float]] = {name: [] for name in VARIANTS}
        try:
            for r in range(args.rounds):
                names = list(VARIANTS) if r % 2 == 0 else list(reversed(VARIANTS))
                for name in names:
                    admin.execute(sql.SQL("ALTER FUNCTION catalog_sync.on_job_change() SET jit = {}")
                                  .format(sql.Literal(VARIANTS[name])))
                    with common.connect(dsn, role=common.APP_ROLE) as app:
                        before[name].append(single_rows(app, args.ops))
                    with common.connect(dsn, role=common.APP_ROLE) as app:
                        bulk_s = common.timed(lambda: (app.execute(bulk), app.commit()))
                        after[name].append(single_rows(app, args.ops))
                    common.progress(f"  round {r + 1}/{args.rounds} {name}: single-row "
                                    f"{common.format_seconds(before[name][-1])}, bulk "
                                    f"{common.format_seconds(bulk_s)}, single-row after it "
                                    f"{common.format_seconds(after[name][-1])}")
                    common.vacuum(admin, ["public.job_catalog", f"{SCHEMA}.ats_jobposting"])
        finally:
            admin.execute("ALTER FUNCTION catalog_sync.on_job_change() SET jit = off")
    print(f"Single-row job UPDATE on a new connection, and on one whose first write was a {args.rows}-row UPDATE "
          f"({args.ops} per measurement, median over {args.rounds} rounds)")
    print(f"{'variant':<42}{'new conn':>12}{'after bulk':>12}{'ratio':>10}")
    for name in VARIANTS:
        b, a = statistics.median(before[name]), statistics.median(after[name])
        print(f"{name:<42}{common.format_seconds(b):>12}{common.format_seconds(a):>12}{a / b:>9.1f}x")


if __name__ == "__main__":
    main()
