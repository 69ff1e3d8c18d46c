"""Packed actions sent as the text packing encoded (handler/wire.py) make the body botocore's own serializer makes.

Each request goes through a real botocore client (serializing, resolving the endpoint, signing) up
to the wire, where a ``before-send`` handler keeps it and answers in DynamoDB's place: nothing
leaves the process.
"""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from hypothesis import given, settings
from hypothesis import strategies as st

from handler.ledger_store import LedgerStore
from handler.packing import Unit, pack
from handler.transaction import Transaction
from handler.wire import EncodedActions, encode_actions, register

TOKEN = "ClientRequestToken"


class Wire:
    """What a client put on the wire, answered with the scripted (status, body) replies, then 200 {}."""

    def __init__(self, *replies: tuple[int, dict[str, Any]]):
        self.sent: list[Any] = []
        self.replies = list(replies)

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        self.sent.append(request)
        status, body = self.replies.pop(0) if self.replies else (200, {})
        return AWSResponse(request.url, status, {}, _Raw(json.dumps(body).encode()))

    def body(self, index: int = -1) -> dict[str, Any]:
        return json.loads(self.sent[index].body)


class _Raw:
    def __init__(self, content: bytes):
        self.content = content

    def stream(self, **_: Any) -> Any:
        yield self.content


def client(wire: Wire, encoded: bool, endpoint_url: str | None = "http://127.0.0.1:9") -> Any:
    session = botocore.session.get_session()
    made = session.create_client(
        "dynamodb",
        region_name="eu-west-1",
        endpoint_url=endpoint_url,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(parameter_validation=False, retries={"mode": "standard", "max_attempts": 2}),
    )
    made.meta.events.register("before-send.dynamodb.TransactWriteItems", wire)
    if encoded:
        register(made)
    return made


scalars = st.one_of(
    st.builds(lambda text: {"S": text}, st.text(max_size=12)),
    st.builds(lambda number: {"N": number}, st.from_regex(r"-?[0-9]{1,20}(\.[0-9]{1,6})?", fullmatch=True)),
    st.builds(lambda data: {"B": data}, st.binary(max_size=12)),
    st.builds(lambda flag: {"BOOL": flag}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda items: {"BS": items}, st.lists(st.binary(min_size=1, max_size=6), min_size=1, max_size=3)),
    st.builds(lambda items: {"SS": items}, st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=3)),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.builds(lambda items: {"L": items}, st.lists(inner, max_size=3)),
        st.builds(lambda members: {"M": members}, st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    ),
    max_leaves=8,
)
items = st.dictionaries(st.text(min_size=1, max_size=8), values, min_size=1, max_size=4)


@st.composite
def actions(draw: Any) -> dict[str, Any]:
    table = draw(st.sampled_from(["Agg", "Ledger", "Extremes-é"]))
    key = draw(items)
    kind = draw(st.sampled_from(["Put", "Update", "Delete", "ConditionCheck"]))
    if kind == "Put":
        return {"Put": {"TableName": table, "Item": {**key, **draw(items)}}}
    if kind == "Delete":
        return {"Delete": {"TableName": table, "Key": key}}
    condition = {"ConditionExpression": "attribute_not_exists(#p) OR #p < :p"}
    names, bound = {"#p": draw(st.text(min_size=1, max_size=8))}, {":p": draw(values)}
    if kind == "ConditionCheck":
        return {
            "ConditionCheck": {
                "TableName": table,
                "Key": key,
                **condition,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": bound,
            }
        }
    update = {"UpdateExpression": "SET #p = :p", "ExpressionAttributeNames": names, "ExpressionAttributeValues": bound}
    returned = {"ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
    return {"Update": {"TableName": table, "Key": key, **update, **condition, **returned}}


PLAIN, ENCODED = Wire(), Wire()
PLAIN_CLIENT, ENCODED_CLIENT = client(PLAIN, encoded=False), client(ENCODED, encoded=True)
"""Made once: a client takes a few milliseconds to make, the property calls them hundreds of times."""


@settings(max_examples=80, deadline=None)
@given(st.lists(st.lists(actions(), min_size=1, max_size=4), min_size=1, max_size=4))
def test_the_encoded_body_is_the_one_botocores_serializer_makes(units: list[list[dict[str, Any]]]) -> None:
    """Binary (base64), non-ASCII text, nested maps and lists, every action type: the same JSON either way."""
    plain, encoded = PLAIN, ENCODED
    plain.sent.clear()
    encoded.sent.clear()
    flat = [action for unit in units for action in unit]
    PLAIN_CLIENT.transact_write_items(TransactItems=flat)
    ENCODED_CLIENT.transact_write_items(TransactItems=EncodedActions(flat, [encode_actions(unit) for unit in units]))
    expected, sent = plain.body(), encoded.body()
    assert sent.pop(TOKEN) and expected.pop(TOKEN), "botocore's idempotency token is kept"
    assert sent == expected
    assert plain.sent[0].url == encoded.sent[0].url


def test_the_endpoint_is_the_one_the_whole_list_gives_when_tables_are_arns() -> None:
    """Account-based endpoints are chosen from the first table ARN, which the first action still gives."""
    arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/Agg"
    flat = [{"Delete": {"TableName": arn, "Key": {"k": {"S": str(index)}}}} for index in range(3)]
    plain, encoded = Wire(), Wire()
    client(plain, encoded=False, endpoint_url=None).transact_write_items(TransactItems=flat)
    client(encoded, encoded=True, endpoint_url=None).transact_write_items(
        TransactItems=EncodedActions(flat, [encode_actions(flat)])
    )
    assert encoded.sent[0].url == plain.sent[0].url
    assert "123456789012" in plain.sent[0].url, "the account endpoint was chosen from the ARN"


def test_a_retry_sends_the_same_body_with_the_same_token() -> None:
    """botocore retries a 500 from the request it built; the spliced body is part of it."""
    wire = Wire((500, {"__type": "InternalServerError", "message": "try again"}))
    flat = [{"Delete": {"TableName": "Agg", "Key": {"k": {"B": b"\x00\xff"}}}}]
    client(wire, encoded=True).transact_write_items(TransactItems=EncodedActions(flat, [encode_actions(flat)]))
    assert len(wire.sent) == 2 and wire.sent[0].body == wire.sent[1].body
    assert wire.body()["TransactItems"] == [{"Delete": {"TableName": "Agg", "Key": {"k": {"B": "AP8="}}}}]


def test_a_plain_list_is_serialized_by_botocore_as_before() -> None:
    wire = Wire()
    flat = [{"Delete": {"TableName": "Agg", "Key": {"k": {"S": name}}}} for name in "xy"]
    client(wire, encoded=True).transact_write_items(TransactItems=flat)
    assert wire.body()["TransactItems"] == flat


def test_the_ledger_store_sends_packed_actions_as_their_text() -> None:
    """The store registers its client; the packed request carries the units' texts, in unit order."""
    wire = Wire()
    store_client = client(wire, encoded=False)
    LedgerStore(store_client, "Agg", "Ledger", "CustomerId")
    first = [{"Delete": {"TableName": "Agg", "Key": {"k": {"S": "a"}}}}]
    second = [{"Delete": {"TableName": "Agg", "Key": {"k": {"S": "b"}}}}]
    units = [Unit(owner, Transaction({"TransactItems": unit}, [None])) for owner, unit in enumerate([first, second])]
    (packed,) = pack(units)
    request = packed.request
    assert isinstance(request["TransactItems"], EncodedActions)
    assert json.loads(request["TransactItems"].text) == first + second
    store_client.transact_write_items(**request)
    assert wire.body()["TransactItems"] == first + second
    serializer_given = []  # registered after the store's handler, so called after it
    store_client.meta.events.register(
        "before-parameter-build.dynamodb.TransactWriteItems",
        lambda params, **_: serializer_given.append(list(params["TransactItems"])),
    )
    store_client.transact_write_items(**request)
    assert serializer_given == [first], "the serializer and the endpoint rules walked the first action only"


@pytest.mark.parametrize("texts", [["[]", '[{"a":1}]'], ['[{"a":1}]', "[]", '[{"b":2}]']])
def test_empty_units_add_nothing_to_the_text(texts: list[str]) -> None:
    joined = EncodedActions([], texts).text
    assert json.loads(joined) == [item for text in texts for item in json.loads(text)]
