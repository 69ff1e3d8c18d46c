"""The mocks users get (``stream_aggregator.testing``): outputs shaped as AWS's, so a program's test
fails where a deployment would, not where made-up outputs would."""

from __future__ import annotations

import re

import pulumi
import pytest

from components import StreamAggregator
from components.argument_rules import AUTONAME_SUFFIX, stream_arn
from components.errors import StreamAggregatorError
from components.mocks import MocksSettingsError, StreamAggregatorMocks, autonamed
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


@pytest.mark.parametrize(
    ("region", "partition", "queue_host"),
    [
        ("cn-north-1", "aws-cn", "sqs.cn-north-1.amazonaws.com.cn"),
        ("us-gov-west-1", "aws-us-gov", "sqs.us-gov-west-1.amazonaws.com"),
        ("eu-west-1", "aws", "sqs.eu-west-1.amazonaws.com"),
    ],
)
def test_arns_urls_and_the_partition_call_follow_the_regions_partition(region, partition, queue_host):
    mocks = StreamAggregatorMocks(region, ACCOUNT)
    _, table = mocks.new_resource(
        pulumi.runtime.MockResourceArgs("aws:dynamodb/table:Table", "t", {"streamEnabled": True})
    )
    _, queue = mocks.new_resource(pulumi.runtime.MockResourceArgs("aws:sqs/queue:Queue", "q", {}))
    assert table["arn"].startswith(f"arn:{partition}:dynamodb:{region}:{ACCOUNT}:table/")
    stream_arn("existing_source.stream_arn", table["streamArn"])
    assert queue["arn"].startswith(f"arn:{partition}:sqs:") and queue["url"].startswith(
        f"https://{queue_host}/{ACCOUNT}/"
    )
    answer, _ = mocks.call(pulumi.runtime.MockCallArgs("aws:index/getPartition:getPartition", {}, ""))
    assert answer["partition"] == partition


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        pytest.param(
            {"region": "us_east_1"}, "region must be a region name like 'eu-west-1', got 'us_east_1'", id="region"
        ),
        pytest.param({"region": ""}, "region must be a region name", id="empty-region"),
        pytest.param({"account": "1234"}, "account must be 12 digits, as text, got '1234'", id="short-account"),
        pytest.param({"account": 123456789012}, "account must be 12 digits, as text, got 123456789012", id="number"),
    ],
)
def test_a_region_or_account_aws_has_no_form_for_is_refused_in_one_line(settings, message):
    with pytest.raises(MocksSettingsError, match=re.escape(message)) as refused:
        StreamAggregatorMocks(**settings)
    assert isinstance(refused.value, StreamAggregatorError) and "\n" not in str(refused.value)


def test_an_autonamed_fifo_queue_ends_in_fifo_as_sqs_requires():
    _, outputs = mocked("aws:sqs/queue:Queue", "jobs", fifoQueue=True)
    assert outputs["name"] == autonamed("jobs") + ".fifo" and outputs["url"].endswith("/" + outputs["name"])
    assert mocked("aws:sqs/queue:Queue", "jobs", fifoQueue=True, name="given.fifo")[1]["name"] == "given.fifo"
