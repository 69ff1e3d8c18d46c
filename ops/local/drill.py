"""`emulator --deny-writes SECONDS`: a drill of the failure runbook on the local stack.

The local handler's writes to the aggregate and ledger tables are refused with
AccessDeniedException, as DynamoDB refuses a role that lost its permission, for ``SECONDS`` from
the first batch the local mapping delivers; so its batches exhaust their retries and reach the
failure queue, as in the incident the runbook's "The failure queue" describes. Then the writes are
allowed again and the operator replays and reconciles, as in AWS.

Only the handler's own DynamoDB client goes through the refusing proxy (``faultproxy``): the
operator's commands reach the emulator directly, as their own credentials would reach AWS. The
window starts at the first batch rather than at start-up, so the operator can write whenever ready.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from .. import PROG
from .faultproxy import FaultPlan, FaultProxy
from .poller import PollerStats

REFUSAL = "AccessDeniedException"
DENIED = FaultPlan(refuse_with=REFUSAL)
"""The proxy's plan while the window is open: every aggregate write refused (faultproxy.AGGREGATE_WRITES)."""
AFTER_DRILL = f"run `{PROG} replay`, then `{PROG} reconcile` (docs/runbook.md, 'Rehearsing the failure runbook')"


class WriteDenial:
    """Opens the window at the first batch and closes it ``seconds`` later; says each step in one line.

    ``after_poll`` is called by the emulator's loop between polls (the handler runs in that loop, so
    no batch is in flight when the proxy's plan changes).
    """

    def __init__(self, proxy: FaultProxy, seconds: float):
        self._proxy = proxy
        self._seconds = seconds
        self._closes_at: float | None = None
        self._open = True
        self._batches_reported = 0

    def after_poll(self, stats: PollerStats, polled_at: float) -> list[str]:
        """The lines to show after a poll that started at ``polled_at`` (``time.monotonic()``)."""
        lines = []
        if self._closes_at is None and stats.invocations:
            self._closes_at = polled_at + self._seconds
            until = (datetime.now(UTC) + timedelta(seconds=self._seconds)).strftime("%H:%M:%S UTC")
            lines.append(f"drill: the handler's writes are refused ({REFUSAL}) for {self._seconds:g} s, until {until}")
        if stats.batches_to_failure_destination > self._batches_reported:
            self._batches_reported = stats.batches_to_failure_destination
            lines.append(f"drill: {self._batches_reported} batch(es) sent to the failure queue so far")
        if self._open and self._closes_at is not None and time.monotonic() >= self._closes_at:
            self._proxy.set_plan(FaultPlan())
            self._open = False
            lines.append(
                f"drill: writes allowed again after {self._proxy.counts.refused} refused and "
                f"{stats.batches_to_failure_destination} batch(es) sent to the failure queue: {AFTER_DRILL}"
            )
        return lines
