"""Checking the component's arguments at construction time, so `pulumi preview` fails early with a
message that names the argument. The aggregation rules themselves live in handler/spec.py."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from handler.spec import AggregationSpec, SpecError, parse_spec

LOG_RETENTION_DAYS = {
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
}
_RANGES: dict[str, tuple[int, int]] = {
    "batch_size": (1, 10000),
    "batching_window_seconds": (0, 300),
    "max_retry_attempts": (-1, 10000),
    "parallelization_factor": (1, 10),
    "memory_size": (128, 10240),
    "timeout": (1, 900),
}


class StreamAggregatorArgsError(ValueError):
    """A StreamAggregator argument that cannot work."""


def aggregation_spec(args: Mapping[str, Any]) -> AggregationSpec:
    """The handler's spec from the component's arguments, with errors named after the arguments."""
    fields = {key: args[key] for key in ("partition_key", "sort_key", "group_by", "measures", "filter", "ttl_deletes")}
    try:
        return parse_spec({key: value for key, value in fields.items() if value is not None})
    except SpecError as error:
        raise StreamAggregatorArgsError(f"StreamAggregator: {error}") from None


def check_settings(args: Mapping[str, Any], spec: AggregationSpec) -> None:
    """Everything outside the aggregation itself. Values that are still unknown Outputs are skipped."""
    for name, (low, high) in _RANGES.items():
        _check_range(name, args.get(name), low, high)
    age = args.get("max_record_age_seconds")
    if isinstance(age, int) and age != -1 and not 60 <= age <= 604800:
        _fail("max_record_age_seconds", f"must be -1 or from 60 to 604800, got {age}")
    retention = args.get("log_retention_days")
    if isinstance(retention, int) and retention not in LOG_RETENTION_DAYS:
        _fail("log_retention_days", f"must be one of CloudWatch's values {sorted(LOG_RETENTION_DAYS)}, got {retention}")
    position = args.get("starting_position")
    if isinstance(position, str) and position not in ("TRIM_HORIZON", "LATEST"):
        _fail("starting_position", f"must be TRIM_HORIZON or LATEST, got {position!r}")
    for name in ("partition_key_type", "sort_key_type", "group_by_type"):
        kind = args.get(name)
        if isinstance(kind, str) and kind not in ("S", "N", "B"):
            _fail(name, f"must be S, N or B, got {kind!r}")
    _check_existing_source(args.get("existing_source"), args)


def _check_existing_source(existing: Any, args: Mapping[str, Any]) -> None:
    if existing is None:
        return
    if not isinstance(existing, Mapping) or set(existing) != {"table_name", "stream_arn"}:
        _fail("existing_source", "must be {'table_name': ..., 'stream_arn': ...}")
    arn = existing["stream_arn"]
    if isinstance(arn, str) and not (":table/" in arn and "/stream/" in arn):
        _fail("existing_source.stream_arn", f"is not a DynamoDB stream ARN: {arn!r}")
    for conflicting in ("source_table_name", "kms_key_arn", "point_in_time_recovery", "deletion_protection"):
        if args.get(conflicting) is not None:
            _fail(conflicting, "configures the source table, which existing_source says is made elsewhere")


def _check_range(name: str, value: Any, low: int, high: int) -> None:
    if value is None or not isinstance(value, int | float) or isinstance(value, bool):
        if isinstance(value, bool | str):
            _fail(name, f"must be a number, got {value!r}")
        return
    if not low <= value <= high:
        _fail(name, f"must be from {low} to {high}, got {value}")


def _fail(name: str, message: str) -> None:
    raise StreamAggregatorArgsError(f"StreamAggregator argument {name} {message}")
