"""Ctrl-C (SIGINT) where the tool must finish what it started: deferred through a short cleanup,
and passed on to the shell as a death by SIGINT. The command also takes SIGTERM (cron, systemd,
Kubernetes, `timeout`) the way it takes Ctrl-C, and dies of it."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import NoReturn

_deferring = False
_terminated = False     # the KeyboardInterrupt came from SIGTERM (handle_sigterm())


def handle_sigterm() -> None:
    """SIGTERM as a Ctrl-C: a KeyboardInterrupt (psycopg cancels the running statement, the tool reports
    what it had done), told apart by terminated(). Before, the process died at once, silently, exit 143
    (DBA trial, forty-first session). Only where SIGTERM is the default's, in the main thread."""
    if (threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL):
        signal.signal(signal.SIGTERM, _terminate)


def _terminate(signum: int, frame: FrameType | None) -> None:
    global _terminated
    _terminated = True
    raise KeyboardInterrupt


def terminated() -> bool:
    """Whether SIGTERM, not Ctrl-C, interrupted the command."""
    return _terminated


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
    on_sigterm = signal.getsignal(signal.SIGTERM)
    sigterm_too = on_sigterm is _terminate      # (a SIGTERM of ours is a Ctrl-C, deferred the same way)

    def defer(signum: int, frame: FrameType | None) -> None:
        global _terminated
        _terminated = _terminated or signum == signal.SIGTERM
        if received:
            raise KeyboardInterrupt     # the second Ctrl-C: the user will not wait
        received.append(signum)

    signal.signal(signal.SIGINT, defer)
    if sigterm_too:
        signal.signal(signal.SIGTERM, defer)
    _deferring = True
    try:
        yield
    finally:
        _deferring = False
        signal.signal(signal.SIGINT, previous)
        if sigterm_too:
            signal.signal(signal.SIGTERM, on_sigterm)
        if received:
            raise KeyboardInterrupt


def die_of_signal(signum: int = signal.SIGINT) -> NoReturn:
    """Ends the process as killed by SIGINT (or `signum`: SIGTERM), after the tool has cleaned up and
    reported: a shell script that ran the tool stops too (bash goes on after a child that merely exits
    130), and a supervisor sees the signal it sent."""
    sys.stdout.flush()
    sys.stderr.flush()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
    raise SystemExit(128 + signum)   # (not reached where the signal kills)
