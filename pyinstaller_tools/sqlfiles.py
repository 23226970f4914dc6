"""The SQL of db/, read from the installed package (importlib.resources)."""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable

DB = files("pyinstaller_tools.db")
CONTRACT = files("pyinstaller_tools") / "contract"


def revisions() -> dict[str, list[str]]:
    """db/install.txt by revision: {"0001": [files...], ...}, in order."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for raw in (DB / "install.txt").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("## revision "):
            current = sections.setdefault(line.removeprefix("## revision ").strip(), [])
        elif line and not line.startswith("#"):
            if current is None:
                raise ValueError(f"db/install.txt: {line} is listed before any '## revision' header")
            current.append(line)
    return sections


def install_order(revision: str | None = None) -> list[str]:
    """The files of one revision, or of all revisions (db/ applied directly), in order."""
    sections = revisions()
    if revision is not None:
        return sections[revision]
    seen: list[str] = []
    for files_ in sections.values():
        seen.extend(files_)
    return seen


def read(relative_path: str) -> str:
    node: Traversable = DB
    for part in relative_path.split("/"):
        node = node / part
    return node.read_text(encoding="utf-8")


def install_statements(revision: str | None = None) -> list[tuple[str, str]]:
    """(file name, SQL text) for the install files of one revision (or all), in order."""
    return [(name, read(name)) for name in install_order(revision)]


@cache
def machinery_functions() -> frozenset[str]:
    """The qualified names of the functions db/ creates in the machinery's schemas (catalog_sync,
    catalog_sync_protect, catalog_sync_pin), generated ones (apply_*, compare_*) aside."""
    return frozenset(m.group(1) for _, text in install_statements() for m in _CREATE_FUNCTION.finditer(text))


def called_functions(text: str) -> frozenset[str]:
    """The machinery's functions `text` names (called, or dropped)."""
    return frozenset(m.group(1) for m in re.finditer(r"\b" + _FUNCTION_NAME, text))


# A machinery function's qualified name (group 1) before its argument list.
_FUNCTION_NAME = r"(catalog_sync(?:_protect|_pin)?\.\w+)\s*\("
_CREATE_FUNCTION = re.compile(r"CREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+" + _FUNCTION_NAME, re.IGNORECASE)


def install_script() -> str:
    """The whole install as one script, for review or psql."""
    parts = ["-- tenant-catalog-sync install script (generated from db/install.txt), for reading.",
             "-- It records no alembic version: catalog-sync migrate refuses a database installed from it",
             "-- (catalog-sync uninstall --yes removes it, catalogs included). To review SQL, then apply it",
             "-- by hand, render it with catalog-sync migrate --sql instead.",
             "BEGIN;"]
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
