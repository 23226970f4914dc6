-- The memo of the sync's contract checks (docs/architecture.md, "Contract
-- memo"). A sync statement checks every relation it reads against the contract;
-- with the event trigger of `protect` in place, a relation checked before and
-- untouched by DDL since is not checked again.
--   ddl_epoch      bumped by that event trigger (on_contract_ddl) for every DDL
--                  command on the relation, in the DDL's own transaction;
--   checked_epoch  the ddl_epoch a successful check saw;
--   checked_token  the event trigger (OID and xmin) in place at that check.
-- A memo is current when checked_epoch = ddl_epoch and checked_token is the
-- token of the event trigger now in place (contracts_current()). A row exists
-- for every registered relation (register_schemas) and for the registry:
-- relations without a row are checked on every statement. Only the definer
-- writes here. A release that changes contract_column must reset
-- checked_epoch (UPDATE ... SET checked_epoch = NULL).
CREATE TABLE catalog_sync.contract_memo (
    relid         oid NOT NULL,
    source_table  name NOT NULL,
    ddl_epoch     bigint NOT NULL DEFAULT 0,
    checked_epoch bigint,
    checked_token text,
    PRIMARY KEY (relid, source_table)
);
ALTER TABLE catalog_sync.contract_memo OWNER TO catalog_sync_owner;

INSERT INTO catalog_sync.contract_memo (relid, source_table)
VALUES ('public.tenants_tenant'::regclass, 'tenants_tenant');
