"""Running raw SQL from migrations, online and offline (--sql) alike."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op


def run_sql(sql: str) -> None:
    """Execute SQL text exactly as written.

    Online it goes straight to psycopg (no parameter parsing: `%` and `:` stay
    literal); offline it is written to the script, with colons escaped so that
    SQLAlchemy's text() does not take `:name` for a bind parameter.
    """
    if context.is_offline_mode():
        op.execute(sa.text(sql.replace(":", "\\:")))
        return
    dbapi = op.get_bind().connection.dbapi_connection
    assert dbapi is not None
    with dbapi.cursor() as cur:
        cur.execute(sql)


def apply_section(revision: str, then: Sequence[str] = ()) -> None:
    """A revision's upgrade: the files of its section of db/install.txt, in order, the statements `then`,
    and last the check that the machinery is what the section's last file pinned (nothing of the revision
    runs after the check)."""
    from pyinstaller_tools import sqlfiles

    for name, sql in sqlfiles.install_statements(revision):
        run_sql(f"-- db/{name}\n{sql}")
    for sql in then:
        run_sql(sql)
    run_sql(pinned_check(revision))


def pinned_check(revision: str) -> str:
    """SQL that fails the revision's transaction where the machinery differs from its pin: a section that
    changes a function (or any pinned object) and does not end with a file that pins it again would
    otherwise commit, and every command after it refuse the machinery as changed by an attack (DBA trial,
    forty-ninth session: migrate said "migrated: 0001 -> 0002", then nothing ran)."""
    return f"""DO $pin_check$
DECLARE
    v_changes text := catalog_sync_pin.changes();
BEGIN
    IF v_changes IS NOT NULL THEN
        RAISE EXCEPTION 'catalog-sync: revision {revision} changes the machinery without pinning it again: its '
                        'section of db/install.txt must end with a file that runs SELECT catalog_sync_pin.pin() '
                        '(docs/operations.md, "Upgrades"); nothing of the revision was applied. What differs: %',
                        v_changes;
    END IF;
END
$pin_check$;"""
