"""The ledger store's decisions on each way a transaction can be cancelled, with a scripted client."""

from concurrent.futures import Executor, Future
from decimal import Decimal

from botocore.exceptions import ClientError, EndpointConnectionError

from handler.fold import EXACT
from handler.ledger_store import LedgerStore
from handler.position import position_text
from handler.transaction import LEDGER_POSITION
from handler.types import Delta, KeyPlan
from handler.write_loop import BACKOFF_CAP_SECONDS, MAX_PAUSED_RETRIES


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
        error = self.errors.pop(0) if self.errors else None
        if error is not None:
            raise error
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


# Packed: several keys in one transaction, each settled by its own slice of CancellationReasons.


class Inline(Executor):
    """Runs each task at once in the caller's thread: the scripted calls come in a fixed order."""

    def submit(self, fn, /, *args, **kwargs):
        future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def key_plan(name: str, *items: str, start: int = 0) -> KeyPlan:
    deltas = [Delta(start + i, at(10 + i), f"S:{item}", 0, {"N": Decimal(1)}, {}) for i, item in enumerate(items)]
    return KeyPlan(f"S:{name}", {"S": name}, deltas)


def ok():
    return {"Code": "None"}


def packed(client, pauses, *plans):
    return store(client, pauses).apply_all(list(plans), Inline())


def keys_of(request):
    """The aggregate keys a transaction updates, in order."""
    return [a["Update"]["Key"]["CustomerId"]["S"] for a in request if a["Update"]["TableName"] == "Agg"]


def test_keys_share_one_transaction_and_land_together():
    client = Scripted()
    outcomes = packed(client, [], key_plan("a", "o1", "o2"), key_plan("b", "o3", start=2))
    assert len(client.transactions) == 1 and keys_of(client.transactions[0]) == ["a", "b"]
    assert [o.applied for o in outcomes] == [[0, 1], [2]] and sum(o.writes for o in outcomes) == 1


def test_each_reason_code_in_one_transaction_is_settled_for_its_own_key():
    """a: all None (written again); b: one entry applied already (dropped, the rest written again);
    c: TransactionConflict (alone, after a pause); d: ValidationError (alone, then quarantined);
    e: all None."""
    reasons = [
        ok(), ok(),  # a
        ok(), {"Code": "ConditionalCheckFailed", "Item": {LEDGER_POSITION: {"S": at(10)}}}, ok(),  # b
        {"Code": "TransactionConflict"}, ok(),  # c
        {"Code": "ValidationError", "Message": "Item size has exceeded"}, ok(),  # d
        ok(), ok(),  # e
    ]  # fmt: skip
    alone_refused = cancelled({"Code": "ValidationError", "Message": "Item size has exceeded"}, ok())
    client = Scripted(cancelled(*reasons), None, alone_refused)
    pauses = []
    plans = [
        key_plan("a", "o1"),
        key_plan("b", "o2", "o3", start=1),
        key_plan("c", "o4", start=3),
        key_plan("d", "o5", start=4),
        key_plan("e", "o6", start=5),
    ]
    a, b, c, d, e = packed(client, pauses, *plans)
    assert [keys_of(t) for t in client.transactions] == [["a", "b", "c", "d", "e"], ["c"], ["d"], ["a", "b", "e"]]
    assert len(client.transactions[3]) == 6, "b again without o2's entry: aggregate and o3's entry"
    assert a.applied == [0] and e.applied == [5]
    assert b.duplicates == [1] and b.applied == [2] and b.conditional_retries == 1
    assert c.applied == [3] and c.transaction_conflicts == 1 and len(pauses) == 1
    assert d.applied == [] and list(d.unstorable) == [4] and "Item size has exceeded" in d.unstorable[4]
    assert all(o.error is None for o in (a, b, c, d, e))


def test_a_hot_key_that_keeps_conflicting_fails_alone_while_the_others_land():
    conflict = cancelled({"Code": "TransactionConflict"}, ok(), ok(), ok())
    alone = cancelled({"Code": "TransactionConflict"}, ok())
    client = Scripted(conflict, *[alone] * MAX_PAUSED_RETRIES)
    hot, cold = packed(client, [], key_plan("hot", "o1"), key_plan("cold", "o2", start=1))
    assert cold.applied == [1] and cold.error is None
    assert hot.pending == [0] and "kept conflicting" in hot.error
    assert hot.transaction_conflicts == MAX_PAUSED_RETRIES + 1, "the packed conflict counts as the first"
    assert keys_of(client.transactions[-1]) == ["cold"]


def test_throttling_of_one_key_sends_it_alone():
    client = Scripted(cancelled(ok(), ok(), {"Code": "ThrottlingError"}, ok()))
    pauses = []
    a, b = packed(client, pauses, key_plan("a", "o1"), key_plan("b", "o2", start=1))
    assert [keys_of(t) for t in client.transactions] == [["a", "b"], ["b"], ["a"]]
    assert a.applied == [0] and b.applied == [1] and len(pauses) == 1


def test_an_entry_that_failed_without_coming_back_is_read_in_a_packed_transaction():
    client = Scripted(
        cancelled(ok(), ok(), ok(), {"Code": "ConditionalCheckFailed"}), entries={LEDGER_POSITION: {"S": at(10)}}
    )
    a, b = packed(client, [], key_plan("a", "o1"), key_plan("b", "o2", start=1))
    assert a.applied == [0] and b.duplicates == [1] and b.applied == []
    assert [keys_of(t) for t in client.transactions] == [["a", "b"], ["a"]], "b has nothing left to write"


def test_another_reason_fails_its_key_only():
    client = Scripted(cancelled(ok(), ok(), {"Code": "ItemCollectionSizeLimitExceeded", "Message": "big"}, ok()))
    a, b = packed(client, [], key_plan("a", "o1"), key_plan("b", "o2", start=1))
    assert a.applied == [0] and b.pending == [1] and "ItemCollectionSizeLimitExceeded" in b.error


def test_an_error_naming_no_action_sends_each_key_alone():
    """A refusal of the whole request, or reasons that blame no action: each key's answer is its own."""
    for error in (
        ClientError({"Error": {"Code": "ValidationException", "Message": "bad"}}, "TransactWriteItems"),
        cancelled(ok(), ok(), ok(), ok()),
        cancelled(ok()),
    ):
        client = Scripted(error)
        a, b = packed(client, [], key_plan("a", "o1"), key_plan("b", "o2", start=1))
        assert [keys_of(t) for t in client.transactions] == [["a", "b"], ["a"], ["b"]]
        assert a.applied == [0] and b.applied == [1]


def test_an_outage_fails_every_key_of_its_transaction_as_it_would_each_key_alone():
    for error, says in (
        (EndpointConnectionError(endpoint_url="http://x"), "Could not connect"),
        (ClientError({"Error": {"Code": "InternalServerError", "Message": "x"}}, "TransactWriteItems"), "Internal"),
    ):
        client = Scripted(error)
        a, b = packed(client, [], key_plan("a", "o1"), key_plan("b", "o2", start=1))
        assert a.pending == [0] and b.pending == [1] and says in a.error and says in b.error
        assert len(client.transactions) == 1


def test_a_key_over_99_items_writes_its_chunks_in_order_and_stops_at_a_failure():
    """Its second chunk waits for the first: after a failure it is left pending, never written."""
    big = key_plan("big", *[f"o{i}" for i in range(120)])
    small = key_plan("small", "x", start=120)
    client = Scripted()
    outcomes = packed(client, [], big, small)
    assert [keys_of(t) for t in client.transactions] == [["big"], ["small"], ["big"]]
    assert sorted(outcomes[0].applied) == list(range(120))
    failing = Scripted(cancelled(ok(), {"Code": "AccessDenied", "Message": "no"}, *[ok()] * 98))
    big_outcome, small_outcome = packed(failing, [], big, small)
    assert [keys_of(t) for t in failing.transactions] == [["big"], ["small"]]
    assert small_outcome.applied == [120] and small_outcome.error is None
    assert sorted(big_outcome.pending) == list(range(120)) and "AccessDenied" in big_outcome.error
