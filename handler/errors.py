"""Errors the handler raises, each with a message that says what is wrong.

Every one derives from ``HandlerError``, so a caller (the operator CLI, the component's
validation) catches the handler's own refusals by that one type, and a bug (a bare ``ValueError``,
a ``KeyError``) still surfaces with its traceback.
"""


class HandlerError(Exception):
    """Base of every error the handler package raises on purpose."""


class EventShapeError(HandlerError):
    """The event is not a DynamoDB stream batch this handler can process.

    Raised for the whole invocation: a tumbling-window event, an on-failure destination payload,
    a Kinesis-shaped record. Lambda then retries and finally sends the batch to the failure queue,
    so nothing is lost.
    """


class ConfigError(HandlerError):
    """The Lambda's environment does not describe a usable aggregator (raised at cold start)."""


class SpecError(HandlerError):
    """An aggregation definition that cannot work; the message names the offending field."""


class InvalidImage(HandlerError):
    """An item image lacks an attribute a measure needs, or has it with the wrong type."""


class MalformedKey(HandlerError):
    """An aggregate key that no composite group_by could have written (read from a table, or a bug)."""


def describe_error(error: Exception) -> str:
    """A one-line description of an AWS error for logs and failure reasons."""
    response = getattr(error, "response", None)
    if isinstance(response, dict) and "Error" in response:
        details = response["Error"]
        return f"{details.get('Code', type(error).__name__)}: {details.get('Message', '')}".strip()
    return f"{type(error).__name__}: {error}"
