"""Several keys' transactions packed into one: DynamoDB's limits asserted on the requests built.

moto enforces neither the 4 MB limit nor the rule that no item appears twice, so the limits are
checked here (``check_limits`` states them apart from the code under test), and so is the rule the
ledger rests on: a key's actions are never split across two transactions.
"""

import dataclasses
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from handler.packing import Unit, pack
from handler.transaction import AggregateTarget, item_chunks, items_per_transaction, transaction
from tests.unit.test_transaction import MAX_TRANSACTION_BYTES, check_limits, delta


def target(key: str) -> AggregateTarget:
    return AggregateTarget("Agg", "Ledger", "CustomerId", f"S:{key}", {"S": key})


def units_of(keys: dict[str, int], latest=None) -> list[Unit]:
    """One unit per key (its first chunk), over ``keys[key]`` items each."""
    units = []
    for owner, (key, items) in enumerate(keys.items()):
        deltas = [delta(i, f"S:{key}-o{i}", 10**20 + i, latest=latest) for i in range(items)]
        units.append(Unit(owner, transaction(target(key), item_chunks(deltas)[0])))
    return units


def check_whole(units: list[Unit], packs) -> None:
    """Every unit in exactly one transaction, its actions together and in order, units in order."""
    assert [unit for packed in packs for unit in packed.units] == units
    for packed in packs:
        expected = [action for unit in packed.units for action in unit.transaction.request["TransactItems"]]
        assert packed.request["TransactItems"] == expected


def test_an_invoice_batch_of_50_keys_is_two_transactions_of_at_most_100_actions():
    units = units_of({f"c{i}": 2 for i in range(50)})
    packs = pack(units)
    assert [len(p.request["TransactItems"]) for p in packs] == [99, 51], "33 keys of 3 actions, then 17"
    check_whole(units, packs)
    for packed in packs:
        check_limits(packed.request)


def test_a_key_that_would_cross_100_actions_starts_the_next_transaction():
    units = units_of({"a": 60, "b": 39, "c": 1})
    packs = pack(units)
    assert [[u.owner for u in p.units] for p in packs] == [[0], [1, 2]]
    assert [len(p.request["TransactItems"]) for p in packs] == [61, 42]
    assert len(pack(units_of({"a": 60, "b": 38}))) == 1, "100 actions fit in one"


def test_a_full_key_of_100_actions_goes_alone():
    units = units_of({"a": 1, "b": 99, "c": 1})
    assert [[u.owner for u in p.units] for p in pack(units)] == [[0], [1], [2]]


def test_keys_with_400_kb_values_are_packed_under_4_mb():
    big = {"Last": {"S": "b" * (400 * 1024 - 100)}}
    units = units_of({f"c{i}": 1 for i in range(30)}, latest=big)
    packs = pack(units)
    assert len(packs) == 3, "10 keys of 400 KB fit in 4 MB, an eleventh does not"
    check_whole(units, packs)
    for packed in packs:
        check_limits(packed.request)
        assert len(json.dumps(packed.request).encode()) > 3.5 * 1024 * 1024


def test_a_unit_naming_an_item_already_in_the_transaction_starts_another():
    """Two units of one aggregate key (a key's second chunk, say) never share a transaction."""
    first, second = units_of({"a": 2}), units_of({"a": 3})
    packs = pack([first[0], Unit(1, second[0].transaction)])
    assert len(packs) == 2
    for packed in packs:
        check_limits(packed.request)


def test_binary_keys_pack_and_are_told_apart():
    keys = [AggregateTarget("Agg", "Ledger", "K", f"B:{i}", {"B": bytes([i]) * 3}) for i in range(3)]
    units = [Unit(i, transaction(t, [delta(0, "S:o", 7)])) for i, t in enumerate(keys)]
    assert len(pack(units)) == 1


def test_reasons_are_sliced_per_unit_in_request_order():
    units = units_of({"a": 1, "b": 2, "c": 1})
    (packed,) = pack(units)
    reasons = [{"Code": str(i)} for i in range(7)]
    assert packed.reasons(reasons) == [reasons[0:2], reasons[2:5], reasons[5:7]]
    assert packed.reasons(reasons[:6]) is None, "not one reason per action: nothing can be read from them"


@settings(deadline=None, max_examples=60)  # large requests are serialized to measure them; no timing here
@given(st.lists(st.integers(1, 120), min_size=1, max_size=40), st.integers(0, 3))
def test_any_keys_pack_into_legal_transactions_each_key_whole(sizes, big):
    latest = {"Last": {"S": "b" * (big * 100 * 1024)}} if big else None
    units = []
    for owner, size in enumerate(sizes):
        deltas = [delta(i, f"S:k{owner}-o{i}", 10**20 + i, latest=latest) for i in range(size)]
        for chunk in item_chunks(deltas):
            units.append(Unit(owner, transaction(target(f"k{owner}"), chunk)))
    packs = pack(units)
    check_whole(units, packs)
    for packed in packs:
        check_limits(packed.request)
        assert len(json.dumps(packed.request).encode()) <= MAX_TRANSACTION_BYTES


def test_units_with_extremes_entries_pack_whole_and_never_name_one_entry_twice():
    extremes = {"Largest": {"N": "5"}, "First": None}
    with_table = AggregateTarget("Agg", "Ledger", "CustomerId", "S:a", {"S": "a"}, extremes_table="Extremes")
    same_entry = [
        Unit(owner, transaction(with_table, [delta(0, "S:o1", 10 + owner, numbers={"N": 0}, extremes=extremes)]))
        for owner in range(2)
    ]
    assert [len(p.units) for p in pack(same_entry)] == [1, 1], (
        "the second names the first's ledger and extremes entries"
    )
    units = []
    for owner in range(12):
        key = target(f"k{owner}")
        keyed = dataclasses.replace(key, extremes_table="Extremes")
        deltas = [delta(i, f"S:k{owner}-o{i}", 10**20 + i, extremes=extremes) for i in range(owner * 5)]
        units += [Unit(owner, transaction(keyed, chunk)) for chunk in item_chunks(deltas, items_per_transaction(2))]
    packs = pack(units)
    check_whole(units, packs)
    for packed in packs:
        check_limits(packed.request)
