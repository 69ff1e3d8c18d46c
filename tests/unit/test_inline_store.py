"""The single-source store's decisions on each answer to its conditional UpdateItem, with a scripted
client: the same write loop as the ledger's (``handler/write_loop.py``), its own request and reads."""

from decimal import Decimal

from botocore.exceptions import ClientError

from handler.inline_store import INLINE_POSITION, InlineStore
from handler.position import position_text
from handler.types import Delta, KeyPlan


def at(sequence: int) -> str:
    return position_text("L", str(sequence))


PLAN = KeyPlan(
    "S:a",
    {"S": "a"},
    [Delta(0, at(5), "S:a", 0, {"N": Decimal(1)}, {}), Delta(1, at(6), "S:a", 0, {"N": Decimal(2)}, {})],
)


def failed(code, item=None):
    response = {"Error": {"Code": code, "Message": "x"}}
    if item is not None:
        response["Item"] = item
    return ClientError(response, "UpdateItem")


class Scripted:
    def __init__(self, *errors, stored=None):
        self.errors = list(errors)
        self.requests = []
        self.reads = 0
        self.stored = stored

    def update_item(self, **request):
        self.requests.append(request)
        error = self.errors.pop(0) if self.errors else None
        if error is not None:
            raise error
        return {}

    def get_item(self, **request):
        self.reads += 1
        return {"Item": {INLINE_POSITION: {"S": self.stored}}} if self.stored else {}


def amount(request):
    return request["ExpressionAttributeValues"][":n0"]["N"]


def test_a_failed_condition_drops_what_the_returned_position_covers_and_writes_the_rest():
    client = Scripted(failed("ConditionalCheckFailedException", {INLINE_POSITION: {"S": at(5)}}))
    outcome = InlineStore(client, "Agg", "AccountId").apply(PLAN)
    assert outcome.duplicates == [0] and outcome.applied == [1] and outcome.covered == {0: at(5)}
    assert [amount(r) for r in client.requests] == ["3", "2"] and client.reads == 0


def test_a_failed_condition_without_the_item_reads_it():
    client = Scripted(failed("ConditionalCheckFailedException"), stored=at(6))
    outcome = InlineStore(client, "Agg", "AccountId").apply(PLAN)
    assert outcome.duplicates == [0, 1] and outcome.applied == [] and client.reads == 1
    assert len(client.requests) == 1 and outcome.conditional_retries == 1


def test_a_condition_that_fails_below_every_record_fails_them_back_at_once():
    client = Scripted(*[failed("ConditionalCheckFailedException", {INLINE_POSITION: {"S": at(1)}})] * 5)
    outcome = InlineStore(client, "Agg", "AccountId").apply(PLAN)
    assert outcome.pending == [0, 1] and "another writer" in outcome.error and len(client.requests) == 1


def test_a_refused_write_is_narrowed_to_the_record_refused_alone():
    client = Scripted(failed("ValidationException"), None, failed("ValidationException"))
    outcome = InlineStore(client, "Agg", "AccountId").apply(PLAN)
    assert outcome.applied == [0] and list(outcome.unstorable) == [1] and outcome.error is None
    assert [amount(r) for r in client.requests] == ["3", "1", "2"]


def test_any_other_error_fails_the_key():
    client = Scripted(failed("ProvisionedThroughputExceededException"))
    outcome = InlineStore(client, "Agg", "AccountId").apply(PLAN)
    assert outcome.pending == [0, 1] and outcome.error.startswith("aggregate S:a: ProvisionedThroughput")
