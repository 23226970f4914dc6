"""Backfill of --jobs jobs spread over --tenants tenant schemas, against its baselines.

Variants, measured in the same run in alternating rounds (order rotated each
round, the catalog truncated before each variant, median reported):

  backfill       SELECT * FROM catalog_sync.backfill_tenant(id), one transaction per tenant
                 (what `catalog-sync backfill` runs);
  raw INSERT     one hand-written INSERT INTO public.job_catalog ... SELECT per schema, computing
                 the same columns (eligibility, salary rule, company, category,
                 catalog_sync.sanitize_html, catalog_sync.safe_url), one transaction per tenant;
  per-row loop   one INSERT ... SELECT ... WHERE j.id = <id> per source row, each its own
                 transaction (the signal/task style of the original app), SAMPLED: --sample
                 rows are timed and the time per row is extrapolated to all --jobs rows.

After each full variant the catalog is compared (row count and a hash of every
synced column) so both compute the same rows.

With --verify, the catalog is then filled by backfill_tenant() once more and
`catalog-sync verify` and `catalog-sync status` are timed over it, as a DBA
runs them (no target; printed against the median backfill).

    python benchmarks/bench_backfill.py [--dsn DSN] [--jobs 100000] [--tenants 100] [--rounds 2]
    python benchmarks/bench_backfill.py --jobs 1000000 --tenants 1000 --rounds 1    # the issue's size
    python benchmarks/bench_backfill.py --jobs 1000000 --tenants 1000 --rounds 1 --verify
"""

from __future__ import annotations

import contextlib
import io
import json
import time
from typing import Any

import common
from psycopg import sql

from pyinstaller_tools import cli, operations, seed

BACKFILL, RAW, LOOP = "backfill_tenant()", "raw INSERT ... SELECT", "per-row loop (sampled)"

HASH_SQL = sql.SQL("SELECT count(*), md5(string_agg(md5(row({cols})::text), '' ORDER BY tenant_id, "
                   "job_uuid)) FROM public.job_catalog").format(
    cols=sql.SQL(", ").join(sql.Identifier(c) for c in common.CATALOG_COLUMNS))


def main() -> None:
    parser = common.base_parser(__doc__ or "")
    parser.add_argument("--jobs", type=int, default=100_000, help="jobs in total (default 100000)")
    parser.add_argument("--tenants", type=int, default=100, help="tenant schemas (default 100)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds (default 2)")
    parser.add_argument("--sample", type=int, default=2000, help="rows timed in the per-row loop")
    parser.add_argument("--verify", action="store_true",
                        help="then time catalog-sync verify and status over the backfilled catalog")
    common.add_profile_option(parser)
    common.add_durable_option(parser)
    args = parser.parse_args()
    per_tenant = max(1, args.jobs // args.tenants)
    total_jobs = per_tenant * args.tenants

    with common.bench_database(args.dsn, "catalog_bench_backfill", args.keep,
                               common.cluster_settings(args)) as dsn:
        with common.connect(dsn, autocommit=True) as admin:
            common.progress(common.server_info(admin))
            seed.setup_app(admin)
            schemas = common.numbered("bf", args.tenants)
            common.progress(f"creating {args.tenants} tenant schemas with {per_tenant} jobs each")
            t0 = time.perf_counter()
            common.create_tenants(admin, schemas, workers=2)

            def fill(conn: common.Conn, schema: str) -> None:
                seed.seed_categories(conn, schema, 5)
                seed.seed_jobs(conn, schema, per_tenant)

            common.for_each_schema(dsn, schemas, fill, what="schemas seeded")
            common.progress(f"  {time.perf_counter() - t0:.1f}s")
            # Analyze before attach: an autoanalyze of a freshly loaded table can deadlock with attach
            # (see docs/benchmarks-log.md, Diagnosis).
            common.vacuum(admin, [f"{s}.{t}" for s in schemas for t in ("ats_jobposting", "ats_jobcategory")])
            common.progress("migrate, attach")
            common.install(dsn)
            operations.attach(admin, schemas, 200, common.progress)
            ids = common.tenant_ids(admin, schemas)
            eligible = sum(count_eligible(admin, s, ids[s]) for s in schemas)
            common.progress(f"{total_jobs} jobs ({eligible} eligible) in {args.tenants} schemas")

            raw = {s: common.catalog_insert_sql(common.catalog_select_sql(s, common.ELIGIBLE_SQL))
                   for s in schemas}
            sample = sample_rows(admin, schemas, args.sample)
            one_row = {s: common.catalog_insert_sql(common.catalog_select_sql(s, f"j.id = %(id)s AND "
                                                                                 f"{common.ELIGIBLE_SQL}"))
                       for s in {s for s, _ in sample}}
            hashes: dict[str, set[tuple[Any, ...]]] = {BACKFILL: set(), RAW: set()}

            def reset() -> None:
                admin.execute("TRUNCATE public.job_catalog")
                admin.execute("CHECKPOINT")

            def run_backfill(_r: int) -> float:
                reset()
                with common.connect(dsn) as conn:
                    start = time.perf_counter()
                    for s in schemas:
                        conn.execute("SELECT * FROM catalog_sync.backfill_tenant(%s)", (ids[s],))
                        conn.commit()
                    seconds = time.perf_counter() - start
                hashes[BACKFILL].add(tuple(admin.execute(HASH_SQL).fetchone() or ()))
                return seconds

            def run_raw(_r: int) -> float:
                reset()
                with common.connect(dsn) as conn:
                    start = time.perf_counter()
                    for s in schemas:
                        conn.execute(raw[s], {"tenant_id": ids[s]})
                        conn.commit()
                    seconds = time.perf_counter() - start
                hashes[RAW].add(tuple(admin.execute(HASH_SQL).fetchone() or ()))
                return seconds

            def run_loop(_r: int) -> float:
                reset()
                with common.connect(dsn, autocommit=True) as conn:
                    start = time.perf_counter()
                    for s, job_id in sample:
                        conn.execute(one_row[s], {"tenant_id": ids[s], "id": job_id})
                    seconds = time.perf_counter() - start
                return seconds / len(sample) * total_jobs

            common.progress(f"{args.rounds} rounds; the per-row loop times {len(sample)} rows, extrapolated")
            if args.profile:
                common.enable_profile(admin)
            samples = common.alternate({BACKFILL: run_backfill, RAW: run_raw, LOOP: run_loop}, args.rounds)
            if args.profile:
                common.print_profile(admin, "backfill, raw INSERT and per-row loop")
            timed_tools = time_verify_and_status(dsn, run_backfill) if args.verify else []

        same = len(hashes[BACKFILL] | hashes[RAW]) == 1
        common.progress(f"catalog after backfill vs raw INSERT: {'identical' if same else 'DIFFERENT'} "
                        f"({sorted(hashes[BACKFILL] | hashes[RAW])})")
        sync_s = common.median(samples[BACKFILL])
        label = f"backfill {total_jobs} jobs / {args.tenants} schemas"
        loop_s = common.median(samples[LOOP])
        common.print_table(
            f"Backfill of {total_jobs} jobs ({eligible} eligible) over {args.tenants} schemas, {args.rounds} "
            "rounds; medians; ratio = median of the per-round ratios", [
                common.paired_result(label, samples, BACKFILL, RAW, common.Target("max_ratio", 1.5),
                                     note="" if same else "the catalogs DIFFER"),
                common.paired_result(label, samples, BACKFILL, LOOP, common.Target("min_speedup", 50),
                                     note=f"per-row loop: {len(sample)} rows timed "
                                          f"({common.format_seconds(loop_s / total_jobs)} per row), "
                                          f"extrapolated to {total_jobs} rows"),
            ])
        print(f"throughput: backfill {total_jobs / sync_s:,.0f} jobs/s, "
              f"raw INSERT {total_jobs / common.median(samples[RAW]):,.0f} jobs/s")
        for command, seconds, outcome in timed_tools:
            print(f"catalog-sync {command}: {common.format_seconds(seconds)} ({seconds / sync_s:.2f}x the median "
                  f"backfill; {total_jobs / seconds:,.0f} jobs/s); {outcome}")


def time_verify_and_status(dsn: str, fill: Any) -> list[tuple[str, float, str]]:
    """The catalog as backfill writes it, then `catalog-sync verify --json` and `status --json`, each timed
    once through the CLI's own entry (what a DBA runs; the output parsed, not printed)."""
    fill(0)
    timed = []
    for command in ("verify", "status"):
        common.progress(f"catalog-sync {command}")
        out = io.StringIO()
        start = time.perf_counter()
        with contextlib.redirect_stdout(out):
            code = cli.main([command, "--json", "--dsn", dsn])
        seconds = time.perf_counter() - start
        report = json.loads(out.getvalue())
        outcome = (f"exit {code}, {len(report['findings'])} finding(s)" if command == "verify"
                   else f"exit {code}, {len(report)} tenant(s)")
        timed.append((command, seconds, outcome))
    return timed


def count_eligible(admin: common.Conn, schema: str, tenant_id: int) -> int:
    row = admin.execute(sql.SQL(
        "SELECT count(*) FROM {}.ats_jobposting j JOIN public.tenants_tenant t ON t.id = %s WHERE "
        + common.ELIGIBLE_SQL).format(sql.Identifier(schema)), (tenant_id,)).fetchone()
    return int(row[0]) if row else 0


def sample_rows(admin: common.Conn, schemas: list[str], count: int) -> list[tuple[str, int]]:
    """The first `count` source rows (all, eligible or not, as a loop over the jobs sees them)."""
    rows: list[tuple[str, int]] = []
    for s in schemas:
        ids = admin.execute(sql.SQL("SELECT id FROM {}.ats_jobposting ORDER BY id LIMIT %s").format(
            sql.Identifier(s)), (count - len(rows),)).fetchall()
        rows += [(s, int(r[0])) for r in ids]
        if len(rows) >= count:
            break
    return rows


if __name__ == "__main__":
    main()
