"""The mocks users get (``stream_aggregator.testing``): outputs shaped as AWS's, so a program's test
fails where a deployment would, not where made-up outputs would."""

from __future__ import annotations

import re

import pulumi
import pytest

from components import StreamAggregator
from components.argument_rules import AUTONAME_SUFFIX, stream_arn
from components.mocks import StreamAggregatorMocks, autonamed
from tests.component.conftest import one

REGION, ACCOUNT = "eu-central-1", "210987654321"


def mocked(typ: str, logical: str, **inputs) -> tuple[str | None, dict]:
    return StreamAggregatorMocks(REGION, ACCOUNT).new_resource(pulumi.runtime.MockResourceArgs(typ, logical, inputs))


def test_autonames_have_pulumis_suffix_and_differ_per_resource():
    """'-' and 7 hex digits, the length the component's name rules reserve; each resource its own."""
    assert re.fullmatch(r"orders-source-[0-9a-f]{7}", autonamed("orders-source"))
    assert len(autonamed("orders-source")) - len("orders-source") == AUTONAME_SUFFIX
    assert autonamed("orders-source") != autonamed("orders-aggregate")
    assert mocked("aws:sqs/queue:Queue", "q", name="given")[1]["name"] == "given", "an explicit name is kept"


def test_a_table_with_a_stream_gets_a_stream_arn_the_component_accepts():
    _, outputs = mocked("aws:dynamodb/table:Table", "orders-source", streamEnabled=True)
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{autonamed('orders-source')}"
    assert outputs["arn"] == table and outputs["streamArn"].startswith(f"{table}/stream/")
    stream_arn("existing_source.stream_arn", outputs["streamArn"])  # the component's own rule: no raise
    assert "streamArn" not in mocked("aws:dynamodb/table:Table", "plain")[1], "no stream, no stream ARN"


@pytest.mark.parametrize(
    ("typ", "field", "expected"),
    [
        ("aws:sqs/queue:Queue", "url", f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{{name}}"),
        ("aws:sqs/queue:Queue", "arn", f"arn:aws:sqs:{REGION}:{ACCOUNT}:{{name}}"),
        ("aws:lambda/function:Function", "arn", f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{{name}}"),
        ("aws:iam/role:Role", "arn", f"arn:aws:iam::{ACCOUNT}:role/{{name}}"),
        ("aws:cloudwatch/logGroup:LogGroup", "arn", f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{{name}}"),
        ("aws:cloudwatch/metricAlarm:MetricAlarm", "arn", f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{{name}}"),
        ("aws:sns/topic:Topic", "arn", f"arn:aws:sns:{REGION}:{ACCOUNT}:{{name}}"),
    ],
)
def test_arns_and_urls_carry_the_region_and_account(typ, field, expected):
    assert mocked(typ, "x")[1][field] == expected.format(name=autonamed("x"))


def test_the_account_region_and_partition_calls_answer():
    mocks = StreamAggregatorMocks(REGION, ACCOUNT)
    identity, _ = mocks.call(pulumi.runtime.MockCallArgs("aws:index/getCallerIdentity:getCallerIdentity", {}, ""))
    region, _ = mocks.call(pulumi.runtime.MockCallArgs("aws:index/getRegion:getRegion", {}, ""))
    assert identity["accountId"] == ACCOUNT and region["name"] == REGION
    assert mocks.call(pulumi.runtime.MockCallArgs("aws:index/getAvailabilityZones:getAvailabilityZones", {}, "")) == (
        {},
        None,
    )


def test_a_program_deploys_and_its_mapping_reads_the_source_tables_stream(deploy):
    resources = deploy(
        lambda: StreamAggregator("orders", {"partition_key": "Id", "measures": [{"name": "N", "op": "count"}]})
    )
    mapping = one(resources, "aws:lambda/eventSourceMapping:EventSourceMapping").inputs
    table = f"arn:aws:dynamodb:us-east-1:123456789012:table/{autonamed('orders-source')}"
    assert mapping["eventSourceArn"].startswith(f"{table}/stream/")
    assert mapping["functionName"] == f"arn:aws:lambda:us-east-1:123456789012:function:{autonamed('orders-fn')}"


def test_a_mapping_gets_its_uuid_arn_function_arn_and_state():
    function = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:f"
    identifier, outputs = mocked("aws:lambda/eventSourceMapping:EventSourceMapping", "m", functionName=function)
    assert identifier == outputs["uuid"] and outputs["functionArn"] == function and outputs["state"] == "Enabled"
    assert outputs["arn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:event-source-mapping:{outputs['uuid']}"
