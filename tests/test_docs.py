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
