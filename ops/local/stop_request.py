"""Ctrl-C (and ``kill``, a closed terminal) as a request to stop, taken between the emulator's polls.

Python raises KeyboardInterrupt wherever the main thread happens to be. In the emulator that is
mostly inside botocore, urllib3 or the handler: it can land after a lock's acquire and before its
release (``Condition.__exit__`` is Python code, interruptible before it releases), or while the
handler waits for its writes. A lock left held deadlocks the interpreter's exit (urllib3 drains
each connection pool at exit, under the pool queue's lock); a write abandoned mid-batch keeps the
process alive in the handler's pool (its workers are joined at exit) until it ends, against
servers already stopped. So the first signal only asks to stop: the batch in flight finishes, the
loop ends, the servers stop in order, and the command's previous handler is called then, where
nothing is held, so the exit code is the one it gives (130 for Ctrl-C). A second signal does not wait.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))

SignalHandler = Callable[[int, FrameType | None], Any]


class StopRequest:
    """The first of ``STOP_SIGNALS`` received, if any; its handler only records it (no lock, no I/O:
    a handler runs in the main thread at any point, possibly inside a lock of its own)."""

    def __init__(self, handlers: dict[int, SignalHandler]):
        self._handlers = handlers
        self.signum: int | None = None

    @property
    def requested(self) -> bool:
        return self.signum is not None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is None:
            self.signum = signum
            return
        self._handlers[signum](signum, frame)  # a second signal: stop where it lands, as before

    def stop_now(self) -> None:
        """If a stop was asked for, call the handler that signal had before (it raises, e.g. KeyboardInterrupt)."""
        if self.signum is not None:
            self._handlers[self.signum](self.signum, None)


@contextmanager
def stop_requested_by_signals() -> Iterator[StopRequest]:
    """While inside, ``STOP_SIGNALS`` whose handler is a Python function are only recorded; the handlers
    are put back on leaving. Only the main thread may set handlers: elsewhere nothing is recorded."""
    before: dict[int, SignalHandler] = {}
    if threading.current_thread() is threading.main_thread():
        before = {signum: handler for signum in STOP_SIGNALS if callable(handler := signal.getsignal(signum))}
    request = StopRequest(before)
    try:
        for signum in before:
            signal.signal(signum, request)
        yield request
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)
