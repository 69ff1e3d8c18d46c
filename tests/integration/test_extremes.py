"""min, max and avg against moto: removing or lowering the extreme reveals the next one, read with
one Query (``handler.extremes_query``); a move between groups leaves one group and joins the other.

moto quirk worked around: records are made in memory (``stream_record``) rather than read from
moto's stream, whose UpdateItem on a new key emits two INSERTs.
"""

from decimal import Decimal

import pytest

from handler.attributes import key_token
from handler.extremes_query import read_extremes
from handler.reading import read_measures
from handler.spec import parse_spec
from tests.conftest import SOURCE_TABLE_ARN, make_processor, new_aggregator, stream_record

pytestmark = pytest.mark.integration

SPEC = parse_spec(
    {
        "partition_key": "OrderId",
        "group_by": "CustomerId",
        "measures": [
            {"name": "Largest", "op": "max", "attribute": "Amount"},
            {"name": "Smallest", "op": "min", "attribute": "Amount"},
            {"name": "First", "op": "min", "attribute": "OrderDate", "type": "S"},
            {"name": "Mean", "op": "avg", "attribute": "Amount"},
        ],
    }
)


def order(order_id, customer, amount, date):
    return {
        "OrderId": {"S": order_id},
        "CustomerId": {"S": customer},
        "Amount": {"N": amount},
        "OrderDate": {"S": date},
    }


def measures(endpoint, aggregator, customer):
    dynamodb = endpoint.client("dynamodb")
    item = dynamodb.get_item(TableName=aggregator.aggregate_table, Key={"CustomerId": {"S": customer}}).get("Item", {})
    token = key_token({"S": customer}, "CustomerId")
    values = read_measures(SPEC, item, read_extremes(dynamodb, aggregator.extremes_table, SPEC, token))
    # numbers as Decimal: moto keeps an ADD's trailing zeros (1.00) where DynamoDB returns 1
    return {name: Decimal(value["N"]) if value and "N" in value else value for name, value in values.items()}


def test_removing_lowering_and_moving_the_extreme_reveals_the_next(endpoint):
    aggregator = new_aggregator(endpoint, SPEC)
    processor = make_processor(endpoint, aggregator, source_table_arn=SOURCE_TABLE_ARN)
    sequence = iter(range(100, 200))

    def apply(name, old=None, new=None):
        record = stream_record(next(sequence), name, new=new, old=old, keys=("OrderId",))
        assert processor.handle({"Records": [record]}, None) == {"batchItemFailures": []}

    a, b, c = (
        order("a", "c1", "5", "2026-11-03"),
        order("b", "c1", "9.50", "2026-11-01"),
        order("c", "c1", "7", "2026-11-02"),
    )
    for new in (a, b, c):
        apply("INSERT", new=new)
    assert measures(endpoint, aggregator, "c1") == {
        "Largest": Decimal("9.5"),
        "Smallest": Decimal("5"),
        "First": {"S": "2026-11-01"},
        "Mean": Decimal("7.1666666666666666666666666666666666667"),  # 21.5 / 3 to 38 digits
    }
    apply("REMOVE", old=b)
    assert measures(endpoint, aggregator, "c1")["Largest"] == Decimal("7")
    assert measures(endpoint, aggregator, "c1")["First"] == {"S": "2026-11-02"}
    lowered = order("c", "c1", "1", "2026-11-02")
    apply("MODIFY", old=c, new=lowered)
    assert measures(endpoint, aggregator, "c1")["Largest"] == Decimal("5")
    assert measures(endpoint, aggregator, "c1")["Smallest"] == Decimal("1")
    moved = order("a", "c2", "5", "2026-11-03")
    apply("MODIFY", old=a, new=moved)
    assert measures(endpoint, aggregator, "c1") == {
        "Largest": Decimal("1"),
        "Smallest": Decimal("1"),
        "First": {"S": "2026-11-02"},
        "Mean": Decimal("1"),
    }
    assert measures(endpoint, aggregator, "c2")["Largest"] == Decimal("5")
    apply("REMOVE", old=lowered)
    assert measures(endpoint, aggregator, "c1") == {"Largest": None, "Smallest": None, "First": None, "Mean": None}
    entries = endpoint.client("dynamodb").scan(TableName=aggregator.extremes_table)["Items"]
    assert sorted(entry["i"]["S"] for entry in entries) == ["S:a"] * 3, "only the moved order's three entries remain"


def test_a_duplicate_batch_puts_nothing_back(endpoint):
    """The extremes entries move with the ledger entry's condition: a redelivered INSERT after its
    REMOVE is a duplicate, so the removed value does not come back."""
    aggregator = new_aggregator(endpoint, SPEC)
    processor = make_processor(endpoint, aggregator, source_table_arn=SOURCE_TABLE_ARN)
    big = order("a", "c1", "100", "2026-11-01")
    insert = stream_record(1, "INSERT", new=big, keys=("OrderId",))
    records = [insert, stream_record(2, "INSERT", new=order("b", "c1", "3", "2026-11-02"), keys=("OrderId",))]
    processor.handle({"Records": records}, None)
    processor.handle({"Records": [stream_record(3, "REMOVE", old=big, keys=("OrderId",))]}, None)
    result = processor.process({"Records": [insert]})
    assert result.counters.duplicates_skipped == 1
    assert measures(endpoint, aggregator, "c1")["Largest"] == Decimal("3")
    assert measures(endpoint, aggregator, "c1")["Mean"] == Decimal("3")
    assert measures(endpoint, aggregator, "c1")["Smallest"] == Decimal(3)
