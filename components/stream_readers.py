"""One StreamAggregator per table stream in a program, because DynamoDB Streams allows two readers.

"No more than two processes at most should be reading from the same streams shard at the same
time. Having more than two readers per shard can result in throttling." (DynamoDB developer
guide, *Change data capture for DynamoDB Streams*). A StreamAggregator's event source mapping is
one reader; the other is kept for the operator's tools that read the stream (backfill, replay).
A second component on the same stream would take that place, and a third reader would throttle.

Within one Pulumi program the component can see this: a stream is the same when its ARN is the
same text, or when it is the very Output of another component's table (its ``stream_arn`` or its
``name``), as it is when one component is attached to another's table. What other programs read
cannot be known here; README and docs/runbook.md say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from .argument_rules import fail


@dataclass(frozen=True)
class StreamClaim:
    component: str
    stream_arn: Any
    """A stream ARN (text), or the Output that will hold it."""
    table_name: Any
    """The table's name, an Output when made in this program, or None when not compared."""


def current_run() -> tuple[object, object]:
    """What tells one program run from the next in one process: its engine connection and its stack
    resource, both made anew for each run (the Automation API runs preview, then up, in one process)."""
    return pulumi.runtime.settings.SETTINGS.monitor, pulumi.runtime.get_root_resource()


class StreamReaders:
    """The streams the current program run's StreamAggregators read, by component name."""

    def __init__(self) -> None:
        self._claims: list[StreamClaim] = []
        self._run: tuple[object, object] | None = None

    def claim(self, component: str, stream_arn: Any, table_name: Any = None) -> None:
        """Record that ``component`` reads this stream, or refuse it if another one already does.

        Raises
        ------
        StreamAggregatorArgsError
            Naming both components and the limit.
        """
        run = current_run()
        if self._run is None or any(now is not then for now, then in zip(run, self._run, strict=True)):
            self._claims, self._run = [], run
        for held in self._claims:
            if _same(held.stream_arn, stream_arn) or _same_output(held.table_name, table_name):
                fail(
                    "existing_source",
                    f"of {component!r} is the stream that StreamAggregator {held.component!r} already reads: "
                    "DynamoDB Streams advises no more than two readers per shard at a time (more are "
                    "throttled), and beside the mapping that reader is kept for backfill and replay. "
                    "Give each table's stream one StreamAggregator (docs/runbook.md, 'Changing an aggregation')",
                )
        self._claims.append(StreamClaim(component, stream_arn, table_name))

    def clear(self) -> None:
        """Forget every claim: a new program starts on the same engine connection (the tests' mocks)."""
        self._claims.clear()


def _same(held: Any, given: Any) -> bool:
    return held is given or (isinstance(held, str) and held == given)


def _same_output(held: Any, given: Any) -> bool:
    """Only the identical object: two table names given as text may be tables of two regions."""
    return held is not None and held is given


STREAM_READERS = StreamReaders()
"""The claims of the program run in progress; a new run (a new engine connection or stack) starts empty."""
