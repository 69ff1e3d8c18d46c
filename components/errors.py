"""The component's own errors: a Pulumi program catches ``StreamAggregatorError`` for all of them."""


class StreamAggregatorError(Exception):
    """Base of every error the component raises on purpose."""


class StreamAggregatorArgsError(StreamAggregatorError):
    """A StreamAggregator argument that cannot work; the message names the argument."""
