from tests.jobs import catalog_row, insert_job


def test_insert_publishes(app, conn):
    job = insert_job(app, "tenant_acme")
    assert catalog_row(conn, job["uuid"]) is not None
