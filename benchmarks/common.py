"""Shared setup of the catalog-sync benchmarks: a cluster and a throwaway
database, tenants built as the application builds them, timing of alternating
rounds, and the result table.

The benchmark scripts import this module as ``common`` (they put their own
folder first on sys.path), so run them as ``python benchmarks/bench_X.py``.
Progress goes to stderr, results to stdout. Timings are printed, never
asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from pyinstaller_tools import migrate, seed, sqlfiles
from pyinstaller_tools.cluster import LocalCluster

Conn = psycopg.Connection[Any]
APP_ROLE = seed.APP_ROLE

# Column list of a job posting as the application inserts it (every contract column but id).
JOB_COLUMNS: tuple[str, ...] = (
    "uuid", "title", "slug", "reference_code", "status", "job_type", "experience_level", "remote_policy",
    "location_city", "location_state", "location_country", "location_lat", "location_lng",
    "description", "responsibilities", "requirements", "benefits",
    "salary_min", "salary_max", "salary_currency", "salary_period", "show_salary",
    "required_skills", "preferred_skills", "positions_count", "team", "is_featured",
    "published_on_career_page", "is_internal_only", "application_deadline", "published_at",
    "meta_title", "meta_description", "hiring_manager_name", "hiring_manager_email",
    "application_email", "custom_questions", "internal_notes", "rejection_feedback_template",
    "created_at", "updated_at", "category_id",
)

# The catalog columns the sync writes, with the SQL that computes each from
# j (job), t (tenants_tenant) and c (category): the projection of
# db/functions/catalog_sync.job_projection_sql.sql written out by hand, the way
# an application (or a DBA's one-off script) would write it.
CATALOG_EXPRESSIONS: tuple[tuple[str, str], ...] = (
    ("tenant_id", "t.id"),
    ("tenant_schema", "t.schema_name"),
    ("job_uuid", "j.uuid"),
    ("title", "j.title"),
    ("slug", "j.slug"),
    ("reference_code", "j.reference_code"),
    ("category_name", "c.name"),
    ("category_slug", "c.slug"),
    ("job_type", "j.job_type"),
    ("experience_level", "j.experience_level"),
    ("remote_policy", "j.remote_policy"),
    ("location_city", "j.location_city"),
    ("location_state", "j.location_state"),
    ("location_country", "j.location_country"),
    ("location_lat", "j.location_lat"),
    ("location_lng", "j.location_lng"),
    ("description", "catalog_sync.sanitize_html(j.description)"),
    ("responsibilities", "catalog_sync.sanitize_html(j.responsibilities)"),
    ("requirements", "catalog_sync.sanitize_html(j.requirements)"),
    ("benefits", "catalog_sync.sanitize_html(j.benefits)"),
    ("salary_min", "CASE WHEN j.show_salary THEN j.salary_min END"),
    ("salary_max", "CASE WHEN j.show_salary THEN j.salary_max END"),
    ("salary_currency", "CASE WHEN j.show_salary THEN j.salary_currency END"),
    ("salary_period", "CASE WHEN j.show_salary THEN j.salary_period END"),
    ("show_salary", "j.show_salary"),
    ("required_skills", "j.required_skills"),
    ("preferred_skills", "j.preferred_skills"),
    ("positions_count", "j.positions_count"),
    ("team", "j.team"),
    ("company_name", "t.name"),
    ("company_logo_url", "catalog_sync.safe_url(t.logo_url)"),
    ("is_featured", "j.is_featured"),
    ("application_deadline", "j.application_deadline"),
    ("published_at", "coalesce(j.published_at, j.created_at)"),
    ("meta_title", "j.meta_title"),
    ("meta_description", "j.meta_description"),
)
CATALOG_COLUMNS: tuple[str, ...] = tuple(name for name, _ in CATALOG_EXPRESSIONS)

ELIGIBLE_SQL = (
    "t.status IN ('active', 'trial') AND j.published_on_career_page AND NOT j.is_internal_only "
    "AND j.status = 'open' AND (j.application_deadline IS NULL OR j.application_deadline > now())"
)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- setup

def base_parser(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", help="superuser DSN of an existing cluster: a throwaway database is created "
                                      "in it and dropped at the end (default: a throwaway local cluster)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database (and cluster)")
    return parser


@contextmanager
def bench_database(dsn: str | None, name: str, keep: bool = False,
                   settings: dict[str, str] | None = None) -> Iterator[str]:
    """A fresh database named `name`; yields its superuser DSN.

    Without `dsn`, a LocalCluster (fsync off) is started for the run and removed
    afterwards; with it, the database is created in that cluster and dropped.
    """
    cluster: LocalCluster | None = None
    if dsn is None:
        cluster = LocalCluster(settings=settings).start()
        dsn = cluster.dsn()
        progress(f"started a throwaway cluster: {dsn} (data in {cluster.base_dir})")
    admin_dsn = psycopg.conninfo.make_conninfo(dsn, dbname="postgres")
    try:
        with psycopg.connect(admin_dsn, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        yield psycopg.conninfo.make_conninfo(dsn, dbname=name)
    finally:
        if keep:
            where = f" in the running cluster at {cluster.base_dir} (port {cluster.port})" if cluster else ""
            progress(f"kept database {name}{where}")
        elif cluster is not None:
            cluster.stop()          # the whole throwaway cluster goes: no need to drop the database first
        else:
            with psycopg.connect(admin_dsn, autocommit=True) as admin:
                admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def connect(dsn: str, role: str | None = None, autocommit: bool = False) -> Conn:
    conn = psycopg.connect(dsn, autocommit=autocommit)
    if role:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
        if not autocommit:
            conn.commit()
    return conn


def server_info(conn: Conn) -> str:
    row = conn.execute(
        "SELECT current_setting('server_version'), current_setting('fsync'), "
        "current_setting('synchronous_commit'), current_setting('shared_buffers')").fetchone()
    assert row is not None
    return (f"PostgreSQL {row[0]}, fsync={row[1]}, synchronous_commit={row[2]}, shared_buffers={row[3]}, "
            f"{os.cpu_count()} CPUs")


def numbered(prefix: str, count: int) -> list[str]:
    """tenant_<prefix>_00001, tenant_<prefix>_00002, ..."""
    return [f"tenant_{prefix}_{n:05d}" for n in range(1, count + 1)]


def create_tenants(conn: Conn, schemas: Sequence[str], batch: int = 5, workers: int = 1,
                   status: str = "active") -> list[str]:
    """One tenant per schema name (tenant_<slug>): registry row and contract schema, as the application role.

    The same DDL as seed.create_tenant (the contract text with the schema name
    substituted), sent `batch` schemas per round trip and transaction, from
    `workers` connections at once, so that thousands of schemas are created
    quickly. Returns the schema names.
    """
    schemas = list(schemas)
    count = len(schemas)
    done = [0]
    lock = threading.Lock()

    def work(conn: Conn, mine: list[str]) -> None:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(APP_ROLE)))
        try:
            for start in range(0, len(mine), batch):
                chunk = mine[start:start + batch]
                with conn.transaction():
                    conn.execute(
                        """
                        INSERT INTO public.tenants_tenant
                            (schema_name, uuid, name, slug, logo_url, website, status, created_on, updated_at)
                        SELECT s, gen_random_uuid(), initcap(replace(substr(s, 8), '_', ' ')) || ' Inc.',
                               replace(substr(s, 8), '_', '-'), 'https://cdn.example.com/' || s || '.png',
                               'https://' || replace(substr(s, 8), '_', '-') || '.example.com', %s,
                               now(), now()
                        FROM unnest(%s::text[]) AS s
                        """,
                        (status, chunk),
                    )
                    conn.execute("\n".join(sqlfiles.contract_sql("tenant", s) for s in chunk).encode())
                with lock:
                    before, done[0] = done[0], done[0] + len(chunk)
                    if count >= 500 and before * 10 // count != done[0] * 10 // count:
                        progress(f"  {done[0]}/{count} schemas created")
        finally:
            conn.execute("RESET ROLE")

    if workers <= 1:
        work(conn, schemas)
        return schemas
    dsn = conn.info.dsn
    threads: list[threading.Thread] = []
    errors: list[BaseException] = []

    def run(mine: list[str]) -> None:
        try:
            with psycopg.connect(dsn, autocommit=True) as own:
                work(own, mine)
        except BaseException as exc:  # re-raised in the caller
            errors.append(exc)

    for w in range(workers):
        threads.append(threading.Thread(target=run, args=(schemas[w::workers],)))
        threads[-1].start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return schemas


def for_each_schema(dsn: str, schemas: Sequence[str], fn: Callable[[Conn, str], None], workers: int = 2,
                    what: str = "schemas") -> None:
    """fn(conn, schema) for every schema, from `workers` autocommit superuser connections at once."""
    schemas = list(schemas)
    done = [0]
    lock = threading.Lock()
    errors: list[BaseException] = []

    def run(mine: list[str]) -> None:
        try:
            with psycopg.connect(dsn, autocommit=True) as conn:
                for schema in mine:
                    fn(conn, schema)
                    with lock:
                        done[0] += 1
                        if len(schemas) >= 100 and done[0] % (len(schemas) // 10) == 0:
                            progress(f"  {done[0]}/{len(schemas)} {what}")
        except BaseException as exc:  # re-raised in the caller
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(schemas[w::workers],)) for w in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def make_all_eligible(conn: Conn, schema: str) -> None:
    """Every job of the schema eligible (open, on the career page, not internal)."""
    conn.execute(sql.SQL("UPDATE {}.ats_jobposting SET status = 'open', published_on_career_page = true, "
                         "is_internal_only = false").format(sql.Identifier(schema)))


def tenant_ids(conn: Conn, schemas: Sequence[str]) -> dict[str, int]:
    rows = conn.execute("SELECT schema_name, id FROM public.tenants_tenant WHERE schema_name = ANY(%s)",
                        (list(schemas),)).fetchall()
    return {str(r[0]): int(r[1]) for r in rows}


def install(dsn: str) -> None:
    """`catalog-sync migrate` (alembic upgrade head)."""
    migrate.upgrade(dsn)


def attach(conn: Conn, schemas: Sequence[str]) -> None:
    for schema in schemas:
        conn.execute("SELECT catalog_sync.attach_schema(%s)", (schema,))


def detach(conn: Conn, schemas: Sequence[str]) -> None:
    """Drop the sync triggers; the catalog rows stay."""
    for schema in schemas:
        conn.execute("SELECT catalog_sync.detach_schema(%s)", (schema,))


def grant_hand_written_sync(conn: Conn) -> None:
    """Let the application role write the catalog itself (the baselines do)."""
    conn.execute(f"GRANT USAGE ON SCHEMA catalog_sync TO {APP_ROLE}")
    conn.execute(f"GRANT EXECUTE ON FUNCTION catalog_sync.sanitize_html(text), catalog_sync.safe_url(text) "
                 f"TO {APP_ROLE}")
    conn.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON public.job_catalog TO {APP_ROLE}")


def catalog_select_sql(schema: str, where: str, source: sql.Composable | None = None) -> sql.Composed:
    """SELECT <catalog columns> FROM <schema>.ats_jobposting j, tenant t, category c WHERE <where>.

    Parameter %(tenant_id)s; `where` is trusted SQL; `source` replaces the job
    table as the row source j (e.g. a row of parameters)."""
    return sql.SQL(
        "SELECT {exprs} FROM {source} AS j "
        "JOIN public.tenants_tenant AS t ON t.id = %(tenant_id)s "
        "LEFT JOIN {schema}.ats_jobcategory AS c ON c.id = j.category_id "
        "WHERE {where}"
    ).format(exprs=sql.SQL(", ").join(sql.SQL(e) for _, e in CATALOG_EXPRESSIONS),
             source=source or sql.SQL("{}.ats_jobposting").format(sql.Identifier(schema)),
             schema=sql.Identifier(schema), where=sql.SQL(where))


def column_types(conn: Conn, relation: str) -> dict[str, str]:
    """Column name -> SQL type of a relation (format_type)."""
    rows = conn.execute(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum", (relation,)
    ).fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


def catalog_insert_sql(select: sql.Composable, upsert: bool = False, values: bool = False) -> sql.Composed:
    """INSERT INTO public.job_catalog (<columns>) <select> [ON CONFLICT ... DO UPDATE SET every column].

    With `values`, `select` is the list of value expressions of one VALUES row."""
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in CATALOG_COLUMNS)
    template = ("INSERT INTO public.job_catalog ({cols}, synced_at) VALUES ({select}, now())" if values else
                "INSERT INTO public.job_catalog ({cols}, synced_at) SELECT *, now() FROM ({select}) AS p")
    query = sql.SQL(template).format(cols=cols, select=select)
    if upsert:
        sets = sql.SQL(", ").join(sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c))
                                  for c in CATALOG_COLUMNS[2:])
        query = query + sql.SQL(" ON CONFLICT (tenant_id, job_uuid) DO UPDATE SET {sets}, "
                                "synced_at = EXCLUDED.synced_at").format(sets=sets)
    return query


def vacuum(conn: Conn, tables: Sequence[str]) -> None:
    """VACUUM (ANALYZE) tables, outside the timed sections; needs an autocommit connection."""
    for table in tables:
        conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.SQL(table)))


# --------------------------------------------------------------------------- timing

def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def timed_statement(conn: Conn, statements: Callable[[Conn], object], timeout: float) -> float | None:
    """Seconds to run and commit `statements` on conn, or None when statement_timeout cut them off."""
    conn.execute(sql.SQL("SET statement_timeout = {}").format(sql.Literal(f"{int(timeout * 1000)}ms")))
    conn.commit()
    try:
        start = time.perf_counter()
        try:
            statements(conn)
            conn.commit()
        except psycopg.errors.QueryCanceled:
            conn.rollback()
            return None
        return time.perf_counter() - start
    finally:
        conn.execute("SET statement_timeout = 0")
        conn.commit()


def alternate(variants: dict[str, Callable[[int], float]], rounds: int,
              between: Callable[[], None] | None = None) -> dict[str, list[float]]:
    """Run every variant once per round, rotating the order each round (A B C, B C A, ...),
    so that drift (table growth, caches, a noisy neighbour) spreads over all of them.

    A variant is called with the round number and returns its measured seconds
    (per operation or in total: the caller decides). `between` runs, untimed,
    before the first variant and after each, so that every variant starts from
    the same state: the first one too, not from what the setup left (its dirty
    buffers, until the twenty-ninth session).
    """
    names = list(variants)
    samples: dict[str, list[float]] = {name: [] for name in names}
    if between:
        between()
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            seconds = variants[name](r)
            samples[name].append(seconds)
            progress(f"  round {r + 1}/{rounds} {name}: {format_seconds(seconds)}")
            if between:
                between()
    return samples


def per_op_rounds(ops: dict[str, Callable[[int], object]], per_round: int, rounds: int,
                  warmup: int) -> dict[str, list[float]]:
    """Seconds per operation of each variant, one sample per round, rounds alternating between the
    variants (operation n of a variant = op(n); warmup operations of each first, untimed)."""
    counters = dict.fromkeys(ops, 0)

    def run(name: str, count: int) -> float:
        op, start = ops[name], counters[name]
        counters[name] += count
        t0 = time.perf_counter()
        for n in range(start, start + count):
            op(n)
        return (time.perf_counter() - t0) / count

    for name in ops:
        run(name, warmup)
    return alternate({name: (lambda _round, name=name: run(name, per_round)) for name in ops}, rounds)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def format_seconds(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


# --------------------------------------------------------------------------- results

@dataclass(frozen=True)
class Target:
    """max_ratio: sync/baseline must be <= value; min_speedup: baseline/sync must be >= value."""

    kind: str
    value: float

    def describe(self) -> str:
        return f"<= {self.value:g}x" if self.kind == "max_ratio" else f">= {self.value:g}x faster"

    def met(self, ratio: float) -> bool:
        """`ratio` is sync time / baseline time."""
        return ratio <= self.value if self.kind == "max_ratio" else ratio * self.value <= 1


@dataclass
class Result:
    """One line of a table. sync_s and baseline_s are medians over the rounds; with `paired`
    (the per-round sync and baseline samples, measured next to each other), the ratio is the
    median of the per-round ratios, which cancels slow drifts of a shared machine."""

    scenario: str
    sync_s: float
    baseline: str
    baseline_s: float
    target: Target | None = None
    note: str = ""
    paired: tuple[Sequence[float], Sequence[float]] | None = None

    @property
    def ratio(self) -> float:
        if self.paired:
            return median([a / b for a, b in zip(*self.paired, strict=True)])
        return self.sync_s / self.baseline_s if self.baseline_s else float("inf")


def paired_result(scenario: str, samples: dict[str, list[float]], sync: str, baseline: str,
                  target: Target | None = None, label: str | None = None, note: str = "") -> Result:
    """A Result from the per-round samples of alternate()."""
    return Result(scenario, median(samples[sync]), label or baseline, median(samples[baseline]), target, note,
                  (samples[sync], samples[baseline]))


def print_grid(title: str, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A text table with a title line before it."""
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    line = "+-" + "-+-".join("-" * w for w in widths) + "-+"
    print(f"\n{title}")
    print(line)
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print(line)
    for row in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    print(line)


def print_table(title: str, results: Sequence[Result]) -> None:
    header = ["scenario", "sync", "baseline", "baseline time", "ratio", "target", "verdict"]
    rows = []
    for r in results:
        ratio = f"{r.ratio:.2f}x"
        if r.ratio < 0.5:
            ratio += f" ({1 / r.ratio:.0f}x faster)"
        verdict = "-" if r.target is None else ("met" if r.target.met(r.ratio) else "NOT MET")
        rows.append([r.scenario, format_seconds(r.sync_s), r.baseline, format_seconds(r.baseline_s), ratio,
                     r.target.describe() if r.target else "(reference)", verdict])
    print_grid(title, header, rows)
    notes = [f"  {r.scenario}: {r.note}" for r in results if r.note]
    if notes:
        print("\n".join(notes))
    sys.stdout.flush()


# --------------------------------------------------------------------------- memory

def backend_pid(conn: Conn) -> int:
    row = conn.execute("SELECT pg_backend_pid()").fetchone()
    assert row is not None
    return int(row[0])


def proc_status(pid: int) -> dict[str, int] | None:
    """VmRSS, VmHWM, RssAnon, ... of a local process in kB (None when not readable, e.g. remote server)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    out: dict[str, int] = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        parts = value.split()
        if len(parts) == 2 and parts[1] == "kB":
            out[key] = int(parts[0])
    return out


class MemorySampler:
    """Samples /proc/<pid>/status of a backend in a thread; keeps the peaks (kB)."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        self.pid = pid
        self.interval = interval
        self.peak: dict[str, int] = {}
        self.first: dict[str, int] | None = proc_status(pid)
        self.available = self.first is not None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        status = proc_status(self.pid)
        if status is None:
            return
        for key in ("VmRSS", "VmHWM", "RssAnon"):
            if key in status:
                self.peak[key] = max(self.peak.get(key, 0), status[key])

    def __enter__(self) -> MemorySampler:
        if self.available:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self.available:
            self._thread.join()
            self.sample()


# --------------------------------------------------------------------------- profile (--profile)

def add_profile_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", action="store_true",
                        help="track_functions = all; print the top functions of pg_stat_user_functions per "
                             "scenario (adds a little overhead to every function call; the inlined projections "
                             "project_jobs and project_services do not appear: their time is their apply_*'s)")


# A throwaway cluster that commits as a production server does: every commit waits for its WAL
# flush, and the first change of a page after a checkpoint writes the whole page.
DURABLE_SETTINGS = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}


def add_durable_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--durable", action="store_true",
                        help="the throwaway cluster with fsync, synchronous_commit and full_page_writes on, "
                             "as a production server runs (default off: the sync's own work, see "
                             "docs/benchmarks.md); with --dsn, the server's own settings apply")


def cluster_settings(args: argparse.Namespace, **settings: str) -> dict[str, str]:
    """The throwaway cluster's settings: `settings`, and the durable ones with --durable."""
    return {**settings, **(DURABLE_SETTINGS if args.durable else {})}


def enable_profile(admin: Conn) -> None:
    """track_functions = all for every new session of the benchmark database, statistics reset."""
    admin.execute(sql.SQL("ALTER DATABASE {} SET track_functions = 'all'").format(
        sql.Identifier(admin.info.dbname)))
    admin.execute("SELECT pg_stat_reset()")


def print_profile(admin: Conn, label: str, sessions: Sequence[Conn] = (), top: int = 12) -> None:
    """The busiest functions since the last call (all variants of the scenario), then reset."""
    for conn in sessions:
        conn.execute("SELECT pg_stat_force_next_flush()")   # flushed when the session goes idle
        if not conn.autocommit:
            conn.commit()
    admin.execute("SELECT pg_stat_force_next_flush()")
    admin.execute("SELECT pg_stat_clear_snapshot()")
    rows = admin.execute(
        "SELECT schemaname || '.' || funcname, calls, total_time, self_time FROM pg_stat_user_functions "
        "WHERE calls > 0 ORDER BY total_time DESC LIMIT %s", (top,)).fetchall()
    admin.execute("SELECT pg_stat_reset()")
    print(f"\nprofile: {label} (pg_stat_user_functions, every session of the database)")
    print(f"  {'function':<36} {'calls':>9} {'total ms':>10} {'self ms':>10} {'us/call':>9}")
    for name, calls, total, self_ms in rows:
        print(f"  {name:<36} {calls:>9} {total:>10.1f} {self_ms:>10.1f} {total / calls * 1000:>9.1f}")
    sys.stdout.flush()
