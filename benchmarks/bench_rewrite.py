"""A tenant migration that rewrites a job table, with `protect` on: what the re-sync adds.

With `catalog-sync protect`, an `ALTER TABLE ... ALTER COLUMN ... TYPE` that
rewrites a registered table, run by a role protect checks (the application
role here), is followed in the same statement by a re-sync of that tenant (a
backfill, from the rewritten rows). One tenant with --jobs jobs; the statement
rewrites a private column (`internal_notes`, as a Django AlterField of a
TextField to a CharField would), keeping every value (the seeded notes are
shorter than the 500 characters the cast keeps).

Variants, alternating rounds (order rotated each round, medians):

  protect: re-synced      protect on; the ALTER, timed (rewrite + re-sync in one statement);
  no protect: bare        protect off; the ALTER alone (the catalog is left as it was: what
                          the migration cost before protect followed rewrites, which refused it);
  no protect + backfill   protect off; the ALTER, then `backfill_tenant()` in a second
                          transaction (the installer route the docs gave before).

After each variant `verify` of the tenant must find nothing.

    python benchmarks/bench_rewrite.py [--dsn DSN] [--jobs 10000] [--rounds 5]
"""

from __future__ import annotations

import common
from psycopg import sql

from pyinstaller_tools import seed

SCHEMA = "tenant_rewrite"
RESYNCED, BARE, BACKFILLED = "protect: re-synced", "no protect: bare", "no protect + backfill"
BACKFILLED_AT = "SELECT last_backfill_at FROM catalog_sync.tenant WHERE tenant_id = %s"


def build(admin: common.Conn, dsn: str, jobs: int) -> int:
    """One attached, backfilled tenant with `jobs` jobs; returns its id."""
    seed.setup_app(admin)
    tenant_id, _ = seed.create_tenant(admin, "rewrite", "Rewrite Corp")   # schema tenant_rewrite
    seed.seed_categories(admin, SCHEMA, 5)
    seed.seed_jobs(admin, SCHEMA, jobs)
    common.install(dsn)
    common.attach(admin, [SCHEMA])
    admin.execute("SELECT catalog_sync.backfill_tenant(%s)", (tenant_id,))
    admin.execute("VACUUM ANALYZE")
    eligible = admin.execute("SELECT count(*) FROM public.job_catalog").fetchone()
    common.progress(f"{jobs} jobs, {eligible[0] if eligible else 0} in the catalog")
    return tenant_id


def measure(admin: common.Conn, app: common.Conn, tenant_id: int, rounds: int) -> dict[str, list[float]]:
    alter = sql.SQL("ALTER TABLE {}.ats_jobposting ALTER COLUMN internal_notes TYPE text "
                    "USING internal_notes::varchar(500)").format(sql.Identifier(SCHEMA))

    def protection(on: bool) -> None:
        admin.execute("SELECT catalog_sync.set_protection(%s)", (on,))

    def resynced(_round: int) -> float:
        protection(True)
        before = admin.execute(BACKFILLED_AT, (tenant_id,)).fetchone()
        seconds = common.timed(lambda: app.execute(alter))
        assert admin.execute(BACKFILLED_AT, (tenant_id,)).fetchone() != before, "the ALTER was not re-synced"
        return seconds

    def bare(_round: int) -> float:
        protection(False)
        return common.timed(lambda: app.execute(alter))

    def backfilled(_round: int) -> float:
        protection(False)
        return common.timed(lambda: (app.execute(alter),
                                     admin.execute("SELECT catalog_sync.backfill_tenant(%s)", (tenant_id,))))

    def check() -> None:
        findings = admin.execute("SELECT count(*) FROM catalog_sync.verify_tenant(%s)", (tenant_id,)).fetchone()
        assert findings == (0,), f"verify found {findings} problem(s)"
        admin.execute(sql.SQL("VACUUM {}.ats_jobposting, public.job_catalog").format(sql.Identifier(SCHEMA)))

    try:
        return common.alternate({RESYNCED: resynced, BARE: bare, BACKFILLED: backfilled}, rounds, between=check)
    finally:
        protection(False)


def main() -> None:
    parser = common.base_parser(__doc__ or "")
    parser.add_argument("--jobs", type=int, default=10_000, help="jobs of the tenant (default 10000)")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    args = parser.parse_args()

    with common.bench_database(args.dsn, "catalog_bench_rewrite", args.keep) as dsn, \
            common.connect(dsn, autocommit=True) as admin:
        common.progress(common.server_info(admin))
        tenant_id = build(admin, dsn, args.jobs)
        with common.connect(dsn, role=common.APP_ROLE, autocommit=True) as app:
            samples = measure(admin, app, tenant_id, args.rounds)

    common.print_table(
        f"A rewriting ALTER of a {args.jobs}-job table, {args.rounds} rounds; medians; ratio = median of "
        "the per-round ratios",
        [common.paired_result("ALTER ... TYPE (rewrite), protect on", samples, RESYNCED, BARE),
         common.paired_result("ALTER ... TYPE (rewrite), protect on", samples, RESYNCED, BACKFILLED)])


if __name__ == "__main__":
    main()
