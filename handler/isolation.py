"""Writes DynamoDB will never apply: finding the one record responsible, so it alone is quarantined.

A write refused as invalid (or whose sum cannot be sent exactly) fails the same way on every
retry, and Lambda would finally drop its records. Alone, a record can be quarantined whole;
among others, the records are written one at a time until the culprit is alone. The write loop
(``write_loop``) uses this for both stores, passing how it writes.
"""

from __future__ import annotations

from collections.abc import Callable

from .fold import Delta
from .outcome import KeyOutcome


def isolate(outcome: KeyOutcome, pending: list[Delta], reason: str, write: Callable[[list[Delta]], None]) -> None:
    """Quarantine ``pending``'s one record for ``reason``; or ``write`` its records singly, stopping at
    a failure of another kind with the rest left pending, so the key's records stay in stream order."""
    if len(pending) == 1:
        outcome.unstorable[pending[0].position] = reason
        return
    for index, delta in enumerate(pending):
        write([delta])
        if outcome.error:
            outcome.pending.extend(later.position for later in pending[index + 1 :])
            return
