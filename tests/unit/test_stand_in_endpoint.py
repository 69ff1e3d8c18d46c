"""The stand-in endpoint make bench measures client CPU against answers as DynamoDB answers a success."""

from __future__ import annotations

from benchmarks.remote_emulator import served_by
from handler.processor import lambda_config
from handler.types import Disposition
from ops.targets import Endpoint


def test_every_write_the_handler_makes_succeeds_through_real_botocore():
    """A transaction, an UpdateItem and a PutItem each come back as DynamoDB's success: nothing in it
    (no ConsumedCapacity, no Attributes asked for), HTTP 200 and no error for the SDK to raise or retry."""
    with served_by("benchmarks.stand_in_endpoint", "0") as url:
        client = Endpoint(url).client("dynamodb", config=lambda_config(2))
        delete = {"Delete": {"TableName": "Agg", "Key": {"k": {"S": "a"}}}}
        answers = [
            client.transact_write_items(TransactItems=[delete]),
            client.update_item(
                TableName="Agg",
                Key={"k": {"S": "a"}},
                UpdateExpression="ADD n :n",
                ExpressionAttributeValues={":n": {"N": "1"}},
            ),
            client.put_item(TableName="Agg", Item={"k": {"S": "a"}}),
        ]
    for answer in answers:
        metadata = answer.pop("ResponseMetadata")
        assert answer == {} and metadata["HTTPStatusCode"] == 200 and metadata["RetryAttempts"] == 0


def test_a_batch_is_handled_without_failures(moto_endpoint):
    """The benchmark's premise: the handler, writing to the stand-in, takes every record as written."""
    from benchmarks.client_cpu import lambda_processor
    from benchmarks.workloads import fan_in

    workload = fan_in(3, customers=2)
    with served_by("benchmarks.stand_in_endpoint", "0") as url:
        processor = lambda_processor(moto_endpoint, workload, writes_to=Endpoint(url))
        result = processor.process({"Records": workload.records})
    assert result.response == {"batchItemFailures": []}
    assert result.counters.keys == 2 and result.counters.writes == 1, "both keys packed in one transaction"
    assert result.dispositions == [Disposition.APPLIED] * len(workload.records) == [Disposition.APPLIED] * 6
