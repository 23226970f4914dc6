"""Install the job catalog machinery: roles, catalog_sync schema, public.job_catalog,
sync functions and the tenant-registry triggers (section "revision 0001" of db/install.txt).

Revision ID: 0001
Revises:
"""

from pyinstaller_tools.migrations.helpers import run_sql

from pyinstaller_tools import sqlfiles

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    for name, sql in sqlfiles.install_statements("0001"):
        run_sql(f"-- db/{name}\n{sql}")


def downgrade() -> None:
    run_sql(sqlfiles.uninstall_sql())
