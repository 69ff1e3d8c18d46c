"""What a composite group adds to the deployment: the aggregate table's key attributes, its optional
index by time bucket, and the time zone's file for the Lambda package.

With ``index_by_bucket``, a global secondary index keyed by the first time-bucket part
(``OrderDate_day``) and sorted by the aggregate key lets a reader fetch every group of one bucket
("every customer on 2026-11-28") with one Query, in key order. It projects ALL attributes: the
aggregate items are small (their key, parts and measures), so a Query answers from the index
alone instead of one GetItem per group, and a KEYS_ONLY index would save little storage. DynamoDB
writes the index asynchronously (eventually consistent reads only); the table itself stays the
exact source, which ``python -m ops query`` reads.
"""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from ._lambda_code import AggregationSpec, bucket_index_name, zone_file
from .errors import StreamAggregatorError


def aggregate_key_attributes(
    key_type: pulumi.Input[str], index_by_bucket: bool, spec: AggregationSpec
) -> list[tuple[str, pulumi.Input[str]]]:
    """(name, type) of every attribute that keys the table or its index."""
    attributes = [(spec.group_by, key_type)]
    bucket = spec.first_bucket_part if index_by_bucket else None
    if bucket is not None and bucket.name != spec.group_by:
        attributes.append((bucket.name, "S"))
    return attributes


def bucket_index(
    index_by_bucket: bool, spec: AggregationSpec
) -> list[aws.dynamodb.TableGlobalSecondaryIndexArgs] | None:
    """The index on the first time-bucket part, when ``index_by_bucket`` asks for it."""
    bucket = spec.first_bucket_part
    if not index_by_bucket or bucket is None:
        return None
    keys = [(bucket.name, "HASH")] + ([] if bucket.name == spec.group_by else [(spec.group_by, "RANGE")])
    return [
        aws.dynamodb.TableGlobalSecondaryIndexArgs(
            name=bucket_index_name(bucket),
            key_schemas=[
                aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(attribute_name=attribute, key_type=kind)
                for attribute, kind in keys
            ],
            projection_type="ALL",
        )
    ]


def zone_assets(timezone: str | None) -> dict[str, pulumi.FileAsset]:
    """The zone's TZif file, at the path the handler reads it from (``handler/zoneinfo/Europe/Berlin``)."""
    if timezone is None:
        return {}
    path = zone_file(timezone)
    if path is None:  # the spec's check found the zone, so this Python has it: a broken install
        raise StreamAggregatorError(f"no file for time zone {timezone!r} in this Python's zoneinfo search path")
    return {f"handler/zoneinfo/{timezone}": pulumi.FileAsset(str(path))}
