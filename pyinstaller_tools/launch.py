"""The `catalog-sync` command's entry point. It imports the tool inside a guard: loading psycopg,
SQLAlchemy and alembic takes about a second, and a Ctrl-C then used to end the command with a
traceback instead of as an interrupted command."""

from __future__ import annotations

from pyinstaller_tools.interrupts import die_of_signal


def entry() -> int:
    """Loads the tool and runs it (cli.entry); a Ctrl-C while it loads ends the process as killed by
    SIGINT, with nothing printed: nothing has started yet."""
    try:
        from pyinstaller_tools.cli import entry as run
    except KeyboardInterrupt:
        die_of_signal()
    return run()
