"""What django-tenants does around the sync that the contract's tables do not show.

It sends post_schema_sync for its public tenant too (schema public: the registry and the shared apps,
no tenant tables), and deletes a tenant whose receiver raised with DROP SCHEMA ... CASCADE: for the
public tenant, every shared table, the catalogs among them (Django trial, forty-sixth session, with
real Django and django-tenants: the receiver docs/operations.md showed dropped schema public).
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from pyinstaller_tools import cli, seed
from tests.conftest import Db

HOOK_ROLE = "django_tenants_hook"     # the receiver's connection: the application role, an installer


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def create_public_tenant(conn: psycopg.Connection) -> int:
    """The registry row of django-tenants' public tenant, as `Tenant(schema_name='public').save()` makes it
    (the schema exists already, and holds no tenant table)."""
    conn.execute(f"SET ROLE {seed.APP_ROLE}")
    row = conn.execute(
        "INSERT INTO public.tenants_tenant (schema_name, uuid, name, slug, logo_url, website, status, created_on, "
        "updated_at) VALUES ('public', gen_random_uuid(), 'Zumodra', 'public', '', '', 'active', now(), now()) "
        "RETURNING id").fetchone()
    conn.execute("RESET ROLE")
    assert row is not None
    return int(row[0])


def machinery_state(conn: psycopg.Connection) -> tuple[Any, ...]:
    """What an attach or a backfill of schema public could have changed."""
    return (
        conn.execute("SELECT count(*) FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid "
                     "WHERE c.relnamespace = 'public'::regnamespace AND NOT tg.tgisinternal").fetchone(),
        conn.execute("SELECT array_agg(tenant_id ORDER BY tenant_id) FROM catalog_sync.tenant").fetchone(),
        conn.execute("SELECT count(*) FROM catalog_sync.attached_table").fetchone(),
        conn.execute("SELECT has_schema_privilege('catalog_sync_owner', 'public', 'USAGE')").fetchone(),
        conn.execute("SELECT count(*) FROM public.job_catalog").fetchone(),
    )


def test_the_documented_hook_attaches_the_public_tenant_as_nothing(
        db: Db, conn: psycopg.Connection, capsys: pytest.CaptureFixture[str]) -> None:
    """attach_schema('public') returns the public tenant's id and 0 with a notice, and backfill_tenant() of
    that id returns nothing: the receiver as docs/operations.md shows it (attach, then backfill) passes
    without its guard for the public tenant, and changes nothing. Before, attach_schema raised
    `public.ats_jobcategory is missing`, and django-tenants then dropped schema public."""
    public_id = create_public_tenant(conn)
    db.login_role(HOOK_ROLE, seed.APP_ROLE)
    db.login_role(HOOK_ROLE, "catalog_sync_installer")
    before = machinery_state(conn)
    notices: list[str] = []
    with db.connect(role=HOOK_ROLE, autocommit=False) as hook:
        hook.add_notice_handler(lambda d: notices.append(d.message_primary or ""))
        with hook.cursor() as cursor:
            cursor.execute("SELECT tenant_id, triggers_changed FROM catalog_sync.attach_schema(%s)", ["public"])
            tenant_id, changed = cursor.fetchone() or (None, None)
            assert (tenant_id, changed) == (public_id, 0)
            cursor.execute("SELECT * FROM catalog_sync.backfill_tenant(%s)", [tenant_id])
            assert cursor.fetchall() == []
        hook.commit()
    assert any("schema public holds the tenant registry" in n and "nothing to attach" in n for n in notices), notices
    assert any("public tenant" in n and "nothing to backfill" in n for n in notices), notices
    assert machinery_state(conn) == before
    # Any other schema that is no tenant's is still refused, and a tenant not attached still cannot be backfilled.
    with pytest.raises(psycopg.errors.InvalidSchemaName, match="not a tenant schema"):
        conn.execute("SELECT * FROM catalog_sync.attach_schema('pg_toast')")
    _, schema = seed.create_tenant(conn, "initech", "Initech")
    with pytest.raises(psycopg.errors.UndefinedObject, match="is not attached"):
        conn.execute("SELECT * FROM catalog_sync.backfill_tenant(%s)", [db.tenant_id(schema)])

    # The tool: an explicit attach of public is refused, naming why (not "public.ats_jobcategory is missing" and
    # eight more); attach --all leaves it out; status shows it with no trigger of its own counted as EXTRA (the
    # registry's); verify is clean.
    code, out, err = run(capsys, "attach", "public", "--dsn", db.dsn())
    assert code == 2, (out, err)
    assert "schema public holds the tenant registry (django-tenants' public tenant)" in err, err
    assert "is missing" not in err, err
    assert run(capsys, "attach", "--all", "--dsn", db.dsn())[0] == 0
    code, out, err = run(capsys, "status", "--json", "--dsn", db.dsn())
    assert code == 0, err
    rows = {r["schema"]: r for r in json.loads(out)}
    assert rows["public"]["attached"] is False and rows["public"]["triggers"] is None, rows["public"]
    code, out, err = run(capsys, "verify", "--dsn", db.dsn())
    assert code == 0, (out, err)
    assert machinery_state(conn)[0] == before[0]
