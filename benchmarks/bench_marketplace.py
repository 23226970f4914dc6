"""Write overhead of the marketplace sync (provider_catalog, service_catalog), against the same
writes without sync, both measured in the same run.

Scenarios (issue 3), every variant measured in the same run, in alternating
rounds (order rotated each round), median of the rounds reported:

  (a) provider edit: UPDATE display_name (and updated_at) of one provider, one transaction each;
  (b) M2M edit, the statements Django issues: provider.categories.add(c) = one INSERT into
      services_serviceprovider_categories, provider.categories.remove(c) = one DELETE of it,
      one transaction each;
  (c) one UPDATE statement over every service of a tenant (--services, default 50,000):
      SET title = title || '!', on a new connection ("fresh") and on the application
      connection that has just made the single-row writes of (a), (b), (d) ("warm");
  (d) provider eligibility flip: marketplace_enabled false, then true, of a provider with
      --flip-services services (default 100), one transaction each;
  (e) service created, then deleted (Service.objects.create(), service.delete()): one INSERT
      of an eligible service, one DELETE of it, one transaction each.

Variants, each on its own tenant schema with the same data:

  sync      attached (catalog_sync.attach_schema) and backfilled: the triggers keep the catalogs;
  no sync   never attached: the same statement, nothing else.

Tenants: a small one per variant with --providers providers (default 200), each linked to 3
service categories (M2M) and 5 skills (services_providerskill), the flip provider with
--flip-services services and every other provider with 2; a bulk one per variant with
--services services over the same number of providers. Every provider and service is eligible.
Tenant writes run as the application role (zumodra_app).

    python benchmarks/bench_marketplace.py [--dsn DSN] [--providers 200] [--services 50000]
        [--ops 400] [--rounds 10] [--flips 100] [--bulk-rounds 3]
"""

from __future__ import annotations

import time
from collections.abc import Callable

import common
from psycopg import sql

from pyinstaller_tools import seed

SYNC, BARE = "sync (triggers)", "no sync"
SMALL = {SYNC: "tenant_m_sync", BARE: "tenant_m_bare"}
BULK = {SYNC: "tenant_mb_sync", BARE: "tenant_mb_bare"}


# --------------------------------------------------------------------------- data

class Tenant:
    """Ids of a small tenant: the flip provider, the others, and a category each of them lacks."""

    def __init__(self, admin: common.Conn, schema: str, tenant_id: int) -> None:
        self.schema = schema
        self.tenant_id = tenant_id
        s = sql.Identifier(schema)
        rows = admin.execute(sql.SQL(
            "SELECT p.id, (SELECT id FROM {0}.services_servicecategory ORDER BY id OFFSET p.id % 9 + 3 LIMIT 1) "
            "FROM {0}.services_serviceprovider p ORDER BY p.id").format(s)).fetchall()
        self.flip_id = int(rows[0][0])
        # (provider id, a category it is not linked to) for every provider but the flip one
        self.others = [(int(r[0]), int(r[1])) for r in rows[1:]]
        self.edit = sql.SQL("UPDATE {}.services_serviceprovider SET display_name = %s, updated_at = now() "
                            "WHERE id = %s").format(s)
        self.add = sql.SQL("INSERT INTO {}.services_serviceprovider_categories (serviceprovider_id, "
                           "servicecategory_id) VALUES (%s, %s)").format(s)
        self.remove = sql.SQL("DELETE FROM {}.services_serviceprovider_categories WHERE serviceprovider_id = %s "
                              "AND servicecategory_id IN (%s)").format(s)
        self.flip = sql.SQL("UPDATE {}.services_serviceprovider SET marketplace_enabled = %s, "
                            "updated_at = now() WHERE id = %s").format(s)
        self.create_service = sql.SQL(
            "INSERT INTO {0}.services_service (uuid, title, slug, short_description, description, pricing_type, "
            "price_min, price_max, currency, delivery_time_days, revisions_included, tags, thumbnail_url, "
            "is_active, is_public, is_featured, published_at, internal_cost, private_notes, created_at, "
            "updated_at, category_id, provider_id) "
            "VALUES (gen_random_uuid(), %s, %s, 'A short pitch', %s, 'fixed', 100.00, 250.00, 'EUR', 7, 2, "
            "'[\"design\"]', 'https://cdn.example/thumb/new.png', true, true, false, now(), 42.00, "
            "'private notes', now(), now(), %s, %s) RETURNING id").format(s)
        self.delete_service = sql.SQL("DELETE FROM {}.services_service WHERE id = %s").format(s)


def build(admin: common.Conn, dsn: str, providers: int, flip_services: int, services: int) -> dict[str, int]:
    seed.setup_app(admin)
    schemas = [*SMALL.values(), *BULK.values()]
    common.create_tenants(admin, schemas)
    common.progress(f"seeding {providers} providers per tenant; {flip_services} services on the flip provider, "
                    f"{services} services per bulk tenant")
    for schema in SMALL.values():
        seed.seed_marketplace(admin, schema, providers, flip_services, 2)
    for schema in BULK.values():
        seed.seed_marketplace(admin, schema, providers, 0, 0, total_services=services)
    tables = [f"{s}.{t}" for s in schemas for t in (
        "services_serviceprovider", "services_serviceprovider_categories", "services_providerskill",
        "services_service", "services_servicecategory", "services_skill")]
    common.vacuum(admin, tables)        # analyze before attach (autoanalyze vs attach)
    common.progress("migrate, attach and backfill the sync schemas (the no-sync ones stay unattached)")
    common.install(dsn)
    synced = [SMALL[SYNC], BULK[SYNC]]
    common.attach(admin, synced)
    ids = common.tenant_ids(admin, schemas)
    for schema in synced:
        for row in admin.execute("SELECT * FROM catalog_sync.backfill_tenant(%s)", (ids[schema],)).fetchall():
            common.progress(f"  backfill {schema}: {row}")
    common.vacuum(admin, ["public.provider_catalog", "public.service_catalog", *tables])
    return ids


# --------------------------------------------------------------------------- timing

Ops = dict[str, Callable[[int], None]]


def per_op_rounds(ops: Ops, per_round: int, rounds: int, warmup: int = 20) -> dict[str, list[float]]:
    return common.per_op_rounds(ops, per_round, rounds, warmup)


def paired_ops(first: Ops, second: Ops, per_round: int, rounds: int) -> tuple[dict[str, list[float]],
                                                                                 dict[str, list[float]]]:
    """Two operations that undo each other (add/remove, disable/enable): per round and variant,
    `per_round` pairs, each operation timed on its own, the second right after the first (so that
    each one changes something: a second disable of the same provider would be a no-op)."""
    samples_first: dict[str, list[float]] = {name: [] for name in first}
    samples_second: dict[str, list[float]] = {name: [] for name in first}
    counters = dict.fromkeys(first, 0)

    def run(name: str) -> float:
        start = counters[name]
        counters[name] += per_round
        spent_first = spent_second = 0.0
        for n in range(start, start + per_round):
            t0 = time.perf_counter()
            first[name](n)
            t1 = time.perf_counter()
            second[name](n)
            spent_first += t1 - t0
            spent_second += time.perf_counter() - t1
        samples_first[name].append(spent_first / per_round)
        samples_second[name].append(spent_second / per_round)
        return spent_first + spent_second

    for name in first:                  # warm-up, untimed
        run(name)
        samples_first[name].clear()
        samples_second[name].clear()
    common.alternate({name: (lambda _r, name=name: run(name)) for name in first}, rounds)
    return samples_first, samples_second


def provider_edit_ops(conn: common.Conn, tenants: dict[str, Tenant]) -> Ops:
    def op(name: str) -> Callable[[int], None]:
        t = tenants[name]

        def edit(n: int) -> None:
            pid, _ = t.others[n % len(t.others)]
            conn.execute(t.edit, (f"Provider {pid} v{n}", pid))
            conn.commit()
        return edit
    return {name: op(name) for name in tenants}


def m2m_ops(conn: common.Conn, tenants: dict[str, Tenant]) -> tuple[Ops, Ops]:
    def make(name: str, add: bool) -> Callable[[int], None]:
        t = tenants[name]

        def run(n: int) -> None:
            pid, cat = t.others[n % len(t.others)]
            conn.execute(t.add if add else t.remove, (pid, cat))
            conn.commit()
        return run
    return ({name: make(name, True) for name in tenants}, {name: make(name, False) for name in tenants})


def flip_ops(conn: common.Conn, tenants: dict[str, Tenant]) -> tuple[Ops, Ops]:
    def make(name: str, enabled: bool) -> Callable[[int], None]:
        t = tenants[name]

        def run(_n: int) -> None:
            conn.execute(t.flip, (enabled, t.flip_id))
            conn.commit()
        return run
    return ({name: make(name, False) for name in tenants}, {name: make(name, True) for name in tenants})


def service_ops(conn: common.Conn, tenants: dict[str, Tenant]) -> tuple[Ops, Ops]:
    created: dict[str, int] = {}

    def create(name: str) -> Callable[[int], None]:
        t = tenants[name]

        def run(n: int) -> None:
            pid, cat = t.others[n % len(t.others)]
            row = conn.execute(t.create_service, (f"Service new {n}", f"service-new-{n}", seed.SERVICE_HTML,
                                                  cat, pid)).fetchone()
            conn.commit()
            assert row is not None
            created[name] = int(row[0])
        return run

    def delete(name: str) -> Callable[[int], None]:
        t = tenants[name]

        def run(_n: int) -> None:
            conn.execute(t.delete_service, (created.pop(name),))
            conn.commit()
        return run
    return ({name: create(name) for name in tenants}, {name: delete(name) for name in tenants})


def bulk_update(dsn: str, app: common.Conn, admin: common.Conn, rows: int, rounds: int, session: str,
                timeout: float) -> list[common.Result]:
    """(c): one UPDATE of every service of a bulk tenant, per variant; VACUUM (untimed) after each."""
    timed_out: set[str] = set()

    def update(schema: str) -> sql.Composed:
        return sql.SQL("UPDATE {}.services_service SET title = title || '!'").format(sql.Identifier(schema))

    def measure(name: str) -> float:
        conn = app if session == "warm" else common.connect(dsn, role=common.APP_ROLE)
        def run(c: common.Conn) -> None:
            cur = c.execute(update(BULK[name]))
            assert cur.rowcount == rows, cur.rowcount

        try:
            seconds = common.timed_statement(conn, run, timeout)
        finally:
            if conn is not app:
                conn.close()
        if seconds is None:
            timed_out.add(name)
            return timeout
        return seconds

    if session == "warm":
        # What a long-lived application connection does besides: single-row service writes (untimed).
        for _ in range(20):
            for schema in BULK.values():
                app.execute(sql.SQL("UPDATE {0}.services_service SET title = title || '.', updated_at = now() "
                                    "WHERE id = (SELECT min(id) FROM {0}.services_service)").format(
                                        sql.Identifier(schema)))
                app.commit()

    def cleanup() -> None:
        common.vacuum(admin, ["public.service_catalog", *(f"{s}.services_service" for s in BULK.values())])

    samples = common.alternate({name: (lambda _r, name=name: measure(name)) for name in BULK}, rounds,
                               between=cleanup)
    note = (f"{', '.join(sorted(timed_out))} hit the {timeout:g}s statement timeout (counted as {timeout:g}s)"
            if timed_out else "")
    return [common.paired_result(f"(c) UPDATE {rows} services, 1 stmt, {session} session", samples, SYNC, BARE,
                                 note=note)]


# --------------------------------------------------------------------------- main

def check(admin: common.Conn, ids: dict[str, int]) -> None:
    """The synced tenants' catalogs match their sources: the run measured real syncs."""
    small, bulk = sql.Identifier(SMALL[SYNC]), sql.Identifier(BULK[SYNC])
    row = admin.execute(sql.SQL(
        "SELECT count(*) FILTER (WHERE c.provider_uuid IS NULL), "
        "count(*) FILTER (WHERE c.display_name <> p.display_name::text "
        "OR jsonb_array_length(c.category_slugs) <> (SELECT count(*) FROM {0}.services_serviceprovider_categories "
        "l WHERE l.serviceprovider_id = p.id)) "
        "FROM {0}.services_serviceprovider p LEFT JOIN public.provider_catalog c "
        "ON c.tenant_id = %s AND c.provider_uuid = p.uuid").format(small), (ids[SMALL[SYNC]],)).fetchone()
    common.progress(f"check providers of {SMALL[SYNC]}: "
                    f"{'ok' if row == (0, 0) else f'MISMATCH: {row[0]} missing, {row[1]} stale'}")  # type: ignore[index]
    for schema, ident in ((SMALL[SYNC], small), (BULK[SYNC], bulk)):
        row = admin.execute(sql.SQL(
            "SELECT count(*) FILTER (WHERE c.service_uuid IS NULL), "
            "count(*) FILTER (WHERE c.title <> s.title::text) FROM {}.services_service s "
            "LEFT JOIN public.service_catalog c ON c.tenant_id = %s AND c.service_uuid = s.uuid").format(ident),
            (ids[schema],)).fetchone()
        common.progress(f"check services of {schema}: "
                        f"{'ok' if row == (0, 0) else f'MISMATCH: {row[0]} missing, {row[1]} stale'}")  # type: ignore[index]


def main() -> None:
    parser = common.base_parser(__doc__ or "")
    parser.add_argument("--providers", type=int, default=200, help="providers per tenant (default 200)")
    parser.add_argument("--services", type=int, default=50_000, help="services of the bulk tenant (default 50000)")
    parser.add_argument("--flip-services", type=int, default=100,
                        help="services of the provider whose eligibility flips (default 100)")
    parser.add_argument("--ops", type=int, default=400,
                        help="provider edits, M2M add/remove and service create/delete pairs per variant")
    parser.add_argument("--flips", type=int, default=100, help="disable/enable pairs per variant (default 100)")
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds of (a), (b), (d)")
    parser.add_argument("--bulk-rounds", type=int, default=3, help="alternating rounds of (c), per session")
    parser.add_argument("--bulk-session", choices=("fresh", "warm", "both"), default="both")
    parser.add_argument("--bulk-timeout", type=float, default=300, help="statement_timeout of (c), seconds")
    parser.add_argument("--scenarios", default="abcde", help="which of a, b, c, d, e to run (default abcde)")
    common.add_profile_option(parser)
    args = parser.parse_args()
    per_round = max(1, args.ops // args.rounds)
    if per_round > args.providers - 1:
        parser.error("--ops / --rounds must not exceed --providers - 1 (one M2M add per provider and round)")
    flips_per_round = max(1, args.flips // args.rounds)

    with common.bench_database(args.dsn, "catalog_bench_marketplace", args.keep) as dsn:
        with common.connect(dsn, autocommit=True) as admin:
            common.progress(common.server_info(admin))
            ids = build(admin, dsn, args.providers, args.flip_services, args.services)
            if args.profile:
                common.enable_profile(admin)
            tenants = {name: Tenant(admin, schema, ids[schema]) for name, schema in SMALL.items()}
            results: list[common.Result] = []
            small_tables = [f"{s}.{t}" for s in SMALL.values() for t in (
                "services_serviceprovider", "services_serviceprovider_categories", "services_service")]
            with common.connect(dsn, role=common.APP_ROLE) as app:
                if "a" in args.scenarios:
                    common.progress(f"(a) provider edit: {per_round * args.rounds} per variant, {args.rounds} rounds")
                    samples = per_op_rounds(provider_edit_ops(app, tenants), per_round, args.rounds)
                    results.append(common.paired_result("(a) provider edit, 1 row/txn", samples, SYNC, BARE))
                    if args.profile:
                        common.print_profile(admin, "(a) provider edit", [app])
                    common.vacuum(admin, ["public.provider_catalog", "public.service_catalog", *small_tables])
                if "b" in args.scenarios:
                    common.progress(f"(b) M2M add/remove: {per_round * args.rounds} pairs per variant")
                    added, removed = paired_ops(*m2m_ops(app, tenants), per_round, args.rounds)
                    results.append(common.paired_result("(b) M2M add() 1 INSERT/txn", added, SYNC, BARE))
                    results.append(common.paired_result("(b) M2M remove() 1 DELETE/txn", removed, SYNC, BARE))
                    if args.profile:
                        common.print_profile(admin, "(b) M2M add/remove", [app])
                    common.vacuum(admin, ["public.provider_catalog", "public.service_catalog", *small_tables])
                if "d" in args.scenarios:
                    common.progress(f"(d) eligibility flip of a provider with {args.flip_services} services: "
                                    f"{flips_per_round * args.rounds} pairs per variant")
                    off, on = paired_ops(*flip_ops(app, tenants), flips_per_round, args.rounds)
                    label = f"(d) flip, {args.flip_services} services"
                    results.append(common.paired_result(f"{label}: disable", off, SYNC, BARE))
                    results.append(common.paired_result(f"{label}: enable", on, SYNC, BARE))
                    if args.profile:
                        common.print_profile(admin, "(d) eligibility flip", [app])
                    common.vacuum(admin, ["public.provider_catalog", "public.service_catalog", *small_tables])
                if "e" in args.scenarios:
                    common.progress(f"(e) service create/delete: {per_round * args.rounds} pairs per variant")
                    made, gone = paired_ops(*service_ops(app, tenants), per_round, args.rounds)
                    results.append(common.paired_result("(e) service create, 1 INSERT/txn", made, SYNC, BARE))
                    results.append(common.paired_result("(e) service delete, 1 DELETE/txn", gone, SYNC, BARE))
                    if args.profile:
                        common.print_profile(admin, "(e) service create/delete", [app])
                    common.vacuum(admin, ["public.provider_catalog", "public.service_catalog", *small_tables])
                sessions = ("fresh", "warm") if args.bulk_session == "both" else (args.bulk_session,)
                for session in sessions if "c" in args.scenarios else ():
                    common.progress(f"(c) one UPDATE of {args.services} services, {session} session, "
                                    f"{args.bulk_rounds} rounds")
                    results += bulk_update(dsn, app, admin, args.services, args.bulk_rounds, session,
                                           args.bulk_timeout)
                    if args.profile:
                        common.print_profile(admin, f"(c) bulk UPDATE, {session} session", [app])
            check(admin, ids)
            common.progress(common.server_info(admin))
        common.print_table(
            f"Marketplace writes, sync vs the same statement without sync. (a), (b), (d): time per "
            f"operation, {args.rounds} rounds; (c): time per statement, {args.bulk_rounds} rounds; "
            f"medians; ratio = median of the per-round ratios", results)


if __name__ == "__main__":
    main()
