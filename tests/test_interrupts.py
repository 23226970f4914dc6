"""ctrl_c_deferred(): what the demo's cluster and the parallel connections' cancel rely on (review,
eighteenth session). Ctrl-C is simulated by a SIGINT to this process."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest

from pyinstaller_tools.interrupts import ctrl_c_deferred


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
