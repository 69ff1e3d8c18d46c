"""Backfill's min/max entries against the handler's, on moto: an item whose record the handler applied
before backfill seeds it keeps the handler's entry (or its absence), never the scan's value.

The race: an item removed after backfill's scan, whose REMOVE the handler applied first (deleting an entry
that did not exist yet), came back as a stray entry when backfill then wrote the scanned value where the
entry was absent, and the key's max was that removed item's amount.
"""

from decimal import Decimal

from aggregations import INVOICE_AGGREGATION
from handler.extremes import EXTREMES_ITEM, EXTREMES_KEY, extremes_key
from handler.position import ledger_id
from handler.spec import parse_spec
from handler.transaction import LEDGER_KEY
from ops.backfill import _seed_entries
from ops.local.local_resources import create_local_aggregator
from ops.recount import GroupTotals
from ops.targets import Target

MEASURE = "LargestTransaction"


def test_an_item_the_handler_already_wrote_is_not_seeded_again(endpoint):
    spec = parse_spec(INVOICE_AGGREGATION)
    aggregator = create_local_aggregator(endpoint, spec, "race")
    target = Target(
        endpoint,
        aggregator.source_table,
        aggregator.aggregate_table,
        spec,
        ledger_table=aggregator.ledger_table,
        extremes_table=aggregator.extremes_table,
    )
    assert aggregator.ledger_table and aggregator.extremes_table
    dynamodb = endpoint.client("dynamodb")
    token = "S:INV-1"
    # the handler applied the REMOVE of "removed" (its ledger entry is there, its extremes entry is not)
    dynamodb.put_item(TableName=aggregator.ledger_table, Item={LEDGER_KEY: {"S": ledger_id(token, "removed")}})
    entries = [(MEASURE, "removed", {"N": "900"}), (MEASURE, "kept", {"N": "40"})]
    _seed_entries(dynamodb, target, aggregator.extremes_table, (token, GroupTotals({"S": "INV-1"})), entries)
    stored = dynamodb.scan(TableName=aggregator.extremes_table, ConsistentRead=True)["Items"]
    assert [(item[EXTREMES_ITEM]["S"], Decimal(item["n"]["N"])) for item in stored] == [("kept", Decimal(40))]
    assert stored[0][EXTREMES_KEY] == {"S": extremes_key(token, MEASURE)}
