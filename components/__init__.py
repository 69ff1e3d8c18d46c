"""Pulumi components of StreamAggregator."""

from .stream_aggregator import StreamAggregator, StreamAggregatorArgs

__all__ = ["StreamAggregator", "StreamAggregatorArgs"]
