"""The handler's settings, read from the environment the component sets, checked at cold start."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import ConfigError
from .spec import AggregationSpec, SpecError, parse_spec

SPEC_VARIABLE = "AGGREGATION_SPEC"
TABLE_VARIABLE = "AGGREGATE_TABLE_NAME"
LEDGER_VARIABLE = "LEDGER_TABLE_NAME"
EXTREMES_VARIABLE = "EXTREMES_TABLE_NAME"
QUEUE_VARIABLE = "QUARANTINE_QUEUE_URL"
NAME_VARIABLE = "AGGREGATOR_NAME"
SOURCE_VARIABLE = "SOURCE_TABLE_ARN"
CONCURRENCY_VARIABLE = "WRITE_CONCURRENCY"
DEFAULT_CONCURRENCY = 64
"""Enough to write a full 100-record batch over 50 keys in one round trip."""
MAX_CONCURRENCY = 128
TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")
"""DynamoDB's rule for a table name: a name it refuses would fail every write of every batch."""
TABLE_ARN = re.compile(r"arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/" + TABLE_NAME.pattern)
"""A DynamoDB table's ARN: partition, region, account and name."""
DIMENSION_VALUE = re.compile(r"(?=.*[!-~])[ -~]{1,1024}")
"""CloudWatch's rule for a dimension value (the aggregator's name is one): printable ASCII, not all blank,
at most 1024 characters. A metric with another value is dropped, so its alarms would never fire."""


@dataclass(frozen=True)
class HandlerConfig:
    spec: AggregationSpec
    aggregate_table: str
    quarantine_queue_url: str
    source_table_arn: str
    """The table whose stream this aggregator reads: records of any other stream are quarantined."""
    aggregator_name: str = "default"
    write_concurrency: int = DEFAULT_CONCURRENCY
    ledger_table: str | None = None
    """The ledger of (aggregate key, source item) positions; None in single-source mode."""
    extremes_table_name: str | None = None
    """The min/max entries (handler/extremes.py); set only when ``spec.uses_extremes_table``."""

    def __post_init__(self) -> None:
        if not self.spec.single_source and not self.ledger_table:
            raise ConfigError(
                f"{LEDGER_VARIABLE} must be set: with a sort key or a group_by other than the partition key, "
                "the positions of the source items live in a ledger table"
            )
        if self.spec.uses_extremes_table and not self.extremes_table_name:
            raise ConfigError(
                f"{EXTREMES_VARIABLE} must be set: min and max over many source items per aggregate key "
                "live in an extremes table"
            )

    def environment(self) -> dict[str, str]:
        """The variables that reproduce this configuration (what the component deploys)."""
        return {
            SPEC_VARIABLE: self.spec.to_json(),
            TABLE_VARIABLE: self.aggregate_table,
            QUEUE_VARIABLE: self.quarantine_queue_url,
            SOURCE_VARIABLE: self.source_table_arn,
            NAME_VARIABLE: self.aggregator_name,
            CONCURRENCY_VARIABLE: str(self.write_concurrency),
            **({LEDGER_VARIABLE: self.ledger_table} if self.ledger_table else {}),
            **({EXTREMES_VARIABLE: self.extremes_table_name} if self.extremes_table_name else {}),
        }


def load_config(environ: Mapping[str, str]) -> HandlerConfig:
    """Read and check the configuration.

    Raises
    ------
    ConfigError
        Naming the variable that is missing or wrong.
    """
    required = (SPEC_VARIABLE, TABLE_VARIABLE, QUEUE_VARIABLE, SOURCE_VARIABLE)
    missing = [name for name in required if not environ.get(name)]
    if missing:
        raise ConfigError(f"environment variable(s) not set: {', '.join(missing)}")
    try:
        spec = parse_spec(environ[SPEC_VARIABLE])
    except SpecError as error:
        raise ConfigError(f"{SPEC_VARIABLE} is not a valid aggregation: {error}") from None
    ledger_table = environ.get(LEDGER_VARIABLE) or None
    extremes_table = environ.get(EXTREMES_VARIABLE) or None
    return HandlerConfig(
        spec=spec,
        aggregate_table=_table_name(environ[TABLE_VARIABLE], TABLE_VARIABLE),
        quarantine_queue_url=_queue_url(environ[QUEUE_VARIABLE]),
        source_table_arn=_table_arn(environ[SOURCE_VARIABLE]),
        aggregator_name=_aggregator_name(environ.get(NAME_VARIABLE) or "default"),
        write_concurrency=_concurrency(environ.get(CONCURRENCY_VARIABLE)),
        ledger_table=_table_name(ledger_table, LEDGER_VARIABLE) if ledger_table else None,
        extremes_table_name=_table_name(extremes_table, EXTREMES_VARIABLE) if extremes_table else None,
    )


def _concurrency(raw: str | None) -> int:
    """ASCII digits only: ``str.isdigit`` also passes "²" (which ``int`` refuses) and "٣" (which it reads as 3)."""
    if not raw:
        return DEFAULT_CONCURRENCY
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 3 and 1 <= int(raw) <= MAX_CONCURRENCY):
        raise ConfigError(
            f"{CONCURRENCY_VARIABLE} must be a whole number from 1 to {MAX_CONCURRENCY}, got {raw[:40]!r}"
        )
    return int(raw)


def _table_name(raw: str, variable: str) -> str:
    if not TABLE_NAME.fullmatch(raw):
        raise ConfigError(f"{variable} must be a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ . -), got {raw[:80]!r}")
    return raw


def _table_arn(raw: str) -> str:
    if not TABLE_ARN.fullmatch(raw):
        raise ConfigError(
            f"{SOURCE_VARIABLE} must be a DynamoDB table's ARN (arn:aws:dynamodb:<region>:<account>:table/<name>), "
            f"got {raw[:200]!r}"
        )
    return raw


def _queue_url(raw: str) -> str:
    if not raw.startswith(("https://", "http://")) or not raw.isprintable() or not raw.isascii():
        raise ConfigError(f"{QUEUE_VARIABLE} must be an SQS queue URL (https://...), got {raw[:80]!r}")
    return raw


def _aggregator_name(raw: str) -> str:
    if not DIMENSION_VALUE.fullmatch(raw):
        raise ConfigError(
            f"{NAME_VARIABLE} must be a CloudWatch dimension value (1 to 1024 printable ASCII characters, "
            f"not all blank), got {raw[:80]!r}"
        )
    return raw
