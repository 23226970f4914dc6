"""Instructions per single-row UPDATE, counted by valgrind: the server's work, without the noise of time.

On a shared machine the wall time of a single-row write drifts by 10 % or more
between runs, more than most changes of the sync's code move it; the number of
instructions the server executes for it does not (0.2 % between runs on fresh
clusters). So a change of the trigger path can be judged here first, and
timed with bench_writes.py after.

The same tenants as bench_writes.py (b) (its build()), each write its own
transaction, in a server-side loop (a procedure that COMMITs after each
UPDATE, run as the application role): no client, no network. Variants:

  sync          the attached schema: UPDATE of a job's title, the triggers sync;
  double write  triggers detached; the job's UPDATE and the catalog's title UPDATE;
  minimal trigger, empty trigger
                the floor of the design (see bench_writes.py);
  no sync       never attached: the bare UPDATE;
  sync, 2 tenants in turn
                the sync's UPDATE on two attached tenants in turn (a pooled
                connection: each write plans the sync's read of the tenant again);
  sync, INSERT and no sync, INSERT (only with --variants insert,insert_bare)
                an INSERT of a job (a copy of an eligible one, new uuid, slug
                and reference code) instead of the UPDATE.

Each variant runs twice in a single-user backend under valgrind's callgrind
(the cluster stopped): --warmup writes, then --warmup + --ops writes, every
title new. The difference, divided by --ops, is one write in a warm session:
compiling, planning and the backend's start cancel out (its exit does not
quite: the shutdown checkpoint writes the pages the longer run dirtied).

What is counted is the work inside the statements (executor, triggers,
commit), not the per-statement work of a client's statement (protocol
messages, the top-level statement and its own COMMIT), which the double
write pays once more per write than the sync; nor is an instruction a fixed
time. The issue's targets are judged on bench_writes.py.

    python benchmarks/bench_instructions.py [--ops 300] [--warmup 100] [--existing 1000]
    python benchmarks/bench_instructions.py --variants sync --apply changed_function.sql

Needs valgrind (apt-get install valgrind). Its own throwaway cluster: single-user
mode needs the server stopped, so there is no --dsn.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import bench_writes
import common
from psycopg import sql

from pyinstaller_tools.cluster import LocalCluster

DATABASE = "catalog_bench_instructions"
SCHEMAS = bench_writes.SINGLE_ROW_SCHEMAS


@dataclass(frozen=True)
class Variant:
    name: str               # as bench_writes.py names it
    key: str                # for --variants, and the procedure update_<key>
    schemas: tuple[str, ...]  # the tenants whose jobs it updates, in turn
    catalog_write: bool = False   # the double write's own catalog UPDATE
    insert: bool = False    # an INSERT of a job (a copy of an eligible one) instead of the title's UPDATE


VARIANTS = (
    Variant(bench_writes.SYNC, "sync", (SCHEMAS[bench_writes.SYNC],)),
    Variant(bench_writes.DOUBLE, "double", (SCHEMAS[bench_writes.DOUBLE],), catalog_write=True),
    Variant(bench_writes.MINIMAL, "minimal", (SCHEMAS[bench_writes.MINIMAL],)),
    Variant(bench_writes.EMPTY, "empty", (SCHEMAS[bench_writes.EMPTY],)),
    Variant(bench_writes.BARE, "bare", (SCHEMAS[bench_writes.BARE],)),
    Variant(bench_writes.SWITCH, "switch", (SCHEMAS[bench_writes.SYNC], SCHEMAS[bench_writes.SYNC2])),
    # not counted by default (--variants insert,insert_bare): no ratio to the double write's UPDATE
    Variant(f"{bench_writes.SYNC}, INSERT", "insert", (SCHEMAS[bench_writes.SYNC],), insert=True),
    Variant(f"{bench_writes.BARE}, INSERT", "insert_bare", (SCHEMAS[bench_writes.BARE],), insert=True),
)
DEFAULT_VARIANTS = "sync,double,minimal,empty,bare,switch"


def loop_procedure(variant: Variant, tenant_id: int) -> sql.Composed:
    """update_<key>(p_n, p_salt): p_n writes of the variant, each its own transaction.

    Static SQL, so planned once per backend; the jobs are the schema's first 200
    eligible ones, in turn, and every title is new ('T' || p_salt || i: p_salt
    differs between the two runs of a variant)."""
    declare, load, writes = [], [], []
    for n, schema in enumerate(variant.schemas):
        ids, uuids = sql.Identifier(f"v_ids{n}"), sql.Identifier(f"v_uuids{n}")
        pick = sql.SQL("1 + i % cardinality({})").format(ids)
        declare.append(sql.SQL("{} bigint[]; {} uuid[];").format(ids, uuids))
        load.append(sql.SQL(
            "SELECT array_agg(id ORDER BY id), array_agg(uuid ORDER BY id) INTO {ids}, {uuids} "
            "FROM (SELECT id, uuid FROM {table} WHERE status = 'open' AND published_on_career_page "
            "AND NOT is_internal_only ORDER BY id LIMIT 200) AS s; "
            "IF {ids} IS NULL THEN RAISE EXCEPTION 'no eligible job in %', {schema}; END IF;").format(
                ids=ids, uuids=uuids, table=sql.Identifier(schema, "ats_jobposting"), schema=sql.Literal(schema)))
        write = sql.SQL("UPDATE {} SET title = 'T' || p_salt || i, updated_at = now() WHERE id = {}[{}];").format(
            sql.Identifier(schema, "ats_jobposting"), ids, pick)
        if variant.insert:   # a copy of an eligible job, under a new uuid, slug and reference code
            copied = {"uuid": sql.SQL("pg_catalog.gen_random_uuid()"), "slug": sql.SQL("slug || p_salt || i"),
                      "reference_code": sql.SQL("reference_code || p_salt || i")}
            write = sql.SQL("INSERT INTO {0} ({1}) SELECT {2} FROM {0} WHERE id = {3}[{4}];").format(
                sql.Identifier(schema, "ats_jobposting"), sql.SQL(", ").join(map(sql.Identifier, common.JOB_COLUMNS)),
                sql.SQL(", ").join(copied.get(c, sql.Identifier(c)) for c in common.JOB_COLUMNS), ids, pick)
        if variant.catalog_write:
            write += sql.SQL(" UPDATE public.job_catalog SET title = 'T' || p_salt || i, synced_at = now() "
                             "WHERE tenant_id = {} AND job_uuid = {}[{}];").format(sql.Literal(tenant_id), uuids, pick)
        writes.append(write)
    if len(writes) == 1:
        body = writes[0]
    else:   # the tenants in turn
        body = sql.SQL("CASE i % {} ").format(sql.Literal(len(writes))) + sql.SQL(" ").join(
            sql.SQL("WHEN {} THEN {}").format(sql.Literal(n), w) for n, w in enumerate(writes)) + sql.SQL(" END CASE;")
    return sql.SQL(
        "CREATE PROCEDURE bench_instructions.{name}(p_n integer, p_salt text) LANGUAGE plpgsql AS $$ "
        "DECLARE {declare} BEGIN {load} COMMIT; FOR i IN 1 .. p_n LOOP {body} COMMIT; END LOOP; END $$").format(
            name=sql.Identifier(f"update_{variant.key}"), declare=sql.SQL(" ").join(declare),
            load=sql.SQL(" ").join(load), body=body)


def prepare(dsn: str, existing: int, variants: list[Variant], apply: list[Path]) -> None:
    with common.connect(dsn, autocommit=True) as admin:
        common.progress(common.server_info(admin))
        ids = bench_writes.build(admin, dsn, existing, rows=10)
        for path in apply:          # a variant of the sync's SQL to count instead of the installed one
            common.progress(f"applying {path}")
            admin.execute(path.read_text())  # type: ignore[arg-type]
        admin.execute("CREATE SCHEMA bench_instructions")
        admin.execute(sql.SQL("GRANT USAGE ON SCHEMA bench_instructions TO {}").format(
            sql.Identifier(common.APP_ROLE)))
        for variant in variants:
            admin.execute(loop_procedure(variant, ids[variant.schemas[0]]))
        # Statistics for every table, whatever autovacuum reached during the build (the contract
        # check's plan depends on catalog_sync.contract_column's), and the build's pages written.
        admin.execute("ANALYZE")
        admin.execute("CHECKPOINT")


def single_user(cluster: LocalCluster, script: str, valgrind: list[str]) -> None:
    """Run `script` in a single-user backend of the stopped cluster (as postgres when root)."""
    settings = [arg for key, value in cluster.settings.items() for arg in ("-c", f"{key}={value}")]
    cmd = [*valgrind, str(cluster.bindir / "postgres"), "--single", "-D", str(cluster.data_dir), *settings, DATABASE]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    # A session of its own: a Ctrl-C reaches this script only, which then stops the whole group
    # (runuser, valgrind, the backend) and waits for it, so that nothing holds the data folder.
    # SIGTERM first: runuser passes it on and reaps the backend (killed at once, the backend
    # would be left to a PID 1 that may never reap it).
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=cluster.base_dir, start_new_session=True)
    try:
        out, err = proc.communicate(script)
    except BaseException:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        raise
    # A single-user backend exits 0 after an ERROR: look for one.
    if proc.returncode != 0 or "ERROR:" in out + err:
        raise RuntimeError(f"the single-user backend failed:\n{out}\n{err}")


def call_script(variant: Variant, writes: int, salt: str) -> str:
    return (f"SET ROLE {common.APP_ROLE};\n"
            f"CALL bench_instructions.update_{variant.key}({writes}, '{salt}');\n")


def count(cluster: LocalCluster, variant: Variant, writes: int, salt: str, keep: bool) -> int:
    """Instructions of a single-user backend that runs `writes` writes of the variant, start to exit."""
    out = cluster.base_dir / f"callgrind.update_{variant.key}.{salt}"
    single_user(cluster, call_script(variant, writes, salt),
                ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"])
    lines = out.read_text().splitlines()
    if not keep:
        out.unlink()
    for prefix in ("totals:", "summary:"):      # the same number (no client requests)
        for line in lines:
            if line.startswith(prefix):
                return int(line.split()[1])
    raise RuntimeError(f"{variant.key}: no instruction total in {out}")


def per_write(cluster: LocalCluster, variant: Variant, warmup: int, ops: int, keep: bool) -> float:
    first = count(cluster, variant, warmup, "a", keep)
    second = count(cluster, variant, warmup + ops, "b", keep)
    return (second - first) / ops


def print_counts(counts: dict[str, float], ops: int) -> None:
    double, bare = counts.get(bench_writes.DOUBLE), counts.get(bench_writes.BARE)
    header = ["variant", "instructions per write"]
    header += ["vs double write"] if double else []
    header += ["beyond the bare UPDATE"] if bare else []
    rows = []
    for name, value in counts.items():
        update = not name.endswith("INSERT")    # the ratios are to the UPDATEs
        row = [name, f"{value / 1e6:.3f} M"]
        row += [f"{value / double:.2f}x" if update else "-"] if double else []
        row += [f"{(value - bare) / 1e6:.3f} M" if update else "-"] if bare else []
        rows.append(row)
    common.print_grid(f"Instructions per single-row write (inside the statements, {ops} writes per variant, "
                      "valgrind callgrind)", header, rows)
    sync = counts.get(bench_writes.SYNC)
    notes = []
    if sync and double:
        notes.append(f"the sync's work beyond the double write's: {(sync - double) / 1e6:.3f} M per UPDATE")
    if sync and bench_writes.MINIMAL in counts:
        notes.append(f"sync vs minimal trigger {sync / counts[bench_writes.MINIMAL]:.2f}x")
    if sync and bench_writes.SWITCH in counts:
        notes.append(f"2 tenants in turn vs one tenant {counts[bench_writes.SWITCH] / sync:.2f}x")
    if notes:
        print("; ".join(notes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ops", type=int, default=300, help="counted writes per variant (default 300)")
    parser.add_argument("--warmup", type=int, default=100,
                        help="writes of the shorter run, which the longer one repeats (default 100)")
    parser.add_argument("--existing", type=int, default=1000,
                        help="jobs in each tenant before the run (default 1000)")
    keys = ",".join(v.key for v in VARIANTS)
    parser.add_argument("--variants", default=DEFAULT_VARIANTS,
                        help=f"which variants to count, of {keys} (default {DEFAULT_VARIANTS})")
    parser.add_argument("--apply", type=Path, action="append", default=[], metavar="FILE",
                        help="SQL run as the superuser after the install (repeatable): count a changed "
                             "function, e.g. a file of db/functions/ edited (for a generated function, "
                             "apply its generator's file, then the file that calls the generator)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the stopped cluster and valgrind's profiles (callgrind_annotate FILE)")
    args = parser.parse_args()
    if args.ops < 1 or args.warmup < 1 or args.existing < 1:
        parser.error("--ops, --warmup and --existing must be at least 1")
    wanted = [key.strip() for key in args.variants.split(",") if key.strip()]
    unknown = sorted(set(wanted) - {v.key for v in VARIANTS})
    if unknown or not wanted:
        parser.error(f"--variants: unknown {', '.join(unknown) or '(none given)'}; choose from {keys}")
    variants = [v for v in VARIANTS if v.key in wanted]
    for path in args.apply:
        if not path.is_file():
            parser.error(f"--apply {path}: no such file")
    if shutil.which("valgrind") is None:
        sys.exit("bench_instructions.py: valgrind not found; install it (apt-get install -y valgrind)")

    cluster = LocalCluster().start()
    server_up = True
    try:
        common.progress(f"started a throwaway cluster (data in {cluster.base_dir})")
        with common.connect(cluster.dsn(), autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
        prepare(cluster.dsn(DATABASE), args.existing, variants, args.apply)
        cluster.stop(remove=False)          # single-user mode: the server must be down
        server_up = False
        # One uncounted backend first: what the first backend after the build does once (the
        # relation cache's init files, hint bits of the new catalog rows) is in no count.
        single_user(cluster, "".join(call_script(v, 5, "w") for v in variants), [])
        counts: dict[str, float] = {}
        for variant in variants:
            common.progress(f"{variant.name}: {args.warmup} and {args.warmup + args.ops} writes under callgrind")
            counts[variant.name] = per_write(cluster, variant, args.warmup, args.ops, args.keep)
            common.progress(f"{variant.name}: {counts[variant.name] / 1e6:.3f} M instructions per write")
        print_counts(counts, args.ops)
    finally:
        if server_up:
            cluster.stop(remove=not args.keep)
        elif not args.keep:
            shutil.rmtree(cluster.base_dir, ignore_errors=True)
        if args.keep:
            common.progress(f"kept the stopped cluster and the profiles (callgrind.update_<variant>.a, .b) in "
                            f"{cluster.base_dir}")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("bench_instructions.py: interrupted")
