"""Backend memory of one connection that writes jobs for many tenants in turn.

A pooled django-tenants connection serves one tenant after another, and a
PostgreSQL backend keeps what it compiled and cached for each of them until it
exits: the relation cache entries of every table it touched (any application
pays these) and, with the sync, a compiled copy of the trigger function for
each trigger that fired (PL/pgSQL compiles a trigger function per trigger),
with the plans of the statements that copy ran. This script measures that
growth per tenant against the same writes on tenants that were never attached
(what the bare writes cost):

  for each variant a new connection writes for --tenants tenants in turn, the
  statements of --ops on one row of --table of each (each its own transaction), and
  reads its backend's memory (pg_backend_memory_contexts, total bytes) after
  the first tenant and after the last.

    python benchmarks/bench_session_memory.py [--dsn DSN] [--tenants 200] [--ops insert,update,delete]
                                              [--table jobs|services]

The figures depend on the server build and the schema, not on timing: one run
is enough.
"""

from __future__ import annotations

import argparse

import common
from psycopg import sql

from pyinstaller_tools import seed

VARIANTS = {"sync": "mem_sync", "no sync": "mem_bare"}

# One statement per operation on one row of the table: a copy of row 1 inserted (a new job or
# service), row 1's title updated, then the copy deleted (row 2 without --ops insert).
TABLES = {
    "jobs": ("ats_jobposting", '{"id": 1000001, "uuid": "00000000-0000-4000-8000-000000000001", '
                               '"reference_code": "MEMORY-COPY"}'),
    "services": ("services_service", '{"id": 1000001, "uuid": "00000000-0000-4000-8000-000000000001"}'),
}
STATEMENTS = {
    "insert": "INSERT INTO {t} SELECT (pg_catalog.jsonb_populate_record(NULL::{t}, "
              "pg_catalog.to_jsonb(r) || {copy}::jsonb)).* FROM {t} AS r WHERE r.id = 1",
    "update": "UPDATE {t} SET title = title || '!', updated_at = now() WHERE id = 1",
    "delete": "DELETE FROM {t} WHERE id = {victim}",
}


def operations(value: str) -> list[str]:
    ops = [op.strip() for op in value.split(",") if op.strip()]
    unknown = sorted(set(ops) - set(STATEMENTS))
    if not ops or unknown:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of {', '.join(STATEMENTS)}")
    return [op for op in STATEMENTS if op in ops]       # in the order that keeps each statement valid


def build(admin: common.Conn, dsn: str, tenants: int) -> dict[str, list[str]]:
    """`tenants` attached schemas and `tenants` never attached ones, 10 eligible jobs and 6
    eligible services (2 providers) each."""
    seed.setup_app(admin)
    common.install(dsn)
    schemas = {name: common.create_tenants(admin, common.numbered(prefix, tenants), batch=20)
               for name, prefix in VARIANTS.items()}

    def fill(conn: common.Conn, schema: str) -> None:
        seed.seed_categories(conn, schema, 5)
        seed.seed_jobs(conn, schema, 10)
        common.make_all_eligible(conn, schema)
        seed.seed_marketplace(conn, schema, providers=2, flip_services=3, other_services=3)

    common.progress(f"seeding {2 * tenants} schemas")
    common.for_each_schema(dsn, schemas["sync"] + schemas["no sync"], fill)
    common.progress("attach and backfill the sync's schemas")
    common.attach(admin, schemas["sync"])
    for tenant_id in common.tenant_ids(admin, schemas["sync"]).values():
        admin.execute("SELECT catalog_sync.backfill_tenant(%s)", (tenant_id,))
    return schemas


def by_kind(conn: common.Conn) -> dict[str, int]:
    """This backend's memory: total bytes per memory context name."""
    rows = conn.execute("SELECT name, sum(total_bytes) FROM pg_backend_memory_contexts GROUP BY name").fetchall()
    return {str(r[0]): int(r[1]) for r in rows}


def run(dsn: str, schemas: list[str], table: str, ops: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """A new connection writes for every schema in turn: its memory after the first and after the last."""
    name, copy = TABLES[table]
    victim = sql.Literal(1000001 if "insert" in ops else 2)
    with common.connect(dsn, autocommit=True) as conn:     # a superuser, to read its own memory contexts
        first: dict[str, int] = {}
        for i, schema in enumerate(schemas):
            target = sql.Identifier(schema, name)
            conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(common.APP_ROLE)))
            for op in ops:
                conn.execute(sql.SQL(STATEMENTS[op]).format(t=target, victim=victim, copy=sql.Literal(copy)))
            conn.execute("RESET ROLE")
            if i == 0:
                first = by_kind(conn)
        return first, by_kind(conn)


def main() -> None:
    parser = common.base_parser(__doc__ or "")
    parser.add_argument("--tenants", type=int, default=200, help="tenants per variant (default 200)")
    parser.add_argument("--ops", type=operations, default=operations("insert,update,delete"),
                        help="statements per tenant, any of insert,update,delete (default all three)")
    parser.add_argument("--table", choices=sorted(TABLES), default="jobs",
                        help="the table written: jobs (ats_jobposting) or services (services_service)")
    args = parser.parse_args()
    if args.tenants < 2:
        parser.error("--tenants must be at least 2")

    with (common.bench_database(args.dsn, "catalog_bench_session_memory", args.keep) as dsn,
          common.connect(dsn, autocommit=True) as admin):
        common.progress(common.server_info(admin))
        schemas = build(admin, dsn, args.tenants)
        grown: dict[str, dict[str, int]] = {}
        totals: dict[str, tuple[int, int]] = {}
        for name in VARIANTS:
            common.progress(f"{name}: one connection writes {args.table} for {args.tenants} tenants "
                            f"({', '.join(args.ops)})")
            first, last = run(dsn, schemas[name], args.table, args.ops)
            totals[name] = (sum(first.values()), sum(last.values()))
            grown[name] = {kind: last.get(kind, 0) - first.get(kind, 0) for kind in last}

    per_tenant = {name: (last - first) / (args.tenants - 1) for name, (first, last) in totals.items()}
    print(f"Backend memory of one connection writing for {args.tenants} tenants in turn "
          f"({', '.join(args.ops)} of one row of {TABLES[args.table][0]} each)")
    print(f"{'variant':<10} {'after 1st tenant':>17} {'after last':>12} {'per tenant':>12} {'vs no sync':>11}")
    for name, (first, last) in totals.items():
        ratio = per_tenant[name] / per_tenant["no sync"] if per_tenant["no sync"] > 0 else float("nan")
        print(f"{name:<10} {first / 1e6:>14.1f} MB {last / 1e6:>9.1f} MB {per_tenant[name] / 1e3:>9.0f} kB "
              f"{ratio:>10.2f}x")
    print("\nGrowth per tenant by memory context (sync; the largest):")
    for kind, grew in sorted(grown["sync"].items(), key=lambda kv: -kv[1])[:8]:
        bare = grown["no sync"].get(kind, 0)
        print(f"  {kind:<24} {grew / (args.tenants - 1) / 1e3:>8.0f} kB   (no sync: "
              f"{bare / (args.tenants - 1) / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
