"""ctrl_c_deferred(): what the demo's cluster and the parallel connections' cancel rely on (review,
eighteenth session). Ctrl-C is simulated by a SIGINT to this process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tomllib
from collections.abc import Iterator

import pytest

from pyinstaller_tools.interrupts import ctrl_c_deferred
from tests.conftest import ROOT


def ctrl_c() -> None:
    os.kill(os.getpid(), signal.SIGINT)


@pytest.fixture(autouse=True)
def python_handles_sigint() -> Iterator[None]:
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def test_a_ctrl_c_waits_for_the_end_of_the_block() -> None:
    done = []
    with pytest.raises(KeyboardInterrupt), ctrl_c_deferred():
        ctrl_c()
        done.append("the rest of the block")
    assert done == ["the rest of the block"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_ctrl_c_is_not_lost_when_the_block_fails() -> None:
    with pytest.raises(KeyboardInterrupt) as raised, ctrl_c_deferred():
        ctrl_c()
        raise RuntimeError("pg_ctl stop failed")
    assert isinstance(raised.value.__context__, RuntimeError)


def test_a_second_ctrl_c_gives_up_waiting() -> None:
    done = []
    with pytest.raises(KeyboardInterrupt), ctrl_c_deferred():
        ctrl_c()
        ctrl_c()
        done.append("the rest of the block")
    assert done == []
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_nested_blocks_defer_to_the_end_of_the_outer_one() -> None:
    done = []
    with pytest.raises(KeyboardInterrupt), ctrl_c_deferred():
        with ctrl_c_deferred():
            ctrl_c()
        done.append("the rest of the outer block")
    assert done == ["the rest of the outer block"]


def test_an_ignored_sigint_stays_ignored() -> None:
    """(`catalog-sync demo &` in a script: SIGINT is ignored) the block must not turn it into a Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with ctrl_c_deferred():
        ctrl_c()
    assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN


# The console script as pip writes it, with a Ctrl-C (a real SIGINT) while the tool loads psycopg.
CTRL_C_WHILE_LOADING = """
import importlib, os, signal, sys

class CtrlCAtPsycopg:
    def find_spec(self, name, path=None, target=None):
        if name == "psycopg":
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, CtrlCAtPsycopg())
module, function = sys.argv[1].split(":")
sys.argv = ["catalog-sync", "status"]
sys.exit(getattr(importlib.import_module(module), function)())
"""


def test_a_ctrl_c_while_the_tool_loads_ends_it_without_a_traceback() -> None:
    """Loading the tool (psycopg, SQLAlchemy, alembic) takes about a second; a Ctrl-C then printed a
    traceback (known gap until the twentieth session). The console script's entry point now loads
    the tool inside a guard: the command dies of SIGINT, as an interrupted command does, silently."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    target = project["project"]["scripts"]["catalog-sync"]
    done = subprocess.run([sys.executable, "-c", CTRL_C_WHILE_LOADING, target], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr, done.stdout) == (-signal.SIGINT, "", ""), (target, done)
