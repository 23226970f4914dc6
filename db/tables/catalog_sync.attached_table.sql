-- Every tenant table the sync triggers may fire on, by OID. A trigger whose
-- table is not registered here for its tenant argument refuses to run.
CREATE TABLE catalog_sync.attached_table (
    relid        oid PRIMARY KEY,
    tenant_id    bigint NOT NULL REFERENCES catalog_sync.tenant (tenant_id) ON DELETE CASCADE,
    source_table name NOT NULL,
    UNIQUE (tenant_id, source_table)
);
ALTER TABLE catalog_sync.attached_table OWNER TO catalog_sync_owner;
