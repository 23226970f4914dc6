"""Where the bulk UPDATE (bench_writes.py, scenario (c)) spends its time, part by part.

Runs on a database kept by `bench_writes.py --keep` (its bulk tenants): the
sync's 100,000-row UPDATE and the set-based double write, alternating, each
in a new session as the application role, VACUUM and CHECKPOINT after each.
The parts are the nested statements' durations logged by auto_explain with
log_analyze off: no per-node timing, which under EXPLAIN ANALYZE inflated the
change detection's sorts (docs/benchmarks-log.md, Diagnosis, twelfth session).
Prints the median of each part. A diagnosis tool, not a verdict: the ratio is
bench_writes.py's.

    python benchmarks/bench_writes.py --scenarios c --bulk-rounds 1 --keep
    python benchmarks/bulk_parts.py --dsn 'host=127.0.0.1 port=PORT user=postgres dbname=catalog_bench_writes'
"""

from __future__ import annotations

import argparse
import contextlib
import re

import bench_writes
import common
from psycopg import sql

# The nested statements worth naming, by how their text starts (each part is
# the sum of the matching statements of one run that took over 50 ms). A
# large UPDATE is applied in batches (apply_in_batches()): one reader and one
# MERGE per batch, summed. The reader is job_sources()'s dynamic read (its
# static registry read starts with a line break, and is short).
PARTS = {
    "change detection": "v_changes := ARRAY(",
    "reader": "WITH contract AS MATERIALIZED (SELECT",
    "apply statement": "MERGE INTO public.job_catalog",
    "hand-written catalog UPDATE": "UPDATE public.job_catalog c",
}
# The parts each variant must show (a missing one means PARTS went stale).
EXPECTED = {bench_writes.SYNC: {"change detection", "reader", "apply statement"},
            bench_writes.DOUBLE: {"hand-written catalog UPDATE"}}
DURATION = re.compile(r"duration: ([\d.]+) ms")
AUTO_EXPLAIN = ["LOAD 'auto_explain'", "SET auto_explain.log_min_duration = 0",
                "SET auto_explain.log_analyze = off", "SET auto_explain.log_nested_statements = on",
                "SET auto_explain.log_level = 'NOTICE'", "SET client_min_messages = notice"]


def run(dsn: str, statements: list[sql.Composable], admin: common.Conn, tables: list[str]) -> dict[str, float]:
    """Seconds of the whole transaction and of each part, for one run of `statements`."""
    notices: list[str] = []
    conn = common.connect(dsn)
    try:
        conn.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
        for setting in AUTO_EXPLAIN:     # LOAD needs the superuser: before the role switch
            conn.execute(setting)
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(common.APP_ROLE)))
        conn.commit()
        notices.clear()

        def transaction() -> None:
            for statement in statements:
                conn.execute(statement)
            conn.commit()

        parts = {"whole": common.timed(transaction)}
    finally:
        conn.close()
    for notice in notices:
        duration = DURATION.search(notice)
        text = notice.split("Query Text:", 1)[-1].lstrip()
        for part, start in PARTS.items():
            if duration and text.startswith(start) and float(duration.group(1)) > 50:
                parts[part] = parts.get(part, 0.0) + float(duration.group(1)) / 1000
    common.vacuum(admin, tables)
    admin.execute("CHECKPOINT")
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", required=True, help="superuser DSN of the database bench_writes.py --keep left")
    parser.add_argument("--rounds", type=int, default=6, help="alternating rounds (default 6)")
    args = parser.parse_args()

    sync_schema = bench_writes.BULK_SCHEMAS[bench_writes.SYNC]
    double_schema = bench_writes.BULK_SCHEMAS[bench_writes.DOUBLE]
    with common.connect(args.dsn, autocommit=True) as admin:
        tenant = common.tenant_ids(admin, [double_schema])[double_schema]
        variants = {bench_writes.SYNC: [bench_writes.bulk_update_sql(sync_schema)],
                    bench_writes.DOUBLE: [bench_writes.bulk_update_sql(double_schema),
                                          bench_writes.bulk_hand_written_sql(tenant)]}
        tables = ["public.job_catalog", f"{sync_schema}.ats_jobposting", f"{double_schema}.ats_jobposting"]
        samples: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
        for r in range(args.rounds):
            for name in list(variants)[r % 2:] + list(variants)[:r % 2]:
                samples[name].append(run(args.dsn, variants[name], admin, tables))
            common.progress(f"round {r + 1}/{args.rounds}: " + ", ".join(
                f"{name} {common.format_seconds(s[-1]['whole'])}" for name, s in samples.items()))
    # Nested durations include what they call (the apply statement its reader,
    # through the inlined projection); the derived lines subtract per run, then
    # take the median.
    derived = {
        "tenant UPDATE and the rest, derived (whole - change detection - apply statement)":
            lambda s: s["whole"] - s["change detection"] - s["apply statement"],
        "apply without the reader, derived": lambda s: s["apply statement"] - s["reader"],
        "tenant UPDATE, derived (whole - hand-written catalog UPDATE)":
            lambda s: s["whole"] - s["hand-written catalog UPDATE"],
    }
    for name, runs in samples.items():
        print(f"{name} (medians of {len(runs)} runs; nested durations include what they call):")
        for part in ["whole", *PARTS]:
            values = [s[part] for s in runs if part in s]
            if values:
                print(f"  {part:<68} {common.format_seconds(common.median(values))}")
            elif part in EXPECTED[name]:
                # A statement renamed in db/ leaves its part empty: say so, not nothing.
                print(f"  {part:<68} no statement matched {PARTS[part]!r}: update PARTS")
        for part, value in derived.items():
            with contextlib.suppress(KeyError):        # not a part of this variant
                print(f"  {part:<68} {common.format_seconds(common.median([value(s) for s in runs]))}")


if __name__ == "__main__":
    main()
