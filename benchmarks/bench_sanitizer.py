"""Throughput of catalog_sync.sanitize_html on typical rich-text HTML.

Generates a deterministic corpus of job-posting / service descriptions
(paragraphs, lists, headings, links, bold/italic, character references and a
little hostile content), loads it into a temporary table, then times in one run
each:

* ``sanitize_html``: ``catalog_sync.sanitize_html(body)`` over every row;
* ``escape only``: a baseline that escapes & < > " ' with ``replace()`` and
  restores nothing.

MB means 10**6 bytes of input (UTF-8).  Results go to stdout, progress to
stderr.  Nothing is left behind in the database: the table is temporary.

    python benchmarks/bench_sanitizer.py --dsn "host=127.0.0.1 port=5432 dbname=x" --mb 20
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterator

import psycopg

SEED = 20240611

WORDS = (
    "team",
    "engineer",
    "product",
    "customer",
    "platform",
    "data",
    "remote",
    "senior",
    "junior",
    "office",
    "hybrid",
    "salary",
    "benefits",
    "growth",
    "python",
    "postgres",
    "cloud",
    "design",
    "research",
    "support",
    "sales",
    "marketing",
    "mobile",
    "web",
    "security",
    "quality",
    "delivery",
    "agile",
    "mentor",
    "lead",
    "build",
    "ship",
    "scale",
    "reliable",
    "fast",
    "modern",
    "learn",
    "together",
    "flexible",
    "hours",
    "equity",
    "bonus",
    "health",
    "insurance",
    "vacation",
    "training",
    "conference",
    "budget",
)

ENTITIES = ("&amp;", "&nbsp;", "&eacute;", "&#8217;", "&#169;", "&#x2014;", "&lt;", "&gt;", "&quot;")

HOSTILE = (
    "<script>alert(document.cookie)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    '<iframe src="https://evil.example/"></iframe>',
    "<svg onload=alert(1)>",
    '<p style="background:url(javascript:alert(1))">styled</p>',
    "<!-- <script>x</script> -->",
    '<a href="https://ok.example/" onclick="steal()">ok</a>',
)

SANITIZE_SQL = "SELECT sum(octet_length(catalog_sync.sanitize_html(body))) FROM bench_sanitizer_docs"
ESCAPE_SQL = (
    "SELECT sum(octet_length("
    "replace(replace(replace(replace(replace(body, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), "
    "'\"', '&quot;'), '''', '&#39;'))) FROM bench_sanitizer_docs"
)


def sentence(rnd: random.Random) -> str:
    """One sentence with occasional inline markup and character references."""
    parts: list[str] = []
    for _ in range(rnd.randint(6, 18)):
        word = rnd.choice(WORDS)
        roll = rnd.random()
        if roll < 0.04:
            word = f"<strong>{word}</strong>"
        elif roll < 0.07:
            word = f"<em>{word}</em>"
        elif roll < 0.08:
            word = f"<b>{word}</b>"
        elif roll < 0.09:
            word = f"<i>{word}</i>"
        elif roll < 0.10:
            word = f"<code>{word}()</code>"
        elif roll < 0.115:
            url = f"https://www.example.com/{word}?ref=careers&amp;id={rnd.randint(1, 9999)}"
            word = f'<a href="{url}">{word}</a>'
        elif roll < 0.13:
            word = f"{word} {rnd.choice(ENTITIES)}"
        elif roll < 0.135:
            word = f"{word} & co"
        parts.append(word)
    text = " ".join(parts)
    return text[0].upper() + text[1:] + rnd.choice((".", ".", ".", "!", "?"))


def document(rnd: random.Random) -> str:
    """One rich-text description, roughly 0.5 to 8 kB."""
    blocks: list[str] = []
    for _ in range(rnd.randint(2, 14)):
        roll = rnd.random()
        if roll < 0.55:
            blocks.append("<p>" + " ".join(sentence(rnd) for _ in range(rnd.randint(1, 5))) + "</p>")
        elif roll < 0.70:
            tag = rnd.choice(("ul", "ol"))
            items = "".join(f"<li>{sentence(rnd)}</li>" for _ in range(rnd.randint(2, 7)))
            blocks.append(f"<{tag}>{items}</{tag}>")
        elif roll < 0.80:
            level = rnd.choice(("h2", "h3", "h4"))
            blocks.append(f"<{level}>{rnd.choice(WORDS).title()} {rnd.choice(WORDS)}</{level}>")
        elif roll < 0.85:
            blocks.append(f"<blockquote>{sentence(rnd)}</blockquote>")
        elif roll < 0.88:
            blocks.append(f"<pre>SELECT * FROM jobs WHERE salary &gt; {rnd.randint(1, 9)}0000;</pre>")
        elif roll < 0.93:
            blocks.append(sentence(rnd) + "<br>" + sentence(rnd) + "<br />")
        elif roll < 0.96:
            blocks.append(f"<P>{sentence(rnd)}</P>")
        else:
            blocks.append(f"<p>{sentence(rnd)} {rnd.choice(HOSTILE)}</p>")
    return "\n".join(blocks)


def corpus(total_bytes: int) -> Iterator[str]:
    """Documents until total_bytes of UTF-8 have been produced."""
    rnd = random.Random(SEED)
    produced = 0
    while produced < total_bytes:
        doc = document(rnd)
        produced += len(doc.encode())
        yield doc


def timed(cur: psycopg.Cursor, query: str) -> float:
    start = time.perf_counter()
    cur.execute(query)
    cur.fetchone()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", required=True, help="libpq connection string")
    parser.add_argument("--mb", type=float, default=20.0, help="input size in MB (10**6 bytes)")
    args = parser.parse_args(argv)

    with psycopg.connect(args.dsn, autocommit=True) as conn, conn.cursor() as cur:
        # Keep the whole temporary table in memory (must precede its creation).
        cur.execute("SET temp_buffers = '512MB'")
        cur.execute("CREATE TEMP TABLE bench_sanitizer_docs (id int PRIMARY KEY, body text NOT NULL)")
        print(f"loading {args.mb:g} MB of generated HTML ...", file=sys.stderr)
        with cur.copy("COPY bench_sanitizer_docs (id, body) FROM STDIN") as copy:
            for n, doc in enumerate(corpus(int(args.mb * 1_000_000))):
                copy.write_row((n, doc))
        cur.execute("ANALYZE bench_sanitizer_docs")
        cur.execute("SELECT count(*), sum(octet_length(body)) FROM bench_sanitizer_docs")
        row = cur.fetchone()
        assert row is not None
        docs, size = int(row[0]), int(row[1])
        mb = size / 1_000_000

        # Warm-up on a slice (plan caches, detoasting paths), then one timed run each.
        cur.execute(SANITIZE_SQL + " WHERE id < 50")
        cur.execute(ESCAPE_SQL + " WHERE id < 50")
        print("timing ...", file=sys.stderr)
        t_sanitize = timed(cur, SANITIZE_SQL)
        t_escape = timed(cur, ESCAPE_SQL)
        cur.execute("DROP TABLE bench_sanitizer_docs")

    rate_sanitize = mb / t_sanitize
    rate_escape = mb / t_escape
    print(f"input: {docs} documents, {mb:.2f} MB, avg {size / docs:.0f} bytes")
    print(f"{'method':<16}{'seconds':>10}{'MB/s':>10}{'vs escape':>12}")
    ratio = rate_sanitize / rate_escape
    print(f"{'sanitize_html':<16}{t_sanitize:>10.3f}{rate_sanitize:>10.2f}{ratio:>12.2f}")
    print(f"{'escape only':<16}{t_escape:>10.3f}{rate_escape:>10.2f}{1.0:>12.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
