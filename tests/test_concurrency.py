"""The denormalization race (DESIGN.md, "Consistency"): explicit interleavings of
two connections, then a randomized multi-connection workload that must end,
and stay at every snapshot taken during it, with zero drift."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from pyinstaller_tools import seed
from tests.conftest import Db
from tests.jobs import catalog_row, category_id, insert_job, update_job, verify_findings

SCHEMA = "tenant_acme"


def wait_until_blocked(conn: psycopg.Connection, pid: int, timeout: float = 60.0) -> None:
    """Wait until backend `pid` waits on a heavyweight lock (our advisory locks)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = conn.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
        if row and row[0] == "Lock":
            return
        time.sleep(0.02)
    raise AssertionError(f"backend {pid} never blocked")


def queued_behind(db: Db, conn: psycopg.Connection, ddl: list[str], write: Callable[[psycopg.Connection], None],
                  role: str | None = seed.APP_ROLE, fails: bool = False) -> BaseException | None:
    """Run `ddl` (statements) in a transaction left open, `write` (as `role`; None: a superuser) in another until
    it waits for it, then commit the first, and let the write commit; the write must succeed (`fails`: must
    fail, its error returned)."""
    errors: list[BaseException] = []
    with db.connect(autocommit=False) as holder:
        for statement in ddl:
            holder.execute(statement)
        writer = db.connect(role=role, autocommit=False)
        pid = writer.info.backend_pid

        def body() -> None:
            try:
                write(writer)
                writer.commit()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                writer.close()

        thread = threading.Thread(target=body)
        thread.start()
        try:
            wait_until_blocked(conn, pid)
        finally:
            holder.commit()
            thread.join(60)
    assert not thread.is_alive() and len(errors) == fails, errors
    return errors[0] if errors else None


def run_blocked(db: Db, statements: Callable[[psycopg.Connection], object],
                role: str | None = seed.APP_ROLE) -> tuple[threading.Thread, int, list]:
    """Run `statements` in a new connection (as `role`; None: a superuser) in a thread (commits at the end)."""
    conn = db.connect(role=role, autocommit=False)
    pid = conn.info.backend_pid
    errors: list[BaseException] = []

    def body() -> None:
        try:
            statements(conn)
            conn.commit()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            conn.close()

    thread = threading.Thread(target=body)
    thread.start()
    return thread, pid, errors


def finish(thread: threading.Thread, errors: list) -> None:
    thread.join(20)
    assert not thread.is_alive()
    assert not errors, errors


def test_category_renamed_while_a_job_moves_into_it(db: Db, app: psycopg.Connection, conn: psycopg.Connection) -> None:
    cat1, cat2 = category_id(app, SCHEMA, "category-1"), category_id(app, SCHEMA, "category-2")
    job = insert_job(app, SCHEMA, category_id=cat1)
    with db.connect(role=seed.APP_ROLE, autocommit=False) as renamer:
        renamer.execute(f"UPDATE {SCHEMA}.ats_jobcategory SET name = 'Renamed' WHERE id = %s", (cat2,))
        thread, pid, errors = run_blocked(db, lambda c: update_job(c, SCHEMA, job["id"], category_id=cat2))
        wait_until_blocked(conn, pid)   # the move waits for the rename's lock
        renamer.commit()
    finish(thread, errors)
    assert catalog_row(conn, job["uuid"])["category_name"] == "Renamed"
    assert verify_findings(conn) == []


def test_job_moves_into_a_category_while_it_is_renamed(db: Db, app: psycopg.Connection,
                                                       conn: psycopg.Connection) -> None:
    cat1, cat2 = category_id(app, SCHEMA, "category-1"), category_id(app, SCHEMA, "category-2")
    job = insert_job(app, SCHEMA, category_id=cat1)
    with db.connect(role=seed.APP_ROLE, autocommit=False) as mover:
        update_job(mover, SCHEMA, job["id"], category_id=cat2)
        thread, pid, errors = run_blocked(
            db, lambda c: c.execute(f"UPDATE {SCHEMA}.ats_jobcategory SET name = 'Renamed' WHERE id = %s", (cat2,)))
        wait_until_blocked(conn, pid)   # the rename waits for the mover, then recomputes with the move
        mover.commit()
    finish(thread, errors)
    assert catalog_row(conn, job["uuid"])["category_name"] == "Renamed"
    assert verify_findings(conn) == []


def test_job_leaves_a_category_while_it_is_renamed(db: Db, app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """Both the old and the new parent are locked: the rename's recompute must not undo the move."""
    cat1, cat2 = category_id(app, SCHEMA, "category-1"), category_id(app, SCHEMA, "category-2")
    job = insert_job(app, SCHEMA, category_id=cat1)
    with db.connect(role=seed.APP_ROLE, autocommit=False) as mover:
        update_job(mover, SCHEMA, job["id"], category_id=cat2)
        thread, pid, errors = run_blocked(
            db, lambda c: c.execute(f"UPDATE {SCHEMA}.ats_jobcategory SET name = 'Renamed' WHERE id = %s", (cat1,)))
        wait_until_blocked(conn, pid)   # the rename of the old parent waits for the move
        mover.commit()
    finish(thread, errors)
    assert catalog_row(conn, job["uuid"])["category_slug"] == "category-2"
    assert verify_findings(conn) == []


def test_job_unpublished_while_its_category_is_renamed(db: Db, app: psycopg.Connection,
                                                       conn: psycopg.Connection) -> None:
    """The rename's recompute must not resurrect a row another transaction removed."""
    cat1 = category_id(app, SCHEMA, "category-1")
    job = insert_job(app, SCHEMA, category_id=cat1)
    with db.connect(role=seed.APP_ROLE, autocommit=False) as renamer:
        renamer.execute(f"UPDATE {SCHEMA}.ats_jobcategory SET name = 'Renamed' WHERE id = %s", (cat1,))
        thread, pid, errors = run_blocked(db, lambda c: update_job(c, SCHEMA, job["id"], status="closed"))
        wait_until_blocked(conn, pid)
        renamer.commit()
    finish(thread, errors)
    assert catalog_row(conn, job["uuid"]) is None
    assert verify_findings(conn) == []


def test_tenant_renamed_while_jobs_are_written(db: Db, app: psycopg.Connection, conn: psycopg.Connection) -> None:
    existing = insert_job(app, SCHEMA)
    with db.connect(role=seed.APP_ROLE, autocommit=False) as renamer:
        renamer.execute("UPDATE public.tenants_tenant SET name = 'Acme 2' WHERE schema_name = %s", (SCHEMA,))
        new: dict[str, Any] = {}
        thread, pid, errors = run_blocked(db, lambda c: new.update(insert_job(c, SCHEMA)))
        wait_until_blocked(conn, pid)
        renamer.commit()
    finish(thread, errors)
    assert catalog_row(conn, existing["uuid"])["company_name"] == "Acme 2"
    assert catalog_row(conn, new["uuid"])["company_name"] == "Acme 2"
    assert verify_findings(conn) == []


def test_jobs_written_while_the_tenant_is_renamed(db: Db, app: psycopg.Connection, conn: psycopg.Connection) -> None:
    with db.connect(role=seed.APP_ROLE, autocommit=False) as writer:
        job = insert_job(writer, SCHEMA)
        thread, pid, errors = run_blocked(
            db, lambda c: c.execute("UPDATE public.tenants_tenant SET name = 'Acme 3' WHERE schema_name = %s",
                                    (SCHEMA,)))
        wait_until_blocked(conn, pid)
        writer.commit()
    finish(thread, errors)
    assert catalog_row(conn, job["uuid"])["company_name"] == "Acme 3"
    assert verify_findings(conn) == []


def test_a_registry_statement_of_several_tenants_stalls_the_ones_it_locked_until_its_lock_timeout(
        db: Db, app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """(red-team review, fortieth session; docs/security.md, "Denial of service") A registry statement
    that changes two tenants locks the lower id, then waits for the other's open write: the first
    tenant's writes wait behind it. A lock_timeout on the registry statement bounds that, as the docs
    advise, and its rollback leaves both tenants' names and catalog rows as they were."""
    ids = dict(conn.execute("SELECT schema_name, id FROM public.tenants_tenant "
                            "WHERE schema_name IN ('tenant_acme', 'tenant_globex')").fetchall())
    assert ids["tenant_acme"] < ids["tenant_globex"]
    with db.connect(role=seed.APP_ROLE, autocommit=False) as globex_writer:
        insert_job(globex_writer, "tenant_globex")              # holds globex's shared lock, open

        def rename_both(c: psycopg.Connection) -> None:
            # (long enough for the acme writer to queue first on a loaded machine: review, fortieth session)
            c.execute("SET lock_timeout = '10s'")
            c.execute("UPDATE public.tenants_tenant SET name = name || ' 2' "
                      "WHERE schema_name IN ('tenant_acme', 'tenant_globex')")

        renamer, renamer_pid, renamer_errors = run_blocked(db, rename_both)
        wait_until_blocked(conn, renamer_pid)
        acme_job: dict[str, Any] = {}
        acme, acme_pid, acme_errors = run_blocked(db, lambda c: acme_job.update(insert_job(c, SCHEMA)))
        wait_until_blocked(conn, acme_pid)                       # acme waits for a write of globex's
        renamer.join(20)
        assert len(renamer_errors) == 1 and isinstance(renamer_errors[0], psycopg.errors.LockNotAvailable)
        finish(acme, acme_errors)                                # freed by the registry statement's rollback
        globex_writer.commit()
    assert conn.execute("SELECT count(*) FROM public.tenants_tenant WHERE name LIKE '% 2'").fetchone() == (0,)
    assert catalog_row(conn, acme_job["uuid"])["company_name"] == "Acme Robotics"
    assert verify_findings(conn) == []


def test_backfill_waits_for_live_writers(db: Db, app: psycopg.Connection, conn: psycopg.Connection) -> None:
    tenant_id = db.tenant_id(SCHEMA)
    job = insert_job(app, SCHEMA)
    with db.connect(role=seed.APP_ROLE, autocommit=False) as writer:
        update_job(writer, SCHEMA, job["id"], title="Changed while backfilling")
        backfiller = db.connect(autocommit=False)
        pid = backfiller.info.backend_pid
        errors: list[BaseException] = []

        def run() -> None:
            try:
                backfiller.execute("SELECT * FROM catalog_sync.backfill_tenant(%s)", (tenant_id,))
                backfiller.commit()
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                backfiller.close()

        thread = threading.Thread(target=run)
        thread.start()
        wait_until_blocked(conn, pid)
        writer.commit()
    finish(thread, errors)
    assert catalog_row(conn, job["uuid"])["title"] == "Changed while backfilling"
    assert verify_findings(conn) == []


def test_ids_a_tenant_chooses_have_lock_keys_of_their_own(conn: psycopg.Connection) -> None:
    """(review, thirty-second session) hashint8extended() folds the value it hashes into 32 bits: with the
    parent id hashed that way, ids 0 and 2^32 + 1 had one lock key. The id is a seed now, hashed whole."""
    ids = [0, 1, 5, -1, 2**32 - 1, 2**32, 2**32 + 1, 2**32 + 4, 2**33 + 2, -(2**32), 2**63 - 1, -(2**63)]
    keys = conn.execute("SELECT array_agg(catalog_sync.parent_lock_key('job_category', i) ORDER BY n) "
                        "FROM unnest(%s::bigint[]) WITH ORDINALITY AS t (i, n)", (ids,)).fetchone()[0]
    assert len(set(keys)) == len(ids)
    spaces = conn.execute("SELECT count(DISTINCT catalog_sync.tenant_lock_space(t)) FROM generate_series(0, 5000) AS t "
                          "UNION ALL SELECT count(DISTINCT catalog_sync.tenant_lock_space(t)) "
                          "FROM unnest(ARRAY[5, 2147483653, 4294967295, 0]::bigint[]) AS t").fetchall()
    assert spaces == [(5001,), (4,)]      # (review, forty-fourth session: ids 5 and 2^31 + 5 had one space)
    tenants = conn.execute("SELECT count(DISTINCT catalog_sync.lock_key(t, 'tenant', 0)) "
                           "FROM generate_series(0, 5000) AS t").fetchone()[0]
    kinds = conn.execute("SELECT count(DISTINCT catalog_sync.lock_key(7, k, 0)) FROM unnest(ARRAY['tenants', "
                         "'tenant', 'job_category', 'provider', 'service_category', 'skill', 'attach']) AS k"
                         ).fetchone()[0]
    assert (tenants, kinds) == (5001, 7)


def test_renames_of_categories_with_far_apart_ids_do_not_deadlock(db: Db, conn: psycopg.Connection) -> None:
    """(review, thirty-second session) A category change takes the kind's key (id 0) shared, then the
    category's key exclusive. With a category id whose key was the kind's (2^32 + 1, see above), two
    transactions of one tenant that each renamed a category and then one of those deadlocked."""
    conn.execute(f"INSERT INTO {SCHEMA}.ats_jobcategory (id, uuid, name, slug, description, created_at, updated_at) "
                 "SELECT i, gen_random_uuid(), 'Far', 'far-' || i, '', now(), now() "
                 "FROM unnest(ARRAY[4294967297, 8589934594]::bigint[]) AS i")
    first, second = (r[0] for r in conn.execute(
        f"SELECT id FROM {SCHEMA}.ats_jobcategory WHERE id < 4294967297 ORDER BY id LIMIT 2").fetchall())
    a = db.connect(role=seed.APP_ROLE, autocommit=False)
    b = db.connect(role=seed.APP_ROLE, autocommit=False)
    a.execute(f"UPDATE {SCHEMA}.ats_jobcategory SET name = 'A' WHERE id = %s", (first,))
    b.execute(f"UPDATE {SCHEMA}.ats_jobcategory SET name = 'B' WHERE id = %s", (second,))
    results: dict[str, str] = {}

    def rename(name: str, c: psycopg.Connection, category: int) -> None:
        try:
            c.execute(f"UPDATE {SCHEMA}.ats_jobcategory SET name = 'X' WHERE id = %s", (category,))
            c.commit()
            results[name] = "ok"
        except psycopg.Error as exc:
            results[name] = type(exc).__name__
            c.rollback()
        finally:
            c.close()

    threads = [threading.Thread(target=rename, args=("a", a, 4294967297)),
               threading.Thread(target=rename, args=("b", b, 8589934594))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == {"a": "ok", "b": "ok"}
    assert verify_findings(conn) == []


# ------------------------------------------------------------------ workload

# What a Django app retries or reports: lock-queue deadlocks, and a category
# deleted while another transaction moved a job into it (deferred FK at commit).
RETRYABLE = (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure,
             psycopg.errors.ForeignKeyViolation)


MIN_COMMITS, MIN_SNAPSHOTS = 50, 5      # what a workload must have done to prove anything


class Workload:
    """Random Django-like writes on two tenants, from several connections."""

    def __init__(self, db: Db, seconds: float, seed_value: int) -> None:
        self.db = db
        self.stop_at = time.monotonic() + seconds
        self.give_up_at = self.stop_at + 60     # (a loaded machine: on until enough was done to prove anything)
        self.random = random.Random(seed_value)
        self.schemas = ["tenant_acme", "tenant_globex"]
        self.committed = 0
        self.retries = 0
        self.deadlocks = 0
        self.errors: list[BaseException] = []
        self.snapshots = 0
        self.snapshot_drift: list[Any] = []
        self.lock = threading.Lock()

    JOB_OPS = ["insert", "update", "move", "publish", "delete", "bulk"]
    PARENT_OPS = ["rename_cat", "delete_cat", "add_cat", "rename_tenant", "suspend_tenant"]
    JOB_WEIGHTS = [20, 25, 15, 10, 5, 3]
    PARENT_WEIGHTS = [8, 2, 3, 4, 2]

    def operation(self, rnd: random.Random, conn: psycopg.Connection, kind: str) -> None:
        schema = rnd.choice(self.schemas)
        cats = [r[0] for r in conn.execute(f"SELECT id FROM {schema}.ats_jobcategory ORDER BY id")]
        jobs = [r[0] for r in conn.execute(f"SELECT id FROM {schema}.ats_jobposting ORDER BY id")]
        if kind == "insert" or not jobs:
            insert_job(conn, schema, category_id=rnd.choice(cats + [None]) if cats else None,
                       status=rnd.choice(["open", "open", "draft"]))
        elif kind == "update":
            update_job(conn, schema, rnd.choice(jobs), title=f"T{rnd.randrange(10**6)}",
                       show_salary=rnd.random() < 0.5)
        elif kind == "move":
            update_job(conn, schema, rnd.choice(jobs), category_id=rnd.choice(cats + [None]) if cats else None)
        elif kind == "publish":
            update_job(conn, schema, rnd.choice(jobs), status=rnd.choice(["open", "closed"]),
                       is_internal_only=rnd.random() < 0.2)
        elif kind == "delete":
            conn.execute(f"DELETE FROM {schema}.ats_jobposting WHERE id = %s", (rnd.choice(jobs),))
        elif kind == "bulk":
            conn.execute(f"UPDATE {schema}.ats_jobposting SET title = title || '.', category_id = %s "
                         "WHERE id %% 3 = %s", (rnd.choice(cats) if cats else None, rnd.randrange(3)))
        elif kind == "rename_cat" and cats:
            conn.execute(f"UPDATE {schema}.ats_jobcategory SET name = %s WHERE id = %s",
                         (f"C{rnd.randrange(10**6)}", rnd.choice(cats)))
        elif kind == "delete_cat" and len(cats) > 1:
            victim = rnd.choice(cats)   # Django: SET_NULL on the children, then delete the parent
            conn.execute(f"UPDATE {schema}.ats_jobposting SET category_id = NULL WHERE category_id = %s", (victim,))
            conn.execute(f"DELETE FROM {schema}.ats_jobcategory WHERE id = %s", (victim,))
        elif kind == "add_cat":
            n = rnd.randrange(10**9)
            conn.execute(f"INSERT INTO {schema}.ats_jobcategory (uuid, name, slug, description, created_at, "
                         "updated_at, parent_id) VALUES (gen_random_uuid(), %s, %s, '', now(), now(), NULL)",
                         (f"New {n}", f"new-{n}"))
        elif kind == "rename_tenant":
            conn.execute("UPDATE public.tenants_tenant SET name = %s, updated_at = now() WHERE schema_name = %s",
                         (f"Tenant {rnd.randrange(10**6)}", schema))
        elif kind == "suspend_tenant":
            conn.execute("UPDATE public.tenants_tenant SET status = %s WHERE schema_name = %s",
                         (rnd.choice(["active", "active", "suspended", "trial"]), schema))

    def running(self) -> bool:
        now = time.monotonic()
        enough = self.committed > MIN_COMMITS and self.snapshots > MIN_SNAPSHOTS
        return not self.errors and (now < self.stop_at or (not enough and now < self.give_up_at))

    def writer(self, n: int) -> None:
        rnd = random.Random(self.random.randrange(2**32) + n)
        with self.db.connect(role=seed.APP_ROLE, autocommit=False) as conn:
            while self.running():
                try:
                    # A transaction is one parent change, or one to three job writes:
                    # what a Django request does.
                    if rnd.random() < 0.2:
                        self.operation(rnd, conn, rnd.choices(self.PARENT_OPS, weights=self.PARENT_WEIGHTS)[0])
                    else:
                        for _ in range(rnd.randint(1, 3)):
                            self.operation(rnd, conn, rnd.choices(self.JOB_OPS, weights=self.JOB_WEIGHTS)[0])
                    if rnd.random() < 0.1:
                        conn.rollback()
                    else:
                        conn.commit()
                        with self.lock:
                            self.committed += 1
                except RETRYABLE as exc:
                    conn.rollback()
                    with self.lock:
                        self.retries += 1
                        if isinstance(exc, psycopg.errors.DeadlockDetected):
                            self.deadlocks += 1
                except BaseException as exc:  # noqa: BLE001
                    conn.rollback()
                    self.errors.append(exc)

    def snapshotter(self) -> None:
        """Verify every tenant in one statement (one snapshot) while the writers run."""
        with self.db.connect(autocommit=False) as conn:
            while self.running():
                conn.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED, READ ONLY")
                drift = verify_findings(conn)
                conn.rollback()
                self.snapshots += 1
                if drift:
                    self.snapshot_drift.append(drift)
                time.sleep(0.05)


@pytest.mark.slow
@pytest.mark.parametrize("seed_value", [1, 2])
def test_randomized_workload_ends_and_stays_without_drift(db: Db, conn: psycopg.Connection, seed_value: int) -> None:
    app = db.connect(role=seed.APP_ROLE)
    for schema in ("tenant_acme", "tenant_globex"):
        for _ in range(20):
            insert_job(app, schema)
    app.close()
    run_workload(Workload(db, seconds=8.0, seed_value=seed_value), conn, f"workload seed {seed_value}")


def run_workload(workload: Workload, conn: psycopg.Connection, label: str) -> None:
    """Six writers and a snapshot verifier; zero drift at the end and in every snapshot."""
    threads = [threading.Thread(target=workload.writer, args=(n,)) for n in range(6)]
    threads.append(threading.Thread(target=workload.snapshotter))
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
        assert not t.is_alive(), "a writer or the verifier never ended"
    assert not workload.errors, workload.errors[:3]
    assert workload.committed > MIN_COMMITS, "the workload did too little to prove anything"
    assert workload.snapshots > MIN_SNAPSHOTS
    assert workload.snapshot_drift == [], workload.snapshot_drift[:2]
    assert verify_findings(conn) == []
    rate = workload.deadlocks / max(1, workload.committed + workload.retries)
    print(f"\n{label}: {workload.committed} commits, {workload.deadlocks} deadlocks "
          f"({rate:.1%} of transactions), {workload.retries - workload.deadlocks} other retries, "
          f"{workload.snapshots} clean snapshots")


def parent_keys(conn: psycopg.Connection, pid: int) -> dict[int, bool]:
    """The parent-row advisory locks of backend `pid` (the (integer, integer) form, pg_locks.objsubid 2):
    second half of the key (pg_locks shows it unsigned, as an oid; signed here, as it was taken) -> granted."""
    rows = conn.execute("SELECT objid::bigint, granted FROM pg_locks "
                        "WHERE locktype = 'advisory' AND objsubid = 2 AND pid = %s", (pid,)).fetchall()
    return {int(key) - (2**32 if key >= 2**31 else 0): bool(granted) for key, granted in rows}


def category_keys(conn: psycopg.Connection, ids: list[int]) -> list[int]:
    return [conn.execute("SELECT catalog_sync.parent_lock_key('job_category', %s)", (i,)).fetchone()[0]
            for i in ids]


def assert_took_in_ascending_order(conn: psycopg.Connection, pid: int, keys: list[int], blocked: int) -> None:
    """Blocked on `blocked`'s key: the keys below it taken, those above it not asked for yet."""
    held = parent_keys(conn, pid)
    assert held.get(blocked) is False, (held, keys, blocked)
    for key in keys:
        if key != blocked:
            assert (held.get(key) is True) if key < blocked else (key not in held), (held, keys, blocked)


def test_a_statement_takes_its_parents_shared_locks_in_ascending_order(
        db: Db, app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """(mutation test, thirty-ninth session) The design fixes one lock order (all tenants, the tenant, the
    parents' keys ascending) so that two statements of one tenant cannot deadlock; with lock_for_read()'s
    order reversed every test passed. A three-job UPDATE waits for the renamed category's lock, holding
    those of lower keys, not yet asking for those of higher ones."""
    cats = [category_id(app, SCHEMA, f"category-{n}") for n in (1, 2, 3)]
    jobs = [insert_job(app, SCHEMA, category_id=c) for c in cats]
    keys = category_keys(conn, cats)
    with db.connect(role=seed.APP_ROLE, autocommit=False) as renamer:
        renamer.execute(f"UPDATE {SCHEMA}.ats_jobcategory SET name = 'Renamed' WHERE id = %s", (cats[1],))
        thread, pid, errors = run_blocked(db, lambda c: c.execute(
            f"UPDATE {SCHEMA}.ats_jobposting SET title = title || ' (moved)' WHERE id = ANY (%s)",
            ([j["id"] for j in jobs],)))
        wait_until_blocked(conn, pid)
        assert_took_in_ascending_order(conn, pid, keys, keys[1])
        renamer.commit()
    finish(thread, errors)
    assert verify_findings(conn) == []


@pytest.mark.parametrize("direction", ["to the higher key", "to the lower key"])
def test_a_single_row_write_takes_its_two_parents_locks_in_ascending_order(
        db: Db, app: psycopg.Connection, conn: psycopg.Connection, direction: str) -> None:
    """lock_for_read()'s path for one or two parents (a job moved from one category to another) orders the
    two keys itself, whichever comes first in its array: the lower key taken, waiting for the higher one."""
    cats = sorted((category_id(app, SCHEMA, f"category-{n}") for n in (1, 2, 3)),
                  key=lambda c: category_keys(conn, [c])[0])
    low, high = cats[0], cats[2]
    job = insert_job(app, SCHEMA, category_id=low if direction == "to the higher key" else high)
    keys = category_keys(conn, [low, high])
    with db.connect(role=seed.APP_ROLE, autocommit=False) as renamer:
        renamer.execute(f"UPDATE {SCHEMA}.ats_jobcategory SET name = 'Renamed' WHERE id = %s", (high,))
        thread, pid, errors = run_blocked(db, lambda c: c.execute(
            f"UPDATE {SCHEMA}.ats_jobposting SET category_id = %s WHERE id = %s",
            (high if direction == "to the higher key" else low, job["id"])))
        wait_until_blocked(conn, pid)
        assert parent_keys(conn, pid) == {keys[0]: True, keys[1]: False}
        renamer.commit()
    finish(thread, errors)
    assert verify_findings(conn) == []


def test_a_parent_change_takes_its_exclusive_locks_in_ascending_order(
        db: Db, app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """(mutation test, thirty-ninth session) The same for lock_for_parent_change(): a rename of three
    categories in one statement waits for the one a job write holds."""
    cats = [category_id(app, SCHEMA, f"category-{n}") for n in (1, 2, 3)]
    job = insert_job(app, SCHEMA, category_id=cats[1])
    keys = category_keys(conn, cats)
    with db.connect(role=seed.APP_ROLE, autocommit=False) as writer:
        update_job(writer, SCHEMA, job["id"], title="Held")
        thread, pid, errors = run_blocked(db, lambda c: c.execute(
            f"UPDATE {SCHEMA}.ats_jobcategory SET name = name || ' (renamed)' WHERE id = ANY (%s)", (cats,)))
        wait_until_blocked(conn, pid)
        assert_took_in_ascending_order(conn, pid, keys, keys[1])
        writer.commit()
    finish(thread, errors)
    assert verify_findings(conn) == []


@pytest.mark.parametrize("via", ["sql", "cli", "cli, opted out before"])
def test_a_detach_waits_for_an_attach_in_flight_and_undoes_it(via: str, db: Db, conn: psycopg.Connection,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """(chaos trial, forty-seventh session) A detach (the opt-out) while django-tenants' hook attached the new
    tenant, not yet committed, saw no trigger and dropped none; the attach then committed its triggers and
    registrations under a tenant marked detached, which went on publishing, and repair could not stop it. The
    detach now waits for the attach, then undoes it. (Review) Its report reads the tenant's state under its
    locks: one opted out before, attached again meanwhile, read "is detached already"."""
    from pyinstaller_tools import cli
    from tests.jobs import create_tenant

    tenant_id, schema = create_tenant(conn, "racer", "Racer Ltd")
    if via == "cli, opted out before":
        conn.execute("SELECT * FROM catalog_sync.detach_schema(%s)", (schema,))
    outcome: list[Any] = []

    def detach() -> None:
        if via.startswith("cli"):
            outcome.append(cli.main(["detach", schema, "--dsn", db.dsn()]))
            return
        with db.connect() as detacher:
            outcome.append(detacher.execute("SELECT triggers_dropped FROM catalog_sync.detach_schema(%s)",
                                            (schema,)).fetchone())

    with db.connect(autocommit=False) as attacher:
        attacher.execute("SELECT * FROM catalog_sync.attach_schema(%s)", (schema,))
        thread = threading.Thread(target=detach)
        thread.start()
        deadline = time.monotonic() + 60
        while not conn.execute("SELECT EXISTS (SELECT FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                               "AND pid <> pg_backend_pid())").fetchone()[0]:
            assert time.monotonic() < deadline, "the detach never waited"
            time.sleep(0.02)
        attacher.commit()
    thread.join(60)
    assert outcome == ([0] if via.startswith("cli") else [(32,)]), (outcome, capsys.readouterr())
    if via.startswith("cli"):    # (what it undid said, not "was not attached": review, forty-seventh session)
        out = capsys.readouterr().out
        assert f"detached {schema}: 32 trigger(s) dropped; catalog rows kept: still public, and no longer synced" \
            in out, out
    assert conn.execute("SELECT (SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s "
                        "AND t.tgname LIKE 'catalog_sync%%'), "
                        "(SELECT count(*) FROM catalog_sync.attached_table WHERE tenant_id = %s), "
                        "(SELECT detached_at IS NOT NULL FROM catalog_sync.tenant WHERE tenant_id = %s)",
                        (schema, tenant_id, tenant_id)).fetchone() == (0, 0, True)
    with db.connect(role=seed.APP_ROLE) as app:
        job = insert_job(app, schema)
    assert catalog_row(conn, job["uuid"]) is None      # not published: detached
    assert verify_findings(conn) == []


def test_an_opt_out_made_while_attach_all_or_repair_runs_is_kept(db: Db, conn: psycopg.Connection,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """(chaos trial, forty-seventh session) attach --all and verify --repair read their list of schemas before
    they attach: a detach on purpose committed meanwhile was undone, the tenant attached again (with --purge,
    its rows published again by the repair's backfill). They now read, under the tenants' attach locks, which
    of their schemas were detached on purpose since, and leave those alone."""
    from pyinstaller_tools import operations

    with db.connect(role=seed.APP_ROLE) as app:
        insert_job(app, "tenant_acme")
    conn.execute("DROP TRIGGER catalog_sync_job_insert ON tenant_acme.ats_jobposting")      # drift repair mends
    findings = operations.verify(conn, None)
    assert [(f["problem"], f["schema"]) for f in findings] == [("trigger_missing", "tenant_acme")], findings
    conn.execute("SELECT * FROM catalog_sync.detach_schema('tenant_acme', true)")         # the opt-out, after verify
    done, left, failed = operations.repair(conn, findings, lambda _: None)
    assert (done, failed) == ([], []), (done, failed)
    assert left == ["not repaired (detached on purpose while this ran: left alone): tenant_acme"], left

    def state() -> tuple[Any, ...]:
        return conn.execute("SELECT (SELECT count(*) FROM catalog_sync.attached_table a JOIN catalog_sync.tenant t "
                            "USING (tenant_id) WHERE t.schema_name = 'tenant_acme'), "
                            "(SELECT detached_at IS NOT NULL FROM catalog_sync.tenant WHERE schema_name = "
                            "'tenant_acme'), (SELECT count(*) FROM public.job_catalog WHERE tenant_schema = "
                            "'tenant_acme')").fetchone()

    assert state() == (0, True, 0)
    # attach --all's list, read before the detach: the chunk leaves the opt-out alone; named, it is attached.
    result = operations.attach(conn, ["tenant_acme", "tenant_globex"], 10, lambda _: None, keep_opt_outs=True)
    assert (result.opted_out, result.schemas) == (["tenant_acme"], 1), result
    assert state() == (0, True, 0)
    result = operations.attach(conn, ["tenant_acme"], 10, lambda _: None)
    assert (result.opted_out, result.schemas) == ([], 1), result
    assert state()[:2] == (8, False)


def test_the_opt_out_read_waits_for_a_detach_in_flight(db: Db, conn: psycopg.Connection) -> None:
    """opted_out_schemas() takes the tenants' attach locks before it reads: a detach on purpose not yet
    committed when attach --all or repair asks is waited for, and then seen (read before it commits, the
    attach that follows would undo it, as in the test above)."""
    outcome: list[Any] = []
    queued_behind(db, conn, ["SELECT * FROM catalog_sync.detach_schema('tenant_acme')"],
                  lambda c: outcome.append(c.execute("SELECT catalog_sync.opted_out_schemas(%s::text[])",
                                                     (["tenant_acme", "tenant_globex"],)).fetchall()), role=None)
    assert outcome == [[("tenant_acme",)]], outcome


def test_a_repair_leaves_alone_a_tenant_with_row_drift_detached_meanwhile(db: Db, conn: psycopg.Connection) -> None:
    """(review, forty-seventh session) A tenant verify found with row drift only, detached on purpose before the
    repair's backfill reached it: the backfill skips it ("detached since the run began"), and repair took the
    skipped entry for a re-synced one (a KeyError, the whole repair lost)."""
    from pyinstaller_tools import operations

    with db.connect(role=seed.APP_ROLE) as app:
        job = insert_job(app, "tenant_globex")
    conn.execute("UPDATE public.job_catalog SET title = 'drifted' WHERE job_uuid = %s", (job["uuid"],))
    findings = operations.verify(conn, None)
    assert [(f["problem"], f["schema"]) for f in findings] == [("stale", "tenant_globex")], findings
    conn.execute("SELECT * FROM catalog_sync.detach_schema('tenant_globex')")
    done, left, failed = operations.repair(conn, findings, lambda _: None)
    assert (done, failed) == ([], []), (done, failed)
    assert left == ["not repaired (detached or deleted while this ran: left alone): tenant_globex"], left


def test_a_tenant_deleted_from_the_registry_during_its_backfill_waits_for_it(
        db: Db, app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """(concurrency trial, fifty-second session) A DELETE of a tenant's registry row cascades to the machinery's
    row of the tenant and to its catalog rows (foreign keys) before its statement trigger takes the tenant's
    lock: one that came during a backfill of the tenant deleted what the backfill had not reached, then waited
    for a catalog row the backfill held, while the backfill waited for a row the DELETE had deleted (its
    update of the machinery's row, a new catalog row's foreign-key check): a deadlock, which failed the
    application's DELETE or the backfill. The backfill claims the registry row under the tenant's lock, before
    any catalog row (registry_claim): the DELETE waits for it, then both succeed."""
    # (a stale row: its update takes no lock on the registry row, as a new row's foreign-key check would)
    stale = insert_job(app, SCHEMA)
    conn.execute("UPDATE public.job_catalog SET title = 'stale' WHERE job_uuid = %s", (stale["uuid"],))
    tenant_id = conn.execute("SELECT id FROM public.tenants_tenant WHERE schema_name = %s", (SCHEMA,)).fetchone()[0]
    with db.connect(autocommit=False) as holder:
        # the backfill, its job rows written, waits for the provider table (as for a tenant's writer)
        holder.execute(f"LOCK TABLE {SCHEMA}.services_serviceprovider IN ACCESS EXCLUSIVE MODE")
        thread, pid, errors = run_blocked(db, lambda c: c.execute(
            "SELECT * FROM catalog_sync.backfill_tenant(%s)", (tenant_id,)), role=None)
        wait_until_blocked(conn, pid)
        deleter, pid, delete_errors = run_blocked(db, lambda c: (
            c.execute("DELETE FROM public.tenants_domain WHERE tenant_id = %s", (tenant_id,)),
            c.execute("DELETE FROM public.tenants_tenant WHERE id = %s", (tenant_id,))))
        wait_until_blocked(conn, pid)
        holder.rollback()
    thread.join(30)
    finish(deleter, delete_errors)
    assert not thread.is_alive() and not errors, errors
    assert conn.execute("SELECT (SELECT count(*) FROM public.job_catalog WHERE tenant_id = %(t)s), "
                        "(SELECT count(*) FROM catalog_sync.tenant WHERE tenant_id = %(t)s), "
                        "(SELECT count(*) FROM catalog_sync.registry_claim)", {"t": tenant_id}).fetchone() == (0, 0, 0)


def test_a_backfill_of_a_tenant_deleted_from_the_registry_names_it(
        db: Db, app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """(concurrency trial, fifty-second session) The CLI's backfill skipped a tenant deleted meanwhile as
    "detached since the run began"."""
    from pyinstaller_tools import operations

    tenant_id = conn.execute("SELECT id FROM public.tenants_tenant WHERE schema_name = %s", (SCHEMA,)).fetchone()[0]
    tenants = operations.resolve_tenants(conn, [SCHEMA])
    conn.execute("DELETE FROM public.tenants_domain WHERE tenant_id = %s", (tenant_id,))
    conn.execute("DELETE FROM public.tenants_tenant WHERE id = %s", (tenant_id,))
    report = operations.backfill(conn, tenants, False, "5s", lambda line: None)
    assert [(t["schema"], t.get("skipped"), t["error"]) for t in report["tenants"]] == [
        (SCHEMA, "deleted from the registry since the run began", None)]


TENANT_LOCK_FIRST = {
    "a job written first": lambda a, _t: insert_job(a, SCHEMA),
    "its registry row updated first": lambda a, t: a.execute(
        "UPDATE public.tenants_tenant SET name = name || ' (closing)' WHERE id = %s", (t,)),
}


@pytest.mark.parametrize("first", TENANT_LOCK_FIRST.values(), ids=TENANT_LOCK_FIRST.keys())
def test_a_transaction_that_holds_the_tenants_lock_deletes_the_tenant_during_its_backfill(
        db: Db, conn: psycopg.Connection, first: Callable[[psycopg.Connection, int], Any]) -> None:
    """(review, fifty-second session) The backfill's claim of the registry row came before the tenant's lock: a
    transaction that took that lock first (a write of the tenant, its registry row's update, protect's check of
    a DROP SCHEMA: Django's tenant.delete() in one transaction) and then deleted the tenant deadlocked with it.
    The claim comes under the lock: the backfill waits, then says the tenant was deleted."""
    tenant_id = conn.execute("SELECT id FROM public.tenants_tenant WHERE schema_name = %s", (SCHEMA,)).fetchone()[0]
    with db.connect(role=seed.APP_ROLE, autocommit=False) as app_tx:
        first(app_tx, tenant_id)
        thread, pid, errors = run_blocked(db, lambda c: c.execute(
            "SELECT * FROM catalog_sync.backfill_tenant(%s)", (tenant_id,)), role=None)
        wait_until_blocked(conn, pid)
        app_tx.execute("DELETE FROM public.tenants_domain WHERE tenant_id = %s", (tenant_id,))
        app_tx.execute("DELETE FROM public.tenants_tenant WHERE id = %s", (tenant_id,))
        app_tx.commit()
    thread.join(30)
    assert not thread.is_alive()
    deleted = f"catalog_sync: tenant {tenant_id} is not attached (deleted from the registry)"
    assert [(type(e), str(e).split("\n")[0]) for e in errors] == [(psycopg.errors.UndefinedObject, deleted)]


def test_a_backfill_that_waited_for_a_delete_of_its_tenant_from_the_registry_names_it(
        db: Db, app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """(fifty-second session) A DELETE of the tenant from the registry, in progress when the backfill began (the
    tenant still attached as the backfill's first check reads it), committed while the backfill's claim of the
    registry row waited for it: the claim's foreign-key check fails, and the backfill names the tenant deleted
    (the foreign_key_violation handler of backfill_tenant()), not an error."""
    from pyinstaller_tools import operations

    tenant_id = db.tenant_id(SCHEMA)
    tenants = operations.resolve_tenants(conn, [SCHEMA])
    reports: list[dict[str, Any]] = []
    errors: list[BaseException] = []
    with db.connect(role=seed.APP_ROLE, autocommit=False) as deleter:
        deleter.execute("DELETE FROM public.tenants_domain WHERE tenant_id = %s", (tenant_id,))
        deleter.execute("DELETE FROM public.tenants_tenant WHERE id = %s", (tenant_id,))
        backfiller = db.connect()

        def backfill() -> None:
            try:
                reports.append(operations.backfill(backfiller, tenants, False, "30s", lambda line: None))
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                backfiller.close()

        thread = threading.Thread(target=backfill)
        thread.start()
        try:
            wait_until_blocked(conn, backfiller.info.backend_pid)
        finally:
            deleter.commit()
            thread.join(30)
    assert not thread.is_alive() and not errors, errors
    assert [(t["schema"], t.get("skipped"), t["error"]) for t in reports[0]["tenants"]] == [
        (SCHEMA, "deleted from the registry since the run began", None)]


def test_a_backfill_leaves_no_claim_of_the_registry_behind(db: Db, app: psycopg.Connection,
                                                            conn: psycopg.Connection) -> None:
    """catalog_sync.registry_claim never holds a committed row: the backfill's claim (its foreign key's check,
    FOR KEY SHARE on the registry row) is deleted in the same transaction."""
    insert_job(app, SCHEMA)
    conn.execute("DELETE FROM public.job_catalog WHERE tenant_id = %s", (db.tenant_id(SCHEMA),))
    conn.execute("SELECT * FROM catalog_sync.backfill_tenant(%s)", (db.tenant_id(SCHEMA),))
    assert conn.execute("SELECT count(*) FROM catalog_sync.registry_claim").fetchone() == (0,)
    assert verify_findings(conn) == []
