"""Where a command runs: the local emulator by default, or real AWS with `--aws`.

Table names come from flags, from `pulumi stack output --json` (`--stack-outputs`), or default to
the local emulator's invoice tables. The aggregation comes from `--spec` or is the invoice one.
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from aggregations import INVOICE_AGGREGATION
from handler.spec import AggregationSpec, parse_spec

from .emulator import Endpoint
from .local_resources import LOCAL_AGGREGATE_TABLE, LOCAL_SOURCE_TABLE

DEFAULT_ENDPOINT = os.environ.get("STREAM_AGGREGATOR_ENDPOINT", "http://127.0.0.1:4599")


class TargetError(RuntimeError):
    """The command cannot reach or identify what it should work on."""


@dataclass(frozen=True)
class Target:
    endpoint: Endpoint | None
    source_table: str
    aggregate_table: str
    spec: AggregationSpec

    def client(self, service: str) -> Any:
        return self.endpoint.client(service) if self.endpoint else boto3.client(service)  # type: ignore[call-overload]

    def stream_arn(self) -> str:
        table = self.client("dynamodb").describe_table(TableName=self.source_table)["Table"]
        arn = table.get("LatestStreamArn")
        if not arn:
            raise TargetError(f"table {self.source_table} has no stream")
        return str(arn)


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("target")
    group.add_argument("--aws", action="store_true", help="use real AWS (default credentials and region)")
    group.add_argument("--endpoint-url", default=DEFAULT_ENDPOINT, help="the local emulator (default %(default)s)")
    group.add_argument("--stack-outputs", type=Path, help="JSON from `pulumi stack output --json`")
    group.add_argument("--source-table", help=f"default: from the stack outputs, else {LOCAL_SOURCE_TABLE}")
    group.add_argument("--aggregate-table", help=f"default: from the stack outputs, else {LOCAL_AGGREGATE_TABLE}")
    group.add_argument("--spec", type=Path, help="aggregation JSON (default: the invoice aggregation)")


def resolve_target(args: argparse.Namespace) -> Target:
    outputs = _stack_outputs(args.stack_outputs)
    endpoint = None if args.aws else Endpoint(args.endpoint_url)
    if endpoint and not endpoint.reachable():
        raise TargetError(f"no emulator at {endpoint.url}: start one with `python -m ops emulator`, or pass --aws")
    spec = parse_spec(args.spec.read_text()) if args.spec else parse_spec(INVOICE_AGGREGATION)
    return Target(
        endpoint=endpoint,
        source_table=args.source_table or outputs.get("source_table_name") or LOCAL_SOURCE_TABLE,
        aggregate_table=args.aggregate_table or outputs.get("aggregate_table_name") or LOCAL_AGGREGATE_TABLE,
        spec=spec,
    )


def _stack_outputs(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    try:
        outputs = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise TargetError(f"cannot read stack outputs {path}: {error}") from None
    if not isinstance(outputs, dict):
        raise TargetError(f"stack outputs {path} must be a JSON object")
    return outputs
