"""The documentation's links lead somewhere: every relative link names a file
of the repository, and every #anchor a heading of the file it points into
(GitHub's heading anchors). Docs move often; a dead link is a silent lie."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import ROOT

DOCS = sorted([ROOT / "README.md", ROOT / "benchmarks" / "README.md", *(ROOT / "docs").glob("*.md")])
LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^#{1,6} +(.+?) *#*$")
FENCE = re.compile(r"^(```|~~~)")


def anchors(path: Path) -> set[str]:
    """GitHub's anchors for the headings of a Markdown file (code fences skipped)."""
    seen: Counter[str] = Counter()
    found: set[str] = set()
    fenced = False
    for line in path.read_text().splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        match = None if fenced else HEADING.match(line)
        if match is None:
            continue
        slug = re.sub(r"[^\w\- ]", "", match.group(1).lower()).replace(" ", "-")
        found.add(slug if seen[slug] == 0 else f"{slug}-{seen[slug]}")
        seen[slug] += 1
    return found


def links(path: Path) -> list[str]:
    return [target for target in LINK.findall(path.read_text())
            if not target.startswith(("http://", "https://", "mailto:"))]


def test_the_checker_sees_the_docs() -> None:
    # (a checker that finds no link or no heading would pass everything)
    assert len(DOCS) >= 6
    assert "1-writes-bench_writespy" in anchors(ROOT / "docs" / "benchmarks.md")
    assert {"diagnosis", "history"} <= anchors(ROOT / "docs" / "benchmarks-log.md")
    assert sum(len(links(doc)) for doc in DOCS) > 50


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(doc: Path) -> None:
    dead = []
    for target in links(doc):
        file_part, _, anchor = target.partition("#")
        path = (doc.parent / file_part).resolve() if file_part else doc
        if not path.exists():
            dead.append(f"{target}: no file {path}")
        elif anchor and path.suffix == ".md" and anchor not in anchors(path):
            dead.append(f"{target}: no heading with anchor #{anchor} in {path.relative_to(ROOT)}")
    assert not dead, f"dead links in {doc.relative_to(ROOT)}:\n" + "\n".join(dead)


# A code comment that points into the docs: 'docs/security.md, "Session settings"' (a heading, quoted),
# 'docs/benchmarks-log.md, Diagnosis, thirty-first session' (an entry of the Diagnosis section of the
# file named, which must have one) or 'docs/benchmarks.md, section 8' (a numbered heading). Comment
# markers and line breaks are removed first, so that a reference split over two comment lines is read whole.
CODE = sorted(p for folder in ("db", "pyinstaller_tools", "migrations", "benchmarks", "tests")
              for p in (ROOT / folder).rglob("*") if p.suffix in {".sql", ".py"})
QUOTED = re.compile(r'docs/([\w-]+\.md),? "([^"]+)"')
DIAGNOSIS = re.compile(r"docs/([\w-]+\.md),? Diagnosis,? ([\w-]+) session")
SECTION = re.compile(r"docs/([\w-]+\.md),? section (\d+)")


def comment_text(path: Path) -> str:
    """The file with comment markers at line starts removed, lines joined, and string literals written in
    pieces joined again (a message split over lines: "... (docs/" "operations.md, \\"Heading\\")"), with
    their escaped and doubled quotes undone."""
    lines = (re.sub(r"^\s*(--|#)\s?", "", line) for line in path.read_text().splitlines())
    text = re.sub(r"\s+", " ", " ".join(lines))
    text = re.sub(r"\" f?\"", "", text) if path.suffix == ".py" else re.sub(r"' '", "", text)
    return text.replace("''", "'").replace('\\"', '"')


def headings(path: Path) -> set[str]:
    return {m.group(1) for line in path.read_text().splitlines() if (m := HEADING.match(line))}


def diagnosis_entries(path: Path) -> str:
    """The text of the file's "## Diagnosis" section, up to the next "## " heading, lower-cased ("" if none)."""
    if not path.exists():
        return ""
    return path.read_text().partition("\n## Diagnosis\n")[2].split("\n## ")[0].lower()


def test_the_reference_checker_sees_the_references() -> None:
    text = " ".join(comment_text(p) for p in CODE)
    assert len(QUOTED.findall(text)) > 20 and len(DIAGNOSIS.findall(text)) > 10 and SECTION.search(text)
    assert "**thirty-first session**" in diagnosis_entries(ROOT / "docs" / "benchmarks-log.md")


@pytest.mark.parametrize("path", CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_reference_from_code_into_the_docs_resolves(path: Path) -> None:
    text = comment_text(path)
    if "docs/" not in text:
        return
    docs = ROOT / "docs"
    dead = []
    for doc, title in QUOTED.findall(text):
        if not (docs / doc).exists() or title.rstrip(".,;:") not in headings(docs / doc):
            dead.append(f'docs/{doc}, "{title}": no such heading')
    for doc, ordinal in DIAGNOSIS.findall(text):
        if f"**{ordinal.lower()} session**" not in diagnosis_entries(docs / doc):
            dead.append(f"docs/{doc}, Diagnosis, {ordinal} session: no such entry")
    for doc, number in SECTION.findall(text):
        if not any(h.startswith(f"{number}. ") for h in headings(docs / doc)):
            dead.append(f"docs/{doc}, section {number}: no such heading")
    assert not dead, f"references into the docs from {path.relative_to(ROOT)} lead nowhere:\n" + "\n".join(dead)
