"""The mapping's filter criteria and the one-reader-per-stream rule, under mocks.

What the criteria let through is proved in tests/property/test_filter_criteria.py; here: that the
component sets exactly the generated criteria, only when it should, and refuses a second
StreamAggregator on a stream another one in the program already reads."""

import json

import pulumi
import pytest

from aggregations import INVOICE_AGGREGATION, ORDERS_AGGREGATION
from components import StreamAggregator
from components.errors import StreamAggregatorArgsError
from components.filter_criteria import MAX_FILTERS, MAX_PATTERN_CHARS
from tests.component.conftest import MOCKS, one

MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Legacy/stream/2020-01-01T00:00:00.000"
WRONG_VIEW = {"dynamodb": {"StreamViewType": [{"anything-but": ["NEW_AND_OLD_IMAGES"]}]}}


def mapping_patterns(resources) -> list[dict] | None:
    criteria = one(resources, MAPPING).inputs.get("filterCriteria")
    return None if criteria is None else [json.loads(f["pattern"]) for f in criteria["filters"]]


def with_filter(*values) -> dict:
    return {**ORDERS_AGGREGATION, "filter": {"attribute": "Status", "values": list(values)}}


def test_the_orders_mapping_filters_on_both_images(deploy):
    patterns = mapping_patterns(deploy(lambda: StreamAggregator("orders", ORDERS_AGGREGATION)))
    assert patterns == [
        {"dynamodb": {"NewImage": {"Status": {"S": ["PAID"]}}}},
        {"dynamodb": {"OldImage": {"Status": {"S": ["PAID"]}}}},
        WRONG_VIEW,
    ]


def test_numbers_match_any_number_and_booleans_exactly(deploy):
    """Lambda has no numeric matching for DynamoDB's numbers, which arrive as text: "1.50" is 1.5
    to the handler, so no list of strings could be exact."""
    patterns = mapping_patterns(deploy(lambda: StreamAggregator("o", with_filter({"N": "1.50"}, 2, True))))
    assert patterns == [
        {"dynamodb": {"NewImage": {"Status": {"N": [{"exists": True}]}}}},
        {"dynamodb": {"NewImage": {"Status": {"BOOL": [True]}}}},
        {"dynamodb": {"OldImage": {"Status": {"N": [{"exists": True}]}}}},
        {"dynamodb": {"OldImage": {"Status": {"BOOL": [True]}}}},
        WRONG_VIEW,
    ]


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(INVOICE_AGGREGATION, id="no-filter"),
        pytest.param({**ORDERS_AGGREGATION, "filter_at_mapping": False}, id="turned-off"),
        pytest.param(with_filter("PAID", 1, False), id="three-types-need-seven-filters"),
        pytest.param({**ORDERS_AGGREGATION, "filter": {"attribute": "$or", "values": ["x"]}}, id="operator-name"),
    ],
)
def test_no_criteria_when_every_record_must_arrive(deploy, args):
    assert mapping_patterns(deploy(lambda: StreamAggregator("o", args))) is None


def test_criteria_stay_within_lambdas_limits(deploy):
    """The longest filter the Lambda's environment allows still fits one pattern."""
    values = [f"STATUS-{i:04d}" for i in range(190)]
    patterns = mapping_patterns(deploy(lambda: StreamAggregator("o", with_filter(*values))))
    assert patterns is not None and len(patterns) <= MAX_FILTERS
    texts = [json.dumps(pattern) for pattern in patterns]
    assert max(len(text) for text in texts) > 2000
    assert all(len(text) <= MAX_PATTERN_CHARS for text in texts)


@pytest.mark.parametrize("enabled", [True, False])
def test_filter_at_mapping_may_be_an_output(deploy, enabled):
    """Known only once deployed: decided then, not by the Output object's truthiness."""
    args = {**ORDERS_AGGREGATION, "filter_at_mapping": pulumi.Output.from_input(enabled)}
    patterns = mapping_patterns(deploy(lambda: StreamAggregator("o", args)))
    assert (patterns is not None) is enabled


def test_filter_at_mapping_must_be_a_boolean(deploy):
    with pytest.raises(StreamAggregatorArgsError, match="filter_at_mapping must be true or false"):
        deploy(lambda: StreamAggregator("o", {**ORDERS_AGGREGATION, "filter_at_mapping": "false"}))


def existing(arn=STREAM_ARN, table="Legacy") -> dict:
    return {"existing_source": {"table_name": table, "stream_arn": arn}, "starting_position": "LATEST"}


def test_a_second_aggregator_on_the_same_stream_arn_is_refused(deploy):
    def build():
        StreamAggregator("first", {**ORDERS_AGGREGATION, **existing()})
        StreamAggregator("second", {**INVOICE_AGGREGATION, **existing()})

    with pytest.raises(StreamAggregatorArgsError, match="of 'second' is the stream that StreamAggregator 'first'"):
        deploy(build)


def test_attaching_to_another_aggregators_table_is_refused(deploy):
    """The common way to share a stream: existing_source given the other component's table outputs."""

    def build():
        first = StreamAggregator("first", ORDERS_AGGREGATION)
        source = first.source_table
        StreamAggregator("second", {**ORDERS_AGGREGATION, **existing(source.stream_arn, source.name)})

    with pytest.raises(StreamAggregatorArgsError, match="no more than two readers per shard"):
        deploy(build)


def test_the_same_table_output_with_another_stream_value_is_refused(deploy):
    def build():
        first = StreamAggregator("first", ORDERS_AGGREGATION)
        arn = first.source_table.stream_arn.apply(lambda value: value)
        StreamAggregator("second", {**ORDERS_AGGREGATION, **existing(arn, first.source_table.name)})

    with pytest.raises(StreamAggregatorArgsError, match="'first'"):
        deploy(build)


def test_different_streams_and_separate_programs_are_accepted(deploy):
    other = STREAM_ARN.replace("Legacy", "Other")
    assert deploy(
        lambda: (
            StreamAggregator("a", {**ORDERS_AGGREGATION, **existing()}),
            StreamAggregator("b", {**ORDERS_AGGREGATION, **existing(other, "Other")}),
            StreamAggregator("c", ORDERS_AGGREGATION),
        )
    )
    assert deploy(lambda: StreamAggregator("a", {**ORDERS_AGGREGATION, **existing()})), "a new program"


def test_a_second_run_of_the_same_program_in_one_process_is_accepted():
    """The Automation API runs an inline program's preview and then its up in one process: each run
    gets a new engine connection, and the claims of the first must not refuse the second."""

    def program() -> None:
        StreamAggregator("a", {**ORDERS_AGGREGATION, **existing()})

    for _ in range(2):
        pulumi.runtime.set_mocks(MOCKS, project="stream-aggregator", stack="prod", preview=False)
        pulumi.runtime.test(program)()
