"""A large UPDATE is applied in batches sized to hash_mem (apply_in_batches()).

The apply's MERGE hashes the candidate keys; past hash_mem the hash join splits and spills the projected
rows to disk. sync_changes() therefore applies an UPDATE of more rows than hash_mem holds keys for
(work_mem x hash_mem_multiplier / 128 bytes) in batches, each its own statement, after every lock. The
tests use the smallest settings (64 kB, multiplier 1: 512 rows a batch) and count the applies in the
transaction's function statistics.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from psycopg import sql

from pyinstaller_tools import seed
from tests.jobs import catalog_row, insert_jobs, verify_findings
from tests.market import insert_provider, insert_services, service_row

ACME = "tenant_acme"
SMALL_HASH_MEM = ("SET LOCAL work_mem = '64kB'", "SET LOCAL hash_mem_multiplier = 1")   # 512 keys a batch


def q(query: str) -> sql.Composed:
    return sql.SQL(query).format(s=sql.Identifier(ACME))


def run_as_application(conn: psycopg.Connection, statement: sql.Composable,
                       settings: tuple[str, ...] = SMALL_HASH_MEM) -> dict[str, int]:
    """`statement` as the application role in one transaction, with `settings`; returns how often each
    catalog_sync function ran in it (track_functions, set by the superuser before SET ROLE), and the rows
    each catalog lost in it ("deleted <catalog>")."""
    with conn.transaction():
        conn.execute("SET LOCAL track_functions = 'all'")
        for setting in settings:
            conn.execute(setting)
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(seed.APP_ROLE)))
        conn.execute(statement)
        rows = conn.execute("SELECT funcname, calls FROM pg_stat_xact_user_functions "
                            "WHERE schemaname = 'catalog_sync' UNION ALL "
                            "SELECT 'deleted ' || relname, n_tup_del FROM pg_stat_xact_user_tables "
                            "WHERE schemaname = 'public' AND relname LIKE '%%_catalog'").fetchall()
    return {str(name): int(calls) for name, calls in rows}


def set_counters(conn: psycopg.Connection, keys: list[Any]) -> None:
    """A job's public-side counter, which no re-sync may reset (a row deleted and inserted again would)."""
    conn.execute("UPDATE public.job_catalog SET view_count = 7 WHERE job_uuid = ANY (%s)", (keys,))


def test_a_large_update_is_applied_in_batches(app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """1,200 jobs, 1,000 public: one UPDATE retitles them all, rewrites every seventh one's description,
    takes every fifth off the careers page and puts the internal ones on it. Three batches of 400; the
    catalog equals the projection (verify sanitizes every description again: a mask in the wrong batch
    would have kept a stale one), and the counters of the rows that stay public are kept (updated in
    place, never deleted and inserted)."""
    jobs = insert_jobs(app, ACME, [{"is_internal_only": n >= 1000} for n in range(1200)])
    public = [j["uuid"] for j in jobs if not j["is_internal_only"]]
    set_counters(conn, public)
    calls = run_as_application(conn, q("UPDATE {s}.ats_jobposting SET title = title || ' v2', "
                                       "description = CASE WHEN id % 7 = 0 THEN '<p>Rewritten</p>' "
                                       "ELSE description END, is_internal_only = (id % 5 = 0)"))
    assert calls.get("apply_in_batches") == 1 and calls.get("apply_jobs") == 3, calls
    leaving = sum(1 for j in jobs if not j["is_internal_only"] and j["id"] % 5 == 0)
    assert calls.get("deleted job_catalog") == leaving, calls      # no key deleted and inserted again
    assert verify_findings(conn) == []
    rows = {j["uuid"]: catalog_row(conn, j["uuid"]) for j in jobs}
    published = [u for u, row in rows.items() if row is not None]
    assert len(published) == 1200 - sum(1 for j in jobs if j["id"] % 5 == 0)
    assert all(row["title"].endswith(" v2") for row in rows.values() if row is not None)
    kept = [rows[u] for u in public if rows[u] is not None]
    assert kept and all(row["view_count"] == 7 for row in kept)
    assert all(rows[j["uuid"]]["view_count"] == 0 for j in jobs if j["is_internal_only"] and rows[j["uuid"]])
    rewritten = [rows[j["uuid"]] for j in jobs if j["id"] % 7 == 0 and rows[j["uuid"]] is not None]
    assert rewritten and all("Rewritten" in row["description"] for row in rewritten)


def test_rows_twice_in_the_transition_tables_are_applied_in_batches(app: psycopg.Connection,
                                                                   conn: psycopg.Connection) -> None:
    """A cascading foreign key puts every job into the statement's transition tables twice (its title,
    cascaded from a side table, and the statement's own change): each batch folds its ids once, and an
    id whose entries fall into two batches is applied by both."""
    jobs = insert_jobs(app, ACME, [{} for _ in range(600)])
    app.execute(q("CREATE TABLE {s}.side (job_id bigint, t varchar(200), UNIQUE (job_id, t))"))
    app.execute(q("INSERT INTO {s}.side SELECT id, title FROM {s}.ats_jobposting"))
    app.execute(q("ALTER TABLE {s}.ats_jobposting ADD FOREIGN KEY (id, title) "
                  "REFERENCES {s}.side (job_id, t) ON UPDATE CASCADE"))
    calls = run_as_application(conn, q("WITH c AS (UPDATE {s}.side SET t = t || ' cascaded' RETURNING 1) "
                                       "UPDATE {s}.ats_jobposting SET location_city = 'Porto' "
                                       "WHERE (SELECT count(*) FROM c) > 0"))
    assert calls.get("apply_in_batches") == 1 and calls.get("apply_jobs", 0) >= 2, calls
    for job in jobs:
        row = catalog_row(conn, job["uuid"])
        assert row is not None and (row["title"], row["location_city"]) == (job["title"] + " cascaded", "Porto")
    assert verify_findings(conn) == []


def test_the_batch_size_follows_hash_mem_multiplier(app: psycopg.Connection, conn: psycopg.Connection) -> None:
    """(mutation review, forty-ninth session) hash_mem is work_mem times hash_mem_multiplier: at 64 kB and 2,
    1,024 keys a batch, so 1,200 rows take two applies (three if the multiplier were left out)."""
    insert_jobs(app, ACME, [{} for _ in range(1200)])
    calls = run_as_application(conn, q("UPDATE {s}.ats_jobposting SET title = title || ' v2'"),
                               ("SET LOCAL work_mem = '64kB'", "SET LOCAL hash_mem_multiplier = 2"))
    assert calls.get("apply_in_batches") == 1 and calls.get("apply_jobs") == 2, calls
    assert verify_findings(conn) == []


@pytest.mark.parametrize("settings", [SMALL_HASH_MEM, ()], ids=["batches", "at_once"])
def test_two_html_columns_changed_by_two_parts_of_a_statement_are_both_sanitized(
        app: psycopg.Connection, conn: psycopg.Connection, settings: tuple[str, ...]) -> None:
    """(mutation review, forty-ninth session) A cascade changes each job's description and the statement its
    requirements: each job is in the transition tables twice, each entry with the mask of its own HTML
    column, and the fold of its entries must keep both bits (the one cascade test had no HTML change)."""
    jobs = insert_jobs(app, ACME, [{} for _ in range(600)])
    app.execute(q("CREATE TABLE {s}.side (job_id bigint, d text, UNIQUE (job_id, d))"))
    app.execute(q("INSERT INTO {s}.side SELECT id, description FROM {s}.ats_jobposting"))
    app.execute(q("ALTER TABLE {s}.ats_jobposting ADD FOREIGN KEY (id, description) "
                  "REFERENCES {s}.side (job_id, d) ON UPDATE CASCADE"))
    run_as_application(conn, q("WITH c AS (UPDATE {s}.side SET d = d || '<b>x</b>' RETURNING 1) "
                               "UPDATE {s}.ats_jobposting SET requirements = '<p>R</p>' "
                               "WHERE (SELECT count(*) FROM c) > 0"), settings)
    for job in jobs[::50]:
        row = catalog_row(conn, job["uuid"])
        assert row is not None and row["description"].endswith("<b>x</b>") and row["requirements"] == "<p>R</p>", row
    assert verify_findings(conn) == []


def test_huge_memory_settings_do_not_overflow_the_batch_size(app: psycopg.Connection,
                                                            conn: psycopg.Connection) -> None:
    """work_mem 1 GB times hash_mem_multiplier 300 is more keys than an integer counts: one apply, no error
    (an overflow there would have failed every UPDATE of more than one job keeping its uuids)."""
    jobs = insert_jobs(app, ACME, [{}, {}])
    calls = run_as_application(conn, q("UPDATE {s}.ats_jobposting SET title = title || ' v2'"),
                               ("SET LOCAL work_mem = '1GB'", "SET LOCAL hash_mem_multiplier = 300"))
    assert "apply_in_batches" not in calls and calls.get("apply_jobs") == 1, calls
    assert all(catalog_row(conn, j["uuid"])["title"].endswith(" v2") for j in jobs)  # type: ignore[index]


def test_the_default_hash_mem_applies_a_thousand_rows_at_once(app: psycopg.Connection,
                                                             conn: psycopg.Connection) -> None:
    """At the server's defaults (4 MB, multiplier 2: 65,536 keys) the same statement is one apply."""
    insert_jobs(app, ACME, [{} for _ in range(1200)])
    calls = run_as_application(conn, q("UPDATE {s}.ats_jobposting SET title = title || ' v2'"),
                               ("SET LOCAL work_mem = '4MB'", "SET LOCAL hash_mem_multiplier = 2"))
    assert "apply_in_batches" not in calls and calls.get("apply_jobs") == 1, calls
    assert verify_findings(conn) == []


def test_a_large_update_that_changes_a_uuid_is_applied_at_once(app: psycopg.Connection,
                                                              conn: psycopg.Connection) -> None:
    """A uuid that leaves its row may be another row's now, in another batch: one batch would delete its
    key and the other insert it again, its counters lost. So a statement in which any uuid leaves its
    row is one apply, as before batches."""
    jobs = insert_jobs(app, ACME, [{} for _ in range(600)])
    moved = jobs[300]
    calls = run_as_application(conn, sql.SQL(
        "UPDATE {s}.ats_jobposting SET title = title || ' v2', "
        "uuid = CASE id WHEN {moved} THEN gen_random_uuid() ELSE uuid END").format(
        s=sql.Identifier(ACME), moved=sql.Literal(moved["id"])))
    assert "apply_in_batches" not in calls and calls.get("apply_jobs") == 1, calls
    assert catalog_row(conn, moved["uuid"]) is None
    assert verify_findings(conn) == []


def test_a_large_update_of_services_is_applied_in_batches(app: psycopg.Connection,
                                                          conn: psycopg.Connection) -> None:
    """The same for services: 1,100 of one provider, every fourth made private, in three batches."""
    provider = insert_provider(app, ACME)
    services = insert_services(app, ACME, provider["id"], 1100)
    calls = run_as_application(conn, q("UPDATE {s}.services_service SET title = title || ' v2', "
                                       "is_public = (id % 4 <> 0)"))
    assert calls.get("apply_in_batches") == 1 and calls.get("apply_services") == 3, calls
    assert calls.get("deleted service_catalog") == sum(1 for s in services if s["id"] % 4 == 0), calls
    assert verify_findings(conn) == []
    rows = [service_row(conn, s["uuid"]) for s in services]
    assert sum(1 for r in rows if r is not None) == sum(1 for s in services if s["id"] % 4 != 0)
    assert all(r["title"].endswith(" v2") for r in rows if r is not None)
