"""The handler's code the operator commands share, wherever the two live.

The commands apply records through the handler's own engine and read its rules (number syntax,
key encoding, positions), so that an operator's repair can never disagree with what the Lambda
writes. In the repository ``ops`` and ``handler`` are top-level packages; installed from the wheel
they are ``stream_aggregator.ops`` and ``stream_aggregator.handler``, so that nothing named
``handler`` lands beside a user's own. Every import of the handler by ``ops`` goes through here,
as every import by the component goes through ``components/_lambda_code.py``.

The invoice aggregation (``aggregations.py``, which the Pulumi stack deploys) is the local
emulator's; the wheel carries that one file as ``stream_aggregator.aggregations`` (a symlink in
``packaging/stream_aggregator``), so it too is defined once.
"""

from typing import TYPE_CHECKING

from . import FROM_WHEEL

if TYPE_CHECKING or not FROM_WHEEL:
    from aggregations import INVOICE_AGGREGATION
    from handler.attributes import (
        INTERNAL_PREFIX,
        NUMBER_SYNTAX,
        AttributeValue,
        key_number_text,
        key_token,
        key_value,
        number_text,
        storage_problem,
    )
    from handler.buckets import Bucket, DateForm, label, wall_time, zone
    from handler.config import TABLE_ARN, TABLE_NAME, HandlerConfig
    from handler.contribution import image_contribution, record_effect, record_item_token
    from handler.errors import EventShapeError, HandlerError, InvalidImage, describe_error
    from handler.extremes import EXTREMES_ITEM, EXTREMES_KEY, INDEX_NAME, VALUE_ATTRIBUTE, extremes_key
    from handler.extremes_query import read_extremes
    from handler.fold import EXACT, Expression, update_request
    from handler.group_parts import bucket_index_name
    from handler.grouping import MAX_COMPOSITE_KEY_BYTES, attribute_part_text, decode_key, encode_key, key_attributes
    from handler.inline_store import INLINE_POSITION
    from handler.position import (
        EXPIRY_MARGIN_SECONDS,
        STREAM_MARKER,
        STREAM_RETENTION_SECONDS,
        foreign_stream,
        is_sequence_number,
        ledger_id,
        position_text,
        stream_label,
        table_of_stream,
    )
    from handler.processor import BatchProcessor, writer_config
    from handler.reading import average, read_measures
    from handler.records import IMAGES_CARRIED, EventName, creation_seconds, decode_record
    from handler.spec import (
        AggregationSpec,
        Extreme,
        GroupPart,
        MeasureOp,
        OrderedType,
        SpecError,
        parse_spec,
        repeated_keys,
    )
    from handler.telemetry import Writer
    from handler.transaction import LEDGER_EXPIRY, LEDGER_KEY
    from handler.types import Covered, Disposition, ReasonKind, RecordEffect, reason_kind
else:  # installed from the wheel
    from stream_aggregator.aggregations import INVOICE_AGGREGATION
    from stream_aggregator.handler.attributes import (
        INTERNAL_PREFIX,
        NUMBER_SYNTAX,
        AttributeValue,
        key_number_text,
        key_token,
        key_value,
        number_text,
        storage_problem,
    )
    from stream_aggregator.handler.buckets import Bucket, DateForm, label, wall_time, zone
    from stream_aggregator.handler.config import TABLE_ARN, TABLE_NAME, HandlerConfig
    from stream_aggregator.handler.contribution import image_contribution, record_effect, record_item_token
    from stream_aggregator.handler.errors import EventShapeError, HandlerError, InvalidImage, describe_error
    from stream_aggregator.handler.extremes import (
        EXTREMES_ITEM,
        EXTREMES_KEY,
        INDEX_NAME,
        VALUE_ATTRIBUTE,
        extremes_key,
    )
    from stream_aggregator.handler.extremes_query import read_extremes
    from stream_aggregator.handler.fold import EXACT, Expression, update_request
    from stream_aggregator.handler.group_parts import bucket_index_name
    from stream_aggregator.handler.grouping import (
        MAX_COMPOSITE_KEY_BYTES,
        attribute_part_text,
        decode_key,
        encode_key,
        key_attributes,
    )
    from stream_aggregator.handler.inline_store import INLINE_POSITION
    from stream_aggregator.handler.position import (
        EXPIRY_MARGIN_SECONDS,
        STREAM_MARKER,
        STREAM_RETENTION_SECONDS,
        foreign_stream,
        is_sequence_number,
        ledger_id,
        position_text,
        stream_label,
        table_of_stream,
    )
    from stream_aggregator.handler.processor import BatchProcessor, writer_config
    from stream_aggregator.handler.reading import average, read_measures
    from stream_aggregator.handler.records import IMAGES_CARRIED, EventName, creation_seconds, decode_record
    from stream_aggregator.handler.spec import (
        AggregationSpec,
        Extreme,
        GroupPart,
        MeasureOp,
        OrderedType,
        SpecError,
        parse_spec,
        repeated_keys,
    )
    from stream_aggregator.handler.telemetry import Writer
    from stream_aggregator.handler.transaction import LEDGER_EXPIRY, LEDGER_KEY
    from stream_aggregator.handler.types import Covered, Disposition, ReasonKind, RecordEffect, reason_kind


def package_version() -> str:
    """The version pyproject.toml gives the wheel; read on demand (``components`` imports pulumi)."""
    if TYPE_CHECKING or not FROM_WHEEL:
        from components._version import __version__
    else:
        from stream_aggregator.components._version import __version__
    return __version__


__all__ = [
    "EXACT",
    "EXPIRY_MARGIN_SECONDS",
    "EXTREMES_ITEM",
    "EXTREMES_KEY",
    "IMAGES_CARRIED",
    "INDEX_NAME",
    "INLINE_POSITION",
    "INTERNAL_PREFIX",
    "INVOICE_AGGREGATION",
    "LEDGER_EXPIRY",
    "LEDGER_KEY",
    "MAX_COMPOSITE_KEY_BYTES",
    "NUMBER_SYNTAX",
    "STREAM_MARKER",
    "STREAM_RETENTION_SECONDS",
    "TABLE_ARN",
    "TABLE_NAME",
    "VALUE_ATTRIBUTE",
    "AggregationSpec",
    "AttributeValue",
    "BatchProcessor",
    "Bucket",
    "Covered",
    "DateForm",
    "Disposition",
    "EventName",
    "EventShapeError",
    "Expression",
    "Extreme",
    "GroupPart",
    "HandlerConfig",
    "HandlerError",
    "InvalidImage",
    "MeasureOp",
    "OrderedType",
    "ReasonKind",
    "RecordEffect",
    "SpecError",
    "Writer",
    "attribute_part_text",
    "average",
    "bucket_index_name",
    "creation_seconds",
    "decode_key",
    "decode_record",
    "describe_error",
    "encode_key",
    "extremes_key",
    "foreign_stream",
    "image_contribution",
    "is_sequence_number",
    "key_attributes",
    "key_number_text",
    "key_token",
    "key_value",
    "label",
    "ledger_id",
    "number_text",
    "package_version",
    "parse_spec",
    "position_text",
    "read_extremes",
    "read_measures",
    "reason_kind",
    "record_effect",
    "record_item_token",
    "repeated_keys",
    "storage_problem",
    "stream_label",
    "table_of_stream",
    "update_request",
    "wall_time",
    "writer_config",
    "zone",
]
