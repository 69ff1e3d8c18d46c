"""Pulumi mocks: every resource's resolved inputs are recorded, and checks run after all RPCs finish.

Under mocks inputs arrive camelCase and integers as floats. preview=False, so no Output is left
unknown and no check is silently skipped: each test asserts on the recorded inputs directly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi
import pytest

from components.stream_readers import STREAM_READERS

ACCOUNT = "123456789012"


@dataclass
class Recorded:
    typ: str
    name: str
    inputs: dict[str, Any]


class RecordingMocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: list[Recorded] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs)
        self.resources.append(Recorded(args.typ, args.name, inputs))
        outputs = dict(inputs)
        physical = inputs.get("name") or f"{args.name}-1a2b3c"
        outputs["name"] = physical
        service = args.typ.split(":")[1].split("/")[0]
        outputs["arn"] = f"arn:aws:{service}:us-east-1:{ACCOUNT}:{args.name}"
        if args.typ == "aws:dynamodb/table:Table":
            outputs["arn"] = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/{physical}"
            outputs["streamArn"] = f"{outputs['arn']}/stream/2026-11-26T00:00:00.000"
        if args.typ == "aws:sqs/queue:Queue":
            outputs["arn"] = f"arn:aws:sqs:us-east-1:{ACCOUNT}:{physical}"
            outputs["url"] = f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/{physical}"
        if args.typ == "aws:cloudwatch/logGroup:LogGroup":
            outputs["arn"] = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{physical}"
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:
        return {}


MOCKS = RecordingMocks()
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
