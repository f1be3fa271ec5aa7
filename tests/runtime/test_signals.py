"""harlite.runtime.shutdown: the first signal ends a run, later ones cannot abort its shutdown
(runtime-only)."""

from __future__ import annotations

import signal

import pytest

from harlite.runtime.shutdown import begin_shutdown, interrupts_end_the_run

pytestmark = pytest.mark.runtime


def spin() -> None:  # the C handler ran in raise_signal; the Python one runs here
    """Let a pending Python-level signal handler run."""
    for _ in range(10_000):
        pass


def test_the_first_signal_interrupts_and_the_next_ones_wait_for_the_end():
    before = signal.getsignal(signal.SIGTERM)
    finished = False
    # The stop asked during shutdown cannot interrupt it; it is told when the block ends.
    with pytest.raises(KeyboardInterrupt), interrupts_end_the_run():
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGTERM)  # to this thread: handled at once
            spin()
        signal.raise_signal(signal.SIGINT)  # to this thread: handled at once
        signal.raise_signal(signal.SIGTERM)  # to this thread: handled at once
        spin()
        finished = True
    assert finished
    assert signal.getsignal(signal.SIGTERM) == before


def test_after_begin_shutdown_no_signal_interrupts_the_block():
    finished = False
    with pytest.raises(KeyboardInterrupt), interrupts_end_the_run():
        begin_shutdown()
        signal.raise_signal(signal.SIGINT)  # to this thread: handled at once
        spin()
        finished = True
    assert finished
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_run_without_signals_ends_quietly_and_restores_the_handlers():
    before = signal.getsignal(signal.SIGINT)
    with interrupts_end_the_run():
        begin_shutdown()
    assert signal.getsignal(signal.SIGINT) is before
