"""The operator commands on binary (B) and number (N) group_by keys, against a moto server (issue 19, edges 1).

moto quirks worked around here: a segmented Scan of a table whose partition key is binary gets HTTP 500 (moto
hashes the key with ``value.encode``, which bytes lack), so ``moto_binary_segments`` hashes the bytes as they
are; and moto's stream carries a binary key's base64 text as its bytes in ``Keys`` (so the handler rightly
quarantines its records as naming another item): aggregates of a binary key are written here as the handler
writes them, rather than drained from the stream, and a binary key's tables are given their stream after the
items were written (backfill reads an empty stream).
"""

import json
from hashlib import md5

import pytest

from handler.spec import parse_spec
from ops.local.local_resources import source_key_schema
from ops.recount import BACKFILL_MARKER
from tests.conftest import new_aggregator
from tests.integration.test_cli import cli, drain, no_empty_page_pause, ops_argv  # noqa: F401 (a fixture)
from tests.integration.test_ops_output import run

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("no_empty_page_pause")]

BLOB_SPEC = {
    "partition_key": "Blob",
    "sort_key": "Seq",
    "measures": [{"name": "Total", "op": "sum", "attribute": "Amount"}, {"name": "Count", "op": "count"}],
}
NUMBER_SPEC = {**BLOB_SPEC, "partition_key": "Shop"}
KEY = b"\x01\x02"
KEY_TEXT = "AQI="
"""base64 of KEY: how the stream's event, replay and reconcile write it."""


@pytest.fixture
def moto_binary_segments(monkeypatch):
    from moto.dynamodb.models.dynamo_type import Item

    def is_within_segment(self, segments):
        if segments == (None, None):
            return True
        segment, total = segments
        value = self.hash_key.value
        raw = value if isinstance(value, bytes) else value.encode("utf8")
        return md5(raw).digest()[0] % total == segment

    monkeypatch.setattr(Item, "is_within_segment", is_within_segment)


def spec_file(tmp_path, spec):
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    return str(path)


@pytest.fixture
def blobs(endpoint, moto_binary_segments):
    return new_aggregator(endpoint, parse_spec(BLOB_SPEC), key_types={"Blob": "B", "Seq": "N"})


def put_rows(endpoint, table, name, rows):
    for key, seq, amount in rows:
        item = {name: key, "Seq": {"N": seq}, "Amount": {"N": amount}}
        endpoint.client("dynamodb").put_item(TableName=table, Item=item)


def stored(endpoint, aggregator, name, key):
    response = endpoint.client("dynamodb").get_item(TableName=aggregator.aggregate_table, Key={name: key})
    return response.get("Item")


def test_reconcile_compares_and_repairs_a_binary_key_on_its_own_item(endpoint, blobs, tmp_path):
    """reconcile read a stored binary key (bytes, as boto3 returns it) as no key at all: `error: table ...:
    attribute 'Blob' must be a string, number or binary to group by, got type B`, on every run, with or
    without --key: a table grouped by a binary attribute could not be reconciled."""
    spec = spec_file(tmp_path, BLOB_SPEC)
    put_rows(endpoint, blobs.source_table, "Blob", [({"B": KEY}, "1", "5"), ({"B": KEY}, "2", "7")])
    item = {"Blob": {"B": KEY}, "Total": {"N": "5"}, "Count": {"N": "1"}}  # as the handler writes it: bytes
    endpoint.client("dynamodb").put_item(TableName=blobs.aggregate_table, Item=item)
    code, output = cli(endpoint, blobs, "reconcile", "--spec", spec)
    assert code == 3 and "2 drift(s) over 1 key(s)" in output and f"B:{KEY_TEXT}" in output, output
    code, output = cli(endpoint, blobs, "reconcile", "--key", f"B:{KEY_TEXT}", "--repair", "--spec", spec)
    assert code == 0 and "repaired 1 key(s)" in output, output
    repaired = stored(endpoint, blobs, "Blob", {"B": KEY})
    assert repaired["Total"] == {"N": "12"} and repaired["Count"] == {"N": "2"}
    assert stored(endpoint, blobs, "Blob", {"B": KEY_TEXT.encode()}) is None  # not the base64 text's bytes
    assert endpoint.client("dynamodb").scan(TableName=blobs.aggregate_table)["Count"] == 1
    code, output = cli(endpoint, blobs, "reconcile", "--spec", spec)
    assert code == 0 and "0 drift(s) over 1 key(s)" in output, output


def test_a_binary_key_query_prints_is_the_key_reconcile_takes(endpoint, blobs, tmp_path, capsys):
    """`query` takes a binary value as base64 (as DynamoDB's JSON writes it); its JSON names the key as
    `reconcile --key` takes it, so the two can be chained."""
    spec = spec_file(tmp_path, BLOB_SPEC)
    put_rows(endpoint, blobs.source_table, "Blob", [({"B": KEY}, "1", "5")])
    item = {"Blob": {"B": KEY}, "Total": {"N": "4"}, "Count": {"N": "1"}}
    endpoint.client("dynamodb").put_item(TableName=blobs.aggregate_table, Item=item)
    code, out, _ = run(capsys, ["query", KEY_TEXT, "--output", "json", "--spec", spec, *ops_argv(endpoint.url, blobs)])
    document = json.loads(out)
    assert code == 0 and [found["key"] for found in document["aggregates"]] == [f"B:{KEY_TEXT}"], document
    code, output = cli(endpoint, blobs, "reconcile", "--key", document["aggregates"][0]["key"], "--spec", spec)
    assert code == 3 and "1 drift(s) over 1 key(s)" in output, output
    code, output = cli(endpoint, blobs, "query", "not base64!", "--spec", spec)
    assert code == 1 and output.count("\n") == 1 and "is not a B value of 'Blob'" in output, output


def test_backfill_writes_a_binary_key_on_its_own_item(endpoint, blobs, tmp_path):
    dynamodb = endpoint.client("dynamodb")
    source = f"{blobs.source_table}-legacy"
    keys = source_key_schema(parse_spec(BLOB_SPEC), {"Blob": "B", "Seq": "N"})
    dynamodb.create_table(TableName=source, BillingMode="PAY_PER_REQUEST", **keys)
    put_rows(endpoint, source, "Blob", [({"B": KEY}, "1", "5"), ({"B": KEY}, "2", "7")])
    stream_arn = dynamodb.update_table(
        TableName=source, StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    )["TableDescription"]["LatestStreamArn"]
    legacy = blobs.__class__(**{**blobs.__dict__, "source_table": source, "stream_arn": stream_arn})
    code, output = cli(endpoint, legacy, "backfill", "--spec", spec_file(tmp_path, BLOB_SPEC))
    assert code == 0 and "backfilled 1 aggregate(s)" in output, output
    written = stored(endpoint, legacy, "Blob", {"B": KEY})
    assert written["Total"] == {"N": "12"} and BACKFILL_MARKER in written
    assert dynamodb.scan(TableName=legacy.aggregate_table)["Count"] == 1


def test_a_number_key_is_one_key_however_it_is_written(endpoint, tmp_path, capsys):
    """A number key is normalised as the handler writes it: `query 7.0` finds N:7, and `reconcile --key N:7.0`
    is refused with the spelling that names that aggregate rather than reported as in neither table."""
    spec = spec_file(tmp_path, NUMBER_SPEC)
    shops = new_aggregator(endpoint, parse_spec(NUMBER_SPEC), key_types={"Shop": "N", "Seq": "N"})
    put_rows(endpoint, shops.source_table, "Shop", [({"N": "7"}, "1", "5"), ({"N": "7.00"}, "2", "7")])
    drain(endpoint, shops)
    code, out, _ = run(capsys, ["query", "7.0", "--output", "json", "--spec", spec, *ops_argv(endpoint.url, shops)])
    document = json.loads(out)
    assert code == 0 and document["aggregates"][0]["key"] == "N:7", document
    assert document["aggregates"][0]["item"]["Total"] == {"N": "12"}
    code, output = cli(endpoint, shops, "reconcile", "--key", "N:7", "--spec", spec)
    assert code == 0 and "0 drift(s) over 1 key(s)" in output, output
    code, output = cli(endpoint, shops, "reconcile", "--key", "N:7.0", "--spec", spec)
    assert code == 1 and output.count("\n") == 1 and "'N:7' names that aggregate" in output, output
