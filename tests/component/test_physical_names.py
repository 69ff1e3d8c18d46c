"""Every physical name a StreamAggregator gives AWS is one AWS accepts, or construction refuses,
naming the argument (the component's name, a group_by attribute).

The names are read from what the program registered under the mocks: an explicit name where the
component gives one (a table's, an index's, the dashboard's), else the logical name with the suffix
Pulumi's autonaming adds ('-' and 7 hex digits). AWS's rules are written out here from AWS's
documentation (docs/design.md, "Physical names"), apart from the component's own.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components import StreamAggregator
from components.errors import StreamAggregatorArgsError
from tests.component.conftest import Recorded

AUTONAME = "-1a2b3c4"
TABLE = (r"[A-Za-z0-9_.\-]{3,255}", "name")
RULES: dict[str, tuple[str, str]] = {
    "aws:dynamodb/table:Table": TABLE,
    "aws:lambda/function:Function": (r"[A-Za-z0-9_\-]{1,64}", "name"),
    "aws:sqs/queue:Queue": (r"[A-Za-z0-9_\-]{1,80}", "name"),
    "aws:iam/role:Role": (r"[A-Za-z0-9_+=,.@\-]{1,64}", "name"),
    "aws:iam/rolePolicy:RolePolicy": (r"[A-Za-z0-9_+=,.@\-]{1,128}", "name"),
    "aws:cloudwatch/logGroup:LogGroup": (r"[.\-_/#A-Za-z0-9]{1,512}", "name"),
    "aws:cloudwatch/metricAlarm:MetricAlarm": (r"[^\x00-\x1f\x7f]{1,255}", "name"),
    "aws:cloudwatch/dashboard:Dashboard": (r"[A-Za-z0-9_\-]{1,255}", "dashboardName"),
}
UNNAMED = {"stream-aggregator:index:StreamAggregator", "aws:lambda/eventSourceMapping:EventSourceMapping"}

DAILY: dict[str, Any] = {
    "partition_key": "OrderId",
    "group_by": ["CustomerId", {"attribute": "OrderDate", "bucket": "day"}],
    "measures": [{"name": "Revenue", "op": "sum", "attribute": "Amount"}],
    "index_by_bucket": True,
}
INVOICES: dict[str, Any] = {
    "partition_key": "InvoiceNumber",
    "sort_key": "TransactionId",
    "measures": [
        {"name": "Total", "op": "sum", "attribute": "Amount"},
        {"name": "Largest", "op": "max", "attribute": "Amount"},
    ],
}
"""With a max, so the extremes table and its indexes are named too."""


def physical_names(resources: list[Recorded]) -> list[tuple[str, str, str]]:
    """(resource type, logical name, physical name) of everything named, indexes included."""
    named = []
    for resource in resources:
        assert resource.typ in RULES or resource.typ in UNNAMED, f"no naming rule for {resource.typ}"
        if resource.typ in UNNAMED:
            continue
        _, field = RULES[resource.typ]
        named.append((resource.typ, resource.name, resource.inputs.get(field) or resource.name + AUTONAME))
        indexes = [
            *(resource.inputs.get("globalSecondaryIndexes") or []),
            *(resource.inputs.get("localSecondaryIndexes") or []),
        ]
        for index in indexes:
            named.append(("index", resource.name, index["name"]))
    return named


def invalid_names(resources: list[Recorded]) -> list[tuple[str, str, str]]:
    rules = {**RULES, "index": TABLE}
    return [(t, logical, name) for t, logical, name in physical_names(resources) if not re.fullmatch(rules[t][0], name)]


@pytest.mark.parametrize("args", [INVOICES, DAILY, {**DAILY, "aggregate_table_name": "Daily.Revenue-prod_1"}])
@pytest.mark.parametrize("name", ["orders", "a" * 51, "Orders_2026-v2"])
def test_every_derived_name_of_an_accepted_program_is_valid_for_aws(deploy, name, args):
    resources = deploy(lambda: StreamAggregator(name, args))
    assert len(physical_names(resources)) >= 20
    if args is INVOICES:
        assert {logical for _, logical, _ in physical_names(resources)} >= {f"{name}-extremes"}
    assert invalid_names(resources) == []


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param("my orders", "name 'my orders' must be letters, digits, '_' and '-' only", id="space"),
        pytest.param("team/orders", "name 'team/orders' must be letters", id="slash"),
        pytest.param("ordères", "name 'ordères' must be letters", id="unicode"),
        pytest.param("orders.v2", "name 'orders.v2' must be letters", id="dot"),
        pytest.param("", "name '' must be letters", id="empty"),
        pytest.param("a" * 52, "is too long: its IAM role would be named a+-role plus .* use at most 51", id="52"),
        pytest.param("a" * 200, "is too long", id="200"),
    ],
)
def test_a_component_name_aws_would_refuse_fails_at_construction(deploy, name, message):
    with pytest.raises(StreamAggregatorArgsError, match=message):
        deploy(lambda: StreamAggregator(name, INVOICES))


@pytest.mark.parametrize(
    ("attribute", "message"),
    [
        pytest.param("Order Date", r"group_by\[0\]\.attribute 'Order Date' names the index_by_bucket index", id="sp"),
        pytest.param("Bestelldatum/ä", r"group_by\[0\]\.attribute 'Bestelldatum/ä'", id="slash-unicode"),
        pytest.param("D" * 245, r"group_by\[0\]\.attribute 'D+' names .* 3 to 255", id="long"),
    ],
)
def test_a_bucket_attribute_that_cannot_name_its_index_fails_at_construction(deploy, attribute, message):
    args = {**DAILY, "group_by": [{"attribute": attribute, "bucket": "day"}]}
    with pytest.raises(StreamAggregatorArgsError, match=message):
        deploy(lambda: StreamAggregator("daily", args))
    # Without the index the attribute only names attributes, which may hold any character.
    assert invalid_names(deploy(lambda: StreamAggregator("daily", {**args, "index_by_bucket": False}))) == []


AWKWARD = st.text(alphabet="aZ09_-. /é#+=@\t", min_size=0, max_size=80)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=AWKWARD | st.integers(1, 70).map(lambda n: "x" * n), attribute=AWKWARD.filter(bool))
def test_a_program_either_has_only_valid_names_or_is_refused(deploy, name, attribute):
    args = {**DAILY, "group_by": ["CustomerId", {"attribute": attribute, "bucket": "day"}]}
    try:
        resources = deploy(lambda: StreamAggregator(name, args))
    except StreamAggregatorArgsError as refused:
        assert f"name {name!r}" in str(refused) or "attribute" in str(refused), str(refused)
        return
    assert invalid_names(resources) == []
