"""Pulumi mocks (the ones users get, ``stream_aggregator.testing``): every resource's resolved inputs
are recorded, and checks run after all RPCs finish.

Under mocks inputs arrive camelCase and integers as floats. preview=False, so no Output is left
unknown and no check is silently skipped: each test asserts on the recorded inputs directly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from components.mocks import ACCOUNT, MockedResource, StreamAggregatorMocks, autonamed
from components.stream_readers import STREAM_READERS

Recorded = MockedResource
"""What the tests read of each resource: the user-facing mocks' record (``components/mocks.py``)."""
__all__ = ["ACCOUNT", "MOCKS", "Recorded", "autonamed", "by_type", "deploy", "one"]

MOCKS = StreamAggregatorMocks()
pulumi.runtime.set_mocks(MOCKS, project="stream-aggregator", stack="prod", preview=False)


@pytest.fixture
def deploy() -> Callable[[Callable[[], Any]], list[Recorded]]:
    """Run ``build`` as a Pulumi program under the mocks; return the resources it registered."""

    def run(build: Callable[[], Any]) -> list[Recorded]:
        MOCKS.resources.clear()
        STREAM_READERS.clear()  # each run is a new program

        @pulumi.runtime.test
        def program() -> None:
            build()

        program()
        return list(MOCKS.resources)

    return run


def by_type(resources: list[Recorded], typ: str) -> list[Recorded]:
    return [r for r in resources if r.typ == typ]


def one(resources: list[Recorded], typ: str, name: str | None = None) -> Recorded:
    found = [r for r in by_type(resources, typ) if name is None or r.name == name]
    assert len(found) == 1, f"expected one {typ} {name or ''}, found {[r.name for r in found]}"
    return found[0]
