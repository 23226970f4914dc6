"""`catalog-sync attach --all` into --schemas empty tenant schemas: time and backend memory.

The schemas are created first from the contract DDL (registry row + schema, in
batches, two connections at once); that is timed separately and excluded. Then,
on one connection, exactly what `catalog-sync attach --all` runs:
operations.attachable_schemas, operations.preflight (contract check of every
schema) and operations.attach (catalog_sync.attach_schemas per chunk,
--chunk-size schemas per transaction). A second `attach --all` (everything
already installed: idempotent, changes nothing) is timed as well.

Memory of the attaching backend: /proc/<pid>/status sampled every 20 ms (local
server only: RssAnon = private memory, VmHWM = peak resident set including the
shared buffers it touched) and pg_backend_memory_contexts after every chunk.
The target "10,000 schemas under a minute" is shown pro rata (6 s per 1,000).

    python benchmarks/bench_attach.py [--dsn DSN] [--schemas 1000] [--chunk-size 200]
    python benchmarks/bench_attach.py --schemas 10000
    python benchmarks/bench_attach.py --jobs 2          # two attaching connections
    python benchmarks/bench_attach.py --stale-statistics   # as the first attach into a new database
"""

from __future__ import annotations

import time

import common

from pyinstaller_tools import operations, seed

MEMORY_SQL = ("SELECT sum(total_bytes), sum(total_bytes) FILTER (WHERE name = 'CacheMemoryContext') "
              "FROM pg_backend_memory_contexts")


def mb(kilobytes: float) -> str:
    return f"{kilobytes / 1024:.0f} MB"


def main() -> None:
    parser = common.base_parser(__doc__ or "")
    parser.add_argument("--schemas", type=int, default=1000, help="empty tenant schemas (default 1000)")
    parser.add_argument("--chunk-size", type=int, default=200, help="schemas per transaction (default 200)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="connections attaching chunks at once, as `attach --jobs` (default 1; memory is "
                             "then sampled on the listing connection only)")
    parser.add_argument("--stale-statistics", action="store_true",
                        help="the first attach into a new database: no VACUUM ANALYZE before it, and (in the "
                             "throwaway cluster) autovacuum off, so pg_trigger has no statistics and pg_proc's "
                             "predate the sync's functions")
    common.add_profile_option(parser)
    args = parser.parse_args()
    n = args.schemas
    settings = {"autovacuum": "off"} if args.stale_statistics else None

    with common.bench_database(args.dsn, "catalog_bench_attach", args.keep, settings) as dsn:
        with common.connect(dsn, autocommit=True) as admin:
            common.progress(common.server_info(admin))
            seed.setup_app(admin)
            common.progress(f"creating {n} empty tenant schemas from the contract DDL (not measured)")
            names = common.numbered("at", n)
            created_s = common.timed(lambda: common.create_tenants(admin, names, workers=2))
            common.progress(f"  {created_s:.1f}s ({created_s / n * 1e3:.1f} ms per schema)")
            common.install(dsn)
            if not args.stale_statistics:
                admin.execute("VACUUM ANALYZE")
            if args.profile:
                common.enable_profile(admin)

        # A fresh connection, as `catalog-sync attach --all` opens one.
        with common.connect(dsn, autocommit=True) as conn:
            pid = common.backend_pid(conn)
            # per chunk: seconds, memory contexts bytes (all, CacheMemoryContext), RssAnon kB
            chunks: list[tuple[float, int, int, int]] = []
            overhead = [0.0]
            start = [0.0]

            def on_chunk(message: str) -> None:
                t0 = time.perf_counter()
                row = conn.execute(MEMORY_SQL).fetchone()
                status = common.proc_status(pid) or {}
                assert row is not None
                chunks.append((t0 - start[0] - overhead[0], int(row[0]), int(row[1] or 0),
                               status.get("RssAnon", 0)))
                overhead[0] += time.perf_counter() - t0
                if len(chunks) % max(1, len(range(0, n, args.chunk_size)) // 10) == 0:
                    common.progress("  " + message)

            def attach_all() -> tuple[float, float, float, operations.AttachResult]:
                start[0] = time.perf_counter()
                schemas = operations.attachable_schemas(conn)
                listed = time.perf_counter()
                problems = operations.preflight(conn, schemas, jobs=args.jobs,
                                                connect=lambda: common.connect(dsn, autocommit=True))
                assert not problems, problems[:3]
                checked = time.perf_counter()
                result = operations.attach(conn, schemas, args.chunk_size, on_chunk, jobs=args.jobs,
                                           connect=lambda: common.connect(dsn, autocommit=True))
                done = time.perf_counter() - overhead[0]
                return listed - start[0], checked - listed, done - checked, result

            before = common.proc_status(pid)
            with common.MemorySampler(pid) as sampler:
                list_s, preflight_s, attach_s, result = attach_all()
            total_s = list_s + preflight_s + attach_s
            first_chunks = chunks[:]
            if args.profile:
                with common.connect(dsn, autocommit=True) as admin:
                    common.print_profile(admin, "first attach --all", [conn])
            common.progress(f"attach --all: {result.schemas} schemas, {result.changed} triggers, "
                            f"{total_s:.1f}s")
            chunks.clear()
            overhead[0] = 0.0
            list2, pre2, attach2, again = attach_all()
            total2 = list2 + pre2 + attach2
            common.progress(f"attach --all again: {again.changed} triggers changed, {total2:.1f}s")
            if args.profile:
                with common.connect(dsn, autocommit=True) as admin:
                    common.print_profile(admin, "second attach --all (no-op)", [conn])

        budget = 60.0 * n / 10_000
        target = common.Target("max_ratio", 1.0)
        common.print_table(f"attach --all into {n} empty schemas, chunks of {args.chunk_size}, "
                           f"{args.jobs} connection(s) (one run)", [
            common.Result(f"attach --all, {n} schemas", total_s, "budget 60 s per 10,000", budget, target,
                          note=f"listing {list_s:.2f}s + preflight {preflight_s:.2f}s + attach "
                               f"{attach_s:.2f}s ({attach_s / n * 1e3:.2f} ms per schema); schema creation "
                               f"{created_s:.1f}s excluded"),
            common.Result(f"attach --all again (no-op), {n}", total2, "budget 60 s per 10,000", budget, None,
                          note=f"listing {list2:.2f}s + preflight {pre2:.2f}s + attach {attach2:.2f}s"),
        ])
        print_memory(before, sampler, first_chunks, args.chunk_size, n)


def print_memory(before: dict[str, int] | None, sampler: common.MemorySampler,
                 chunks: list[tuple[float, int, int, int]], chunk_size: int, schemas: int) -> None:
    print("\nbackend memory during the first attach --all")
    if before and sampler.available:
        peak = sampler.peak
        print(f"  /proc: RssAnon {mb(before.get('RssAnon', 0))} before, peak {mb(peak.get('RssAnon', 0))}; "
              f"VmRSS peak {mb(peak.get('VmRSS', 0))}, VmHWM {mb(peak.get('VmHWM', 0))}")
    else:
        print("  /proc of the backend not readable (server not local): memory contexts only")
    if not chunks:
        return
    print(f"  {'schemas':>8} {'seconds':>8} {'contexts':>9} {'cache ctx':>9} {'RssAnon':>8}")
    step = max(1, len(chunks) // 10)
    for i, (seconds, total, cache, rss) in enumerate(chunks):
        if i % step == 0 or i == len(chunks) - 1:
            print(f"  {min(schemas, (i + 1) * chunk_size):>8} {seconds:>8.1f} {total / 2**20:>7.0f}MB "
                  f"{cache / 2**20:>7.0f}MB {rss / 1024:>6.0f}MB")
    first, last = chunks[0], chunks[-1]
    if len(chunks) > 1:
        growth = round((last[1] - first[1]) / ((len(chunks) - 1) * chunk_size) * 1000 / 2**20, 1) + 0.0
        print(f"  memory-context growth after the first chunk: {growth:.1f} MB per 1,000 schemas "
              f"({'bounded' if growth < 1 else 'grows with the number of schemas'})")


if __name__ == "__main__":
    main()
