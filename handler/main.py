"""Lambda entry point: ``handler.main.lambda_handler``.

The configuration is read and checked when the module loads, so a bad deployment fails at cold
start with a message naming the variable, rather than on the first record.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from botocore.config import Config

from .clients import writer_config
from .config import HandlerConfig, load_config
from .processor import BatchProcessor, PartialBatchResponse


def build_processor(config: HandlerConfig) -> BatchProcessor:
    """Clients from boto3's defaults, so AWS_REGION, AWS_ENDPOINT_URL etc. point them anywhere."""
    # Short timeouts, so a stuck connection is retried inside the invocation instead of running
    # into the function's timeout (which would retry the whole batch).
    client_config = writer_config(config.write_concurrency).merge(Config(connect_timeout=3, read_timeout=10))
    return BatchProcessor(
        config,
        dynamodb_client=boto3.client("dynamodb", config=client_config),
        sqs_client=boto3.client("sqs", config=client_config),
    )


PROCESSOR = build_processor(load_config(os.environ))


def lambda_handler(event: dict[str, Any], context: Any) -> PartialBatchResponse:
    return PROCESSOR.handle(event, context)
