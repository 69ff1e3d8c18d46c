"""Decoding real events written by others (../shared/fixtures/aws-events, see its SOURCES.md).

They are not part of this repository: these tests run where the folder is (CI has it, or
AWS_EVENT_FIXTURES names a copy) and are skipped, with the reason, where it is not.
"""

import json
from pathlib import Path

import pytest

from handler.errors import EventShapeError
from handler.planner import plan_batch
from handler.records import EventName
from handler.spec import parse_spec
from tests.conftest import decode_event

TRIGGER_EVENTS = {
    "aws-docs__Streams.Lambda.Tutorial_payload.json",
    "aws-docs__with-ddb_example-event.json",
    "aws-lambda-dotnet__dynamodb-event.json",
    "aws-lambda-dotnet__dynamodb-with-ms-event.json",
    "aws-lambda-go__dynamodb-event.json",
    "aws-lambda-java-libs__dynamo_event.json",
    "aws-lambda-java-libs__dynamodb_event.json",
    "powertools__dynamoStreamEvent.json",
    "sam-cli__DynamoDBUpdate.json",
}
OTHER_SHAPES = {
    "aws-docs__with-ddb_time-window-event.json": "tumbling-window",
    "aws-lambda-go__dynamodb-time-window-event.json": "tumbling-window",
    "aws-lambda-java-libs__dynamo_time_window_event.json": "tumbling-window",
    "powertools__dynamoStreamTumblingWindowEvent.json": "tumbling-window",
    "aws-docs__with-ddb_invocation-record.json": "on-failure destination",
    "powertools__dynamoStreamLambdaInvocationEvent.json": "on-failure destination",
    "aws-lambda-rust-runtime__example-dynamodb-event-record-with-optional-fields.json": "single stream record",
    "aws-docs__Streams.Lambda.Tutorial2_record.json": "single stream record",
    "aws-lambda-java-libs__dynamo_ddb_stream_record.json": "single stream record",
}


def read(folder: Path, name: str):
    return json.loads((folder / name).read_text(encoding="utf-8-sig"))


def test_every_shared_fixture_is_classified(shared_events):
    assert {path.name for path in shared_events.glob("*.json")} == TRIGGER_EVENTS | set(OTHER_SHAPES)


@pytest.mark.parametrize("name", sorted(TRIGGER_EVENTS))
def test_trigger_events_decode_and_plan(shared_events, name):
    event = read(shared_events, name)
    records = decode_event(event)
    assert [r.sequence_number for r in records] == [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
    assert all(r.event_name in EventName for r in records)
    first_key = next(iter(event["Records"][0]["dynamodb"]["Keys"]))
    spec = parse_spec({"partition_key": first_key, "measures": [{"name": "Items", "op": "count"}]})
    plan = plan_batch(spec, event["Records"], now=1_700_000_000)
    assert plan.counters.records == len(records)
    planned = sum(len(k.deltas) for k in plan.keys.values()) + len(plan.quarantine)
    assert planned >= 1


@pytest.mark.parametrize(("name", "message"), sorted(OTHER_SHAPES.items()))
def test_other_shapes_are_rejected_clearly(shared_events, name, message):
    with pytest.raises(EventShapeError, match=message):
        decode_event(read(shared_events, name))


def test_ttl_delete_and_creation_time_units(shared_events):
    ttl_remove = decode_event(read(shared_events, "aws-lambda-dotnet__dynamodb-event.json"))[1]
    assert ttl_remove.is_ttl_delete and ttl_remove.created_at == 1480642020
    in_ms = decode_event(read(shared_events, "aws-lambda-dotnet__dynamodb-with-ms-event.json"))[0]
    assert in_ms.created_at == pytest.approx(1480642020, abs=1)
    insert_with_service_identity = decode_event(read(shared_events, "aws-lambda-java-libs__dynamo_event.json"))[0]
    assert not insert_with_service_identity.is_ttl_delete


def test_repeated_sequence_numbers_are_quarantined_not_applied(shared_events):
    """aws-lambda-go's fixture gives two records one SequenceNumber: we cannot order them."""
    event = read(shared_events, "aws-lambda-go__dynamodb-event.json")
    spec = parse_spec({"partition_key": "key", "sort_key": "val", "measures": [{"name": "Items", "op": "count"}]})
    plan = plan_batch(spec, event["Records"], now=0)
    assert plan.counters.ordering_violations == 1
    assert [q.position for q in plan.quarantine] == [1]
    assert "ordering" in plan.quarantine[0].reason
