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
from handler.spec import AggregationSpec, SpecError, parse_spec

from .emulator import Endpoint
from .local_resources import LOCAL_AGGREGATE_TABLE, LOCAL_SOURCE_TABLE
from .options import endpoint_url, is_table_name, table_name
from .textfile import read_text

DEFAULT_ENDPOINT = os.environ.get("STREAM_AGGREGATOR_ENDPOINT", "http://127.0.0.1:4599")
TABLE_OUTPUTS = ("source_table_name", "aggregate_table_name")


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
    group.add_argument(
        "--endpoint-url", type=endpoint_url, default=DEFAULT_ENDPOINT, help="the local emulator (default %(default)s)"
    )
    group.add_argument("--stack-outputs", type=Path, help="JSON from `pulumi stack output --json`")
    group.add_argument(
        "--source-table", type=table_name, help=f"default: from the stack outputs, else {LOCAL_SOURCE_TABLE}"
    )
    group.add_argument(
        "--aggregate-table", type=table_name, help=f"default: from the stack outputs, else {LOCAL_AGGREGATE_TABLE}"
    )
    group.add_argument("--spec", type=Path, help="aggregation JSON (default: the invoice aggregation)")


def resolve_target(args: argparse.Namespace) -> Target:
    outputs = _stack_outputs(args.stack_outputs)
    endpoint = None if args.aws else Endpoint(args.endpoint_url)
    if endpoint and not endpoint.reachable():
        raise TargetError(f"no emulator at {endpoint.url}: start one with `python -m ops emulator`, or pass --aws")
    return Target(
        endpoint=endpoint,
        source_table=args.source_table or outputs.get("source_table_name") or LOCAL_SOURCE_TABLE,
        aggregate_table=args.aggregate_table or outputs.get("aggregate_table_name") or LOCAL_AGGREGATE_TABLE,
        spec=_spec(args.spec),
    )


def _spec(path: Path | None) -> AggregationSpec:
    if path is None:
        return parse_spec(INVOICE_AGGREGATION)
    try:
        return parse_spec(read_text(path))
    except SpecError as error:
        raise TargetError(f"--spec {path}: {error}") from None
    except RecursionError:
        raise TargetError(f"--spec {path}: nested too deeply") from None


def _unique_outputs(path: Path, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Refuse an output named twice: json.loads would silently keep the last one."""
    names = [name for name, _ in pairs]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise TargetError(f"stack outputs {path}: {', '.join(twice)} given twice")
    return dict(pairs)


def _stack_outputs(path: Path | None) -> dict[str, str]:
    """The table names in ``pulumi stack output --json``; any other output is ignored."""
    if path is None:
        return {}
    try:
        outputs = json.loads(read_text(path), object_pairs_hook=lambda pairs: _unique_outputs(path, pairs))
    except json.JSONDecodeError as error:
        raise TargetError(f"stack outputs {path}:{error.lineno}: not valid JSON: {error.msg}") from None
    except RecursionError:
        raise TargetError(f"stack outputs {path}: nested too deeply") from None
    if not isinstance(outputs, dict):
        raise TargetError(f"stack outputs {path} must be a JSON object")
    for key in TABLE_OUTPUTS:
        if key in outputs and not is_table_name(outputs[key]):
            raise TargetError(f"stack outputs {path}: {key} must be a table name, got {json.dumps(outputs[key])[:80]}")
    return {key: outputs[key] for key in TABLE_OUTPUTS if key in outputs}
