"""The Lambda code this component deploys and reads its rules from, wherever the two live.

In the repository ``components`` and ``handler`` are top-level packages; installed from the wheel
they are ``stream_aggregator.components`` and ``stream_aggregator.handler``, so that a user's own
``handler`` or ``components`` can never shadow them (or be shadowed). Every import of the handler
by the component goes through here.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING or not (__package__ or "").startswith("stream_aggregator."):
    from handler.buckets import DateForm, zone_file
    from handler.config import HandlerConfig
    from handler.extremes import EXTREMES_ITEM, EXTREMES_KEY, INDEX_NAME, VALUE_ATTRIBUTE
    from handler.group_parts import GroupPart, bucket_index_name
    from handler.position import table_of_stream
    from handler.spec import (
        AggregationSpec,
        FilterValue,
        Measure,
        MeasureOp,
        OrderedType,
        SpecError,
        parse_spec,
    )
    from handler.telemetry import DIMENSION, METRIC_NAMES, NAMESPACE
    from handler.transaction import LEDGER_EXPIRY, LEDGER_KEY
else:  # installed from the wheel
    from stream_aggregator.handler.buckets import DateForm, zone_file
    from stream_aggregator.handler.config import HandlerConfig
    from stream_aggregator.handler.extremes import EXTREMES_ITEM, EXTREMES_KEY, INDEX_NAME, VALUE_ATTRIBUTE
    from stream_aggregator.handler.group_parts import GroupPart, bucket_index_name
    from stream_aggregator.handler.position import table_of_stream
    from stream_aggregator.handler.spec import (
        AggregationSpec,
        FilterValue,
        Measure,
        MeasureOp,
        OrderedType,
        SpecError,
        parse_spec,
    )
    from stream_aggregator.handler.telemetry import DIMENSION, METRIC_NAMES, NAMESPACE
    from stream_aggregator.handler.transaction import LEDGER_EXPIRY, LEDGER_KEY

__all__ = [
    "DIMENSION",
    "EXTREMES_ITEM",
    "EXTREMES_KEY",
    "INDEX_NAME",
    "LEDGER_EXPIRY",
    "LEDGER_KEY",
    "METRIC_NAMES",
    "NAMESPACE",
    "VALUE_ATTRIBUTE",
    "AggregationSpec",
    "DateForm",
    "FilterValue",
    "GroupPart",
    "HandlerConfig",
    "Measure",
    "MeasureOp",
    "OrderedType",
    "SpecError",
    "bucket_index_name",
    "parse_spec",
    "table_of_stream",
    "zone_file",
]
