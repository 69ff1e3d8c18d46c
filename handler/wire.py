"""A packed transaction's actions, encoded once as the JSON DynamoDB reads, and handed to botocore as text.

Why: for every call, botocore walks the service model over each member of each action to build the
body (its JSON serializer), and walks the actions again to resolve the endpoint (the
``ResourceArnList`` parameter). For a packed transaction of 100 actions the two walks were nearly
half of the handler's client CPU (``make bench``), and packing already encodes the same actions to
JSON once, to measure their size. DynamoDB's request body is JSON in the very shape of the
request (the API reference's "Request Syntax" for TransactWriteItems); only binary values change,
to base64 text. So the actions are encoded here once, and that text is both their size and the body.

How, through two botocore events documented for changing a request ("Botocore Events",
docs.aws.amazon.com/botocore/latest/topics/events.html; boto3's "Extensibility guide"):

- ``before-parameter-build``: ``EncodedActions`` (a list of the actions that also carries their
  text) is replaced by its first action, so the serializer and the endpoint resolution walk one
  action. The endpoint rules read only the first entry of ``ResourceArnList``, which the first
  action still gives, so the endpoint is the one the whole list would give.
- ``before-call``: in the serialized body, that one action is replaced by the encoded text. The
  rest of the body is kept, with the ClientRequestToken botocore generated for the call; signing
  comes after this event, and a retry re-sends this same body.

A client without the two handlers (``register`` not called) is given the list, and serializes it as
any list: the text is only a shortcut to the same body, which tests/unit/test_wire.py compares.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from typing import Any

OPERATION = "dynamodb.TransactWriteItems"
_CONTEXT_KEY = "stream_aggregator_encoded_actions"
_PARTS = "TransactItems"


def encode_actions(actions: Sequence[Any]) -> str:
    """The actions as a JSON array, as DynamoDB's body carries them: binary values in base64.

    Every non-ASCII character is escaped, so the text is never shorter than the UTF-8 names and
    values DynamoDB counts toward an item's size, and base64 is longer than the bytes it encodes:
    the text's length is an upper bound of what the actions' values weigh (``packing.actions_size``).
    """
    return _JSON.encode(actions)


class EncodedActions(list[Any]):
    """Transaction actions with their JSON text (``encode_actions``): a list to anything that reads it."""

    def __init__(self, actions: Iterable[Any], texts: Sequence[str]):
        """``texts``: JSON arrays (``encode_actions``) whose elements, in order, are ``actions``."""
        super().__init__(actions)
        self.text = "[" + ",".join(text[1:-1] for text in texts if text != "[]") + "]"


def register(client: Any) -> None:
    """Let ``client`` send ``EncodedActions`` as their text. Registering again changes nothing.

    A stand-in without botocore's event system (a test's scripted client) is left as it is: it is
    given the actions as the list they are."""
    events = getattr(getattr(client, "meta", None), "events", None)
    if events is None:
        return
    events.register(f"before-parameter-build.{OPERATION}", _keep_first_action, unique_id=f"{_CONTEXT_KEY}-build")
    events.register(f"before-call.{OPERATION}", _splice_body, unique_id=f"{_CONTEXT_KEY}-call")


def _keep_first_action(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    actions = params.get(_PARTS)
    if isinstance(actions, EncodedActions) and actions:
        context[_CONTEXT_KEY] = actions.text
        params[_PARTS] = actions[:1]


def _splice_body(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    text = context.get(_CONTEXT_KEY)
    if text is None:
        return
    rest = json.loads(params["body"])
    del rest[_PARTS]
    members = "".join(f",{json.dumps(name)}:{json.dumps(value)}" for name, value in rest.items())
    params["body"] = f'{{"{_PARTS}":{text}{members}}}'.encode()


def _binary(value: object) -> str:
    """Binary values as the JSON protocol sends them: base64 text."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"not an attribute value: {type(value).__name__}")


_JSON = json.JSONEncoder(default=_binary, separators=(",", ":"), check_circular=False)  # trees built here
