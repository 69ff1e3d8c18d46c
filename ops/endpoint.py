"""Where the operator's commands send their requests: a DynamoDB-compatible endpoint, or AWS itself.

Apart from the emulator (ops/local/) so that the commands against AWS need boto3 alone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, overload

import boto3
import requests
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_sqs import SQSClient

REGION = "us-east-1"
LOCAL_PORT = 4599
"""`python -m ops emulator`'s port unless --port; the commands look for it there unless told otherwise."""
DEFAULT_ENDPOINT = os.environ.get("STREAM_AGGREGATOR_ENDPOINT", f"http://127.0.0.1:{LOCAL_PORT}")
LOCAL_SOURCE_TABLE = "InvoiceTransactions"
LOCAL_AGGREGATE_TABLE = "InvoiceTotal"
"""The invoice tables the local emulator creates, which the commands default to without --aws."""
LOCAL_AGGREGATOR = "local"
"""The name `python -m ops emulator` gives its aggregator; its ledger and queues are named after it."""
LEDGER_SUFFIX, FAILURE_QUEUE_SUFFIX, QUARANTINE_QUEUE_SUFFIX = "ledger", "failures", "quarantine"


def local_name(aggregator: str, suffix: str) -> str:
    """The name of one of a local aggregator's ledger or queues (``local_resources`` creates them)."""
    return f"{aggregator}-{suffix}"


Service = Literal["dynamodb", "dynamodbstreams", "sqs"]
"""The services the commands and the local tools call."""


@dataclass(frozen=True)
class Endpoint:
    url: str
    region: str = REGION

    @overload
    def client(self, service: Literal["dynamodb"], config: Config | None = None) -> DynamoDBClient: ...
    @overload
    def client(self, service: Literal["dynamodbstreams"], config: Config | None = None) -> DynamoDBStreamsClient: ...
    @overload
    def client(self, service: Literal["sqs"], config: Config | None = None) -> SQSClient: ...
    def client(
        self, service: Service, config: Config | None = None
    ) -> DynamoDBClient | DynamoDBStreamsClient | SQSClient:
        """A client for ``service`` pointed at this endpoint, with throwaway credentials."""
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=self.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=config,
        )

    def reachable(self) -> bool:
        try:
            requests.get(f"{self.url}/moto-api/", timeout=2)
        except requests.RequestException:
            return False
        return True

    def reset(self) -> None:
        """Drop everything moto holds (its memory only shrinks this way)."""
        requests.post(f"{self.url}/moto-api/reset", timeout=10).raise_for_status()
