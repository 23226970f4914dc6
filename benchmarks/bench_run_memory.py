"""Backend memory of a run over many tenants (verify, status, backfill), with and without the hand-over.

A session's relation and catalog caches grow with every tenant it reads and never shrink; the tool's runs
over tenants hand over to a new session every SESSION_TENANTS tenants (operations.Sessions). This runs the
command twice on the same database, alternating: as shipped, and with the hand-over switched off
(SESSION_TENANTS set past the tenant count), and prints, for each run, the peak private memory (RssAnon,
from /proc: a local server only) of every backend the run used, their sum at any one time, and its time.

    python benchmarks/bench_attach.py --schemas 3000 --keep      # prints the DSN of its kept database
    python benchmarks/bench_run_memory.py --dsn DSN --command backfill
    python benchmarks/bench_run_memory.py --dsn DSN --command verify
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time

import common
import psycopg

RUN = ("import sys; from pyinstaller_tools import operations; from pyinstaller_tools.launch import entry; "
       "operations.SESSION_TENANTS = int(sys.argv[1]); sys.argv = ['catalog-sync', *sys.argv[2:]]; "
       "sys.exit(entry())")


def run(dsn: str, command: str, session_tenants: int) -> tuple[float, dict[int, int], int, int]:
    """Seconds, the peak RssAnon (kB) of each backend of the run, the peak of their sum, the exit code."""
    name = f"catalog-sync {command}"
    peaks: dict[int, int] = {}
    peak_sum = 0
    done = threading.Event()

    def poll() -> None:
        nonlocal peak_sum
        with psycopg.connect(dsn, autocommit=True) as watcher:
            while not done.is_set():
                now = 0
                for (pid,) in watcher.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s",
                                              (name,)).fetchall():
                    status = common.proc_status(pid)
                    if status and "RssAnon" in status:
                        peaks[pid] = max(peaks.get(pid, 0), status["RssAnon"])
                        now += status["RssAnon"]
                peak_sum = max(peak_sum, now)
                time.sleep(0.5)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-c", RUN, str(session_tenants), command, "--json", "--dsn", dsn],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    seconds = time.monotonic() - started
    done.set()
    poller.join()
    if result.returncode not in (0, 1):
        print(result.stderr, file=sys.stderr)
    return seconds, peaks, peak_sum, result.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", required=True, help="superuser DSN of a database with attached tenants, local")
    parser.add_argument("--command", choices=["verify", "status", "backfill"], default="verify")
    parser.add_argument("--rounds", type=int, default=1, help="pairs of runs, alternating")
    args = parser.parse_args()
    from pyinstaller_tools import operations

    with psycopg.connect(args.dsn) as conn:
        tenants = conn.execute("SELECT count(*) FROM catalog_sync.tenant WHERE detached_at IS NULL").fetchone()
    count = int(tenants[0]) if tenants else 0
    print(f"{args.command} over {count} attached tenants; hand-over every {operations.SESSION_TENANTS}")
    for _ in range(args.rounds):
        for label, session_tenants in (("hand-over", operations.SESSION_TENANTS), ("one session", count + 1)):
            seconds, peaks, peak_sum, code = run(args.dsn, args.command, session_tenants)
            per_backend = ", ".join(f"{kb / 1024:.0f}" for kb in peaks.values())
            print(f"{label:12} {seconds:7.1f} s  exit {code}  backends' peak RssAnon (MB): {per_backend}; "
                  f"at once at most {peak_sum / 1024:.0f} MB")


if __name__ == "__main__":
    main()
