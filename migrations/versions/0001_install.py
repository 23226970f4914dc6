"""Install the machinery: roles, the catalog_sync schemas, public.job_catalog,
provider_catalog and service_catalog, the sync, audit and protection functions and
the tenant-registry triggers (section "revision 0001" of db/install.txt).

Revision ID: 0001
Revises:
"""

from pyinstaller_tools.migrations.helpers import apply_section, run_sql

from pyinstaller_tools import sqlfiles

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # An installer's `catalog-sync migrate` at the installed revision is a no-op that reads the revision
    # (a deploy's idempotent step, as the deploy role); only a superuser changes it. Revoked by the
    # downgrade's DROP OWNED BY.
    # The registry locked first, within lock_timeout (its trigger and the catalogs' foreign keys take this lock
    # later anyway): the GRANT on it waited for an application's ALTER TABLE of it without one, then failed
    # with "tuple concurrently updated" (concurrency trial, fifty-second session).
    run_sql("LOCK TABLE public.tenants_tenant IN SHARE ROW EXCLUSIVE MODE")
    apply_section("0001", then=["GRANT SELECT ON public.alembic_version TO catalog_sync_installer"])


def downgrade() -> None:
    run_sql(sqlfiles.uninstall_sql())
