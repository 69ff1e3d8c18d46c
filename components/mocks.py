"""Pulumi mocks whose outputs look like AWS's, for unit tests of programs that use StreamAggregator.

Installed, this is ``stream_aggregator.testing``; one line sets it up before the program is imported:
``pulumi.runtime.set_mocks(StreamAggregatorMocks(), preview=False)``. Pulumi's usual mocks echo
each resource's inputs back, so a table has no ``streamArn`` and an autonamed queue no name or URL;
the component then fails in ways a real deployment never does (the policy refused the stream ARN
it was given as ``existing_source.stream_arn``, an argument the program never passed). Here each
resource gets what AWS would give it: a name autonamed as Pulumi does (``-`` and 7 hex digits),
ARNs with the region and account, a stream ARN for a table with a stream, a queue's URL.

The repository's own component tests use the same class, so the outputs the docs promise are the
ones those tests run on. From the package it imports only the suffix's length and the errors' base,
two leaf modules.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pulumi

from .argument_rules import AUTONAME_SUFFIX
from .errors import StreamAggregatorError

ACCOUNT = "123456789012"
REGION = "us-east-1"
STREAM_LABEL = "2026-11-26T00:00:00.000"
"""A stream's label is the time it was enabled, as DynamoDB writes it."""
INVOKE = "2015-03-31/functions"
"""API Gateway's path to a function, in a function's invoke ARN."""
PARTITIONS = {"cn-": ("aws-cn", "amazonaws.com.cn"), "us-gov-": ("aws-us-gov", "amazonaws.com")}
"""The regions outside the commercial partition, by prefix: their partition (in every ARN) and DNS suffix."""
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
_ACCOUNT = re.compile(r"\d{12}")


class MocksSettingsError(StreamAggregatorError):
    """A region or account the mocks were given that AWS has no form for: every ARN would be malformed."""


@dataclass
class MockedResource:
    """One resource the program registered: its type token, logical name and resolved inputs (camelCase)."""

    typ: str
    name: str
    inputs: dict[str, Any]


def autonamed(logical: str) -> str:
    """The physical name Pulumi's autonaming would give ``logical``: '-' and hex digits, the same each run."""
    return f"{logical}-{hashlib.sha256(logical.encode()).hexdigest()[: AUTONAME_SUFFIX - 1]}"


class StreamAggregatorMocks(pulumi.runtime.Mocks):
    """Outputs as AWS gives them for the resources a StreamAggregator (and a typical program) creates.

    ``resources`` records every resource registered, in order, with its inputs, for a test to read.
    Types not listed get their inputs back, and for ``aws:`` types a name and a generic ARN.
    """

    def __init__(self, region: str = REGION, account: str = ACCOUNT) -> None:
        if not isinstance(region, str) or not _REGION.fullmatch(region):
            raise MocksSettingsError(
                f"StreamAggregatorMocks region must be a region name like 'eu-west-1', got {region!r}"
            )
        if not isinstance(account, str) or not _ACCOUNT.fullmatch(account):
            raise MocksSettingsError(f"StreamAggregatorMocks account must be 12 digits, as text, got {account!r}")
        self.region, self.account = region, account
        self.partition, self.dns_suffix = next(
            (named for prefix, named in PARTITIONS.items() if region.startswith(prefix)), ("aws", "amazonaws.com")
        )
        self.resources: list[MockedResource] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = dict(args.inputs)
        self.resources.append(MockedResource(args.typ, args.name, inputs))
        if not args.typ.startswith("aws:"):
            return f"{args.name}-id", inputs
        name = inputs.get("name") or autonamed(args.name)
        if args.typ == "aws:sqs/queue:Queue" and inputs.get("fifoQueue") and not inputs.get("name"):
            name += ".fifo"  # pulumi-aws autonames a FIFO queue '<name>-<hex>.fifo', as SQS requires
        outputs = {**inputs, "name": name, "arn": self._arn(args.typ.split(":")[1].split("/")[0], name)}
        identifier, extra = self._outputs(name, inputs).get(args.typ, (name, {}))
        return identifier, {**outputs, **extra}

    def _outputs(self, name: str, inputs: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
        """(the resource's ID, the outputs AWS adds) by type; built per call since each reads the name."""
        region, account, partition = self.region, self.account, self.partition
        table = f"arn:{partition}:dynamodb:{region}:{account}:table/{name}"
        function = f"arn:{partition}:lambda:{region}:{account}:function:{name}"
        queue = f"https://sqs.{region}.{self.dns_suffix}/{account}/{name}"
        generated = str(uuid.uuid5(uuid.NAMESPACE_URL, name))  # the IDs AWS generates: a mapping's, a key's
        dashboard = inputs.get("dashboardName") or name
        stream = {"streamArn": f"{table}/stream/{STREAM_LABEL}", "streamLabel": STREAM_LABEL}
        return {
            "aws:dynamodb/table:Table": (name, {"arn": table, **(stream if inputs.get("streamEnabled") else {})}),
            "aws:sqs/queue:Queue": (queue, {"arn": f"arn:{partition}:sqs:{region}:{account}:{name}", "url": queue}),
            "aws:lambda/function:Function": (
                name,
                {
                    "arn": function,
                    "qualifiedArn": f"{function}:$LATEST",
                    "version": "$LATEST",
                    "invokeArn": f"arn:{partition}:apigateway:{region}:lambda:path/{INVOKE}/{function}/invocations",
                },
            ),
            "aws:lambda/eventSourceMapping:EventSourceMapping": (
                generated,
                {
                    "uuid": generated,
                    "arn": f"arn:{partition}:lambda:{region}:{account}:event-source-mapping:{generated}",
                    "functionArn": inputs.get("functionName"),  # the component passes the function's ARN
                    "state": "Enabled",
                },
            ),
            "aws:iam/role:Role": (name, {"arn": f"arn:{partition}:iam::{account}:role/{name}"}),
            "aws:iam/rolePolicy:RolePolicy": (f"{inputs.get('role')}:{name}", {}),
            "aws:cloudwatch/logGroup:LogGroup": (
                name,
                {"arn": f"arn:{partition}:logs:{region}:{account}:log-group:{name}"},
            ),
            "aws:cloudwatch/metricAlarm:MetricAlarm": (
                name,
                {"arn": f"arn:{partition}:cloudwatch:{region}:{account}:alarm:{name}"},
            ),
            "aws:cloudwatch/dashboard:Dashboard": (
                dashboard,
                {"dashboardArn": f"arn:{partition}:cloudwatch::{account}:dashboard/{dashboard}"},
            ),
            "aws:sns/topic:Topic": (f"arn:{partition}:sns:{region}:{account}:{name}", {}),
            "aws:kms/key:Key": (
                generated,
                {"arn": f"arn:{partition}:kms:{region}:{account}:key/{generated}", "keyId": generated},
            ),
        }

    def _arn(self, service: str, name: str) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{self.account}:{name}"

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        """The account, region and partition a program may ask for; other calls return nothing."""
        answers: dict[str, Callable[[], dict[str, Any]]] = {
            "aws:index/getCallerIdentity:getCallerIdentity": lambda: {
                "accountId": self.account,
                "arn": f"arn:{self.partition}:iam::{self.account}:user/test",
                "userId": "AIDATESTUSER",
                "id": self.account,
            },
            "aws:index/getRegion:getRegion": lambda: {"name": self.region, "region": self.region, "id": self.region},
            "aws:index/getPartition:getPartition": lambda: {
                "partition": self.partition,
                "dnsSuffix": self.dns_suffix,
                "id": self.partition,
            },
        }
        answer = answers.get(args.token)
        return (answer() if answer else {}), None
