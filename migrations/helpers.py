"""Running raw SQL from migrations, online and offline (--sql) alike."""

from __future__ import annotations

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
