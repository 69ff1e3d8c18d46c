"""Pulumi components of StreamAggregator."""

from .errors import StreamAggregatorArgsError, StreamAggregatorError
from .stream_aggregator import StreamAggregator, StreamAggregatorArgs

__all__ = ["StreamAggregator", "StreamAggregatorArgs", "StreamAggregatorArgsError", "StreamAggregatorError"]
