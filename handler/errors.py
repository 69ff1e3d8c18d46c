"""Errors the handler raises, each with a message that says what is wrong."""


class EventShapeError(ValueError):
    """The event is not a DynamoDB stream batch this handler can process.

    Raised for the whole invocation: a tumbling-window event, an on-failure destination payload,
    a Kinesis-shaped record. Lambda then retries and finally sends the batch to the failure queue,
    so nothing is lost.
    """


class ConfigError(RuntimeError):
    """The Lambda's environment does not describe a usable aggregator (raised at cold start)."""


class InvalidImage(ValueError):
    """An item image lacks an attribute a measure needs, or has it with the wrong type."""
