"""verify_tenant() of one tenant's --jobs jobs (rich HTML descriptions), as installed against the
verify_tenant() of a git revision (--baseline), installed next to it as verify_tenant_baseline().

Two tenants of --jobs jobs each, every job's description a generated rich-text
document (bench_sanitizer.py's corpus, 0.5 to 8 kB), attached and backfilled:

  clean      no drift;
  expired    --expired jobs whose deadline passed and which `expire` has not
             removed yet (orphans of their catalog rows), one job made private
             without its sync (a plain orphan), one catalog row tampered (stale)
             and one deleted (missing).

Each variant times `SELECT count(*) FROM catalog_sync.<function>(tenant)` on a
connection of its own (one untimed call first), in alternating rounds (order
rotated each round, median reported). Both functions' full output is compared
first: it must be identical.

    python benchmarks/bench_verify.py [--dsn DSN] [--jobs 5000] [--expired 5] [--rounds 7] [--baseline 006b0c5]

Where the baseline predates the expired lookup of the orphans' keys (006b0c5),
a job orphan made it project every job of the tenant a second time.
"""

from __future__ import annotations

import random
import subprocess
import time
from pathlib import Path

import bench_sanitizer
import common
from psycopg import sql

from pyinstaller_tools import seed

ROOT = Path(__file__).resolve().parent.parent
INSTALLED, BASELINE = "verify_tenant", "verify_tenant_baseline"


def baseline_sql(revision: str) -> str:
    """verify_tenant()'s file at `revision`, renamed verify_tenant_baseline()."""
    text = subprocess.run(["git", "-C", str(ROOT), "show", f"{revision}:db/functions/catalog_sync.verify_tenant.sql"],
                          capture_output=True, text=True, check=True).stdout
    renamed = text.replace("catalog_sync.verify_tenant(", f"catalog_sync.{BASELINE}(")
    assert renamed != text, "no verify_tenant() in the baseline's file"
    return renamed


def main() -> None:
    parser = common.base_parser(__doc__ or "")
    parser.add_argument("--jobs", type=int, default=5000, help="jobs per tenant (default 5000)")
    parser.add_argument("--expired", type=int, default=5, help="expired job orphans of the expired tenant (default 5)")
    parser.add_argument("--rounds", type=int, default=7, help="alternating rounds (default 7)")
    parser.add_argument("--baseline", default="006b0c5",
                        help="git revision whose verify_tenant() is the baseline (default 006b0c5)")
    args = parser.parse_args()
    baseline = baseline_sql(args.baseline)

    with common.bench_database(args.dsn, "catalog_bench_verify", args.keep) as dsn:
        with common.connect(dsn, autocommit=True) as admin:
            common.progress(common.server_info(admin))
            seed.setup_app(admin)
            schemas = ["tenant_verify_clean", "tenant_verify_expired"]
            common.progress(f"creating 2 tenants with {args.jobs} jobs each (rich HTML descriptions)")
            t0 = time.perf_counter()
            common.create_tenants(admin, schemas)
            rnd = random.Random(bench_sanitizer.SEED)
            html_bytes = 0
            for schema in schemas:
                seed.seed_categories(admin, schema, 5)
                seed.seed_jobs(admin, schema, args.jobs, public_share=1.0)
                ids = [r[0] for r in admin.execute(sql.SQL("SELECT id FROM {}.ats_jobposting ORDER BY id").format(
                    sql.Identifier(schema)))]
                docs = [bench_sanitizer.document(rnd) for _ in ids]
                html_bytes += sum(len(d.encode()) for d in docs)
                admin.execute(sql.SQL("UPDATE {}.ats_jobposting AS j SET description = d.doc "
                                      "FROM unnest(%s::bigint[], %s::text[]) AS d (id, doc) WHERE j.id = d.id"
                                      ).format(sql.Identifier(schema)), (ids, docs))
            common.vacuum(admin, [f"{s}.{t}" for s in schemas for t in ("ats_jobposting", "ats_jobcategory")])
            common.progress(f"  {time.perf_counter() - t0:.1f}s ({html_bytes / 1e6:.1f} MB of descriptions)")
            common.progress("migrate, attach, backfill")
            common.install(dsn)
            common.attach(admin, schemas)
            ids = common.tenant_ids(admin, schemas)
            for schema in schemas:
                admin.execute("SELECT * FROM catalog_sync.backfill_tenant(%s)", (ids[schema],))
            admin.execute(baseline)
            drifted = "tenant_verify_expired"
            ident = sql.Identifier(drifted)
            with admin.transaction():   # the deadline passes, a job is made private: no sync sees either
                admin.execute(sql.SQL("ALTER TABLE {}.ats_jobposting DISABLE TRIGGER catalog_sync_job_update").format(
                    ident))
                admin.execute(sql.SQL(
                    "UPDATE {s}.ats_jobposting SET application_deadline = CASE WHEN n <= %(expired)s "
                    "THEN now() - interval '1 minute' ELSE application_deadline END, "
                    "status = CASE WHEN n > %(expired)s THEN 'draft' ELSE status END "
                    "FROM (SELECT j.id, row_number() OVER (ORDER BY j.id) AS n FROM {s}.ats_jobposting AS j "
                    "      JOIN public.job_catalog AS c ON c.job_uuid = j.uuid) AS e "
                    "WHERE e.id = ats_jobposting.id AND e.n <= %(expired)s + 1").format(s=ident),
                    {"expired": args.expired})
                admin.execute(sql.SQL("ALTER TABLE {}.ats_jobposting ENABLE ALWAYS TRIGGER catalog_sync_job_update"
                                      ).format(ident))
            untouched = sql.SQL("SELECT job_uuid FROM public.job_catalog WHERE tenant_id = %s AND job_uuid NOT IN "
                                "(SELECT uuid FROM {}.ats_jobposting WHERE status = 'draft' "
                                " OR application_deadline IS NOT NULL) ORDER BY job_uuid").format(ident)
            admin.execute(sql.SQL("UPDATE public.job_catalog SET title = 'Tampered' WHERE job_uuid = ({} LIMIT 1)"
                                  ).format(untouched), (ids[drifted],))
            admin.execute(sql.SQL("DELETE FROM public.job_catalog WHERE job_uuid = ({} DESC LIMIT 1)"
                                  ).format(untouched), (ids[drifted],))
            admin.execute("VACUUM ANALYZE public.job_catalog")

            for schema in schemas:
                outputs = [admin.execute(sql.SQL("SELECT * FROM catalog_sync.{}(%s)").format(sql.Identifier(f)),
                                         (ids[schema],)).fetchall() for f in (INSTALLED, BASELINE)]
                assert outputs[0] == outputs[1], (schema, outputs)
                found: dict[str, int] = {}
                for row in outputs[0]:
                    found[row[0]] = found.get(row[0], 0) + 1
                common.progress(f"  {schema}: identical output of both, {found or 'clean'}")

        sessions = {f: common.connect(dsn, autocommit=True) for f in (INSTALLED, BASELINE)}
        try:
            results = []
            for schema, label in (("tenant_verify_clean", "clean"), ("tenant_verify_expired", "expired")):
                tenant = ids[schema]

                def run(function: str, tenant: int = tenant) -> float:
                    query = sql.SQL("SELECT count(*) FROM catalog_sync.{}(%s)").format(sql.Identifier(function))
                    return common.timed(lambda: sessions[function].execute(query, (tenant,)).fetchone())

                for function in sessions:
                    run(function)           # untimed: the session's plans and compiled functions
                common.progress(f"{label}: {args.rounds} alternating rounds")
                samples = common.alternate({f: (lambda _r, f=f: run(f)) for f in sessions}, args.rounds)
                note = "" if label == "clean" else f"{args.expired} expired, 1 orphan, 1 stale, 1 missing"
                results.append(common.paired_result(f"verify_tenant, {args.jobs} jobs, {label}", samples,
                                                    INSTALLED, BASELINE, label=f"at {args.baseline}", note=note))
        finally:
            for conn in sessions.values():
                conn.close()
        common.print_table(f"verify_tenant() against {args.baseline}'s (median of {args.rounds} rounds)", results)


if __name__ == "__main__":
    main()
