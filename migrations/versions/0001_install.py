"""Install the machinery: roles, the catalog_sync schemas, public.job_catalog,
provider_catalog and service_catalog, the sync, audit and protection functions and
the tenant-registry triggers (section "revision 0001" of db/install.txt).

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
