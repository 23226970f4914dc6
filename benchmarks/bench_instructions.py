"""Instructions per single-row UPDATE, counted by valgrind: the server's work, without the noise of time.

On a shared machine the wall time of a single-row write drifts by 10 % or more
between runs, more than most changes of the sync's code move it; the number of
instructions the server executes for it does not (about 0.5 % between runs).
So a change of the trigger path can be judged here first, and timed with
bench_writes.py after.

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
                connection: each write plans the sync's read of the tenant again).

Each variant runs twice in a single-user backend under valgrind's callgrind
(the cluster stopped): --warmup writes, then --warmup + --ops writes. The
difference, divided by --ops, is one write in a warm session: compilation,
planning and the backend's start and end cancel out.

Server-side work only: the client's round trips, which the double write pays
twice and the sync once, are not in these counts, and an instruction is not a
fixed time (a cache miss, a system call). The issue's targets are judged on
bench_writes.py's times.

    python benchmarks/bench_instructions.py [--ops 300] [--warmup 100] [--existing 1000]

Needs valgrind (apt-get install valgrind). Its own throwaway cluster: single-user
mode needs the server stopped, so there is no --dsn.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

import bench_writes
import common
from psycopg import sql

from pyinstaller_tools.cluster import LocalCluster

DATABASE = "catalog_bench_instructions"
SWITCH_SCHEMAS = (bench_writes.SINGLE_ROW_SCHEMAS[bench_writes.SYNC],
                  bench_writes.SINGLE_ROW_SCHEMAS[bench_writes.SYNC2])
# variant -> (procedure, schema whose jobs it updates); the switch updates both of SWITCH_SCHEMAS.
# The procedure's name without "update_" is the variant's name for --variants.
VARIANTS = {
    bench_writes.SYNC: ("update_sync", bench_writes.SINGLE_ROW_SCHEMAS[bench_writes.SYNC]),
    bench_writes.DOUBLE: ("update_double", bench_writes.SINGLE_ROW_SCHEMAS[bench_writes.DOUBLE]),
    bench_writes.MINIMAL: ("update_minimal", bench_writes.SINGLE_ROW_SCHEMAS[bench_writes.MINIMAL]),
    bench_writes.EMPTY: ("update_empty", bench_writes.SINGLE_ROW_SCHEMAS[bench_writes.EMPTY]),
    bench_writes.BARE: ("update_bare", bench_writes.SINGLE_ROW_SCHEMAS[bench_writes.BARE]),
    bench_writes.SWITCH: ("update_switch", SWITCH_SCHEMAS[0]),
}


def job_update(schema: str, ids: str) -> str:
    """One job's new title (a new value at every write, and in every run: p_salt)."""
    return (f'UPDATE "{schema}".ats_jobposting '
            f"SET title = 'T ' || p_salt || i, updated_at = now() WHERE id = {ids}[1 + i % cardinality({ids})];")


def loop_procedure(name: str, schema: str, tenant_id: int) -> str:
    """A procedure that runs p_n writes of the variant, each its own transaction (static SQL: planned once)."""
    eligible = ("SELECT array_agg(id ORDER BY id), array_agg(uuid ORDER BY id) "
                "FROM (SELECT id, uuid FROM {}.ats_jobposting WHERE status = 'open' AND published_on_career_page "
                "AND NOT is_internal_only ORDER BY id LIMIT 200) AS s")
    write = job_update(schema, "v_ids")
    if name == "update_double":
        write += ("\n        UPDATE public.job_catalog SET title = 'T ' || p_salt || i, synced_at = now() "
                  f"WHERE tenant_id = {tenant_id} AND job_uuid = v_uuids[1 + i % cardinality(v_ids)];")
    elif name == "update_switch":
        write = (f"IF i % 2 = 0 THEN\n            {job_update(schema, 'v_ids')}\n        ELSE\n"
                 f"            {job_update(SWITCH_SCHEMAS[1], 'v_ids2')}\n        END IF;")
    return f"""
CREATE PROCEDURE bench_instructions.{name}(p_n integer, p_salt text)
LANGUAGE plpgsql AS $$
DECLARE
    v_ids   bigint[];
    v_uuids uuid[];
    v_ids2  bigint[];
    v_uuids2 uuid[];
BEGIN
    {eligible.format(f'"{schema}"')} INTO v_ids, v_uuids;
    {eligible.format(f'"{SWITCH_SCHEMAS[1]}"')} INTO v_ids2, v_uuids2;
    COMMIT;
    FOR i IN 1 .. p_n LOOP
        {write}
        COMMIT;
    END LOOP;
END
$$"""


def prepare(dsn: str, existing: int, apply: list[Path]) -> None:
    with common.connect(dsn, autocommit=True) as admin:
        common.progress(common.server_info(admin))
        ids = bench_writes.build(admin, dsn, existing, rows=10)
        for path in apply:          # a variant of the sync's SQL to count instead of the installed one
            common.progress(f"applying {path}")
            admin.execute(path.read_text())  # type: ignore[arg-type]
        admin.execute("CREATE SCHEMA bench_instructions")
        admin.execute(sql.SQL("GRANT USAGE ON SCHEMA bench_instructions TO {}").format(
            sql.Identifier(common.APP_ROLE)))
        for name, schema in VARIANTS.values():
            admin.execute(loop_procedure(name, schema, ids[schema]))  # type: ignore[arg-type]
        admin.execute("CHECKPOINT")


def count(cluster: LocalCluster, procedure: str, writes: int, salt: str, keep: bool) -> int:
    """Instructions of a single-user backend that runs `writes` writes of the procedure, start to exit."""
    out = cluster.base_dir / f"callgrind.{procedure}.{salt}"
    script = (f"SET ROLE {common.APP_ROLE};\n"
              f"CALL bench_instructions.{procedure}({writes}, '{salt}');\n")
    settings = [arg for key, value in cluster.settings.items() for arg in ("-c", f"{key}={value}")]
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
           str(cluster.bindir / "postgres"), "--single", "-D", str(cluster.data_dir), *settings, DATABASE]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    result = subprocess.run(cmd, input=script, capture_output=True, text=True, check=False,
                            cwd=cluster.base_dir)
    if result.returncode != 0 or "ERROR:" in result.stdout + result.stderr:
        raise RuntimeError(f"{procedure}: the single-user backend failed:\n{result.stdout}\n{result.stderr}")
    for line in out.read_text().splitlines():
        if line.startswith(("summary:", "totals:")):
            if not keep:
                out.unlink()
            return int(line.split()[1])
    raise RuntimeError(f"{procedure}: no instruction total in {out}")


def per_write(cluster: LocalCluster, procedure: str, warmup: int, ops: int, keep: bool) -> float:
    first = count(cluster, procedure, warmup, "a", keep)
    second = count(cluster, procedure, warmup + ops, "b", keep)
    return (second - first) / ops


def print_counts(counts: dict[str, float], ops: int) -> None:
    sync, double = counts[bench_writes.SYNC], counts[bench_writes.DOUBLE]
    bare = counts[bench_writes.BARE]
    rows = [(name, f"{value / 1e6:.3f} M", f"{value / double:.2f}x", f"{(value - bare) / 1e6:.3f} M")
            for name, value in counts.items()]
    common.print_grid(f"Instructions per single-row UPDATE (server side, {ops} writes per variant, valgrind "
                      "callgrind)", ("variant", "instructions per UPDATE", "vs double write", "beyond the bare UPDATE"),
                      rows)
    notes = [f"the sync's work beyond the double write's: {(sync - double) / 1e6:.3f} M per UPDATE"]
    if bench_writes.MINIMAL in counts:
        notes.append(f"sync vs minimal trigger {sync / counts[bench_writes.MINIMAL]:.2f}x")
    if bench_writes.SWITCH in counts:
        notes.append(f"2 tenants in turn vs one tenant {counts[bench_writes.SWITCH] / sync:.2f}x")
    print("; ".join(notes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ops", type=int, default=300, help="counted writes per variant (default 300)")
    parser.add_argument("--warmup", type=int, default=100,
                        help="writes of the shorter run, which the longer one repeats (default 100)")
    parser.add_argument("--existing", type=int, default=1000,
                        help="jobs in each tenant before the run (default 1000)")
    parser.add_argument("--variants", default="sync,double,minimal,empty,bare,switch",
                        help="which variants to count (default: all; the table needs sync, double and bare)")
    parser.add_argument("--apply", type=Path, action="append", default=[], metavar="FILE",
                        help="SQL run as the superuser after the install (repeatable): count a changed "
                             "function, e.g. a file of db/functions/ edited")
    parser.add_argument("--keep", action="store_true",
                        help="keep the stopped cluster and valgrind's profiles (callgrind_annotate FILE)")
    args = parser.parse_args()
    if args.ops < 1 or args.warmup < 1:
        parser.error("--ops and --warmup must be at least 1")
    chosen = {name: v for name, v in VARIANTS.items() if v[0].removeprefix("update_") in args.variants.split(",")}
    if not chosen:
        parser.error(f"--variants: none of {args.variants!r}; choose from sync,double,minimal,empty,bare,switch")
    for path in args.apply:
        if not path.is_file():
            parser.error(f"--apply {path}: no such file")
    if shutil.which("valgrind") is None:
        sys.exit("bench_instructions.py: valgrind not found; install it (apt-get install -y valgrind)")

    cluster = LocalCluster().start()
    try:
        common.progress(f"started a throwaway cluster (data in {cluster.base_dir})")
        admin_dsn = cluster.dsn()
        with common.connect(admin_dsn, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE)))
        prepare(cluster.dsn(DATABASE), args.existing, args.apply)
        cluster.stop(remove=False)          # single-user mode: the server must be down
        counts: dict[str, float] = {}
        for name, (procedure, _schema) in chosen.items():
            common.progress(f"{name}: {args.warmup} and {args.warmup + args.ops} writes under callgrind")
            counts[name] = per_write(cluster, procedure, args.warmup, args.ops, args.keep)
            common.progress(f"{name}: {counts[name] / 1e6:.3f} M instructions per UPDATE")
        if {bench_writes.SYNC, bench_writes.DOUBLE, bench_writes.BARE} <= counts.keys():
            print_counts(counts, args.ops)
    finally:
        cluster.stop(remove=not args.keep)
        if args.keep:
            common.progress(f"kept the stopped cluster and the profiles (callgrind.<procedure>.a, .b) in "
                            f"{cluster.base_dir}")


if __name__ == "__main__":
    main()
