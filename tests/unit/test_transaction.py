"""Ledger-mode requests stay inside DynamoDB's limits at any batch shape.

The emulator enforces none of these (moto accepts a 5 KB expression and 101 actions), so the
limits are asserted here, on the requests the handler builds.
"""

import json
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from handler.fold import Expression, conditional_position, update_request
from handler.group_parts import MAX_GROUP_PARTS
from handler.grouping import MAX_COMPOSITE_KEY_BYTES, composite_group, part_attributes
from handler.position import IDEMPOTENCY_WINDOW_SECONDS, ledger_id, position_text
from handler.spec import MAX_EXTREMES, MAX_MEASURES, parse_spec
from handler.transaction import (
    LEDGER_EXPIRY,
    LEDGER_KEY,
    LEDGER_POSITION,
    MAX_TRANSACTION_ACTIONS,
    AggregateTarget,
    Cancellation,
    entry_action,
    item_chunks,
    items_per_transaction,
    read_cancellation,
    transaction,
)
from handler.types import Delta

MAX_TRANSACTION_BYTES = 4 * 1024 * 1024
MAX_EXPRESSION_BYTES = 4 * 1024
"""DynamoDB's limits per transaction and per expression, which the handler's requests never come near."""

TARGET = AggregateTarget("Agg", "Ledger", "CustomerId", "S:c1", {"S": "c1"})
LABEL = "2026-01-01T00:00:00.000"


def delta(index: int, item: str, sequence: int, numbers=None, latest=None, extremes=None) -> Delta:
    return Delta(
        index,
        position_text(LABEL, str(sequence)),
        item,
        1_800_000_000,
        numbers or {"N": Decimal(1)},
        latest or {},
        extremes or {},
    )


def expressions(request):
    for action in request["TransactItems"]:
        if "Update" in action:
            update = action["Update"]
            yield update["UpdateExpression"]
            yield update.get("ConditionExpression", "")


def action_target(action):
    """The item an action names, read from the contract (an extremes entry's key is k and i), not from packing."""
    ((kind, body),) = action.items()
    key = {name: body["Item"][name] for name in ("k", "i")} if kind == "Put" else body["Key"]
    return body["TableName"], json.dumps(key, sort_keys=True)


def check_limits(request):
    actions = request["TransactItems"]
    assert len(actions) <= MAX_TRANSACTION_ACTIONS
    targets = [action_target(action) for action in actions]
    assert len(set(targets)) == len(targets), "two actions on one item"
    assert all(len(text.encode()) <= MAX_EXPRESSION_BYTES for text in expressions(request))
    assert len(json.dumps(request).encode()) <= MAX_TRANSACTION_BYTES


@given(st.lists(st.integers(0, 400), min_size=1, max_size=1000))
def test_any_batch_shape_chunks_into_legal_transactions(items):
    deltas = [delta(i, f"S:o{item}", 10**20 + i) for i, item in enumerate(items)]
    chunks = item_chunks(deltas)
    assert sorted(d.position for chunk in chunks for d in chunk) == list(range(len(deltas)))
    chunk_of = {}
    for index, chunk in enumerate(chunks):
        for d in chunk:
            assert chunk_of.setdefault(d.item, index) == index, "an item split across transactions"
        assert [d.position for d in chunk] == sorted(d.position for d in chunk)
        check_limits(transaction(TARGET, chunk).request)


EXTREMES_TARGET = AggregateTarget("Agg", "Ledger", "CustomerId", "S:c1", {"S": "c1"}, extremes_table="Extremes")


@settings(deadline=None)  # large requests are serialized to measure them; no timing here
@given(
    st.lists(st.tuples(st.integers(0, 300), st.booleans()), min_size=1, max_size=400),
    st.integers(1, MAX_EXTREMES),
)
def test_any_batch_shape_with_min_max_chunks_into_legal_transactions(items, extremes):
    """Each item takes up to one extremes action per min/max measure: chunks hold fewer items, never
    over 100 actions or 4 MB, even with every value a sort key's full 1024 bytes."""
    names = [f"M{index}" for index in range(extremes)]
    deltas = [
        delta(i, f"S:o{item}", 10**20 + i, extremes={n: {"S": "é" * 512} if contributes else None for n in names})
        for i, (item, contributes) in enumerate(items)
    ]
    chunks = item_chunks(deltas, items_per_transaction(extremes))
    assert sorted(d.position for chunk in chunks for d in chunk) == list(range(len(deltas)))
    for chunk in chunks:
        built = transaction(EXTREMES_TARGET, chunk)
        assert len(built.items) == len(built.request["TransactItems"])
        check_limits(built.request)
    full = len({item for item, _ in items}) >= items_per_transaction(extremes)
    assert not full or max(len(transaction(EXTREMES_TARGET, c).items) for c in chunks) > MAX_TRANSACTION_ACTIONS - (
        1 + extremes
    ), "a full chunk leaves no room for another item"


def test_one_hundred_distinct_orders_of_one_customer_need_two_transactions():
    """The issue's case: 100 distinct items for one key is 101 actions, over the limit of 100."""
    chunks = item_chunks([delta(i, f"S:o{i}", 100 + i) for i in range(100)])
    assert [len(c) for c in chunks] == [99, 1]


def test_the_largest_spec_and_a_400_kb_latest_value_stay_inside_the_limits():
    measures = [
        {"name": f"Measure_{i:02d}_" + "x" * 40, "op": "sum", "attribute": "Amount"} for i in range(MAX_MEASURES - 1)
    ]
    measures.append({"name": "Last", "op": "latest", "attribute": "Blob"})
    spec = parse_spec({"partition_key": "OrderId", "group_by": "CustomerId", "measures": measures})
    big = {"S": "b" * (400 * 1024 - 100)}
    deltas = [
        delta(
            i,
            f"S:{'o' * 2000}{i}",
            10**39 + i,
            {m.name: Decimal("-1234567890.12") for m in spec.measures[:-1]},
            {"Last": big},
        )
        for i in range(250)
    ]
    for chunk in item_chunks(deltas):
        check_limits(transaction(TARGET, chunk).request)


def test_an_entry_moves_only_from_below_the_first_record_and_expires_after_the_window():
    request = transaction(TARGET, [delta(0, "S:o1", 5), delta(1, "S:o1", 9)]).request
    aggregate, entry = (action["Update"] for action in request["TransactItems"])
    assert aggregate["TableName"] == "Agg" and "ConditionExpression" not in aggregate
    assert aggregate["ExpressionAttributeValues"][":n0"] == {"N": "2"}
    assert entry["Key"] == {LEDGER_KEY: {"S": ledger_id("S:c1", "S:o1")}}
    assert entry["ConditionExpression"] == "attribute_not_exists(#p) OR #p < :first"
    assert entry["ExpressionAttributeNames"] == {"#p": LEDGER_POSITION, "#x": LEDGER_EXPIRY}
    values = entry["ExpressionAttributeValues"]
    assert values[":first"]["S"].endswith("5") and values[":p"]["S"].endswith("9")
    assert values[":x"] == {"N": str(1_800_000_000 + IDEMPOTENCY_WINDOW_SECONDS)}
    assert entry["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"


@given(
    st.sampled_from(["S:o1", "5:S:o-1S:x"]),
    st.integers(0, 10**30),
    st.integers(0, 3),
    st.integers(0, 2_000_000_000),
)
def test_an_entry_is_the_request_the_general_builders_make(item, sequence, extra, created_at):
    """entry_action writes its request out for speed; it must be the one Expression,
    conditional_position and update_request build, values and their order included."""
    first, last = position_text(LABEL, str(sequence)), position_text(LABEL, str(sequence + extra))
    expression = Expression()
    condition = conditional_position(expression, LEDGER_POSITION, first, last)
    expression.set("x", LEDGER_EXPIRY, {"N": str(created_at + IDEMPOTENCY_WINDOW_SECONDS)})
    key = {LEDGER_KEY: {"S": ledger_id(TARGET.group_token, item)}}
    expected = update_request(TARGET.ledger_table, key, expression, condition)
    expected["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    built = entry_action(TARGET.ledger_table, ledger_id(TARGET.group_token, item), first, last, created_at)["Update"]
    assert json.dumps(built) == json.dumps(expected)  # the order of values too, as the SDK sends them


def test_a_fold_that_changes_no_measure_only_moves_entries():
    built = transaction(TARGET, [delta(0, "S:o1", 5, {"N": Decimal(1)}), delta(1, "S:o2", 6, {"N": Decimal(-1)})])
    assert built.items == ["S:o1", "S:o2"]
    assert all(a["Update"]["TableName"] == "Ledger" for a in built.request["TransactItems"])


def test_cancellation_reasons_are_read_action_by_action():
    items = [None, "S:o1", "S:o2", "S:o3"]
    reasons = [
        {"Code": "None"},
        {"Code": "ConditionalCheckFailed", "Item": {LEDGER_POSITION: {"S": "p1"}}},
        {"Code": "ConditionalCheckFailed"},
        {"Code": "None"},
    ]
    result = read_cancellation(reasons, items)
    assert result.stored == {"S:o1": "p1"} and result.unread == ["S:o2"] and not result.error
    conflict = read_cancellation([{"Code": "TransactionConflict"}, {"Code": "None"}], items)
    assert conflict == Cancellation(), "nothing to settle and no error: the same write again, after a pause"
    invalid = read_cancellation([{"Code": "ValidationError", "Message": "Item size has exceeded"}], items)
    assert invalid.error == "transaction cancelled: ValidationError: Item size has exceeded"


def test_a_composite_group_sets_its_parts_if_absent_inside_the_limits():
    """The largest composite spec (8 parts with long names, 50 measures) and the longest key, 1024 bytes."""
    parts = [f"Part{i}_" + "p" * 20 for i in range(MAX_GROUP_PARTS - 1)] + [{"attribute": "At", "bucket": "minute"}]
    measures = [
        {"name": f"Measure_{i:02d}_" + "x" * 40, "op": "sum", "attribute": "Amount"} for i in range(MAX_MEASURES)
    ]
    spec = parse_spec({"partition_key": "OrderId", "group_by": parts, "measures": measures})
    image = {f"Part{i}_" + "p" * 20: {"S": "v" * 143} for i in range(MAX_GROUP_PARTS - 1)}
    group = composite_group(spec, {**image, "At": {"S": "2026-11-28T14:05:00Z"}})
    assert len(group.value["S"].encode()) == MAX_COMPOSITE_KEY_BYTES
    attributes = part_attributes(spec, group.value)
    assert attributes["At_minute"] == {"S": "2026-11-28T14:05"} and len(attributes) == MAX_GROUP_PARTS
    target = AggregateTarget("Agg", "Ledger", spec.group_by, group.token, group.value, attributes)
    numbers = {m.name: Decimal("-1234567890.12") for m in spec.measures}
    chunks = item_chunks([delta(i, f"S:o{i}", 10**30 + i, numbers) for i in range(150)])
    for chunk in chunks:
        request = transaction(target, chunk).request
        check_limits(request)
        update = request["TransactItems"][0]["Update"]
        assert update["Key"] == {spec.group_by: group.value}
        assert "#k7 = if_not_exists(#k7, :k7)" in update["UpdateExpression"]
        assert update["ExpressionAttributeNames"]["#k7"] == "At_minute"
        assert update["ExpressionAttributeValues"][":k7"] == {"S": "2026-11-28T14:05"}
