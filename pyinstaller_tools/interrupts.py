"""Ctrl-C (SIGINT) where the tool must finish what it started: deferred through a short cleanup,
and passed on to the shell as a death by SIGINT."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_deferring = False


@contextmanager
def ctrl_c_deferred() -> Iterator[None]:
    """A Ctrl-C that arrives inside the block is raised when the block ends, also when the block
    raised (chained to that error); a second Ctrl-C gives up waiting and is raised at once. Does
    nothing outside the main thread (no SIGINT arrives there), inside another such block, or where
    SIGINT is not Python's to handle (ignored, as for `catalog-sync demo &` in a script, or set by
    an embedding program)."""
    global _deferring
    previous = signal.getsignal(signal.SIGINT)
    if (_deferring or threading.current_thread() is not threading.main_thread()
            or previous in (signal.SIG_IGN, None)):
        yield
        return
    received: list[int] = []

    def defer(signum: int, frame: FrameType | None) -> None:
        if received:
            raise KeyboardInterrupt     # the second Ctrl-C: the user will not wait
        received.append(signum)

    signal.signal(signal.SIGINT, defer)
    _deferring = True
    try:
        yield
    finally:
        _deferring = False
        signal.signal(signal.SIGINT, previous)
        if received:
            raise KeyboardInterrupt


def die_of_sigint() -> None:
    """Ends the process as killed by SIGINT, after the tool has cleaned up and reported: a shell
    script that ran the tool stops too (bash goes on after a child that merely exits 130)."""
    sys.stdout.flush()
    sys.stderr.flush()
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGINT)
    raise SystemExit(128 + signal.SIGINT)   # (not reached where SIGINT kills)
