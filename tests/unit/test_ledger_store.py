"""The ledger store's decisions on each way a transaction can be cancelled, with a scripted client."""

from decimal import Decimal

from botocore.exceptions import ClientError

from handler.fold import EXACT, Delta, KeyPlan
from handler.ledger_store import BACKOFF_CAP_SECONDS, MAX_PAUSED_RETRIES, LedgerStore
from handler.position import position_text
from handler.transaction import LEDGER_POSITION


def at(sequence: int) -> str:
    return position_text("L", str(sequence))


PLAN = KeyPlan(
    "S:c1",
    {"S": "c1"},
    [Delta(0, at(5), "S:o1", 0, {"N": Decimal(1)}, {}), Delta(1, at(6), "S:o2", 0, {"N": Decimal(1)}, {})],
)


def cancelled(*reasons):
    return ClientError(
        {"Error": {"Code": "TransactionCanceledException", "Message": "x"}, "CancellationReasons": list(reasons)},
        "TransactWriteItems",
    )


class Scripted:
    """Raises the scripted errors in turn, then succeeds; records every transaction."""

    def __init__(self, *errors, entries=None):
        self.errors = list(errors)
        self.transactions = []
        self.entries = entries or {}

    def transact_write_items(self, **request):
        self.transactions.append(request["TransactItems"])
        if self.errors:
            raise self.errors.pop(0)
        return {}

    def get_item(self, **request):
        return {"Item": self.entries} if self.entries else {}


def store(client, pauses):
    return LedgerStore(client, "Agg", "Ledger", "CustomerId", sleep=pauses.append, jitter=lambda: 1.0)


def test_conflicts_are_retried_with_growing_capped_pauses_then_failed_back():
    conflict = cancelled({"Code": "TransactionConflict"}, {"Code": "None"}, {"Code": "None"})
    pauses = []
    outcome = store(Scripted(*[conflict] * (MAX_PAUSED_RETRIES + 1)), pauses).apply(PLAN)
    assert outcome.transaction_conflicts == MAX_PAUSED_RETRIES + 1 and sorted(outcome.pending) == [0, 1]
    assert "kept conflicting" in outcome.error and len(pauses) == MAX_PAUSED_RETRIES
    assert pauses == sorted(pauses) and max(pauses) == BACKOFF_CAP_SECONDS


def test_a_conflict_then_success_applies_once():
    pauses = []
    client = Scripted(cancelled({"Code": "TransactionConflict"}))
    outcome = store(client, pauses).apply(PLAN)
    assert outcome.applied == [0, 1] and outcome.error is None and len(client.transactions) == 2 and len(pauses) == 1


def test_an_entry_that_failed_without_coming_back_is_read_and_its_records_dropped():
    client = Scripted(
        cancelled({"Code": "None"}, {"Code": "ConditionalCheckFailed"}, {"Code": "None"}),
        entries={LEDGER_POSITION: {"S": at(5)}},
    )
    outcome = store(client, []).apply(PLAN)
    assert outcome.duplicates == [0] and outcome.applied == [1]
    assert len(client.transactions[1]) == 2, "the retry writes the aggregate and o2's entry only"


def test_throttling_is_paused_and_retried_like_a_conflict():
    client = Scripted(cancelled({"Code": "ThrottlingError"}, {"Code": "None"}, {"Code": "None"}))
    pauses = []
    assert store(client, pauses).apply(PLAN).applied == [0, 1] and len(pauses) == 1


def test_any_other_error_fails_the_key_at_once():
    client = Scripted(ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "TransactWriteItems"))
    outcome = store(client, []).apply(PLAN)
    assert outcome.error == "aggregate S:c1: AccessDeniedException: no" and sorted(outcome.pending) == [0, 1]


class RefusesWide:
    """DynamoDB's answer to an ADD whose result needs more than 38 digits: a ValidationError."""

    def __init__(self):
        self.transactions = []
        self.total = Decimal(0)

    def transact_write_items(self, **request):
        self.transactions.append(request["TransactItems"])
        amount = Decimal(request["TransactItems"][0]["Update"]["ExpressionAttributeValues"][":n0"]["N"])
        total = EXACT.add(self.total, amount)
        if len(total.normalize(EXACT).as_tuple().digits) > 38:
            raise cancelled({"Code": "ValidationError", "Message": "Number precision exceeded"}, {"Code": "None"})
        self.total = total
        return {}


def test_a_sum_that_cannot_be_exact_falls_back_to_one_record_at_a_time_and_quarantines_only_the_culprit():
    wide = KeyPlan(
        "S:c1",
        {"S": "c1"},
        [
            Delta(0, at(5), "S:o1", 0, {"N": Decimal("1E+37")}, {}),
            Delta(1, at(6), "S:o2", 0, {"N": Decimal("1E-37")}, {}),
            Delta(2, at(7), "S:o3", 0, {"N": Decimal(2)}, {}),
        ],
    )
    client = RefusesWide()
    outcome = store(client, []).apply(wide)
    assert outcome.applied == [0, 2] and list(outcome.unstorable) == [1] and outcome.error is None
    assert "refused" in outcome.unstorable[1] and "Number precision exceeded" in outcome.unstorable[1]
    assert [len(t) for t in client.transactions] == [2, 2, 2], "one record (aggregate and entry) per transaction"
