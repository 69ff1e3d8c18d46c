"""A port of the well-known tutorial's handler, the baseline every figure is compared with.

One ``if_not_exists(Total) + Amount`` UpdateItem per INSERT/MODIFY record, amounts as floats,
REMOVE ignored. Kept only to be measured against; never deployed. The group, amount and date
attributes are parameters so it can run on every benchmark workload; its behaviour is the tutorial's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class SeedHandler:
    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        group_by: str = "InvoiceNumber",
        amount: str = "Amount",
        date: str = "InvoiceDate",
    ):
        self._client = client
        self._table = table
        self._group_by, self._amount, self._date = group_by, amount, date

    def handle(self, event: dict[str, Any], context: Any) -> None:
        for record in event["Records"]:
            if record["eventName"] not in ("INSERT", "MODIFY"):
                continue
            image = record["dynamodb"]["NewImage"]
            self._client.update_item(
                TableName=self._table,
                Key={self._group_by: image[self._group_by]},
                UpdateExpression="SET #total = if_not_exists(#total, :zero) + :amount, UpdateDate = :date",
                ExpressionAttributeNames={"#total": "Total"},
                ExpressionAttributeValues={
                    ":zero": {"N": "0"},
                    ":amount": {"N": repr(float(image[self._amount]["N"]))},
                    ":date": image[self._date],
                },
            )
