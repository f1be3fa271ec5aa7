"""Ctrl-C and SIGTERM end a run once, and its shutdown always finishes.

Inside :func:`interrupts_end_the_run`, the first SIGINT or SIGTERM raises KeyboardInterrupt
where the run is (the stream loop stops and keeps what it made); from then on, and once
:func:`begin_shutdown` says the run is closing its outputs, further signals are only counted:
a second Ctrl-C a few milliseconds after the first can no longer abort the sink close, the
atomic rename or the summary write half way.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _State:
    shutting_down = False
    signalled = False  # a signal ended the run
    ignored = 0  # signals that arrived while shutting down
    depth = 0  # nested runs: only the outermost installs and restores


_state = _State()


def _handler(signum, frame) -> None:
    if _state.shutting_down:
        _state.ignored += 1
        return
    _state.shutting_down = _state.signalled = True
    raise KeyboardInterrupt


def begin_shutdown() -> None:
    """From now on signals no longer interrupt: the run is writing its results."""
    _state.shutting_down = True


@contextlib.contextmanager
def interrupts_end_the_run(ignore_after_signal: bool = False) -> Iterator[None]:
    """Install the handlers for the duration of one run (main thread only; elsewhere, e.g.
    in a worker thread, signals keep their handlers and this does nothing). Nested uses
    share the outermost one's.

    Afterwards the previous handlers are back, and a stop asked for during the shutdown is
    raised as KeyboardInterrupt once the outputs are complete. With ``ignore_after_signal``
    (a command that exits when its run ends), a run ended by a signal leaves SIGINT and
    SIGTERM ignored instead: a late second Ctrl-C cannot kill the process while it prints
    its summary and exits.
    """
    if threading.current_thread() is not threading.main_thread() or _state.depth:
        _state.depth += 1
        try:
            yield
        finally:
            _state.depth -= 1
        return
    previous = {s: signal.getsignal(s) for s in _SIGNALS}
    _state.shutting_down = _state.signalled = False
    _state.ignored, _state.depth = 0, 1
    for s in _SIGNALS:
        signal.signal(s, _handler)
    try:
        yield
    finally:
        # The handlers go first: with the flag cleared while ours were still installed, a
        # late signal would be taken for the first of a new run and raised here.
        if ignore_after_signal and (_state.signalled or _state.ignored):
            # Python resets its own handlers while it exits, not an ignored signal.
            for s in _SIGNALS:
                signal.signal(s, signal.SIG_IGN)
        else:
            for s, handler in previous.items():
                signal.signal(s, handler if handler is not None else signal.SIG_DFL)
        _state.depth = 0
        _state.shutting_down = False
    if _state.ignored and not ignore_after_signal:
        # A stop asked for while the outputs were being finished: they are complete now,
        # and the caller learns of the request (a batch worker then stops).
        _state.ignored = 0
        raise KeyboardInterrupt
