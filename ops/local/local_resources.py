"""Creating one aggregator's tables and queues in the emulator, from its aggregation spec.

The Pulumi component creates the same shapes in AWS; both read the keys from the one spec.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict

from .._lambda_code import (
    EXTREMES_ITEM,
    EXTREMES_KEY,
    INDEX_NAME,
    INVOICE_AGGREGATION,
    LEDGER_EXPIRY,
    LEDGER_KEY,
    VALUE_ATTRIBUTE,
    AggregationSpec,
    HandlerConfig,
    bucket_index_name,
    parse_spec,
    table_of_stream,
)
from ..errors import CommandError
from ..targets import (
    FAILURE_QUEUE_SUFFIX,
    LEDGER_SUFFIX,
    LOCAL_AGGREGATE_TABLE,
    LOCAL_SOURCE_TABLE,
    QUARANTINE_QUEUE_SUFFIX,
    Endpoint,
    local_name,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.literals import KeyTypeType, ScalarAttributeTypeType
    from mypy_boto3_dynamodb.type_defs import (
        AttributeDefinitionTypeDef,
        KeySchemaElementTypeDef,
        LocalSecondaryIndexTypeDef,
    )


class TableKeys(TypedDict):
    """The part of a CreateTable request that names a table's keys."""

    KeySchema: list[KeySchemaElementTypeDef]
    AttributeDefinitions: list[AttributeDefinitionTypeDef]


@dataclass(frozen=True)
class LocalAggregator:
    spec: AggregationSpec
    source_table: str
    aggregate_table: str
    stream_arn: str
    quarantine_queue_url: str
    failure_queue_url: str
    ledger_table: str | None = None
    """Only for aggregations that are not single-source (see ``AggregationSpec.single_source``)."""
    extremes_table: str | None = None
    """Only for aggregations with min/max over many items per key (``AggregationSpec.uses_extremes_table``)."""

    @property
    def source_table_arn(self) -> str:
        """The source table's ARN: its stream's, up to ``/stream/``."""
        return table_of_stream(self.stream_arn)

    def handler_config(self, aggregator_name: str = "local") -> HandlerConfig:
        """The configuration the component would deploy for these tables and queues."""
        return HandlerConfig(
            spec=self.spec,
            aggregate_table=self.aggregate_table,
            quarantine_queue_url=self.quarantine_queue_url,
            source_table_arn=self.source_table_arn,
            aggregator_name=aggregator_name,
            ledger_table=self.ledger_table,
            extremes_table_name=self.extremes_table,
        )


def create_local_aggregator(
    endpoint: Endpoint,
    spec: AggregationSpec,
    name: str,
    key_types: Mapping[str, ScalarAttributeTypeType] | None = None,
    source_table: str | None = None,
    aggregate_table: str | None = None,
    index_by_bucket: bool = False,
) -> LocalAggregator:
    """Create the source table (with a NEW_AND_OLD_IMAGES stream), the aggregate table and queues;
    with ``index_by_bucket``, the aggregate table's index on its first time-bucket part, as the component makes it."""
    types = dict(key_types or {})
    dynamodb, sqs = endpoint.client("dynamodb"), endpoint.client("sqs")
    source_name = source_table or f"{name}-source"
    created = dynamodb.create_table(
        TableName=source_name,
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        **source_key_schema(spec, types),
    )
    aggregate_name = aggregate_table or f"{name}-aggregate"
    aggregate_keys: dict[str, Any] = dict(_key_schema([(spec.group_by, "HASH")], types))
    if index_by_bucket:
        aggregate_keys = _with_bucket_index(spec, aggregate_keys)
    dynamodb.create_table(TableName=aggregate_name, BillingMode="PAY_PER_REQUEST", **aggregate_keys)
    ledger_name = None if spec.single_source else create_ledger_table(endpoint, local_name(name, LEDGER_SUFFIX))
    extremes_name = create_extremes_table(endpoint, local_name(name, "extremes")) if spec.uses_extremes_table else None
    return LocalAggregator(
        spec=spec,
        ledger_table=ledger_name,
        extremes_table=extremes_name,
        source_table=source_name,
        aggregate_table=aggregate_name,
        stream_arn=created["TableDescription"]["LatestStreamArn"],
        quarantine_queue_url=sqs.create_queue(QueueName=local_name(name, QUARANTINE_QUEUE_SUFFIX))["QueueUrl"],
        failure_queue_url=sqs.create_queue(QueueName=local_name(name, FAILURE_QUEUE_SUFFIX))["QueueUrl"],
    )


def _with_bucket_index(spec: AggregationSpec, keys: dict[str, Any]) -> dict[str, Any]:
    """The index the component's ``index_by_bucket`` adds (components/aggregate_table.py): the bucket, then the key."""
    bucket = spec.first_bucket_part
    if bucket is None:
        raise CommandError("index_by_bucket needs a group_by part with a time bucket")
    schema = [{"AttributeName": bucket.name, "KeyType": "HASH"}]
    definitions = list(keys["AttributeDefinitions"])
    if bucket.name != spec.group_by:
        schema.append({"AttributeName": spec.group_by, "KeyType": "RANGE"})
        definitions.append({"AttributeName": bucket.name, "AttributeType": "S"})
    index = {"IndexName": bucket_index_name(bucket), "KeySchema": schema, "Projection": {"ProjectionType": "ALL"}}
    return {**keys, "AttributeDefinitions": definitions, "GlobalSecondaryIndexes": [index]}


def create_ledger_table(endpoint: Endpoint, name: str) -> str:
    """The ledger as the component makes it: one string key, TTL on the expiry attribute.

    The emulator never expires items (moto's TTL does not run); tests that need expiry set it.
    """
    dynamodb = endpoint.client("dynamodb")
    dynamodb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **_key_schema([(LEDGER_KEY, "HASH")], {}))
    dynamodb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": LEDGER_EXPIRY}
    )
    return name


def create_extremes_table(endpoint: Endpoint, name: str) -> str:
    """The extremes table as the component makes it (handler/extremes.py): key (k, i), and per value
    type a KEYS_ONLY local index ordering a key's entries by value; no TTL."""
    item_key: list[tuple[str, KeyTypeType]] = [(EXTREMES_KEY, "HASH"), (EXTREMES_ITEM, "RANGE")]
    keys = _key_schema(item_key, {})
    indexes: list[LocalSecondaryIndexTypeDef] = []
    for kind, value in VALUE_ATTRIBUTE.items():
        by_value = _key_schema([(EXTREMES_KEY, "HASH"), (value, "RANGE")], {value: kind.value})
        keys["AttributeDefinitions"].append(by_value["AttributeDefinitions"][1])
        index: LocalSecondaryIndexTypeDef = {
            "IndexName": INDEX_NAME[kind],
            "KeySchema": by_value["KeySchema"],
            "Projection": {"ProjectionType": "KEYS_ONLY"},
        }
        indexes.append(index)
    endpoint.client("dynamodb").create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST", LocalSecondaryIndexes=indexes, **keys
    )
    return name


def create_invoice_aggregator(endpoint: Endpoint, name: str) -> LocalAggregator:
    """The invoice stack's tables and queues, under the names the local tools default to."""
    return create_local_aggregator(
        endpoint,
        parse_spec(INVOICE_AGGREGATION),
        name,
        source_table=LOCAL_SOURCE_TABLE,
        aggregate_table=LOCAL_AGGREGATE_TABLE,
    )


def source_key_schema(spec: AggregationSpec, types: Mapping[str, ScalarAttributeTypeType] | None = None) -> TableKeys:
    """KeySchema and AttributeDefinitions of the source table the spec describes (S unless typed)."""
    keys: list[tuple[str, KeyTypeType]] = [(spec.partition_key, "HASH")]
    if spec.sort_key:
        keys.append((spec.sort_key, "RANGE"))
    return _key_schema(keys, types or {})


def _key_schema(keys: list[tuple[str, KeyTypeType]], types: Mapping[str, ScalarAttributeTypeType]) -> TableKeys:
    return {
        "KeySchema": [{"AttributeName": name, "KeyType": role} for name, role in keys],
        "AttributeDefinitions": [{"AttributeName": name, "AttributeType": types.get(name, "S")} for name, _ in keys],
    }
