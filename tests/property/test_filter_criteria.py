"""Property: every stream record the mapping's filter criteria drop is one the handler would do
nothing with: no contribution taken away or added, nothing quarantined.

Aggregations are generated with filters of strings, numbers (in several spellings) and booleans,
both ``ttl_deletes`` modes, and groups and measures that may be the filtered attribute. Records
are INSERT, MODIFY and REMOVE (REMOVE by a user or by TTL) of items whose attributes may be
missing, of any type, malformed, or numbers spelled any way DynamoDB might send them, from streams
of every view type. Keys are what DynamoDB writes: the item's key attributes, which the spec names
(docs/design.md, "Filtering at the mapping"). The criteria come from components/filter_criteria.py;
whether Lambda would drop a record is decided by tests/event_filter.py, which implements AWS's
documented matching and is tested on AWS's examples; what the handler would do is decided by the
handler's own code: its decoder, ``record_effect`` and the batch planner.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from components.filter_criteria import filter_patterns
from handler.contribution import record_effect
from handler.planner import plan_batch
from handler.records import decode_record
from handler.spec import AggregationSpec, parse_spec
from tests.event_filter import passes

MISSING = object()
NOW = 1_800_000_000.0
ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Orders/stream/2026-01-01T00:00:00.000"
VIEWS = ["NEW_AND_OLD_IMAGES"] * 6 + ["NEW_IMAGE", "OLD_IMAGE", "KEYS_ONLY"]
CARRIES = {"INSERT": (False, True), "MODIFY": (True, True), "REMOVE": (True, False)}
VIEW_CARRIES = {"NEW_AND_OLD_IMAGES": (True, True), "NEW_IMAGE": (False, True), "OLD_IMAGE": (True, False)}

STRINGS = ["PAID", "PENDING", "", "é", "1", "true", "x" * 3000]
NUMBER_TEXTS = ["1.5", "1.50", "15E-1", "0.15e1", "1", "01", "1.0", "-0", "0", "100", "1E+2", "2"]
BAD_NUMBER_TEXTS = ["abc", "NaN", "Infinity", "1E+200", "1E-200", "1" * 39, " 1"]
OTHER_VALUES: list[Any] = [
    {"NULL": True},
    {"L": [{"S": "PAID"}]},
    {"M": {"S": {"S": "PAID"}}},
    {"SS": ["PAID"]},
    {"NS": ["1"]},
    {"B": "UEFJRA=="},
    {"S": 5},
    {"N": 5},
    {"N": None},
    {"BOOL": "true"},
    {"BOOL": 1},
    {},
    {"S": "PAID", "N": "1"},
    {"N": "1", "BOOL": True},
    "PAID",
    ["PAID"],
    1,
]
FILTER_VALUES: list[Any] = [
    "PAID",
    "",
    "é",
    "1",
    "true",
    {"N": "1.50"},
    {"N": "-0"},
    {"N": "1E+2"},
    2,
    True,
    False,
]

attribute_value = st.one_of(
    st.just(MISSING),
    st.sampled_from(STRINGS).map(lambda text: {"S": text}),
    st.sampled_from(NUMBER_TEXTS + BAD_NUMBER_TEXTS).map(lambda text: {"N": text}),
    st.booleans().map(lambda flag: {"BOOL": flag}),
    st.sampled_from(OTHER_VALUES),
)
key_value = st.one_of(
    st.sampled_from(["p1", "p2", "é"]).map(lambda text: {"S": text}),
    st.sampled_from(["1", "2.5", "-3"]).map(lambda text: {"N": text}),
    st.just({"B": "AQI="}),
)


@st.composite
def specs(draw: st.DrawFn) -> AggregationSpec:
    sort_key = draw(st.sampled_from([None, "sk"]))
    group_by = draw(st.sampled_from(["pk", "G"] + ([sort_key] if sort_key else [])))
    measures = [
        {"name": "Total", "op": "sum", "attribute": "Amount"},
        {"name": "Count", "op": "count"},
        {"name": "Last", "op": "latest", "attribute": "Day"},
    ]
    raw: dict[str, Any] = {
        "partition_key": "pk",
        "group_by": group_by,
        "measures": draw(st.lists(st.sampled_from(measures), min_size=1, max_size=3, unique_by=lambda m: m["name"])),
        "ttl_deletes": draw(st.sampled_from(["subtract", "ignore"])),
        "filter": {
            "attribute": draw(st.sampled_from(["F", "F", "G", "Amount", "Day", "pk"])),
            "values": draw(st.lists(st.sampled_from(FILTER_VALUES), min_size=1, max_size=4)),
        },
    }
    if sort_key:
        raw["sort_key"] = sort_key
    return parse_spec(raw)


@st.composite
def records(draw: st.DrawFn, spec: AggregationSpec, sequence: int) -> dict[str, Any]:
    """One stream record as Lambda delivers it, for an item of ``spec``'s table."""
    keys = {spec.partition_key: draw(key_value)}
    if spec.sort_key:
        keys[spec.sort_key] = draw(key_value)

    def image() -> dict[str, Any]:
        attributes = {name: draw(attribute_value) for name in ("F", "G", "Amount", "Day")}
        return {**{name: value for name, value in attributes.items() if value is not MISSING}, **keys}

    event_name = draw(st.sampled_from(["INSERT", "MODIFY", "REMOVE"]))
    view = draw(st.sampled_from(VIEWS))
    event_carries, view_carries = CARRIES[event_name], VIEW_CARRIES.get(view, (False, False))
    body: dict[str, Any] = {
        "ApproximateCreationDateTime": NOW,
        "Keys": keys,
        "SequenceNumber": str(10**20 + sequence),
        "SizeBytes": 100,
        "StreamViewType": view,
    }
    if event_carries[0] and view_carries[0]:
        body["OldImage"] = image()
    if event_carries[1] and view_carries[1]:
        body["NewImage"] = image()
    record: dict[str, Any] = {
        "eventID": str(sequence),
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": body,
        "eventSourceARN": ARN,
    }
    if event_name == "REMOVE" and draw(st.booleans()):
        record["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    return record


def what_the_handler_does(spec: AggregationSpec, record: dict[str, Any]) -> str | None:
    """What the handler would do with ``record``, by its own code; None when it does nothing."""
    effect = record_effect(spec, decode_record(record, 0))
    if effect.removed is not None or effect.added is not None:
        return f"contributes (removed={effect.removed}, added={effect.added})"
    if effect.quarantine_reason:
        return f"quarantined: {effect.quarantine_reason}"
    plan = plan_batch(spec, [record], NOW)
    if plan.keys or plan.quarantine:
        return f"planned {list(plan.keys)} and quarantined {[q.reason for q in plan.quarantine]}"
    return None


def dropped_yet_used(patterns: list[str], spec: AggregationSpec, record: dict[str, Any]) -> str | None:
    """Why dropping ``record`` would lose something, or None when Lambda sends it or it is harmless."""
    return None if passes(patterns, record) else what_the_handler_does(spec, record)


@st.composite
def cases(draw: st.DrawFn) -> tuple[AggregationSpec, list[dict[str, Any]]]:
    spec = draw(specs())
    return spec, [draw(records(spec, sequence)) for sequence in range(draw(st.integers(1, 25)))]


@settings(max_examples=300, deadline=None)
@given(cases())
def test_every_record_the_criteria_drop_is_one_the_handler_would_do_nothing_with(case):
    spec, batch = case
    patterns = filter_patterns(spec)
    if patterns is None:  # more filters than Lambda allows: nothing is filtered at the mapping
        assert len({kind for kind, _ in spec.item_filter.values}) == 3
        return
    for record in batch:
        problem = dropped_yet_used(patterns, spec, record)
        assert problem is None, f"dropped, yet {problem}: {record}"


def test_the_check_catches_criteria_that_drop_a_record_the_handler_uses():
    """The property is not vacuous: patterns on the new image alone lose the MODIFY that takes an
    order out of the filter, and the check says so."""
    spec = parse_spec(
        {
            "partition_key": "pk",
            "group_by": "G",
            "measures": [{"name": "Count", "op": "count"}],
            "filter": {"attribute": "F", "values": ["PAID"]},
        }
    )
    new_image_only = [pattern for pattern in filter_patterns(spec) or [] if "OldImage" not in pattern]
    leaving = {
        "eventName": "MODIFY",
        "eventSource": "aws:dynamodb",
        "eventSourceARN": ARN,
        "dynamodb": {
            "Keys": {"pk": {"S": "o1"}},
            "OldImage": {"pk": {"S": "o1"}, "G": {"S": "c1"}, "F": {"S": "PAID"}},
            "NewImage": {"pk": {"S": "o1"}, "G": {"S": "c1"}, "F": {"S": "REFUNDED"}},
            "SequenceNumber": "100",
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    assert dropped_yet_used(new_image_only, spec, leaving) is not None
    assert dropped_yet_used(filter_patterns(spec) or [], spec, leaving) is None
    assert passes(filter_patterns(spec) or [], leaving)
