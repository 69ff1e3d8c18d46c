"""Arguments outside the aggregation: each rule rejects at construction (so `pulumi preview` fails)
with a message naming the argument and what it allows, and accepts every value AWS accepts,
including integers as the multi-language provider passes them (floats) and Outputs not yet known."""

import pulumi
import pytest

from aggregations import INVOICE_AGGREGATION
from components import StreamAggregator
from components.errors import StreamAggregatorArgsError

KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
STREAM_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/Legacy/stream/2020-01-01T00:00:00.000"
TOPIC = "arn:aws:sns:us-east-1:123456789012:oncall"
WHOLE = "a whole number"


def existing(**fields):
    return {"existing_source": {"table_name": "Legacy", "stream_arn": STREAM_ARN, **fields}}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"log_retention_days": 7.5}, "log_retention_days must be one of .*3653", id="retention-fraction"),
        pytest.param({"log_retention_days": True}, "log_retention_days must be one of", id="retention-bool"),
        pytest.param({"log_retention_days": "30"}, "log_retention_days must be one of", id="retention-text"),
        pytest.param({"batch_size": 7.5}, f"batch_size must be {WHOLE} from 1 to 10000, got 7.5", id="batch-fraction"),
        pytest.param({"batch_size": True}, f"batch_size must be {WHOLE} from 1 to 10000, got True", id="batch-bool"),
        pytest.param({"batch_size": [100]}, f"batch_size must be {WHOLE}", id="batch-list"),
        pytest.param({"memory_size": 256.5}, f"memory_size must be {WHOLE} from 128 to 10240", id="memory-fraction"),
        pytest.param(
            {"parallelization_factor": 1.5}, f"parallelization_factor must be {WHOLE}", id="parallel-fraction"
        ),
        pytest.param({"parallelization_factor": True}, f"parallelization_factor must be {WHOLE}", id="parallel-bool"),
        pytest.param(
            {"batching_window_seconds": 0.5}, f"batching_window_seconds must be {WHOLE}", id="window-fraction"
        ),
        pytest.param({"batching_window_seconds": False}, f"batching_window_seconds must be {WHOLE}", id="window-bool"),
        pytest.param({"max_record_age_seconds": 59.5}, f"max_record_age_seconds must be -1 or {WHOLE}", id="age-low"),
        pytest.param({"max_record_age_seconds": 60.5}, "max_record_age_seconds must be -1 or", id="age-fraction"),
        pytest.param({"max_record_age_seconds": True}, f"max_record_age_seconds must be -1 or {WHOLE}", id="age-bool"),
        pytest.param({"timeout": 30.5}, f"timeout must be {WHOLE} from 1 to 900", id="timeout-fraction"),
        pytest.param({"timeout": True}, f"timeout must be {WHOLE}", id="timeout-bool"),
        pytest.param({"max_retry_attempts": 2.5}, f"max_retry_attempts must be {WHOLE} from -1 to 10000", id="retry"),
        pytest.param({"max_retry_attempts": True}, f"max_retry_attempts must be {WHOLE}", id="retry-bool"),
        pytest.param({"kms_key_arn": "nope"}, r"kms_key_arn must be a KMS key ARN \(arn:", id="kms-text"),
        pytest.param({"kms_key_arn": "arn:aws:sqs:us-east-1:123456789012:q"}, "kms_key_arn", id="kms-other-service"),
        pytest.param({"kms_key_arn": "arn:aws:kms:us-east-1:1234:key/k"}, "kms_key_arn", id="kms-short-account"),
        pytest.param({"kms_key_arn": "arn:aws:kms:us-east-1:123456789012:key/"}, "kms_key_arn", id="kms-no-id"),
        pytest.param({"kms_key_arn": "arn:aws:kms:us-east-1:123456789012:grant/k"}, "kms_key_arn", id="kms-grant"),
        pytest.param({"kms_key_arn": 42}, "kms_key_arn", id="kms-number"),
        pytest.param(
            {"kms_key_arn": "arn:aws:kms:us-east-1:123456789012:alias/tables"}, "not an alias", id="kms-alias"
        ),
        pytest.param({"tags": ["a"]}, "tags must be a mapping of strings to strings", id="tags-list"),
        pytest.param({"tags": {"app": 1}}, "tags must be a mapping of strings to strings", id="tags-value-number"),
        pytest.param({"tags": {1: "a"}}, "tags must be a mapping of strings to strings", id="tags-key-number"),
        pytest.param({"tags": {f"k{i}": "v" for i in range(51)}}, "tags must hold at most 50 tags", id="tags-51"),
        pytest.param({"tags": {"": "v"}}, "tags key '' must be 1 to 128 characters", id="tags-key-empty"),
        pytest.param({"tags": {"k" * 129: "v"}}, "tags key 'k+' must be 1 to 128 characters", id="tags-key-long"),
        pytest.param({"tags": {"k": "v" * 257}}, "tags value of 'k' must be 0 to 256 characters", id="tags-value-long"),
        pytest.param({"tags": {"aws:cost": "v"}}, "tags key 'aws:cost' starts with 'aws:'", id="tags-aws-prefix"),
        pytest.param({"tags": {"AWS:cost": "v"}}, "tags key 'AWS:cost' starts with 'aws:'", id="tags-aws-upper"),
        pytest.param({"alarm_actions": TOPIC}, "alarm_actions must be a list of ARNs", id="actions-text"),
        pytest.param({"alarm_actions": [1]}, "alarm_actions must be a list of ARNs", id="actions-number"),
        pytest.param({"alarm_actions": ["oncall"]}, "alarm_actions must be a list of ARNs", id="actions-not-arn"),
        pytest.param({"alarm_actions": [TOPIC] * 6}, "alarm_actions must hold at most 5", id="actions-6"),
        pytest.param({"starting_position": "latest"}, "starting_position must be one of 'TRIM_HORIZON'", id="pos-case"),
        pytest.param({"starting_position": ["LATEST"]}, "starting_position must be one of", id="position-list"),
        pytest.param({"partition_key_type": 1}, "partition_key_type must be one of 'S', 'N', 'B'", id="key-number"),
        pytest.param({"group_by_type": ["S"]}, "group_by_type must be one of 'S', 'N', 'B'", id="group-type-list"),
        pytest.param({"existing_source": "Legacy"}, "existing_source must be", id="existing-text"),
        pytest.param(existing(extra=1), "'existing_source.extra' is not declared", id="existing-extra-field"),
        pytest.param(
            existing(table_name="L"), "existing_source.table_name must be a DynamoDB table name", id="ex-name"
        ),
        pytest.param(
            existing(table_name=1), "existing_source.table_name must be a DynamoDB table name", id="ex-name-1"
        ),
        pytest.param(existing(stream_arn=1), "existing_source.stream_arn must be a DynamoDB stream ARN", id="ex-arn-1"),
        pytest.param(
            existing(stream_arn="arn:aws:sqs:us-east-1:123456789012:table/x/stream/y"),
            "existing_source.stream_arn must be a DynamoDB stream ARN",
            id="existing-arn-other-service",
        ),
        pytest.param(
            existing(stream_arn="arn:aws:dynamodb:us-east-1:123456789012:table/Legacy"),
            "existing_source.stream_arn must be a DynamoDB stream ARN",
            id="existing-arn-table",
        ),
        pytest.param({"source_table_name": "ab"}, "source_table_name must be a DynamoDB table name", id="source-short"),
        pytest.param(
            {"source_table_name": "a b c"}, "source_table_name must be a DynamoDB table name", id="source-space"
        ),
        pytest.param({"source_table_name": "a" * 256}, "source_table_name must be", id="source-long"),
        pytest.param({"source_table_name": 5}, "source_table_name must be", id="source-number"),
        pytest.param({"aggregate_table_name": "Invoice/Total"}, "aggregate_table_name must be", id="aggregate-slash"),
        pytest.param(
            {"source_table_name": "Invoices", "aggregate_table_name": "Invoices"},
            "aggregate_table_name is 'Invoices', the same as source_table_name",
            id="aggregate-is-the-source",
        ),
        pytest.param(
            {**existing(), "aggregate_table_name": "Legacy"},
            "aggregate_table_name is 'Legacy', the same as existing_source.table_name",
            id="aggregate-is-the-existing-source",
        ),
        pytest.param({"point_in_time_recovery": "false"}, "point_in_time_recovery must be true or false", id="pitr"),
        pytest.param({"point_in_time_recovery": 1}, "point_in_time_recovery must be true or false", id="pitr-1"),
        pytest.param({"deletion_protection": "yes"}, "deletion_protection must be true or false", id="protection"),
        pytest.param({"deletion_protection": 0}, "deletion_protection must be true or false", id="protection-0"),
    ],
)
def test_invalid_arguments_fail_at_construction(deploy, change, message):
    with pytest.raises(StreamAggregatorArgsError, match=message):
        deploy(lambda: StreamAggregator("bad", {**INVOICE_AGGREGATION, **change}))


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"batch_size": 100.0, "memory_size": 512.0, "log_retention_days": 30.0}, id="whole-floats"),
        pytest.param({"max_record_age_seconds": -1, "max_retry_attempts": -1}, id="infinite"),
        pytest.param({"max_record_age_seconds": 60, "batching_window_seconds": 300}, id="bounds"),
        pytest.param({"kms_key_arn": KEY_ARN}, id="kms-key"),
        pytest.param({"kms_key_arn": "arn:aws-cn:kms:cn-north-1:123456789012:key/mrk-1a2b"}, id="kms-china"),
        pytest.param({"tags": {f"k{i}": "" for i in range(50)}}, id="tags-50-empty-values"),
        pytest.param({"tags": {"k" * 128: "v" * 256, "team:aws": "x"}}, id="tags-longest"),
        pytest.param({"alarm_actions": [TOPIC] * 5}, id="actions-5"),
        pytest.param({"source_table_name": "a.b", "aggregate_table_name": "A_b-" + "c" * 251}, id="table-names"),
        pytest.param({"point_in_time_recovery": False, "deletion_protection": True}, id="booleans"),
        pytest.param({"starting_position": "LATEST", "partition_key_type": "B", "sort_key_type": "N"}, id="enums"),
    ],
)
def test_valid_arguments_are_accepted(deploy, change):
    assert deploy(lambda: StreamAggregator("ok", {**INVOICE_AGGREGATION, **change}))


def test_outputs_are_skipped_not_rejected(deploy):
    """Their values are unknown at construction (always so in a preview), so no rule can read them."""

    def build():
        output = pulumi.Output.from_input
        StreamAggregator(
            "out",
            {
                **INVOICE_AGGREGATION,
                "batch_size": output(100),
                "kms_key_arn": output(KEY_ARN),
                "source_table_name": output("Invoices"),
                "alarm_actions": [output(TOPIC)],
                "tags": {"app": output("invoicing")},
                "deletion_protection": output(True),
            },
        )
        StreamAggregator("out-list", {**INVOICE_AGGREGATION, "alarm_actions": output([TOPIC]), "tags": output({})})
        StreamAggregator(
            "out-existing",
            {**INVOICE_AGGREGATION, "existing_source": {"table_name": output("L"), "stream_arn": output(STREAM_ARN)}},
        )

    assert deploy(build)


def test_an_aggregation_too_large_for_the_lambda_environment_fails_at_construction(deploy):
    """Lambda keeps 4 KB for all environment variables: a long filter list would fail at deploy."""
    args = {**INVOICE_AGGREGATION, "filter": {"attribute": "Status", "values": [f"STATUS-{i:04d}" for i in range(400)]}}
    with pytest.raises(StreamAggregatorArgsError, match="must fit in 3072 bytes"):
        deploy(lambda: StreamAggregator("big", args))


DAILY = {
    "partition_key": "OrderId",
    "group_by": ["CustomerId", {"attribute": "OrderDate", "bucket": "day"}],
    "measures": [{"name": "OrderCount", "op": "count"}],
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            {"group_by": ["CustomerId", {"attribute": "OrderDate", "bucket": "fortnight"}]},
            r"StreamAggregator: group_by\[1\]\.bucket must be one of 'minute', 'hour', 'day', 'week', 'month', 'year'",
            id="unknown-bucket",
        ),
        pytest.param({"timezone": "Europe/Olympus"}, "timezone 'Europe/Olympus' is not a zone", id="bad-timezone"),
        pytest.param({"timezone": "localtime"}, "timezone 'localtime' is not an IANA region name", id="localtime"),
        pytest.param({"timezone": "right/UTC"}, "timezone 'right/UTC' is not an IANA region name", id="right"),
        pytest.param(
            {"group_by": ["CustomerId", {"attribute": "OrderDate", "format": "%m%d%Y"}]},
            r"group_by\[1\]\.format reads a date for a time bucket, and this part has no bucket",
            id="format-without-bucket",
        ),
        pytest.param(
            {"group_by_type": "N"}, "group_by_type is 'N', but a composite group's key is a string", id="key-type"
        ),
        pytest.param({"group_by_parts": [{"attribute": "X"}, {"attribute": "Y"}]}, "give one of them", id="both"),
        pytest.param(
            {"partition_key": "OrderDate", "partition_key_type": "N"},
            r"group_by\[1\] reads 'OrderDate' as S \(an ISO date\), but it is the partition key, of type 'N'",
            id="date-part-on-a-number-key",
        ),
        pytest.param(
            {
                "sort_key": "Seq",
                "sort_key_type": "N",
                "group_by": ["Seq", {"attribute": "OrderDate", "bucket": "day"}],
            },
            r"group_by\[0\] reads 'Seq' as S, but it is the sort key, of type 'N'",
            id="string-part-on-a-number-key",
        ),
        pytest.param(
            {
                "partition_key": "PlacedAt",
                "group_by": ["CustomerId", {"attribute": "PlacedAt", "bucket": "day", "date": "epoch_seconds"}],
            },
            r"group_by\[1\] reads 'PlacedAt' as N \(epoch_seconds\), but it is the partition key, of type 'S'",
            id="epoch-part-on-a-string-key",
        ),
        pytest.param({"index_by_bucket": "yes"}, "index_by_bucket must be true or false", id="index-bool"),
        pytest.param(
            {"index_by_bucket": pulumi.Output.from_input(False)},
            "index_by_bucket must be a plain value, not an Output",
            id="index-output",
        ),
        pytest.param(
            {"group_by": ["CustomerId", "Status"], "index_by_bucket": True},
            "index_by_bucket indexes the first group_by part with a time bucket, and group_by has none",
            id="index-without-bucket",
        ),
    ],
)
def test_bad_group_by_parts_are_named_at_construction(deploy, change, message):
    with pytest.raises(StreamAggregatorArgsError, match=message):
        deploy(lambda: StreamAggregator("bad", {**DAILY, **change}))


def test_a_group_by_part_on_a_key_of_its_own_type_is_accepted(deploy):
    args = {
        **DAILY,
        "partition_key": "PlacedAt",
        "partition_key_type": "N",
        "sort_key": "CustomerId",
        "group_by": ["CustomerId", {"attribute": "PlacedAt", "bucket": "day", "date": "epoch_millis"}],
    }
    assert deploy(lambda: StreamAggregator("keyed", args))


ORDERS = {"partition_key": "OrderId", "group_by": "CustomerId", "measures": [{"name": "OrderCount", "op": "count"}]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            {"partition_key_type": "N", "filter": {"attribute": "OrderId", "values": ["17"]}},
            r"filter.values holds '17' \(S\), but filter.attribute 'OrderId' is the partition key, of type 'N'",
            id="string-filter-on-a-number-key",
        ),
        pytest.param(
            {"sort_key": "Seq", "filter": {"attribute": "Seq", "values": ["A", 17]}},
            r"filter.values holds 17 \(N\), but filter.attribute 'Seq' is the sort key, of type 'S'",
            id="one-number-among-strings-on-a-string-key",
        ),
        pytest.param(
            {"sort_key": "Seq", "sort_key_type": "N", "filter": {"attribute": "Seq", "values": [{"N": "1.50"}, True]}},
            r"filter.values holds True \(BOOL\), but filter.attribute 'Seq' is the sort key, of type 'N'",
            id="boolean-filter-on-a-number-key",
        ),
        pytest.param(
            {"partition_key_type": "B", "filter": {"attribute": "OrderId", "values": ["AQI="]}},
            r"filter.values holds 'AQI=' \(S\), but filter.attribute 'OrderId' is the partition key, of type 'B'",
            id="any-filter-on-a-binary-key",
        ),
        pytest.param(
            {"measures": [{"name": "Ids", "op": "sum", "attribute": "OrderId"}]},
            r"measures\[0\] sums 'OrderId', but it is the partition key, of type 'S', not a number: every record",
            id="sum-of-a-string-key",
        ),
        pytest.param(
            {
                "sort_key": "Blob",
                "sort_key_type": "B",
                "measures": [{"name": "N", "op": "count"}, {"name": "B", "op": "sum", "attribute": "Blob"}],
            },
            r"measures\[1\] sums 'Blob', but it is the sort key, of type 'B', not a number",
            id="sum-of-a-binary-key",
        ),
    ],
)
def test_a_filter_or_sum_that_cannot_work_on_a_keys_type_fails_at_construction(deploy, change, message):
    """A key's type is the same in every item: a filter of other types never matches (nothing counted),
    a sum of a string key quarantines every record."""
    with pytest.raises(StreamAggregatorArgsError, match=message):
        deploy(lambda: StreamAggregator("never", {**ORDERS, **change}))


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"partition_key_type": "N", "filter": {"attribute": "OrderId", "values": [17, {"N": "18"}]}}),
        pytest.param({"filter": {"attribute": "OrderId", "values": ["A-17"]}}, id="string-key-strings"),
        pytest.param({"filter": {"attribute": "Status", "values": ["PAID", 1, True]}}, id="not-a-key-any-types"),
        pytest.param(
            {
                "sort_key": "Amount",
                "sort_key_type": "N",
                "measures": [{"name": "T", "op": "sum", "attribute": "Amount"}],
            }
        ),
        pytest.param({"measures": [{"name": "Last", "op": "latest", "attribute": "OrderId"}]}, id="latest-of-any-key"),
        pytest.param(
            {"partition_key_type": pulumi.Output.from_input("N"), "filter": {"attribute": "OrderId", "values": ["A"]}},
            id="type-not-known-yet",
        ),
    ],
)
def test_a_filter_or_sum_that_fits_the_keys_type_is_accepted(deploy, change):
    assert deploy(lambda: StreamAggregator("fits", {**ORDERS, **change}))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            {"group_by": "StoreId", "filter": {"attribute": "StoreId", "values": [7]}},
            r"filter.values holds 7 \(N\), but filter.attribute 'StoreId' is group_by, keying the aggregate table "
            r"as group_by_type's default says, of type 'S'",
            id="number-filter-on-a-string-group",
        ),
        pytest.param(
            {
                "group_by": ["CustomerId", {"attribute": "Store", "type": "N"}],
                "filter": {"attribute": "Store", "values": ["A"]},
            },
            r"filter.attribute 'Store' is read by group_by\[1\] as N, of type 'N'",
            id="string-filter-on-a-number-part",
        ),
        pytest.param(
            {
                "group_by": ["CustomerId", {"attribute": "PlacedAt", "bucket": "day", "date": "epoch_seconds"}],
                "filter": {"attribute": "PlacedAt", "values": ["2026-11-28"]},
            },
            r"'PlacedAt' is read by group_by\[1\] as N \(epoch_seconds\), of type 'N'",
            id="string-filter-on-an-epoch-part",
        ),
        pytest.param(
            {
                "group_by": ["CustomerId", {"attribute": "OrderDate", "bucket": "day"}],
                "measures": [{"name": "Dates", "op": "sum", "attribute": "CustomerId"}],
            },
            r"measures\[0\] sums 'CustomerId', but it is read by group_by\[0\] as S, of type 'S', not a number",
            id="sum-of-a-string-part",
        ),
        pytest.param(
            {
                "measures": [{"name": "Revenue", "op": "sum", "attribute": "Amount"}],
                "filter": {"attribute": "Amount", "values": [0, "none"]},
            },
            r"filter.values holds 'none' \(S\), but filter.attribute 'Amount' is summed by measures\[0\], of type 'N'",
            id="string-filter-on-a-summed-attribute",
        ),
        pytest.param(
            {"group_by": ["PlacedAt", {"attribute": "PlacedAt", "bucket": "day", "date": "epoch_seconds"}]},
            r"group_by\[1\] reads 'PlacedAt' as N \(epoch_seconds\), but it is read by group_by\[0\] as S",
            id="two-parts-reading-one-attribute-two-ways",
        ),
    ],
)
def test_a_filter_sum_or_part_that_cannot_work_on_a_declared_type_fails_at_construction(deploy, change, message):
    """group_by's type and the parts' readings fix an attribute's type as a key's does."""
    with pytest.raises(StreamAggregatorArgsError, match=message):
        deploy(lambda: StreamAggregator("never", {**ORDERS, **change}))


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"group_by": "StoreId", "group_by_type": "N", "filter": {"attribute": "StoreId", "values": [7]}}),
        pytest.param(
            {"group_by": ["C", {"attribute": "Store", "type": "N"}], "filter": {"attribute": "Store", "values": [7]}}
        ),
        pytest.param({"group_by": ["C", {"attribute": "OrderDate", "bucket": "day"}, "OrderDate"]}, id="same-reading"),
        pytest.param({"group_by": "Region", "measures": [{"name": "T", "op": "sum", "attribute": "Amount"}]}),
        pytest.param(
            {
                "measures": [{"name": "T", "op": "sum", "attribute": "Amount"}],
                "filter": {"attribute": "Amount", "values": [{"N": "0.5"}, 10]},
            },
            id="number-filter-on-a-summed-attribute",
        ),
    ],
)
def test_a_filter_sum_or_part_that_fits_a_declared_type_is_accepted(deploy, change):
    assert deploy(lambda: StreamAggregator("fits", {**ORDERS, **change}))
