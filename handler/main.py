"""Lambda entry point: ``handler.main.lambda_handler``.

The configuration is read and checked when the module loads, so a bad deployment fails at cold
start with a message naming the variable, rather than on the first record.

The clients come from botocore's session, not ``boto3.client``: boto3 only hands the same call to
botocore, and importing it also imports s3transfer and boto3's resource layer, which the handler
never uses (`make bench` prints the cold start both ways, side by side).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, cast

import botocore.session

from .config import HandlerConfig, load_config
from .processor import BatchProcessor, lambda_config
from .types import PartialBatchResponse

if TYPE_CHECKING:  # the stubs are a development dependency; Lambda's runtime has none
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_sqs import SQSClient


def build_processor(config: HandlerConfig) -> BatchProcessor:
    """Clients from the SDK's defaults, so AWS_REGION, AWS_ENDPOINT_URL etc. point them anywhere."""
    session = botocore.session.get_session()
    client_config = lambda_config(config.write_concurrency)
    return BatchProcessor(
        config,
        # botocore's create_client is typed as returning a BaseClient; these are the two services'
        dynamodb_client=cast("DynamoDBClient", session.create_client("dynamodb", config=client_config)),
        sqs_client=cast("SQSClient", session.create_client("sqs", config=client_config)),
    )


PROCESSOR = build_processor(load_config(os.environ))


def lambda_handler(event: dict[str, Any], context: Any) -> PartialBatchResponse:
    return PROCESSOR.handle(event, context)
