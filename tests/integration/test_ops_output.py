"""What the operator commands print for scripts and pipes (issue 17, part 3).

`--output json` puts one JSON document on stdout and the human tables on stderr; without it, output that
is not a terminal (a pipe, a file: pytest's captured stdout here) is never cut to "…". moto quirks worked
around here: source items are written with PutItem, and the stream is polled by ops.local.poller (no
event source mapping in moto).
"""

import json
from decimal import Decimal

import pytest

from handler.spec import parse_spec
from ops.__main__ import main
from tests.conftest import INVOICE_SPEC, invoice_image, new_aggregator
from tests.integration.test_cli import ops_argv
from tests.integration.test_ops_quarantine import bad_amount, mapping, put
from tests.integration.test_ops_replay import send_failure, shard_of

pytestmark = pytest.mark.integration


@pytest.fixture
def invoices(endpoint):
    return new_aggregator(endpoint, parse_spec(INVOICE_SPEC))


def run(capsys, argv):
    """``argv`` as the operator runs it, no console given: what reached stdout and stderr, and the exit code.
    What was printed before (the in-process handler's log lines) is read off first."""
    capsys.readouterr()
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_reconcile_json_names_each_drift_exactly_and_the_table_goes_to_stderr(capsys, endpoint, invoices):
    put(endpoint, invoices, invoice_image("A", "1", "10.10"))
    put(endpoint, invoices, invoice_image("A", "2", "20.20"))
    mapping(endpoint, invoices).drain()
    dynamodb = endpoint.client("dynamodb")
    dynamodb.update_item(
        TableName=invoices.aggregate_table,
        Key={"InvoiceNumber": {"S": "A"}},
        UpdateExpression="SET #t = :t",
        ExpressionAttributeNames={"#t": "Total"},
        ExpressionAttributeValues={":t": {"S": "35"}},  # stored with the wrong type
    )
    code, out, err = run(capsys, ["reconcile", "--output", "json", *ops_argv(endpoint.url, invoices)])
    assert code == 3, err
    document = json.loads(out)
    assert document["keys_checked"] == 1 and document["repair"] is False
    assert document["drifts"] == [
        {"key": "S:A", "measure": "Total", "expected": "30.30", "stored": {"S": "35"}, "difference": None}
    ]
    assert "1 drift(s) over 1 key(s)" in err and "drift" not in out.replace('"drifts"', "")


def test_replay_json_and_a_piped_table_keep_shard_ids_and_sequence_numbers_whole(capsys, endpoint, invoices):
    """Piped, rich laid the table out in 80 columns and showed `shardI…`."""
    put(endpoint, invoices, invoice_image("A", "1", "5"))
    shard_id, first = shard_of(endpoint, invoices)
    send_failure(endpoint, invoices, shard_id, first + 100, first + 120)  # past what the shard holds: expired
    target = ops_argv(endpoint.url, invoices, ledger=True, failure_queue=True, quarantine_queue=True)
    code, out, err = run(capsys, ["replay", "--dry-run", *target])
    assert code == 3, out + err
    row = next(line for line in out.splitlines() if "expired" in line and "│" in line)
    assert shard_id in row and f"{first + 100}..{first + 120}" in row, out
    assert "…" not in out
    code, out, err = run(capsys, ["replay", "--dry-run", "--output", "json", *target])
    assert code == 3, err
    (batch,) = json.loads(out)["batches"]
    assert batch["shard_id"] == shard_id and batch["outcome"] == "expired" and batch["settled"] is False
    assert (batch["first_sequence_number"], batch["last_sequence_number"]) == (str(first + 100), str(first + 120))
    assert batch["message_deleted"] is False and "reconcile" in batch["note"]
    assert shard_id in err, "the table is still shown, on stderr"


def test_quarantine_list_keeps_every_reason_whole_piped_and_in_json(capsys, endpoint, invoices):
    """Reasons stopped at 70 characters, whatever the width."""
    put(endpoint, invoices, bad_amount("A", "2", text="not-a-number-" * 8))
    mapping(endpoint, invoices).drain()
    target = ops_argv(endpoint.url, invoices, ledger=True, quarantine_queue=True)
    code, out, err = run(capsys, ["quarantine", "list", "--output", "json", *target])
    assert code == 0, err
    (record,) = json.loads(out)["records"]
    reason = record["reason"]
    assert len(reason) > 70 and "…" not in reason and record["copies"] == 1 and record["event"] == "INSERT"
    assert record["key"] == "InvoiceNumber=A TransactionId=2" and record["sequence_number"].isdigit()
    assert record["aggregate_keys"] == ["S:A"]  # its Amount is bad: group_by's own attribute names it
    code, out, err = run(capsys, ["quarantine", "list", *target])
    assert code == 0 and reason in out and "…" not in out, out


def test_query_json_gives_each_aggregate_as_stored_and_what_was_not_found(capsys, endpoint, invoices):
    put(endpoint, invoices, invoice_image("A", "1", "10.10"))
    mapping(endpoint, invoices).drain()
    target = [*ops_argv(endpoint.url, invoices)]
    code, out, err = run(capsys, ["query", "A", "--output", "json", *target])
    assert code == 0, err
    (found,) = json.loads(out)["aggregates"]
    assert found["key"] == "S:A" and found["parts"] == {"InvoiceNumber": "A"}
    # compared as numbers: DynamoDB returns 10.1, moto keeps the text it was given (a quirk)
    assert Decimal(found["item"]["Total"]["N"]) == Decimal("10.10") and found["item"]["TransactionCount"] == {"N": "1"}
    measures = found["measures"]  # as read: LargestTransaction from the extremes table, not the item
    assert "LargestTransaction" not in found["item"] and Decimal(measures["LargestTransaction"]["N"]) == Decimal("10.1")
    assert measures["TransactionCount"] == {"N": "1"} and measures["UpdateDate"] == found["item"]["UpdateDate"]
    code, out, err = run(capsys, ["query", "B", "--output", "json", *target])
    assert code == 1 and json.loads(out) == {"aggregates": [], "not_found": ["S:B"]}


def test_json_is_refused_where_there_is_no_document(capsys):
    """Only list, replay, reconcile and query print one; a flag that would be ignored is a usage error."""
    with pytest.raises(SystemExit) as exit_info:
        main(["backfill", "--output", "json"])
    assert exit_info.value.code == 2 and "unrecognized arguments: --output json" in capsys.readouterr().err
