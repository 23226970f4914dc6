"""The SQL of db/, read from the installed package (importlib.resources)."""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

DB = files("pyinstaller_tools.db")
CONTRACT = files("pyinstaller_tools") / "contract"


def install_order() -> list[str]:
    """The files of db/install.txt, in order."""
    lines = (DB / "install.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def read(relative_path: str) -> str:
    node: Traversable = DB
    for part in relative_path.split("/"):
        node = node / part
    return node.read_text(encoding="utf-8")


def install_statements() -> list[tuple[str, str]]:
    """(file name, SQL text) for every install file, in order."""
    return [(name, read(name)) for name in install_order()]


def install_script() -> str:
    """The whole install as one script, for review or psql."""
    parts = ["-- tenant-catalog-sync install script (generated from db/install.txt)", "BEGIN;"]
    for name, sql in install_statements():
        parts.append(f"\n-- ===== db/{name}\n{sql.rstrip()}")
    parts.append("\nCOMMIT;\n")
    return "\n".join(parts)


def uninstall_sql() -> str:
    return read("uninstall.sql")


def contract_sql(name: str, schema: str | None = None) -> str:
    """The contract DDL: 'tenant' (schema tenant_template renamed to `schema`) or 'public'."""
    if name == "public":
        return (CONTRACT / "public_schema.sql").read_text(encoding="utf-8")
    text = (CONTRACT / "tenant_schema.sql").read_text(encoding="utf-8")
    if schema is None:
        return text
    return text.replace("tenant_template", quote_ident(schema))


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
