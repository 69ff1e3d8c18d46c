"""Creating one aggregator's tables and queues in the emulator, from its aggregation spec.

The Pulumi component creates the same shapes in AWS; both read the keys from the one spec.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aggregations import INVOICE_AGGREGATION
from handler.spec import AggregationSpec, parse_spec

from .emulator import Endpoint

LOCAL_SOURCE_TABLE = "InvoiceTransactions"
LOCAL_AGGREGATE_TABLE = "InvoiceTotal"


@dataclass(frozen=True)
class LocalAggregator:
    spec: AggregationSpec
    source_table: str
    aggregate_table: str
    stream_arn: str
    quarantine_queue_url: str
    failure_queue_url: str


def create_local_aggregator(
    endpoint: Endpoint,
    spec: AggregationSpec,
    name: str,
    key_types: Mapping[str, str] | None = None,
    source_table: str | None = None,
    aggregate_table: str | None = None,
) -> LocalAggregator:
    """Create the source table (with a NEW_AND_OLD_IMAGES stream), the aggregate table and queues."""
    types = dict(key_types or {})
    dynamodb, sqs = endpoint.client("dynamodb"), endpoint.client("sqs")
    source_keys = [(spec.partition_key, "HASH")] + ([(spec.sort_key, "RANGE")] if spec.sort_key else [])
    source_name = source_table or f"{name}-source"
    created = dynamodb.create_table(
        TableName=source_name,
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        **_key_schema(source_keys, types),
    )
    aggregate_name = aggregate_table or f"{name}-aggregate"
    dynamodb.create_table(
        TableName=aggregate_name, BillingMode="PAY_PER_REQUEST", **_key_schema([(spec.group_by, "HASH")], types)
    )
    return LocalAggregator(
        spec=spec,
        source_table=source_name,
        aggregate_table=aggregate_name,
        stream_arn=created["TableDescription"]["LatestStreamArn"],
        quarantine_queue_url=sqs.create_queue(QueueName=f"{name}-quarantine")["QueueUrl"],
        failure_queue_url=sqs.create_queue(QueueName=f"{name}-failures")["QueueUrl"],
    )


def create_invoice_aggregator(endpoint: Endpoint, name: str) -> LocalAggregator:
    """The invoice stack's tables and queues, under the names the local tools default to."""
    return create_local_aggregator(
        endpoint,
        parse_spec(INVOICE_AGGREGATION),
        name,
        source_table=LOCAL_SOURCE_TABLE,
        aggregate_table=LOCAL_AGGREGATE_TABLE,
    )


def _key_schema(keys: list[tuple[str, str]], types: Mapping[str, str]) -> dict[str, list[dict[str, str]]]:
    return {
        "KeySchema": [{"AttributeName": name, "KeyType": role} for name, role in keys],
        "AttributeDefinitions": [{"AttributeName": name, "AttributeType": types.get(name, "S")} for name, _ in keys],
    }
