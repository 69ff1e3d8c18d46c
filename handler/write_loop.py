"""The one write loop both aggregate stores run: the algorithm here, what differs in each store.

Powertools' idempotency layer is the model (``BasePersistenceLayer`` runs the algorithm; the
DynamoDB layer supplies only its reads and writes). Here the algorithm is: build the key's write
from the records still pending; send it; if a position condition failed, read what the stored
positions cover, drop those records and write the rest again; a write DynamoDB refuses as invalid
is narrowed to the one record responsible (``isolate``); a conflict or throttling is paused and
retried; anything else fails the records back to Lambda. A store supplies ``_request`` (its write,
built from pending records), ``_send`` (the AWS call, its answer read into an ``Answer``) and
``_stored`` (the positions a failed condition found).

Ends: each failed condition removes records (a condition that fails below every pending record
fails them instead), pauses are capped, and every other answer returns.
"""

from __future__ import annotations

import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Generic, Protocol, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from .errors import describe_error
from .fold import split_applied
from .types import Delta, KeyOutcome, ReasonKind, reason


class Keyed(Protocol):
    """A write's target names its aggregate key, for the error Lambda's logs get."""

    @property
    def group_token(self) -> str: ...


Target = TypeVar("Target", bound=Keyed)
Request = TypeVar("Request")

MAX_PAUSED_RETRIES = 8
"""Conflict or throttling retries per write before its records are failed back to Lambda."""
BACKOFF_BASE_SECONDS = 0.02
BACKOFF_CAP_SECONDS = 1.0

UNSTORABLE_REASON = reason(
    ReasonKind.AMOUNTS, "the aggregate cannot hold this record's change exactly in 38 significant digits"
)
REFUSED_REASON = reason(ReasonKind.REFUSED, "DynamoDB will not apply this record to its aggregate, so no retry can")


class Verdict(Enum):
    APPLIED = "applied"
    CONDITION_FAILED = "condition failed"
    """Some record's position condition failed: its item's stored position covers it."""
    RETRY = "retry"
    """Cancelled by a conflict or throttling: the same write again, after a pause."""
    REFUSED = "refused"
    """Refused as invalid: no retry can succeed, so the culprit is isolated."""
    FAILED = "failed"


@dataclass(frozen=True)
class Answer:
    """What one write got back, in the loop's terms; ``stored`` and ``unread`` for a failed condition."""

    verdict: Verdict
    detail: str = ""
    stored: dict[str, str] = field(default_factory=dict)
    """item -> the position that came back with the failed condition."""
    unread: list[str] = field(default_factory=list)
    """Items whose condition failed without their position coming back: ``_stored`` reads them."""


APPLIED = Answer(Verdict.APPLIED)


class WriteLoop(ABC, Generic[Target, Request]):
    """Writes one key's pending records exactly once; never raises, failures are in the outcome."""

    def __init__(self, sleep: Callable[[float], None] = time.sleep, jitter: Callable[[], float] = random.random):
        self._sleep = sleep
        self._jitter = jitter

    @abstractmethod
    def _request(self, target: Target, pending: list[Delta]) -> Request:
        """The one write applying ``pending``; ArithmeticError when a sum cannot be exact."""

    @abstractmethod
    def _send(self, target: Target, request: Request) -> Answer:
        """Send the write; every ClientError and BotoCoreError is read into the answer."""

    @abstractmethod
    def _stored(self, target: Target, answer: Answer) -> dict[str, str]:
        """item -> stored position, for a failed condition: what came back and what must be read."""

    def write(self, target: Target, pending: list[Delta], outcome: KeyOutcome, paused: int = 0) -> None:
        """Write ``pending`` for ``target``; ``paused``: conflicts already met by these records."""

        def again(records: list[Delta]) -> None:
            self.write(target, records, outcome)

        while pending:
            try:
                request = self._request(target, pending)
            except ArithmeticError:  # the records' sum cannot be exact in 38 digits
                isolate(outcome, pending, UNSTORABLE_REASON, again)
                return
            outcome.writes += 1
            answer = self._send(target, request)
            if answer.verdict is Verdict.APPLIED:
                outcome.applied.extend(delta.position for delta in pending)
                return
            if answer.verdict is Verdict.REFUSED:
                isolate(outcome, pending, f"{REFUSED_REASON}: {answer.detail}", again)
                return
            if answer.verdict is Verdict.FAILED:
                fail(outcome, target, pending, answer.detail)
                return
            if answer.verdict is Verdict.RETRY:
                paused += 1
                outcome.transaction_conflicts += 1
                if paused > MAX_PAUSED_RETRIES:
                    fail(outcome, target, pending, "transaction kept conflicting")
                    return
                self.pause(paused)
                continue
            pending = self.settle(target, pending, answer, outcome)

    def settle(self, target: Target, pending: list[Delta], answer: Answer, outcome: KeyOutcome) -> list[Delta]:
        """Drop what the stored positions cover; returns what is left to write (none after a failure)."""
        try:
            stored = self._stored(target, answer)
        except (ClientError, BotoCoreError) as error:
            fail(outcome, target, pending, describe_error(error))
            return []
        outcome.conditional_retries += 1
        split = split_applied(pending, stored)
        if len(split.pending) == len(pending):
            fail(outcome, target, pending, "a position condition failed below these records: another writer?")
            return []
        outcome.skip_applied(split.applied, stored)
        outcome.stale.extend(delta.position for delta in split.stale)
        return split.pending

    def pause(self, attempt: int) -> None:
        """Full jitter: concurrent writers of one hot key spread out instead of colliding again."""
        self._sleep(self._jitter() * min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2.0**attempt))


def fail(outcome: KeyOutcome, target: Keyed, pending: list[Delta], detail: str) -> None:
    """``pending`` not applied: Lambda redelivers them; the error names the key."""
    outcome.fail([delta.position for delta in pending], f"aggregate {target.group_token}: {detail}")


def isolate(outcome: KeyOutcome, pending: list[Delta], reason: str, write: Callable[[list[Delta]], None]) -> None:
    """Quarantine ``pending``'s one record for ``reason``; or ``write`` its records singly, stopping at
    a failure of another kind with the rest left pending, so the key's records stay in stream order.

    A write refused as invalid (or whose sum cannot be sent exactly) fails the same way on every
    retry, and Lambda would finally drop its records. Alone, a record can be quarantined whole;
    among others, the records are written one at a time until the culprit is alone."""
    if len(pending) == 1:
        outcome.unstorable[pending[0].position] = reason
        return
    for index, delta in enumerate(pending):
        write([delta])
        if outcome.error:
            outcome.pending.extend(later.position for later in pending[index + 1 :])
            return
